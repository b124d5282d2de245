"""Which allocator Arrow's buffers come from: named before pyarrow loads (the CLI), or chosen at the first
read (the library)."""
from __future__ import annotations

import os
import sys

__all__ = ["lean_memory", "name_allocator"]

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def name_allocator() -> None:
    """Name jemalloc (the system's allocator under a limit of address space) as Arrow's default pool, for a
    process that has not loaded pyarrow yet. Arrow reads the name once, as pyarrow loads; switching later
    (``lean_memory``) leaves the buffers some kernels and readers took before, or take from a pool they
    kept, in mimalloc, whose pages then stay resident beside jemalloc's: a recode of the 1M-row benchmark
    export peaked at 126-127 MB with the name given against 131-147 MB when switched. Linux only: its
    wheels carry jemalloc; elsewhere the name may be one the build lacks, which Arrow reports on stderr.
    A name already in the environment is the user's and stays, but under a limit, where the others abort."""
    if sys.platform != "linux" or "pyarrow" in sys.modules:
        return
    if _address_space_limited():
        os.environ[POOL_VARIABLE] = "system"
    else:
        os.environ.setdefault(POOL_VARIABLE, "jemalloc")


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
