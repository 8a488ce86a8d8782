"""Imports every module that registers job handlers, so a worker knows every kind."""

from tierline.flows import jobs as flows_jobs  # noqa: F401
from tierline.sla import timers as sla_timers  # noqa: F401
