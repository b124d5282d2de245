"""Which allocator Arrow's buffers come from: named before pyarrow loads (``icvac recode``), or chosen at
the first read (the library, and the other commands)."""
from __future__ import annotations

import os
import sys

__all__ = ["lean_memory", "name_allocator"]

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def name_allocator() -> None:
    """Name jemalloc (the system's allocator under a limit of address space) as Arrow's default pool, for a
    process that has not loaded pyarrow yet. Arrow reads the name once, as pyarrow loads; switching later
    (``lean_memory``) leaves the buffers some kernels and readers took before, or take from a pool they
    kept, in mimalloc, whose pages then stay resident beside jemalloc's. ``icvac recode`` of the 1M-row
    benchmark export peaked at 127-129 MB with the name given against 132-137 MB when switched, as fast
    (medians of 5 alternated: 2.34 and 2.51 s). validate and migrate do not name it: their kernels were 8%
    slower all in jemalloc (2.52 against 2.32 s, 2.74 against 2.54 s), for 8-17 MB less.
    Linux only: its wheels carry jemalloc; elsewhere the name may be one the build lacks, which Arrow
    reports on stderr. A name already in the environment is the user's and stays, but under a limit,
    where the others abort. pyarrow is loaded here, and the environment left as it was.
    """
    if sys.platform != "linux" or "pyarrow" in sys.modules:
        return
    given = os.environ.get(POOL_VARIABLE)
    os.environ[POOL_VARIABLE] = "system" if _address_space_limited() else given or "jemalloc"
    try:
        _load_pyarrow()
    finally:  # the process's environment as it was, for what it starts
        if given is None:
            del os.environ[POOL_VARIABLE]
        else:
            os.environ[POOL_VARIABLE] = given


def _load_pyarrow() -> None:
    import pyarrow  # noqa: F401  (reads the name as it loads)


def lean_memory() -> None:
    """Arrow's allocations from jemalloc where the build has it: the bundled default (mimalloc) held about
    twice the resident memory for the same batches (measured on the benchmark's export). Under a limit of
    address space (``ulimit -v``), from the system's allocator instead: jemalloc and mimalloc reserve address
    space ahead, and abort the process (no message, no clean-up) when the limit refuses their threads."""
    import pyarrow as pa

    try:
        if pa.default_memory_pool().backend_name == "mimalloc":
            pa.set_memory_pool(pa.system_memory_pool() if _address_space_limited() else pa.jemalloc_memory_pool())
    except (NotImplementedError, pa.ArrowException):
        pass


def _address_space_limited() -> bool:
    try:
        import resource
    except ImportError:  # not on Windows
        return False
    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
