"""Keep BLAS to one thread for the trainer.

A network of a few hundred units multiplies matrices so small that OpenBLAS's thread pool
spends more time waking and synchronising threads than computing; on a 2-core machine that was
seen to make training up to 150x slower. One thread is also what lets parallel trials (one per
process) use every core. ``bnviz bench`` measures both ways.
"""

from __future__ import annotations

import os

BLAS_THREADS_ENV = "BNVIZ_BLAS_THREADS"
_limiter: object | None = None  # the threadpool_limits in force, kept alive


def blas_threads() -> int:
    """The wanted thread count: ``$BNVIZ_BLAS_THREADS`` or 1; 0 means the library's default
    (what ``bnviz bench --blas-threads 0`` compares against)."""
    try:
        return max(0, int(os.environ.get(BLAS_THREADS_ENV, "1")))
    except ValueError:
        return 1


def limit_blas_threads(n: int | None = None) -> bool:
    """Limit every loaded BLAS library to ``n`` threads (default :func:`blas_threads`) for the
    rest of the process; 0 leaves the library's default. Returns False when threadpoolctl is not
    available."""
    global _limiter
    if (blas_threads() if n is None else n) == 0:
        return True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return False
    if _limiter is not None and n is None:
        return True
    _limiter = threadpool_limits(limits=n or blas_threads(), user_api="blas")
    return True


def set_env_before_numpy(n: int = 1) -> None:
    """For entry points: set the usual BLAS environment variables before NumPy loads."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
