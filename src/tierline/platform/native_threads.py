"""One native thread per process for numerical libraries (BLAS, OpenMP) in servers and workers.

The classifier's arithmetic per ticket is a few small matrix products. OpenBLAS answers each with its own
thread pool, whose threads spin between calls: measured on intake, about 5 ms of CPU per ticket burnt on the
two cores the server needs, for no speed. Servers and workers therefore keep those libraries to one thread
(threadpoolctl, which scikit-learn itself uses); a command that trains a model may choose otherwise.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

_limited: list[object] = []  # the limiter, kept alive for the life of the process


def limit_to_one() -> None:
    if not _limited:
        _limited.append(threadpool_limits(limits=1))
