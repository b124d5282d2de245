"""The Arrow engine of validate: exact duplicate ids, batches from elsewhere, and the package's import graph."""
from __future__ import annotations

import ast
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icvac
from icvac.checker import PY_SPACE
from icvac.dupes import DuplicateIds
from icvac.validate import ValidateOptions, validate, validate_batches

from .test_validate import EXAMPLE, TODAY, write_csv

PACKAGE = Path(icvac.__file__).parent


def eight_bits(text: str) -> int:
    """A hash under which ids collide all the time."""
    return sum(text.encode()) % 256


ids = st.text(alphabet="ab1\u00e9 ", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(st.lists(ids, max_size=40) | st.lists(ids, max_size=40).map(sorted), max_size=8),
       late=st.sampled_from([0, 3, 4096]))
def test_duplicate_ids_with_8_bit_hashes_are_exactly_the_true_duplicates(batches, late):
    """Ids kept in order, looked up by bisection, or by hash (``late``: how many ids out of order before the
    table of hashes takes over)."""
    seen = DuplicateIds(hash_id=eight_bits)
    seen.MIN_LATE, seen.LATE_SHARE = late, 10**9
    first: dict[str, int] = {}
    row = 1
    for batch in batches:
        rows = list(range(row, row + len(batch)))
        expected = [(k, first[v]) for k, v in enumerate(batch) if v in first or first.setdefault(v, rows[k]) != rows[k]]
        repeats = seen.add(pa.array(batch, pa.string()), pa.array(rows, pa.int64()))
        assert list(zip(repeats.positions, repeats.first_rows)) == expected
        row += len(batch)


def test_ids_in_order_then_out_of_order_are_looked_up_among_all_kept():
    seen = DuplicateIds(hash_id=eight_bits)
    assert seen.add(pa.array(["a1", "a2", "a3"]), pa.array([2, 3, 4], pa.int64())).positions == []
    assert seen.add(pa.array(["b1", "b2"]), pa.array([5, 6], pa.int64())).positions == []
    repeats = seen.add(pa.array(["a2", "c", "b2", "c"]), pa.array([7, 8, 9, 10], pa.int64()))
    assert (repeats.positions, repeats.first_rows) == ([0, 2, 3], [3, 6, 8])


def test_py_space_is_what_str_strip_strips():
    assert PY_SPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


@pytest.mark.parametrize("rows_per_batch", [1, 7, 300])
def test_validate_batches_reports_what_validate_reports_for_the_file(rows_per_batch):
    table = pcsv.read_csv(EXAMPLE, convert_options=pcsv.ConvertOptions(
        column_types={name: pa.string() for name in _header(EXAMPLE)}, strings_can_be_null=False))
    options = ValidateOptions(today=TODAY, max_issues=1000)
    issues: list = []
    from_batches = validate_batches(table.to_batches(max_chunksize=rows_per_batch), options=options,
                                    on_issue=issues.append).to_dict()
    from_file = validate(EXAMPLE, options=options).to_dict()
    assert (from_batches.pop("source"), from_batches.pop("format")) == ("<batches>", "arrow")
    del from_file["source"], from_file["format"]
    assert from_batches == from_file
    assert [i.to_dict() for i in issues] == from_file["issues"]


def test_validate_batches_reads_other_types_as_text_and_nulls_as_blank():
    batch = pa.RecordBatch.from_pydict({"id": pa.array([1, 2, 2]), "icvac_code": ["0301", None, "0301"],
                                        "victim_age": pa.array([7, 30, None])})
    report = validate_batches([batch], options=ValidateOptions(today=TODAY))
    assert [(i.row, i.slug) for i in report.issues] == [(3, "missing-code"), (3, "age-out-of-range"),
                                                        (4, "duplicate-id")]


def test_issues_wait_until_arrow_has_not_refused_the_file(tmp_path):
    """Arrow refuses a file at its end (a quote it reads otherwise): the issues passed on are the Python
    reader's, each once."""
    rows = [["id", "icvac_code"], *[[f"r{n}", "9999"] for n in range(50)], ['x"y', "0301"]]
    path = write_csv(tmp_path / "q.csv", rows)
    issues: list = []
    report = validate(path, options=ValidateOptions(today=TODAY, max_issues=10_000), on_issue=issues.append)
    assert issues == list(report.issues) and len(issues) == 50


def _header(path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()[0].split(",")


def _imports(path: Path) -> set[str]:
    """The icvac modules a module imports, anywhere in it (lazy imports inside functions count)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("icvac")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            if base.startswith("icvac"):
                found.add(base)
                found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def import_cycles() -> list[list[str]]:
    """The cycles of the graph of icvac's modules and the icvac modules each imports."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {name: sorted(m for m in _imports(path) if m in modules and m != name) for name, path in modules.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in graph[name]:
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_import_cycle_in_the_package():
    # recode's coder lives in icvac.coder, imported by recode and by the Arrow engine alike (issue 16)
    assert import_cycles() == []


@pytest.mark.parametrize("name", ["validate", "validate_engine", "checker", "tally", "dupes", "report_model",
                                  "report", "checks"])
def test_the_validate_modules_stay_small(name):
    assert len((PACKAGE / f"{name}.py").read_text(encoding="utf-8").splitlines()) <= 450
