"""Which allocator Arrow takes: named by ``icvac recode``, ``validate`` and ``migrate`` before pyarrow loads, so
that no buffer comes from mimalloc."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from icvac import arrow_memory
from icvac.arrow_memory import POOL_VARIABLE, name_allocator

from .conftest import EXAMPLES
from .test_versions import recoded, v2  # noqa: F401  (fixtures)

# the CLI names jemalloc only for pyarrow from a manylinux x86_64 wheel, and not under a limit of address space
named = pytest.mark.skipif(not arrow_memory._wheel_with_jemalloc() or arrow_memory._address_space_limited(),
                           reason="jemalloc is named for a manylinux x86_64 wheel, without a limit of address space")

# a command through the CLI in a fresh interpreter, then what Arrow's pools say
PROBE = """
import json, os, sys
from icvac.cli import main
sys.argv = ["icvac", *sys.argv[1:], "-q"]
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


@pytest.fixture
def command(tmp_path, request):
    """name -> the command's arguments and the exit codes it ends with."""
    def arguments(name: str) -> tuple[list[str], tuple]:
        if name == "recode":
            return ["recode", str(EXAMPLES / "national_export.csv"), "--mapping", "gbvims", "-o",
                    str(tmp_path / "out.csv")], (0, None)
        if name == "migrate":
            _, path, changes = request.getfixturevalue("v2")
            return ["migrate", str(request.getfixturevalue("recoded")), "--changes", str(changes), "--to",
                    str(path), "-o", str(tmp_path / "migrated.csv")], (0, None)
        # exit 1: the example holds invalid rows on purpose
        return ["validate", str(EXAMPLES / "incidents.csv"), "--format", "json"], (1,)
    return arguments


def probe(command, pool: str | None, name: str = "recode") -> dict:
    env = {k: v for k, v in os.environ.items() if k != POOL_VARIABLE} | ({POOL_VARIABLE: pool} if pool else {})
    arguments, codes = command(name)
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True,
                          timeout=120, env=env)
    said = json.loads(done.stderr.strip().splitlines()[-1])
    assert said["code"] in codes, done.stderr
    return said


@named
@pytest.mark.parametrize("name", ["recode", "validate", "migrate"])
def test_a_command_takes_no_buffer_from_mimalloc(command, name):
    said = probe(command, None, name)
    assert said["default"] == "jemalloc"
    # switched at the first read instead, Arrow had already taken buffers from mimalloc
    assert said["mimalloc"] == 0
    assert said["named"] is None  # the environment as it was


@named
@pytest.mark.parametrize("name", ["recode", "validate", "migrate"])
def test_a_pool_the_user_names_is_kept(command, name):
    said = probe(command, "mimalloc", name)
    assert said["default"] == "mimalloc" and said["mimalloc"] > 0
    assert said["named"] == "mimalloc"


@pytest.fixture
def loads(monkeypatch):
    """A process as recode starts it (pyarrow not loaded, no name in the environment, pyarrow from a wheel
    with jemalloc); what pyarrow would read as it loads."""
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    monkeypatch.setattr(arrow_memory, "_address_space_limited", lambda: False)
    monkeypatch.setattr(arrow_memory, "_wheel_with_jemalloc", lambda: True)
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


def test_a_pyarrow_that_does_not_load_is_left_to_report_later(loads, monkeypatch):
    def broken():
        loads.append(os.environ.get(POOL_VARIABLE))
        raise ImportError("libarrow.so: cannot open shared object file")

    monkeypatch.setattr(arrow_memory, "_load_pyarrow", broken)
    name_allocator()
    assert loads == ["jemalloc"]
    assert POOL_VARIABLE not in os.environ


@pytest.mark.parametrize("why", ["loaded", "no jemalloc"])
def test_no_name_once_pyarrow_is_loaded_or_without_a_wheel_that_has_jemalloc(loads, monkeypatch, why):
    if why == "loaded":
        monkeypatch.setitem(sys.modules, "pyarrow", object())
    else:
        monkeypatch.setattr(arrow_memory, "_wheel_with_jemalloc", lambda: False)
    name_allocator()
    assert loads == []


@pytest.mark.parametrize("tag, carries", [
    ("cp311-cp311-manylinux_2_28_x86_64", True),
    ("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", True),
    ("cp311-cp311-manylinux_2_28_aarch64", False),
    ("cp311-cp311-linux_x86_64", False),      # built from source
    (None, False),                            # no dist-info (a conda or system package, a checkout)
])
def test_which_pyarrow_carries_jemalloc(tmp_path, monkeypatch, tag, carries):
    import importlib.util

    (tmp_path / "pyarrow").mkdir()
    if tag is not None:
        (tmp_path / "pyarrow-26.0.1.dist-info").mkdir()
        (tmp_path / "pyarrow-26.0.1.dist-info" / "WHEEL").write_text(
            f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n", encoding="utf-8")
    spec = importlib.util.spec_from_loader("pyarrow", loader=None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path / "pyarrow")]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    monkeypatch.setattr(sys, "platform", "linux")
    assert arrow_memory._wheel_with_jemalloc() is carries
