"""Which allocator Arrow's buffers come from: named before pyarrow loads (``icvac recode``, ``validate`` and
``migrate``), or chosen at the first read (the library, and the other commands)."""
from __future__ import annotations

import os
import sys

__all__ = ["lean_memory", "name_allocator"]

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def name_allocator() -> None:
    """Name jemalloc (the system's allocator under a limit of address space) as Arrow's default pool, for a
    process that has not loaded pyarrow yet, and load it: Arrow reads the name once, as pyarrow loads.
    Switching later (``lean_memory``) leaves the buffers some kernels and readers took before, or take from
    a pool they kept, in mimalloc, whose pages then stay resident beside jemalloc's: at 0026ed6 (256 KB
    blocks) ``icvac recode`` of the 1M-row benchmark export peaked at 127-129 MB with the name given
    against 132-137 MB when switched, as fast (medians of 5 alternated: 2.34 and 2.51 s). ``icvac
    validate`` names it too: on the 1M-row recoded benchmark file, 10 runs alternated at 0b807c0, 127-129
    MB against 134-153 MB, at 3% more time (medians 2.46 and 2.38 s). ``icvac migrate`` too: on the 1M-row
    recoded file, 6 runs alternated at 8d2b0cc, 109-113 MB against 115-130 MB, in 2.25 against 2.36 s
    (an earlier five runs, at 36d50f1, had it 8% slower).
    Only for pyarrow from a manylinux x86_64 wheel, which carries jemalloc: a build without it would print
    Arrow's complaint about the name on stderr. A name already in the environment is the user's and
    stays (``lean_memory`` then keeps it too), but under a limit, where the others abort. The environment
    is left as it was, for the processes this one starts. A pyarrow that does not load is left to the
    code that needs it, to report.
    """
    if "pyarrow" in sys.modules or not _wheel_with_jemalloc():
        return
    given = os.environ.get(POOL_VARIABLE)
    os.environ[POOL_VARIABLE] = "system" if _address_space_limited() else given or "jemalloc"
    try:
        _load_pyarrow()
    except ImportError:
        pass
    finally:
        if given is None:
            del os.environ[POOL_VARIABLE]
        else:
            os.environ[POOL_VARIABLE] = given


def _load_pyarrow() -> None:
    import pyarrow  # noqa: F401  (reads the name as it loads)


def _wheel_with_jemalloc() -> bool:
    """Whether pyarrow was installed from a manylinux x86_64 wheel (its WHEEL file, found without loading
    pyarrow: importlib.metadata alone takes 90 ms)."""
    if sys.platform != "linux":
        return False
    from importlib.util import find_spec

    try:
        spec = find_spec("pyarrow")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    site = os.path.dirname(next(iter(spec.submodule_search_locations)))
    try:
        infos = [name for name in os.listdir(site) if name.startswith("pyarrow-") and name.endswith(".dist-info")]
        with open(os.path.join(site, infos[0], "WHEEL"), encoding="utf-8") as handle:
            wheel = handle.read(4096)
    except (OSError, IndexError, UnicodeError):
        return False
    return any(line.startswith("Tag:") and "-manylinux" in line and line.rstrip().endswith("_x86_64")
               for line in wheel.splitlines())


def lean_memory() -> None:
    """Arrow's allocations from jemalloc where the build has it: the bundled default (mimalloc) held about
    twice the resident memory for the same batches (measured on the benchmark's export), unless the user
    named a pool (``ARROW_DEFAULT_MEMORY_POOL``). Under a limit of address space (``ulimit -v``), from the
    system's allocator whatever the name: jemalloc and mimalloc reserve address space ahead, and abort the
    process (no message, no clean-up) when the limit refuses their threads."""
    import pyarrow as pa

    try:
        backend = pa.default_memory_pool().backend_name
        if _address_space_limited():
            if backend != "system":
                pa.set_memory_pool(pa.system_memory_pool())
        elif backend == "mimalloc" and POOL_VARIABLE not in os.environ:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
    except (NotImplementedError, pa.ArrowException):
        pass


def _address_space_limited() -> bool:
    try:
        import resource
    except ImportError:  # not on Windows
        return False
    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
