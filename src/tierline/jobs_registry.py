"""Imports every module that registers job handlers, so a worker knows every kind."""

from tierline.problems import jobs as problems_jobs  # noqa: F401
from tierline.sla import timers as sla_timers  # noqa: F401
from tierline.tickets import jobs as tickets_jobs  # noqa: F401
