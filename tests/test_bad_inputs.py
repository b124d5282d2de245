"""Bad inputs through every command that reads them: a one-line message naming the file, exit 2 or 3.

Each data file is run through the four commands that read data, each YAML file through the four ways
a taxonomy or mapping is read. Never a traceback, never a hang: the largest inputs also run in a
subprocess with a time limit and a 1 GB address-space limit. Large and binary files are made here, in
tmp_path, rather than committed.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from icvac.yamlio import format_path, load_schema

from .conftest import FIXTURES, MAPPINGS, ROOT

BAD = FIXTURES / "bad"
HEADER = "incident_id,gbv_type,icvac_code\n"

DATA_COMMANDS = {
    "validate": lambda p: ["validate", p],
    "recode": lambda p: ["recode", p, "--mapping", "gbvims"],
    "tabulate": lambda p: ["tabulate", p],
    "coverage": lambda p: ["crosswalk", "coverage", "--mapping", "gbvims", "--data", p],
}
TAXONOMY_COMMANDS = {
    "taxonomy-check": lambda p: ["taxonomy", "check", p],
    "taxonomy-tree": lambda p: ["taxonomy", "tree", "--taxonomy", p],
}
MAPPING_COMMANDS = {
    "mapping-check": lambda p: ["mapping", "check", p],
    "recode-mapping": lambda p: ["recode", FIXTURES / "recode" / "register.csv", "--mapping", p],
}


def assert_clean_failure(result, path, codes=(2, 3), where: str | None = None) -> None:
    """Exit code in ``codes``, no traceback, and the first error line names the file (and ``where``)."""
    assert result.exit_code in codes, (result.exit_code, result.stderr[-2000:], result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("icvac: error:")]
    assert errors, result.stderr[-2000:]
    assert Path(path).name in errors[0]
    if where is not None:
        assert where in result.stderr, result.stderr[-2000:]


# ---------------------------------------------------------------------------------------- data files

def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rezip(data: bytes, change) -> bytes:
    """The workbook ``data`` with each member passed through ``change(name, bytes)`` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = change(name, source.read(name))
            if content is not None:
                target.writestr(name, content)
    return out.getvalue()


def _workbook() -> bytes:
    # coded as recode codes it (a label no mapping knows), so that recode reads on to the damage
    return _xlsx([["incident_id", "gbv_type", "icvac_code"]] + [[i, "zzzz", "unclassified"] for i in range(2000)])


def _late_bad_byte() -> bytes:
    # past the 1 MB sample the encoding is detected from: found while streaming, reported with its line
    rows = "".join(f"{i},zzzz,unclassified\n" for i in range(120_000))
    return (HEADER + rows).encode() + b"9,Viol\xe9,unclassified\n"


def _garbage() -> bytes:
    return bytes((i * 7919 + 13) % 256 for i in range(8192))


DATA_CASES = {
    # name: (file name, content, extra options, expected message part)
    "empty": ("empty.csv", b"", [], "empty"),
    "binary-garbage": ("garbage.csv", _garbage(), [], "binary"),
    "binary-without-nul": ("noise.csv", bytes(range(1, 256)) * 8, [], "binary"),
    "utf16-without-bom": ("wide.csv", (HEADER + "1,Rape,101\n").encode("utf-16-le"), [], "utf-16-le"),
    "wrong-encoding-given": ("cp1252.csv", (HEADER + "1,Violé,101\n").encode("cp1252"), ["--encoding", "utf-8"],
                             "line 2"),
    "bad-byte-after-1mb": ("late.csv", _late_bad_byte(), [], "line 120002"),
    "not-a-text-encoding": ("ok.csv", (HEADER + "1,Rape,101\n").encode(), ["--encoding", "base64"], "encoding"),
    "utf16-given-no-bom": ("ok.csv", (HEADER + "1,Rape,101\n").encode(), ["--encoding", "utf-16"], "utf-16"),
    "quote-as-delimiter": ("ok.csv", (HEADER + "1,Rape,101\n").encode(), ["--delimiter", '"'], "delimiter"),
    "unbalanced-quotes": ("quote.csv", (HEADER + '1,"Rape,101\n2,Rape,101\n').encode(), [], "row 2"),
    "duplicate-columns": ("dup.csv", b"incident_id,gbv_type,gbv_type\n1,Rape,101\n", [], "columns 2 and 3"),
    "blank-header": ("blank.csv", b",,\n1,Rape,101\n", [], "header"),
    "csv-named-xlsx": ("data.xlsx", (HEADER + "1,Rape,101\n").encode(), [], "not an Excel"),
    "xlsx-named-csv": ("data.csv", None, [], "Excel workbook"),
    "password-protected-xlsx": ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _garbage(), [], "password"),
    "zip-of-junk-xlsx": ("junk.xlsx", None, [], "not a readable .xlsx"),
    "truncated-xlsx": ("cut.xlsx", None, [], "not a readable .xlsx"),
    "damaged-sheet-xlsx": ("damaged.xlsx", None, [], "damaged at or after row"),
    "xlsx-without-sheet": ("nosheet.xlsx", None, [], "no worksheet"),
    "jsonl-not-an-object": ("records.jsonl",
                            b'{"incident_id": "1", "gbv_type": "Rape", "icvac_code": "101"}\n[1, 2]\n', [], "line 2"),
    "jsonl-not-json": ("records.jsonl", b"incident_id,gbv_type\n", [], "line 1"),
    "directory": ("folder", None, [], "directory"),
    "missing": ("missing.csv", None, [], "no such file"),
}


def _make(tmp_path: Path, case: str) -> tuple[Path, list[str]]:
    name, content, options, _ = DATA_CASES[case]
    path = tmp_path / name
    if case == "xlsx-named-csv":
        content = _workbook()
    elif case == "zip-of-junk-xlsx":
        content = _rezip(_workbook(), lambda n, d: b"junk" if n.endswith(".xml") else d)
    elif case == "truncated-xlsx":
        content = _workbook()[:3000]
    elif case == "damaged-sheet-xlsx":
        content = _rezip(_workbook(), lambda n, d: d[: len(d) // 2] if n.endswith("sheet1.xml") else d)
    elif case == "xlsx-without-sheet":
        content = _rezip(_workbook(), lambda n, d: None if n.endswith("sheet1.xml") else d)
    elif case == "directory":
        path.mkdir()
    if content is not None:
        path.write_bytes(content)
    return path, options


@pytest.mark.parametrize("command", DATA_COMMANDS)
@pytest.mark.parametrize("case", DATA_CASES)
def test_unreadable_data_is_one_line_exit_3(icvac, tmp_path, case, command):
    path, options = _make(tmp_path, case)
    result = icvac(*DATA_COMMANDS[command](path), *options)
    assert_clean_failure(result, path, where=DATA_CASES[case][3])


@pytest.fixture(scope="module")
def huge_field(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(HEADER.encode() + b'1,"')
        handle.write(b"x" * (10 << 20))
        handle.write(b'",0301\n')
    return path


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_a_10mb_field_is_refused(icvac, huge_field, command):
    result = icvac(*DATA_COMMANDS[command](huge_field))
    assert_clean_failure(result, huge_field, where="row 2")


# Rows with more or fewer cells than the header are data, not an unreadable file: validate reports
# them as wrong-field-count issues (exit 1), recode pads or cuts them to the header and warns (nothing
# is lost: the row is still one output row), tabulate and coverage read the cells that are there.
RAGGED = {
    "ragged": HEADER + "1,Rape,0301,extra\n2,Rape\n3,Rape,0301\n",
    "mixed-delimiters": HEADER + "1;Rape;0301\n2,Rape,0301\n3\tRape\t0301\n",
}
RAGGED_EXIT = {"validate": 1, "recode": 0, "tabulate": 0, "coverage": 0}


@pytest.mark.parametrize("command", DATA_COMMANDS)
@pytest.mark.parametrize("case", RAGGED)
def test_ragged_rows_are_data_issues(icvac, tmp_path, case, command):
    path = tmp_path / f"{case}.csv"
    path.write_text(RAGGED[case], encoding="utf-8")
    result = icvac(*DATA_COMMANDS[command](path))
    assert result.exit_code == RAGGED_EXIT[command], result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    if command == "validate":
        assert "wrong-field-count" in result.stdout
    if command == "recode":
        assert "different number of cells" in result.stderr
        assert len(result.stdout.strip().splitlines()) == 4  # header + every input row


# A file with a header and no rows is a legitimate empty extract (a month with no incidents, a review
# file with nothing to review): zero records, exit 0, never an error.
@pytest.mark.parametrize("command", DATA_COMMANDS)
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_header_only_is_zero_records(icvac, tmp_path, command, suffix):
    path = tmp_path / f"header.{suffix}"
    if suffix == "csv":
        path.write_text(HEADER, encoding="utf-8")
    else:
        path.write_bytes(_xlsx([HEADER.strip().split(",")]))
    result = icvac(*DATA_COMMANDS[command](path))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    if command == "recode":
        assert "0 rows" in result.stderr


@pytest.mark.parametrize("command", ["validate", "tabulate", "coverage"])
def test_header_only_is_said_on_stderr(icvac, tmp_path, command):
    path = tmp_path / "header.csv"
    path.write_text(HEADER, encoding="utf-8")
    result = icvac(*DATA_COMMANDS[command](path))
    assert "no data rows" in result.stderr


def test_a_stray_cell_at_the_end_of_a_sheet_does_not_hang(tmp_path):
    """A cell typed in row 1048576, column XFD makes openpyxl yield a million 16384-wide empty rows."""
    from icvac.readers import open_table

    path = tmp_path / "stray.xlsx"
    stray = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'

    def change(name, data):
        if not name.endswith("sheet1.xml"):
            return data
        return data.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"').replace(b"</sheetData>", stray)

    path.write_bytes(_rezip(_xlsx([["id", "icvac_code"], ["1", "02"]]), change))
    start = time.monotonic()
    with open_table(path) as table:
        last = None
        for count, (number, cells) in enumerate(table.rows(), 1):
            last = number, cells
    assert time.monotonic() - start < 15
    assert count == 1048575 and last[0] == 1048576 and last[1][-1] == "x"


# ---------------------------------------------------------------------------------------- YAML files

def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


YAML_CASES = {
    # name: (content, expected message part); None content: made by _make_yaml
    "tabs": ("id: x\ncategories:\n\t- code: '01'\n", "line 3"),
    "duplicate-keys": ("id: x\ntitle: a\nid: y\n", "duplicate key 'id'"),
    "python-tag": ("id: !!python/object/apply:os.system ['echo pwned']\n", "only plain YAML values"),
    "python-name-tag": ("id: !!python/name:os.system\n", "only plain YAML values"),
    "alias-bomb": (_billion_laughs(), "aliases"),
    "over-10mb": (None, "limit"),
    "empty": ("", "is empty"),
    "only-comments": ("# nothing here\n", "is empty"),
    "not-utf8": ("id: Viol\xe9\n".encode("latin-1"), "not UTF-8"),
    "binary": (_garbage(), "not UTF-8"),
    "two-documents": ("id: a\n---\nid: b\n", "line 2"),
    "unclosed-flow": ("id: [a, b\n", "YAML syntax"),
    "list-key": ("? [1, 2]\n: x\n", "plain value"),
    "huge-integer": ("id: " + "9" * 5000 + "\n", "too long"),
    "deep-nesting": ("[" * 5000, "not valid YAML"),
    "directory": (None, "directory"),
    "missing": (None, "does not exist"),
}


def _make_yaml(tmp_path: Path, case: str) -> Path:
    content, _ = YAML_CASES[case]
    path = tmp_path / f"{case}.yaml"
    if case == "over-10mb":
        with open(path, "wb") as handle:  # sparse: 50 MB on disk costs nothing; refused by its size
            handle.truncate(50 << 20)
    elif case == "directory":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", {**TAXONOMY_COMMANDS, **MAPPING_COMMANDS})
@pytest.mark.parametrize("case", YAML_CASES)
def test_unreadable_yaml_is_exit_3(icvac, tmp_path, case, command):
    path = _make_yaml(tmp_path, case)
    run = {**TAXONOMY_COMMANDS, **MAPPING_COMMANDS}[command]
    result = icvac(*run(path))
    assert_clean_failure(result, path, codes=(3,), where=YAML_CASES[case][1])


@pytest.mark.parametrize("command", {**TAXONOMY_COMMANDS, **MAPPING_COMMANDS})
def test_a_list_at_the_top_is_invalid(icvac, tmp_path, command):
    path = tmp_path / "list.yaml"
    path.write_text("- id: x\n- title: y\n", encoding="utf-8")
    result = icvac(*{**TAXONOMY_COMMANDS, **MAPPING_COMMANDS}[command](path))
    assert_clean_failure(result, path, codes=(1,) if command.endswith("check") else (3,),
                         where="should hold keys and values")


# ------------------------------------------------------------------ wrong types, from the schemas

def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


_JSON_TYPES = {str: "string", dict: "object", list: "array", bool: "boolean", int: "integer", float: "number"}


def typed_paths(value, schema: dict, root: dict, parts: tuple = ()):
    """Every path of ``value`` where the schema pins a type (or an enum): there, a wrong type is an error."""
    schema = _resolve(schema, root)
    for branch in schema.get("oneOf", []):
        branch = _resolve(branch, root)
        if branch.get("type") == _JSON_TYPES[type(value)]:
            schema = branch
    if parts and ("type" in schema or "enum" in schema):
        yield parts
    if isinstance(value, dict):
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key) or (extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from typed_paths(item, sub, root, parts + (key,))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from typed_paths(item, schema["items"], root, parts + (i,))


def wrong(value):
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, (int, float)):
        return "many"
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return "not a list"
    return ["not", "a", "mapping"]


def _cases(fixture: str, schema: str):
    data = yaml.safe_load((BAD / fixture).read_text(encoding="utf-8"))
    schema_doc = load_schema(schema)
    return [(fixture, parts) for parts in typed_paths(data, schema_doc, schema_doc)]


WRONG_TYPES = _cases("full_taxonomy.yaml", "taxonomy.schema.json") + _cases("full_mapping.yaml",
                                                                              "mapping.schema.json")


def test_the_schema_walk_covers_every_typed_key():
    paths = {format_path(p) for _, p in WRONG_TYPES}
    assert {"categories[0].children[0].code", "variables[0].values[0].min", "titles.fr", "status"} <= paths
    assert {"columns.categories[1].label", "categories[0].suggestions[0].score", "values.victim_sex.G",
            "categories[0].conditions[0].when", "categories[0].review"} <= paths
    assert len(WRONG_TYPES) > 80


@pytest.mark.parametrize("fixture, parts", WRONG_TYPES, ids=lambda v: format_path(v) if isinstance(v, tuple) else v)
def test_a_wrong_type_is_invalid_with_its_path(icvac, tmp_path, fixture, parts):
    data = yaml.safe_load((BAD / fixture).read_text(encoding="utf-8"))
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = wrong(node[parts[-1]])
    path = tmp_path / fixture
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    commands = TAXONOMY_COMMANDS if fixture.startswith("full_taxonomy") else MAPPING_COMMANDS
    check, load = commands.values()
    where = format_path(parts)
    assert_clean_failure(icvac(*check(path)), path, codes=(1,), where=where)
    assert_clean_failure(icvac(*load(path)), path, codes=(3,), where=where)


def test_the_unchanged_fixtures_are_valid(icvac):
    assert icvac("taxonomy", "check", BAD / "full_taxonomy.yaml").exit_code == 0
    assert icvac("mapping", "check", BAD / "full_mapping.yaml").exit_code == 0


# ------------------------------------------------------------ bounded time and memory, in a subprocess

def run_bounded(*args, seconds: float = 60, memory: int = 1 << 30) -> subprocess.CompletedProcess:
    """``python -m icvac ARGS`` with a wall-clock limit and, where the OS has it, an address-space limit."""
    try:
        import resource
    except ImportError:  # Windows: the time limit still holds
        limit = None
    else:
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    env = {k: v for k, v in __import__("os").environ.items() if k != "ICVAC_TAXONOMY"}
    return subprocess.run([sys.executable, "-m", "icvac", *map(str, args)], capture_output=True, text=True,
                          timeout=seconds, preexec_fn=limit, env=env, cwd=ROOT)


def test_bounded_10mb_field(huge_field):
    result = run_bounded("recode", huge_field, "--mapping", "gbvims", seconds=30)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "huge.csv: row 2" in result.stderr


@pytest.mark.parametrize("case", ["over-10mb", "alias-bomb"])
def test_bounded_yaml(tmp_path, case):
    path = _make_yaml(tmp_path, case)
    start = time.monotonic()
    result = run_bounded("mapping", "check", path, seconds=30)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert path.name in result.stderr
    assert time.monotonic() - start < 20


def test_bounded_recode_with_the_bundled_mapping_still_works():
    """The limits themselves are not what makes the bad inputs fail: a good input passes under them."""
    result = run_bounded("recode", ROOT / "examples" / "national_export.csv", "--mapping",
                         MAPPINGS / "gbvims.yaml", seconds=30)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------- hostile files: bounded in memory and time (issue 20)
#
# Each case runs `python -m icvac` in a subprocess under an address-space limit, with -q so that the one line
# on stderr is the error, and is measured: exit 2 or 3, one line, no traceback, under 10 s and 300 MB at
# its peak, and nothing left in the folder. The hostile files are made here, small on disk.

PEAK_MB = 300
SECONDS = 10


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def run_measured(*args, memory: int = 1 << 30, timeout: float = 60, env: dict | None = None,
                 stdin=subprocess.DEVNULL) -> Measured:
    """``python -m icvac -q ARGS`` under an address-space limit; its peak resident memory (from wait4)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    environ = {k: v for k, v in os.environ.items() if k != "ICVAC_TAXONOMY" and not k.startswith(("ICVAC_XLSX", "ICVAC_CSV"))}
    environ.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "icvac", "-q", *map(str, args)], stdin=stdin, stdout=out,
                                stderr=err, preexec_fn=limit, env=environ, cwd=ROOT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Measured(proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                        seconds, usage.ru_maxrss / 1024)


def assert_bounded_failure(result: Measured, *parts: str, codes=(2, 3)) -> None:
    """Exit in ``codes``, one line on stderr holding ``parts``, no traceback, within time and memory."""
    assert result.returncode in codes, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("icvac: error: "), result.stderr[-2000:]
    for part in parts:
        assert part in lines[0], lines[0]
    assert result.seconds < SECONDS, result.seconds
    assert result.peak_mb < PEAK_MB, result.peak_mb


def assert_nothing_left(folder: Path, *expected: Path) -> None:
    assert sorted(folder.iterdir()) == sorted(expected)


SST_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" '
            b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
              b'<c r="A1" t="inlineStr"><is><t>incident_id</t></is></c>'
              b'<c r="B1" t="inlineStr"><is><t>gbv_type</t></is></c></row>')


def xlsx_bomb(path: Path, member: str, head: bytes, fill: bytes, megabytes: int, tail: bytes) -> Path:
    """A small workbook whose ``member`` unpacks to ``head``, ``megabytes`` MB of ``fill``, ``tail``:
    streamed into the zip, so neither this test nor the disk holds the unpacked part."""
    base = _xlsx([["incident_id", "gbv_type"], ["1", "Rape"]])
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist() + ([member] if member not in source.namelist() else []):
            if name != member:
                data = source.read(name)
                if name == "[Content_Types].xml" and member == "xl/sharedStrings.xml":
                    data = data.replace(b"</Types>", SST_TYPE + b"</Types>")
                target.writestr(name, data)
                continue
            with target.open(name, "w", force_zip64=True) as part:
                part.write(head)
                block = fill * (1 << 20)
                for _ in range(megabytes):
                    part.write(block)
                part.write(tail)
    return path


def _strings_bomb(path: Path, megabytes: int = 150) -> Path:
    head = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'count="1" uniqueCount="1"><si><t>')
    return xlsx_bomb(path, "xl/sharedStrings.xml", head, b"A", megabytes, b"</t></si></sst>")


def _whitespace_bomb(path: Path, megabytes: int = 150) -> Path:
    return xlsx_bomb(path, "xl/worksheets/sheet1.xml", SHEET_HEAD, b" \n", megabytes // 2,
                     b"</sheetData></worksheet>")


def _inline_bomb(path: Path, megabytes: int = 150) -> Path:
    head = SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return xlsx_bomb(path, "xl/worksheets/sheet1.xml", head, b"B", megabytes, b"</t></is></c></row></sheetData>"
                                                                               b"</worksheet>")


XLSX_BOMBS = {
    # name: (maker, environment, expected message parts)
    "shared-string": (_strings_bomb, {}, ("xl/sharedStrings.xml", "150.0 MB", "100 MB limit", "ICVAC_XLSX_PART_MB")),
    "shared-string-limit-raised": (_strings_bomb, {"ICVAC_XLSX_PART_MB": "2000"},
                                   ("xl/sharedStrings.xml", "1 MB limit", "ICVAC_XLSX_CELL_MB")),
    "whitespace-in-sheet": (_whitespace_bomb, {}, ("xl/worksheets/sheet1.xml", "1 MB limit", "ICVAC_XLSX_CELL_MB")),
    "inline-cell": (_inline_bomb, {}, ("xl/worksheets/sheet1.xml", "1 MB limit", "ICVAC_XLSX_CELL_MB")),
    "sheet-limit": (_whitespace_bomb, {"ICVAC_XLSX_SHEET_MB": "100"},
                    ("xl/worksheets/sheet1.xml", "100 MB limit for a worksheet", "ICVAC_XLSX_SHEET_MB")),
}


@pytest.mark.parametrize("command", ["validate", "recode"])
@pytest.mark.parametrize("case", XLSX_BOMBS)
def test_xlsx_bombs_are_refused_while_unpacking(tmp_path, case, command):
    maker, env, parts = XLSX_BOMBS[case]
    path = maker(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 << 20
    out = tmp_path / "out.csv"
    args = ["validate", path] if command == "validate" else ["recode", path, "--mapping", "gbvims", "-o", out]
    assert_bounded_failure(run_measured(*args, env=env), "bomb.xlsx", *parts, codes=(3,))
    assert_nothing_left(tmp_path, path)


def _lying_directory(path: Path) -> Path:
    """The shared-string bomb with its zip directory stating 1 MB for the 150 MB part."""
    data = bytearray(_strings_bomb(path).read_bytes())
    name = b"xl/sharedStrings.xml"
    at = next(i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i) and data.startswith(name, i + 46))
    assert int.from_bytes(data[at + 24:at + 28], "little") > 150 << 20  # the size, not zip64's 0xffffffff
    data[at + 24:at + 28] = (1 << 20).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size == 1 << 20
    return path


def test_an_xlsx_whose_directory_lies_is_read_no_further_than_it_says(tmp_path):
    path = _lying_directory(tmp_path / "liar.xlsx")
    result = run_measured("validate", path, env={"ICVAC_XLSX_CELL_MB": "1000"})
    assert_bounded_failure(result, "liar.xlsx", codes=(3,))


def test_xml_declarations_excel_never_writes_are_refused(tmp_path, icvac):
    path = tmp_path / "doctype.xlsx"
    doctype = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    path.write_bytes(_rezip(_workbook(), lambda n, d: doctype + d if n.endswith("sheet1.xml") else d))
    result = icvac("validate", path)
    assert_clean_failure(result, path, codes=(3,), where="DOCTYPE")


def test_xlsx_limits_are_raised_by_their_variable(tmp_path, icvac):
    path = xlsx_bomb(tmp_path / "wide-cell.xlsx", "xl/worksheets/sheet1.xml",
                     SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is><t>', b"B", 2,
                     b'</t></is></c><c r="B2" t="inlineStr"><is><t>Rape</t></is></c></row></sheetData></worksheet>')
    assert_clean_failure(icvac("validate", path), path, codes=(3,), where="ICVAC_XLSX_CELL_MB")
    result = icvac("recode", path, "--mapping", "gbvims", env={"ICVAC_XLSX_CELL_MB": "3"})
    assert result.exit_code == 0, result.stderr
    assert ("B" * (2 << 20)) in result.stdout
    bad = icvac("recode", path, "--mapping", "gbvims", env={"ICVAC_XLSX_CELL_MB": "lots"})
    assert bad.exit_code == 2 and "ICVAC_XLSX_CELL_MB" in bad.stderr


@pytest.mark.parametrize("options, where", [
    (["--header-row", "4611686018427387904"], "1,048,576 rows at most"),
    (["--header-row", "1048576"], "has no row 1048576"),
    (["--sheet", "9" * 5000], "no sheet '9999"),
    (["--sheet", "x" * 100_000], "no sheet 'xxx"),
])
def test_huge_header_row_and_sheet_numbers_end_at_once(tmp_path, options, where):
    path = tmp_path / "w.xlsx"
    path.write_bytes(_workbook())
    result = run_measured("validate", path, *options)
    assert_bounded_failure(result, "w.xlsx", where)
    assert len(result.stderr) < 2000


def test_a_forged_row_number_does_not_make_rows_without_end(tmp_path):
    """openpyxl makes up the empty rows before a row numbered 4611686018427387904, one by one."""
    far = b"4611686018427387904"
    path = tmp_path / "dimension.xlsx"
    path.write_bytes(_rezip(_xlsx([["incident_id", "icvac_code"], ["1", "02"]]), lambda n, d: d.replace(
        b'ref="A1:B2"', b'ref="A1:B' + far + b'"').replace(b'<row r="2"', b'<row r="' + far + b'"').replace(
        b'r="A2"', b'r="A' + far + b'"').replace(b'r="B2"', b'r="B' + far + b'"')))
    result = run_measured("validate", path)
    assert_bounded_failure(result, "dimension.xlsx", "1,048,576 rows", codes=(3,))


# ---- YAML from any kind of file

def _endless_writer(stream, megabytes: int = 64) -> threading.Thread:
    def write():
        try:
            for _ in range(megabytes):
                stream.write(b"a: " + b"b" * ((1 << 20) - 4) + b"\n")
        except (BrokenPipeError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                stream.close()
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_yaml_from_a_character_device_is_read_no_further_than_the_limit():
    assert_bounded_failure(run_measured("mapping", "check", "/dev/zero"), "/dev/zero", "10 MB limit", codes=(3,))


def test_yaml_from_stdin_is_read_no_further_than_the_limit():
    with open("/dev/zero", "rb") as zeros:
        result = run_measured("mapping", "check", "/dev/stdin", stdin=zeros)
    assert_bounded_failure(result, "/dev/stdin", "10 MB limit", codes=(3,))


def test_yaml_from_a_pipe_is_read_no_further_than_the_limit(tmp_path):
    fifo = tmp_path / "mapping.yaml"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as stream:
            _endless_writer(stream).join()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    result = run_measured("mapping", "check", fifo)
    assert_bounded_failure(result, "mapping.yaml", "10 MB limit", codes=(3,))


def _big_mapping(entries: int) -> str:
    head = (MAPPINGS / "gbvims.yaml").read_text(encoding="utf-8").split("categories:\n  #")[0]
    return head + "categories:\n" + "".join(
        f"  - source_label: Label number {i}\n    target: ['0301']\n    relation: exact\n" for i in range(entries))


def _alias_storm() -> str:
    labels = "".join(f"  - &l{i} Label {i}\n" for i in range(5000))
    uses = "".join(f"  - source_label: *l{i % 5000}\n    target: ['0301']\n" for i in range(40_000))
    return "id: storm\nlabels:\n" + labels + "categories:\n" + uses


@pytest.mark.parametrize("case, where", [
    ("ten-megabytes", "more than 100,000 keys, values and list items"),
    ("flow-list", "more than 100,000 keys, values and list items"),
    ("alias-storm", "more than 100,000 keys"),
])
def test_big_yaml_within_the_size_limit_is_refused_at_once(tmp_path, case, where):
    path = tmp_path / f"{case}.yaml"
    if case == "ten-megabytes":
        text = _big_mapping(131_000)
        assert 9_000_000 < len(text) < 10 << 20
    elif case == "flow-list":
        text = "[" + "1," * 3_000_000 + "1]\n"
    else:
        text = _alias_storm()
    path.write_text(text, encoding="utf-8")
    assert_bounded_failure(run_measured("mapping", "check", path), path.name, where, codes=(3,))


def test_on_read_as_true_is_said_not_duplicate_key_1(tmp_path, icvac):
    path = tmp_path / "values.yaml"
    path.write_text(_big_mapping(1) + "values: {victim_sex: {on: male, 1: female}}\n", encoding="utf-8")
    result = icvac("-q", "mapping", "check", path)
    assert_clean_failure(result, path, codes=(3,), where="key on is read by YAML as True, the same key as 1")
    assert "quote it: 'on'" in result.stderr and "duplicate key" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_boolean_where_text_belongs_says_to_quote_it(tmp_path, icvac):
    path = tmp_path / "taxonomy.yaml"
    text = (BAD / "full_taxonomy.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("title: Every key of the taxonomy schema", "title: on", 1), encoding="utf-8")
    result = icvac("taxonomy", "check", path)
    assert result.exit_code == 1, result.stderr
    assert ("title (line 4): value True should be of type string; YAML 1.1 reads an unquoted yes, no, on or off "
            "as true or false: quote it") in result.stdout + result.stderr


# ---- unencodable text, out of memory, messages

SURROGATES = b'{"incident_id": "1\\udc80", "gbv_type": "a\\ud800b"}\n{"incident_id": "2", "gbv_type": "Rape"}\n'


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx", "stdout"])
def test_lone_surrogates_are_written_escaped_and_counted(icvac, tmp_path, fmt):
    data = tmp_path / "s.jsonl"
    data.write_bytes(SURROGATES)
    out = tmp_path / f"out.{fmt}"
    result = icvac("recode", data, "--mapping", "gbvims", *([] if fmt == "stdout" else ["-o", out]),
                   "--review", tmp_path / "review.csv")
    assert result.exit_code == 0, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "2 character(s) that UTF-8 cannot hold" in result.stderr
    if fmt == "xlsx":
        from openpyxl import load_workbook

        cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row]
        assert "a\\ud800b" in cells and "1\\udc80" in cells
    else:
        text = result.stdout if fmt == "stdout" else out.read_text(encoding="utf-8")
        assert "a\\ud800b" in text and "1\\udc80" in text
    if fmt == "jsonl":  # in JSON the escape reads back as the character it was
        assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["gbv_type"] == "a\ud800b"
    if fmt != "stdout":
        assert json.loads(Path(f"{out}.meta.json").read_text(encoding="utf-8"))["escaped_characters"] == 2
    assert "a\\ud800b" in (tmp_path / "review.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_lone_surrogates_bounded_in_a_subprocess(tmp_path, fmt):
    data = tmp_path / "s.jsonl"
    data.write_bytes(SURROGATES)
    out = tmp_path / f"out.{fmt}"
    result = run_measured("recode", data, "--mapping", "gbvims", "-o", out)
    assert result.returncode == 0 and result.stderr == "", result.stderr[-3000:]
    assert result.seconds < SECONDS and result.peak_mb < PEAK_MB
    assert "a\\ud800b" in out.read_text(encoding="utf-8")
    assert_nothing_left(tmp_path, data, out, Path(f"{out}.meta.json"))


def test_lone_surrogates_in_every_writer(tmp_path, capsys):
    """Other commands quote the values they print (repr): the writers themselves hold the policy."""
    from openpyxl import load_workbook

    from icvac.writers import atomic_output, csv_writer, escaped_count
    from icvac.xlsx_writer import xlsx_writer

    before = escaped_count()
    with atomic_output(tmp_path / "a.txt") as handle:
        handle.write("a\ud800b\n")
    with atomic_output(tmp_path / "b.csv") as handle:
        csv_writer(handle).writerows([["1\udc80", "x,\udfff"]])
    with xlsx_writer(tmp_path / "c.xlsx") as write:
        write(["\ud83d"])
    with atomic_output("-") as handle:
        handle.write("\udbff\n")
    assert escaped_count() - before == 5
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "a\\ud800b\n"
    assert (tmp_path / "b.csv").read_text(encoding="utf-8") == '1\\udc80,"x,\\udfff"\n'
    assert next(load_workbook(tmp_path / "c.xlsx").active.iter_rows(values_only=True)) == ("\\ud83d",)
    assert capsys.readouterr().out == "\\udbff\n"


def test_memory_error_is_one_line_exit_3(icvac, tmp_path, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("icvac.validate.open_table", exhausted)
    monkeypatch.setattr("icvac.recode.open_table", exhausted)
    for args in (["validate", ROOT / "examples" / "national_export.csv"],
                 ["recode", ROOT / "examples" / "national_export.csv", "--mapping", "gbvims", "-o",
                  tmp_path / "o.csv"]):
        result = icvac(*args)
        assert result.exit_code == 3 and "Traceback" not in result.stderr
        assert [line for line in result.stderr.splitlines() if "error" in line] == [
            "icvac: error: out of memory; no output was written (a limit of memory, ulimit -v, may be too low "
            "for this file)"]
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ long lines and records, bounded while read
#
# A CSV line is read no further than the record limit (ICVAC_CSV_RECORD_MB, 16 MB) and a field no further
# than the field limit (ICVAC_CSV_FIELD_MB, 1 MB), through the Arrow reader, its Python fallback, the
# worker processes and stdin alike: exit 3, one line naming the limit and its variable, under 300 MB at
# the peak (and 1 GB of address space: Arrow's threads and allocator reserve about 500 MB of it up front).

def _long_line(path: Path, megabytes: int) -> Path:
    with open(path, "wb") as handle:  # streamed: a megabyte at a time
        handle.write(HEADER.encode() + b"1,Rape,\n2,")
        chunk = b"x" * (1 << 20)
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b",\n")
    return path


def _sparse_line(path: Path, megabytes: int) -> Path:
    """A line of zeros, sparse on disk, after a field long enough that the 1 MB sample holds no zero."""
    with open(path, "wb") as handle:
        handle.write(HEADER.encode() + b"1,Rape,\n2," + b"x" * (1100 << 10))
        handle.truncate(megabytes << 20)
    return path


def _many_lines_one_record(path: Path, megabytes: int, width: int = 1) -> Path:
    """One record of short lines: a quoted cell of ``width`` characters and a line break, over and over."""
    with open(path, "wb") as handle:
        handle.write(HEADER.encode() + b"1,Rape,\n2,")
        cell = b'"' + b"a" * width + b'\n",'
        chunk = cell * ((1 << 20) // len(cell))
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b"x\n")
    return path


def _record_of_wide_cells(path: Path, megabytes: int) -> Path:
    return _many_lines_one_record(path, megabytes, width=100)


def _one_field_of_lines(path: Path, megabytes: int) -> Path:
    with open(path, "wb") as handle:
        handle.write(HEADER.encode() + b'1,Rape,\n2,"')
        for _ in range(megabytes):
            handle.write(b"a\n" * (1 << 19))
        handle.write(b'",\n')
    return path


RECORD = ("row 3", "a record is longer than 16 MB", "ICVAC_CSV_RECORD_MB")
LONG_RECORDS = {
    "300mb-line": (_long_line, 300, RECORD),
    "2gb-sparse-line": (_sparse_line, 2048, RECORD),
    "record-of-short-lines": (_record_of_wide_cells, 20, RECORD),
    "record-of-small-cells": (_many_lines_one_record, 8, ("row 3", "more than 1,048,576 cells", "ICVAC_CSV_CELLS")),
    "field-of-short-lines": (_one_field_of_lines, 4, ("row 3", "a field is larger than 1 MB", "ICVAC_CSV_FIELD_MB")),
}


@pytest.mark.parametrize("how", ["recode", "recode-jobs-2", "validate", "recode-stdin"])
@pytest.mark.parametrize("case", LONG_RECORDS)
def test_long_records_are_refused_while_read(tmp_path, case, how):
    maker, megabytes, parts = LONG_RECORDS[case]
    path = maker(tmp_path / "long.csv", megabytes)
    out = tmp_path / "o.csv"
    if how == "validate":
        result = run_measured("validate", path)
    elif how == "recode-stdin":
        with open(path, "rb") as stdin:
            result = run_measured("recode", "-", "--mapping", "gbvims", "-o", out, stdin=stdin)
        parts = ("-: " + parts[0],) + parts[1:]
    else:
        result = run_measured("recode", path, "--mapping", "gbvims", "-o", out,
                              *(["--jobs", "2"] if how == "recode-jobs-2" else []))
    assert_bounded_failure(result, *parts, codes=(3,))
    assert_nothing_left(tmp_path, path)


def test_the_record_and_field_limits_are_raised_by_their_variables(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(HEADER + "1,Rape,\n2," + "x" * (3 << 20) + ",\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    refused = run_measured("recode", path, "--mapping", "gbvims", "-o", out, env={"ICVAC_CSV_RECORD_MB": "2"})
    assert_bounded_failure(refused, "row 3", "a record is longer than 2 MB", "ICVAC_CSV_RECORD_MB", codes=(3,))
    refused = run_measured("recode", path, "--mapping", "gbvims", "-o", out)
    assert_bounded_failure(refused, "row 3", "a field is larger than 1 MB", "ICVAC_CSV_FIELD_MB", codes=(3,))
    passed = run_measured("recode", path, "--mapping", "gbvims", "-o", out, env={"ICVAC_CSV_FIELD_MB": "4"})
    assert passed.returncode == 0, passed.stderr
    # a 3 MB label is a narrative: not scored (rapidfuzz's tables and the junk patterns took 400 MB for it)
    assert passed.peak_mb < 250, passed.peak_mb
    assert out.read_text(encoding="utf-8").splitlines()[2].startswith("2," + "x" * (3 << 20) + ",unclassified,")
    refused = run_measured("recode", path, "--mapping", "gbvims", "-o", out, env={"ICVAC_CSV_CELLS": "2"})
    assert_bounded_failure(refused, "row 1", "more than 2 cells", "ICVAC_CSV_CELLS", codes=(3,))
    for var in ("ICVAC_CSV_RECORD_MB", "ICVAC_CSV_CELLS"):
        bad = run_measured("recode", path, "--mapping", "gbvims", "-o", out, env={var: "0"})
        assert_bounded_failure(bad, var, codes=(2,))


@pytest.mark.parametrize("body", ['1,"a\n"x,\n', '1,"a,"x,\n', '1,"a\n"""x,\n'])
def test_text_after_a_closing_quote_takes_the_exact_reader(tmp_path, icvac, body):
    """Arrow reads on after a closing quote followed by text; Python's csv (strict), the exact reader,
    refuses it at its row: the raw look sends such a file to Python, whatever precedes the closing quote."""
    path = tmp_path / "q.csv"
    path.write_text(HEADER + "0,Rape,\n" + body + "2,Rape,\n", encoding="utf-8")
    result = icvac("recode", path, "--mapping", "gbvims", "-o", tmp_path / "o.csv")
    assert_clean_failure(result, path, codes=(3,), where="row 3: cannot parse CSV")
    assert_nothing_left(tmp_path, path)


def test_a_file_name_with_a_line_break_stays_on_one_line(icvac, tmp_path):
    path = tmp_path / "two\nlines.csv"
    path.write_text(HEADER + "1,Rape,0301\n", encoding="utf-8")
    for args in (["validate", path, "--column", "icvac_code=nope"], ["validate", tmp_path / "gone\nfile.csv"],
                 ["mapping", "check", tmp_path / "gone\nmapping.yaml"]):
        result = icvac("-q", *args)
        assert result.exit_code in (2, 3), result.stderr
        assert len(result.stderr.splitlines()) == 1 and "\\n" in result.stderr, result.stderr


def test_a_bad_column_among_a_million_is_a_short_line(tmp_path):
    path = tmp_path / "wide.csv"
    columns = 1_000_000
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + "," * (columns - 1) + "\n", encoding="utf-8")
    result = run_measured("validate", path, "--column", "icvac_code=nope")
    assert_bounded_failure(result, "wide.csv", "no column named 'nope'", "and 999,980 more", codes=(2,))
    assert len(result.stderr) < 1000


# ------------------------------------------------------------------ many distinct labels (issue 20, case 4)
#
# Memory is bounded in the number of distinct values: the caches of matches, codings and rankings forget
# their oldest entries, and the review list keeps the most frequent --review-limit values, counting the
# rest. The output is the same whether the caches held every value or forgot them.

def _many_labels(path: Path, distinct: int, rows: int) -> Path:
    """``rows`` records over ``distinct`` labels (a few known, most not), each label repeated by how early it
    comes (Zipf-like)."""
    import random

    known = ["Rape", "Sexual Assault", "Physical Assault", "Forced Marriage", "Denial of Resources", "rape"]
    words = ["abuse", "assault", "neglect", "threat", "violence", "exploitation", "harm", "incident"]
    rng = random.Random(20)
    labels = known + [f"{rng.choice(words)} {rng.choice(words)} {i}" for i in range(distinct - len(known))]
    picks = labels + rng.choices(labels, [1.0 / (rank + 1) for rank in range(distinct)], k=rows - distinct)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("incident_id,gbv_type\n")
        handle.writelines(f"{i},{label}\n" for i, label in enumerate(picks, 1))
    return path


def test_capped_caches_give_the_same_output_and_a_cut_review(tmp_path, monkeypatch):
    from icvac import coder, load_taxonomy, matching, scoring
    from icvac.mapping import load_mapping
    from icvac.recode import RecodeOptions, recode_file

    data = _many_labels(tmp_path / "many.csv", distinct=1500, rows=4000)
    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    full = recode_file(data, mapping, taxonomy, tmp_path / "full.csv", RecodeOptions(),
                       review=tmp_path / "full-review.csv")
    assert not full.review_not_listed
    for module, name, size in ((matching, "MATCH_CACHE", 50), (coder, "CODING_LIMIT", 40),
                               (coder, "REVIEW_TRACKED", 60), (scoring, "RANK_CACHE", 30), (scoring, "WORD_CACHE", 30)):
        monkeypatch.setattr(module, name, size)
    capped = recode_file(data, mapping, taxonomy, tmp_path / "capped.csv", RecodeOptions(review_limit=25),
                         review=tmp_path / "capped-review.csv")
    assert (tmp_path / "capped.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert capped.by_method == full.by_method and capped.unclassified_records == full.unclassified_records
    listed = [(r.source_code, r.source_label, r.count) for r in capped.review]
    # with the review counts pruned to 30 values at a time, the most frequent are still those listed
    assert listed == [(r.source_code, r.source_label, r.count) for r in full.review[:25]]
    assert len((tmp_path / "capped-review.csv").read_text(encoding="utf-8").splitlines()) == 1 + 25
    total = sum(r.count for r in full.review)
    assert capped.review_not_listed["limit"] == 25
    assert capped.review_not_listed["records"] == total - sum(r.count for r in capped.review)
    assert capped.review_not_listed["values"] is None  # forgotten values: their number is no longer known
    sidecar = json.loads(Path(f"{tmp_path / 'capped.csv'}.meta.json").read_text(encoding="utf-8"))
    assert sidecar["review_not_listed"] == capped.review_not_listed
    assert "review_not_listed" not in json.loads(Path(f"{tmp_path / 'full.csv'}.meta.json").read_text("utf-8"))


def test_review_limit_option_and_summary_line(tmp_path, icvac):
    data = _many_labels(tmp_path / "many.csv", distinct=300, rows=600)
    result = icvac("recode", data, "--mapping", "gbvims", "-o", tmp_path / "o.csv", "--review", tmp_path / "r.csv",
                   "--review-limit", "10", "--no-fuzzy")
    assert result.exit_code == 0, result.stderr
    assert "values to review: 10 (written to" in result.stderr and "not listed (--review-limit 10)" in result.stderr
    assert len((tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()) == 11
    assert icvac("recode", data, "--mapping", "gbvims", "--review-limit", "0").exit_code == 2


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])  # the Arrow engine and the row-by-row one
def test_narratives_in_a_category_column_are_counted_not_copied_for_review(tmp_path, icvac, suffix):
    from icvac.text import LONGEST_LABEL

    story = "PRIVATE-NAME " + "the child said that " * (LONGEST_LABEL // 20)
    labels = ["Rape", story, story + "again", "sexual assualt", story]
    data = tmp_path / f"narratives.{suffix}"
    if suffix == "csv":
        data.write_text("incident_id,gbv_type\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels)), "utf-8")
    else:
        data.write_text("".join(json.dumps({"incident_id": str(i), "gbv_type": v}) + "\n"
                                for i, v in enumerate(labels)), "utf-8")
    out, review = tmp_path / "o.csv", tmp_path / "r.csv"
    result = icvac("recode", data, "--mapping", "gbvims", "-o", out, "--review", review)
    assert result.exit_code == 0, result.stderr
    assert "PRIVATE-NAME" not in review.read_text("utf-8") + result.stderr
    assert "sexual assualt" in review.read_text("utf-8")
    assert "3 category cell(s) of over 1,000 characters" in result.stderr
    sidecar = json.loads(Path(f"{out}.meta.json").read_text("utf-8"))
    assert sidecar["narrative_cells"] == 3 and sidecar["unclassified_records"] == 3
    # an ordinary file says nothing of narratives
    plain = tmp_path / f"plain.{suffix}"
    plain.write_text(data.read_text("utf-8").replace(story, "Rape"), "utf-8")
    assert icvac("recode", plain, "--mapping", "gbvims", "-o", out).exit_code == 0
    assert "narrative_cells" not in json.loads(Path(f"{out}.meta.json").read_text("utf-8"))


@pytest.mark.slow
def test_many_distinct_labels_recode_in_flat_memory(tmp_path):
    """40,000 distinct labels (each ranked for review: about a millisecond each) under 200 MB at the peak."""
    data = _many_labels(tmp_path / "many.csv", distinct=40_000, rows=60_000)
    out = tmp_path / "o.csv"
    result = run_measured("recode", data, "--mapping", "gbvims", "-o", out, "--review", tmp_path / "r.csv",
                          "--no-fuzzy", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.peak_mb < 200, result.peak_mb
    assert len(out.read_text(encoding="utf-8").splitlines()) == 60_001
    assert_nothing_left(tmp_path, data, out, Path(f"{out}.meta.json"), tmp_path / "r.csv")


# ------------------------------------- worksheets that would make the parser hold them whole (issue 20, case 1)
#
# openpyxl's parse keeps the whitespace after every row, and every element it does not know, to the end of the
# sheet (and reads a sheet stating no dimensions to its end before the first row): 1.2 GB of whitespace between
# rows took 1.7 GB and 81 s, a flood of unknown elements 1.5 GB before it was stopped. icvac's parse drops them
# as they end and bounds what it holds (icvac.xlsx_limits.SheetBudget).

SHEET_START = SHEET_HEAD.split(b"<sheetData>")[0] + b"<sheetData>"
SHEET_END = b"</sheetData></worksheet>"


def xlsx_sheet(path: Path, pieces) -> Path:
    """A small workbook whose first sheet unpacks to the bytes of ``pieces``, streamed into the zip."""
    base = _xlsx([["incident_id", "gbv_type"], ["1", "Rape"]])
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name != member:
                target.writestr(name, source.read(name))
                continue
            with target.open(name, "w", force_zip64=True) as part:
                for piece in pieces:
                    part.write(piece)
    return path


def _row(number: int, text: bytes = b"Rape") -> bytes:
    return b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (number, number, text)


def _spaced_rows(megabytes: int):
    """Rows, each followed by a megabyte of whitespace (within the 1 MB limit on a run of text)."""
    yield SHEET_HEAD
    gap = b" \n" * ((1 << 19) - 64)
    for number in range(2, megabytes + 2):
        yield _row(number) + gap
    yield SHEET_END


def _flood(megabytes: int, where: str):
    """A flood of unknown elements (4 bytes each) between two rows, inside a row, or before the rows."""
    block = b"<x/>" * (1 << 18)
    yield {"between": SHEET_HEAD + _row(2), "in-a-row": SHEET_HEAD + b'<row r="2">',
           "before-rows": SHEET_START.replace(b"<sheetData>", b"")}[where]
    for _ in range(megabytes):
        yield block
    yield {"between": SHEET_END, "in-a-row": b"</row>" + SHEET_END,
           "before-rows": b"<sheetData>" + SHEET_HEAD[len(SHEET_START):] + SHEET_END}[where]


def _spaced_cells(megabytes: int):
    """One row of cells, each followed by a megabyte of whitespace."""
    yield SHEET_HEAD + b'<row r="2">'
    for _ in range(megabytes):
        yield b'<c r="A2"/>' + b" " * ((1 << 20) - 16)
    yield b"</row>" + SHEET_END


def _nested(megabytes: int):
    yield SHEET_HEAD
    for _ in range(megabytes):
        yield b"<x>" * (1 << 18)


SHEET_FLOODS = {
    # name: (pieces, expected message parts)
    "whitespace-between-rows": (lambda: _spaced_rows(160), ("outside its rows", "16 MB limit", "ICVAC_XLSX_ROW_MB")),
    "unknown-elements-between-rows": (lambda: _flood(32, "between"), ("elements outside its rows", "100 MB limit",
                                                                      "ICVAC_XLSX_PART_MB")),
    "unknown-elements-in-a-row": (lambda: _flood(32, "in-a-row"), ("a row above the 16 MB limit", "ICVAC_XLSX_ROW_MB")),
    "unknown-elements-before-rows": (lambda: _flood(32, "before-rows"), ("before its rows", "ICVAC_XLSX_ROW_MB")),
    "whitespace-in-a-row": (lambda: _spaced_cells(32), ("a row above the 16 MB limit", "ICVAC_XLSX_ROW_MB")),
    "nested-elements": (lambda: _nested(16), ("more than 64 deep",)),
}


@pytest.fixture(scope="module")
def sheet_floods(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("floods")
    return {case: xlsx_sheet(folder / f"{case}.xlsx", pieces()) for case, (pieces, _) in SHEET_FLOODS.items()}


@pytest.mark.parametrize("command", ["validate", "recode"])
@pytest.mark.parametrize("case", SHEET_FLOODS)
def test_a_sheet_the_parser_would_hold_whole_is_refused(tmp_path, sheet_floods, case, command):
    parts = SHEET_FLOODS[case][1]
    path = tmp_path / "flood.xlsx"
    path.write_bytes(sheet_floods[case].read_bytes())
    assert path.stat().st_size < 2 << 20
    out = tmp_path / "out.csv"
    args = ["validate", path] if command == "validate" else ["recode", path, "--mapping", "gbvims", "-o", out]
    assert_bounded_failure(run_measured(*args), "flood.xlsx", "xl/worksheets/sheet1.xml", *parts, codes=(3,))
    assert_nothing_left(tmp_path, path)


def test_rows_spaced_within_the_limits_are_read_and_the_row_limit_is_raised(tmp_path, icvac):
    """Whitespace between rows and unknown elements are dropped, not read as cells; ICVAC_XLSX_ROW_MB raises
    the row limit."""
    def pieces():
        yield SHEET_HEAD + b"\n  <x>ignored</x>\n"
        for number in range(2, 6):
            yield _row(number) + b" \n" * 1000 + b"<x/>"
        spaced = (b" " * (900 << 10) + b"<c/>") * 20  # 18 MB, no run of text above 1 MB
        yield b'<row r="6"><c r="A6" t="inlineStr"><is><t>6</t></is></c>' + spaced + b"</row>" + SHEET_END

    path = xlsx_sheet(tmp_path / "spaced.xlsx", pieces())
    assert_clean_failure(icvac("validate", path), path, codes=(3,), where="ICVAC_XLSX_ROW_MB")
    result = icvac("recode", path, "--mapping", "gbvims", "--no-fuzzy", env={"ICVAC_XLSX_ROW_MB": "32"})
    assert result.exit_code == 0, result.stderr
    rows = [line.split(",")[:2] for line in result.stdout.splitlines()[1:]]
    assert rows == [["Rape", ""]] * 4 + [["6", ""]]
