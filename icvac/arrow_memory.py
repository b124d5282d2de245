"""Which allocator Arrow's buffers come from: chosen once, before the first read."""
from __future__ import annotations

import pyarrow as pa

__all__ = ["lean_memory"]


def lean_memory() -> None:
    """Arrow's allocations from jemalloc where the build has it: the bundled default (mimalloc) held about
    twice the resident memory for the same batches (measured on the benchmark's export). Under a limit of
    address space (``ulimit -v``), from the system's allocator instead: jemalloc and mimalloc reserve address
    space ahead, and abort the process (no message, no clean-up) when the limit refuses their threads."""
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
