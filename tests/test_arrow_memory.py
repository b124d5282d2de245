"""Which allocator Arrow takes: named by ``icvac recode`` before pyarrow loads, so that no buffer comes from
mimalloc."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from icvac import arrow_memory
from icvac.arrow_memory import POOL_VARIABLE, name_allocator

from .conftest import EXAMPLES

linux = pytest.mark.skipif(sys.platform != "linux", reason="the name is given on Linux only")

# a recode through the CLI in a fresh interpreter, then what Arrow's pools say
PROBE = """
import json, os, sys
from icvac.cli import main
sys.argv = ["icvac", "recode", sys.argv[1], "--mapping", "gbvims", "-o", sys.argv[2], "-q"]
code = None
try:
    main()
except SystemExit as exit:
    code = exit.code
import pyarrow as pa
sys.stderr.write(json.dumps({"code": code, "default": pa.default_memory_pool().backend_name,
                             "mimalloc": pa.mimalloc_memory_pool().max_memory(),
                             "named": os.environ.get("ARROW_DEFAULT_MEMORY_POOL")}) + "\\n")
"""


@linux
def test_a_recode_takes_no_buffer_from_mimalloc(tmp_path):
    try:
        __import__("pyarrow").jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    env = {k: v for k, v in os.environ.items() if k != POOL_VARIABLE}
    done = subprocess.run([sys.executable, "-c", PROBE, str(EXAMPLES / "national_export.csv"),
                           str(tmp_path / "out.csv")], capture_output=True, text=True, timeout=120, env=env)
    said = json.loads(done.stderr.strip().splitlines()[-1])
    assert said["code"] in (0, None), done.stderr
    assert said["default"] == "jemalloc"
    # switched at the first read instead, Arrow had already taken buffers from mimalloc
    assert said["mimalloc"] == 0
    assert said["named"] is None  # the environment as it was


@pytest.fixture
def loads(monkeypatch):
    """A process as recode starts it (pyarrow not loaded, no name in the environment); what pyarrow would
    read as it loads."""
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    monkeypatch.setattr(arrow_memory, "_address_space_limited", lambda: False)
    monkeypatch.setattr(sys, "platform", "linux")
    seen: list = []
    monkeypatch.setattr(arrow_memory, "_load_pyarrow", lambda: seen.append(os.environ.get(POOL_VARIABLE)))
    return seen


def test_jemalloc_is_named_and_the_environment_left_as_it_was(loads):
    name_allocator()
    assert loads == ["jemalloc"]
    assert POOL_VARIABLE not in os.environ


def test_the_users_name_stays(loads, monkeypatch):
    monkeypatch.setenv(POOL_VARIABLE, "mimalloc")
    name_allocator()
    assert loads == ["mimalloc"]
    assert os.environ[POOL_VARIABLE] == "mimalloc"


def test_under_a_limit_of_address_space_the_system_allocator_is_named(loads, monkeypatch):
    # jemalloc and mimalloc reserve address space ahead and abort the process when the limit refuses it
    monkeypatch.setenv(POOL_VARIABLE, "jemalloc")
    monkeypatch.setattr(arrow_memory, "_address_space_limited", lambda: True)
    name_allocator()
    assert loads == ["system"]
    assert os.environ[POOL_VARIABLE] == "jemalloc"


@pytest.mark.parametrize("why", ["loaded", "not linux"])
def test_no_name_once_pyarrow_is_loaded_or_off_linux(loads, monkeypatch, why):
    if why == "loaded":
        monkeypatch.setitem(sys.modules, "pyarrow", object())
    else:
        monkeypatch.setattr(sys, "platform", "win32")
    name_allocator()
    assert loads == []
