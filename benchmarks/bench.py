"""Time ``icvac recode`` and ``icvac validate`` against a DuckDB reference on a synthetic national export.

    python benchmarks/bench.py --rows 100000,1000000 --repeat 3

Every command runs as its own process: wall time is ``time.perf_counter`` around it, peak
memory is that process's own maximum resident set size (``os.wait4``). Within each
repeat the tools alternate (icvac recode, DuckDB recode, icvac validate, DuckDB validate),
so a busy neighbour slows both sides alike. The table gives medians; the ratio to DuckDB,
not the absolute time, is the figure to compare between machines. benchmarks/README.md
says what the DuckDB reference does and does not do.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import (COLUMNS, GENERATOR_VERSION, ID_ORDERS, write_distinct_labels, write_export,  # noqa: E402
                      write_probe)

HERE = Path(__file__).resolve().parent
DEFAULT_ROWS = (100_000, 1_000_000, 3_000_000)
TASKS = ("recode", "validate", "help", "draft")
EXTRA_TASKS = ("migrate",)  # only when asked (--only migrate): `icvac migrate` beside `icvac recode`
DUCKDB_THREADS = 2
DRAFT_LABELS = 20_000
HELP_REPEAT = 10
MAPPING = "gbvims"
LABEL_COLUMN = "gbv_type"
# The bundled GBVIMS mapping calls this column alleged_perpetrator_relationship; the export calls it otherwise.
RECODE_OPTIONS = ("--column", "perpetrator_relationship=perpetrator")
# validate runs on recode's output, whose roles keep the export's column names.
VALIDATE_COLUMNS = {"id": "incident_id", "victim_age": "survivor_age", "victim_birth_date": "survivor_birth_date",
                    "incident_date": "date_of_incident", "victim_sex": "icvac_victim_sex",
                    "perpetrator_relationship": "icvac_perpetrator_relationship", "setting": "icvac_setting"}
# recode's added columns: those that depend on the category label alone, and those that code a
# variable, each with the export column it is read from
LABEL_OUTPUTS = ("icvac_code", "icvac_level1", "icvac_title", "icvac_match", "icvac_score")
VARIABLE_SOURCES = {"icvac_victim_sex": "survivor_sex", "icvac_perpetrator_relationship": "perpetrator",
                    "icvac_setting": "setting", "icvac_victim_age_group": "survivor_age"}


@dataclass
class Run:
    wall: float
    rss_mb: float


@dataclass
class Result:
    rows: int
    tool: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)


# ---------------------------------------------------------------- running one process and measuring it

def icvac_command() -> list[str]:
    """The console script next to this interpreter, as users run it; else ``python -m icvac``."""
    script = Path(sys.executable).with_name("icvac")
    return [str(script)] if script.exists() else [sys.executable, "-m", "icvac"]


# A child's ru_maxrss starts at the resident size of the process that forked it (Linux carries the
# high-water mark across exec), so the measured command is started by this small launcher, not by
# the benchmark itself, whose own size would otherwise be reported for every command it runs.
_LAUNCHER = """
import json, os, sys, time
out, err, *argv = sys.argv[1:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [(os.POSIX_SPAWN_OPEN, 1, out, flags, 0o644), (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o644)]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss}))
"""


def measure(argv: list[str], stdout: Path | None = None, ok: tuple[int, ...] = (0, 1)) -> Run:
    """Run one process to its end: its wall time and its own peak RSS (not that of other processes)."""
    with tempfile.TemporaryDirectory() as tmp:
        err = Path(tmp) / "stderr"
        done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(stdout or os.devnull), str(err),
                               *map(str, argv)], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout)
        if result["code"] not in ok:
            tail = err.read_text(errors="replace")[-3000:]
            raise SystemExit(f"bench: exit {result['code']} from {' '.join(map(str, argv))}\n{tail}")
    # ru_maxrss is KiB on Linux, bytes on macOS
    return Run(result["wall"], result["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024))


# ---------------------------------------------------------------- the DuckDB reference (runs in a child process)

def duckdb_recode(src: str, spec_json: str, out: str, threads: int) -> None:
    """Look each row's values up in the value -> coding tables icvac produced; write the rows back out.

    ``spec``: {"lookups": [{"file": csv, "key": export column, "columns": [added columns]}],
    "order": [added columns in icvac's order]}; each lookup file has a ``_key`` column. The look-ups
    are MAPs in the projection, not joins: DuckDB's hash join does not keep the input order, and
    icvac's output must (ORDER BY on a row number would cost DuckDB more than the maps do).
    """
    import duckdb

    spec = json.loads(spec_json)
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    expr = {}
    for lookup in spec["lookups"]:
        source = f"read_csv({_quote(lookup['file'])}, all_varchar = true, header = true)"
        for c in lookup["columns"]:
            con.execute(f"SET VARIABLE {_ident(c)} = (SELECT map(list(coalesce(_key, '')), list({_ident(c)})) "
                        f"FROM {source})")
            expr[c] = f"getvariable({_quote(c)})[coalesce(t.{_ident(lookup['key'])}, '')] AS {_ident(c)}"
    added = ", ".join(expr[c] for c in spec["order"])
    con.execute(f"""COPY (SELECT t.*, {added} FROM read_csv({_quote(src)}, all_varchar = true, header = true) t)
                    TO {_quote(out)} (HEADER, DELIMITER ',')""")


def duckdb_validate(src: str, spec_json: str, threads: int) -> None:
    """The checks of ``icvac validate`` as one SQL aggregate; prints the count of each check as JSON."""
    import duckdb

    spec = json.loads(spec_json)
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    row = con.execute(validate_sql(src, spec)).fetchone()
    names = [d[0] for d in con.description]
    print(json.dumps(dict(zip(names, row))))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _in_list(values) -> str:
    return ", ".join(map(_quote, values)) or "NULL"


_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"


def _date(col: str) -> str:
    return (f"CASE WHEN regexp_full_match(trim({col}), '{_DATE_RE}') "
            f"THEN try_strptime(substr(trim({col}), 1, 10), '%Y-%m-%d')::DATE END")


def validate_sql(src: str, spec: dict) -> str:
    """``spec``: {"codes": [...], "columns": {role: column}, "variables": {role: [codes]}} -> one query."""
    # read_csv gives NULL for an empty cell; icvac sees "", so compare with "" throughout
    col = {role: f"coalesce({_ident(name)}, '')" for role, name in spec["columns"].items()}
    variables = {role: codes for role, codes in spec["variables"].items() if role in col}
    var_select = "".join(f", {col[r]} AS v_{r}" for r in variables)
    var_counts = []
    for role, codes in variables.items():
        v, lower = f"v_{role}", _in_list([c.lower() for c in codes])
        var_counts += [f"count_if(trim({v}) = '') AS \"missing-value:{role}\"",
                       f"count_if(trim({v}) <> '' AND lower(trim({v})) NOT IN ({lower})) AS \"invalid-value:{role}\"",
                       f"count_if({v} NOT IN ({_in_list(codes)}) AND trim({v}) <> '' AND lower(trim({v})) IN ({lower}))"
                       f" AS \"noncanonical-value:{role}\""]
    return f"""
WITH r AS (
  SELECT trim({col['id']}) AS id, {col['icvac_code']} AS raw_code,
         -- one code per act, joined by | or ; (icvac.codes); 'unclassified' is not a code but is allowed
         list_filter(list_transform(string_split_regex({col['icvac_code']}, '[|;]'), lambda p: trim(p)),
                     lambda p: p <> '') AS pieces,
         len(list_filter(pieces, lambda p: lower(p) <> 'unclassified'
                                      AND NOT list_contains([{_in_list(spec['codes'])}], p))) AS unknown_codes,
         CASE WHEN lower(trim({col['victim_age']})) IN ('', 'unknown') THEN NULL
              ELSE trim({col['victim_age']}) END AS age_text,
         {_date(col['incident_date'])} AS incident, {_date(col['victim_birth_date'])} AS birth,
         trim({col['incident_date']}) <> '' AND incident IS NULL AS bad_incident,
         trim({col['victim_birth_date']}) <> '' AND birth IS NULL AS bad_birth{var_select}
  FROM read_csv({_quote(src)}, all_varchar = true, header = true)),
a AS (SELECT *, try_cast(age_text AS DOUBLE) AS age_num FROM r),
-- an age is a whole number of years from 0 to 130 (icvac.ages)
c AS (SELECT *, CASE WHEN regexp_full_match(age_text, '[0-9]{{1,3}}(\\.0*)?') AND age_num <= 130
                     THEN age_num::BIGINT END AS age,
             -- a date in the future is reported once and not compared with the other date
             CASE WHEN incident <= current_date THEN incident END AS ci,
             CASE WHEN birth <= current_date THEN birth END AS cb FROM a),
-- completed years as icvac counts them (DuckDB's date_sub treats 29 February differently)
b AS (SELECT *, CASE WHEN cb <= ci THEN year(ci) - year(cb)
                     - CASE WHEN month(ci) * 100 + day(ci) < month(cb) * 100 + day(cb) THEN 1 ELSE 0 END
                END AS years FROM c)
SELECT count(*) AS rows_read,
       count_if(id = '') AS "missing-id",
       count_if(id <> '') - count(DISTINCT nullif(id, '')) AS "duplicate-id",
       count_if(len(pieces) = 0) AS "missing-code",
       sum(unknown_codes) AS "unknown-code",
       count_if(len(pieces) > 0 AND unknown_codes = 0 AND regexp_matches(raw_code, '\\s'))
           AS "noncanonical-value:code",
       count_if(age_text IS NOT NULL AND age IS NULL) AS "age-not-a-number",
       count_if(age NOT BETWEEN 0 AND 17) + count_if(age_text IS NULL AND years > 17) AS "age-out-of-range",
       count_if(bad_incident) + count_if(bad_birth) AS "invalid-date",
       count_if(incident > current_date) + count_if(birth > current_date) AS "future-date",
       count_if(cb > ci) AS "birth-after-incident",
       count_if(age BETWEEN 0 AND 17 AND age <> years) AS "age-inconsistent"
       {''.join(', ' + c for c in var_counts)}
FROM b"""


def _child(argv: list[str]) -> None:
    """``bench.py --duckdb-child recode|validate ...``: the reference, in a process of its own."""
    task, *args = argv
    if task == "recode":
        duckdb_recode(args[0], args[1], args[2], int(args[3]))
    else:
        duckdb_validate(args[0], args[1], int(args[2]))


def duckdb_argv(*args) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--duckdb-child", *map(str, args)]


# ---------------------------------------------------------------- inputs, prepared once

def export_file(workdir: Path, rows: int, seed: int, ids: str = "in-order") -> Path:
    """The synthetic export of ``rows`` rows, generated on first use and kept in the work folder."""
    path = workdir / f"export-{rows}-s{seed}-g{GENERATOR_VERSION}{_suffix(ids)}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        part = path.with_suffix(".part")
        write_export(part, rows, seed, ids)
        part.replace(path)
    return path


def _suffix(ids: str) -> str:
    return "" if ids == "in-order" else f"-{ids}"


def build_lookups(workdir: Path, seed: int) -> dict:
    """Recode the probe (every distinct value the generator makes) with icvac; its output becomes
    the DuckDB reference's lookup tables. Returns the recode spec for ``duckdb_recode``."""
    probe, coded = workdir / "probe.csv", workdir / "probe-coded.csv"
    write_probe(probe, seed)
    coded.unlink(missing_ok=True)
    measure(icvac_command() + recode_args(probe, coded), ok=(0,))
    with open(coded, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    added = header[len(COLUMNS):]
    label_columns = [c for c in added if c in LABEL_OUTPUTS]
    if header[:len(COLUMNS)] != list(COLUMNS) or set(added) - set(LABEL_OUTPUTS) - set(VARIABLE_SOURCES):
        raise SystemExit(f"bench: unexpected recode output columns {header}; update VARIABLE_SOURCES")
    groups = [(LABEL_COLUMN, label_columns)] + [(VARIABLE_SOURCES[c], [c]) for c in added if c in VARIABLE_SOURCES]
    lookups = []
    for n, (key, columns) in enumerate(groups):
        k, idx = header.index(key), [header.index(c) for c in columns]
        table: dict[str, list[str]] = {}
        for row in rows:
            value = [row[i] for i in idx]
            if table.setdefault(row[k], value) != value:
                raise SystemExit(f"bench: {columns} is not a function of {key!r} alone; "
                                 "the lookup reference cannot reproduce it")
        path = workdir / f"lookup-{n}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["_key", *columns])
            writer.writerows([key_value, *value] for key_value, value in table.items())
        lookups.append({"file": str(path), "key": key, "columns": columns})
    return {"lookups": lookups, "order": added}


def recode_args(data: Path, out: Path) -> list[str]:
    return ["recode", str(data), "--mapping", MAPPING, "--output", str(out), *RECODE_OPTIONS]


def validate_args(data: Path) -> list[str]:
    columns = [x for role, name in VALIDATE_COLUMNS.items() for x in ("--column", f"{role}={name}")]
    return ["validate", str(data), "--format", "json", *columns]


def validate_spec(coded: Path) -> dict:
    """What icvac validate will check in ``coded``, for the SQL: columns resolved the way icvac does."""
    from icvac.columns import VARIABLE_ROLES, resolve_columns
    from icvac.taxonomy import load_taxonomy

    with open(coded, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    taxonomy = load_taxonomy()
    found = resolve_columns(header, VALIDATE_COLUMNS).index
    columns = {role: header[i] for role, i in found.items()}
    missing = {"id", "icvac_code", "victim_age", "victim_birth_date", "incident_date"} - set(columns)
    if missing:
        raise SystemExit(f"bench: {coded.name} has no column for {sorted(missing)}")
    variables = {role: list(taxonomy.variables[role].codes) for role in VARIABLE_ROLES
                 if role in columns and role in taxonomy.variables}
    return {"codes": list(taxonomy.categories), "columns": columns, "variables": variables}


def compare_counts(icvac_json: Path, duck_json: Path) -> list[str]:
    """Differences between icvac's and the SQL's counts per check: the reference must do the same work."""
    ours = json.loads(icvac_json.read_text(encoding="utf-8"))
    theirs: dict[str, int] = {}
    for name, value in json.loads(duck_json.read_text(encoding="utf-8")).items():
        if name != "rows_read":
            slug = name.split(":")[0]
            theirs[slug] = theirs.get(slug, 0) + int(value or 0)
    notes = []
    if ours["stats"]["rows_read"] != json.loads(duck_json.read_text())["rows_read"]:
        notes.append("rows_read differs")
    for slug in sorted(set(theirs) | set(ours["counts_by_slug"])):
        a, b = ours["counts_by_slug"].get(slug, 0), theirs.get(slug)
        if b is not None and a != b:
            notes.append(f"{slug}: icvac {a}, duckdb {b}")
    return notes


def same_rows(a: Path, b: Path) -> str | None:
    """None when the two CSV files hold the same rows in the same order; else where they first differ."""
    with open(a, encoding="utf-8", newline="") as fa, open(b, encoding="utf-8", newline="") as fb:
        for n, (x, y) in enumerate(zip(csv.reader(fa), csv.reader(fb), strict=False), 1):
            if x != y:
                return f"line {n}"
        if next(fa, None) is not None or next(fb, None) is not None:
            return "row count"
    return None


# ---------------------------------------------------------------- the timed runs

def bench_rows(rows: int, args, recode_spec: dict, results: list[Result], notes: list[str]) -> None:
    export = export_file(args.workdir, rows, args.seed, args.ids)
    name = f"{rows}{_suffix(args.ids)}"
    coded, duck_coded = args.workdir / f"coded-{name}.csv", args.workdir / f"coded-{name}-duckdb.csv"
    report, duck_report = args.workdir / f"report-{name}.json", args.workdir / f"report-{name}-duckdb.json"
    names = ("icvac recode", "duckdb recode", "icvac validate", "duckdb validate")
    if args.reference:
        names += ("reference recode", "reference validate")
    tools = {name: Result(rows, name) for name in names}
    ref_coded = args.workdir / f"coded-{name}-reference.csv"
    spec = None
    for repeat in range(args.repeat):
        if "recode" in args.only or repeat == 0:  # validate reads recode's output
            for path in (coded, duck_coded, ref_coded):
                path.unlink(missing_ok=True)
            run = measure(icvac_command() + recode_args(export, coded), ok=(0,))
            if args.reference and "recode" in args.only:
                tools["reference recode"].runs.append(measure(reference_command(args.reference)
                                                              + recode_args(export, ref_coded), ok=(0,)))
                if repeat == 0 and not same_bytes(coded, ref_coded):
                    notes.append(f"{rows:,} rows: the reference's recode output differs from icvac's")
            if "recode" in args.only:
                tools["icvac recode"].runs.append(run)
                tools["duckdb recode"].runs.append(measure(duckdb_argv(
                    "recode", export, json.dumps(recode_spec), duck_coded, DUCKDB_THREADS), ok=(0,)))
                if repeat == 0 and (where := same_rows(coded, duck_coded)):
                    notes.append(f"{rows:,} rows: the DuckDB recode output differs from icvac's at {where}")
        if "validate" in args.only:
            spec = spec or json.dumps(validate_spec(coded))
            tools["icvac validate"].runs.append(measure(icvac_command() + validate_args(coded), report))
            tools["duckdb validate"].runs.append(measure(duckdb_argv("validate", coded, spec, DUCKDB_THREADS),
                                                         duck_report, ok=(0,)))
            if args.reference:
                ref_report = args.workdir / f"report-{name}-reference.json"
                tools["reference validate"].runs.append(measure(reference_command(args.reference)
                                                                + validate_args(coded), ref_report))
                if repeat == 0 and not same_bytes(report, ref_report):
                    notes.append(f"{rows:,} rows: the reference's validate report differs from icvac's")
            if repeat == 0:
                notes += [f"{rows:,} rows, validate counts differ: {d}" for d in compare_counts(report, duck_report)]
        print(f"  {rows:,} rows: repeat {repeat + 1}/{args.repeat} done", file=sys.stderr)
    results += [r for r in tools.values() if r.runs]


def reference_command(checkout: Path) -> list[str]:
    """icvac as another checkout has it (``--reference``), run by this interpreter."""
    # -P: the working folder (this checkout, when run from it) is not put before PYTHONPATH
    return ["env", f"PYTHONPATH={checkout.resolve()}", sys.executable, "-P", "-m", "icvac"]


def same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as one, open(b, "rb") as two:
        while True:
            x, y = one.read(1 << 20), two.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def bench_help() -> dict[str, Result]:
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "icvac --help": icvac_command() + ["--help"],
                "icvac validate --help": icvac_command() + ["validate", "--help"],
                "icvac recode --help": icvac_command() + ["recode", "--help"]}
    out = {name: Result(0, name) for name in commands}
    for _ in range(HELP_REPEAT):
        for name, argv in commands.items():
            out[name].runs.append(measure(argv, ok=(0,)))
    return out


def bench_draft(args) -> Result:
    labels = args.workdir / f"labels-{DRAFT_LABELS}-s{args.seed}.csv"
    if not labels.exists():
        write_distinct_labels(labels, DRAFT_LABELS, args.seed, column=LABEL_COLUMN)
    result = Result(DRAFT_LABELS, "icvac mapping draft")
    for _ in range(args.repeat):
        out = args.workdir / "draft.yaml"
        out.unlink(missing_ok=True)
        result.runs.append(measure(icvac_command() + draft_args(labels, out), ok=(0, 1)))
    return result


def draft_args(labels: Path, out: Path) -> list[str]:
    return ["mapping", "draft", str(labels), "--label-column", LABEL_COLUMN, "--output", str(out)]


def bench_migrate(rows: int, args) -> tuple[Result, Result]:
    """``icvac recode`` of the export and ``icvac migrate`` of its recoded output to the synthetic version 2
    of the taxonomy (tests/version2.py: a split, a merger, a retitle, a move, a removal), alternated."""
    sys.path.insert(0, str(HERE.parent))
    import yaml
    from tests.version2 import build_version2

    import icvac
    from icvac.correspondence import correspondence_yaml
    from icvac.taxonomy_diff import diff_taxonomies

    v2, changes = args.workdir / "icvac-v2.yaml", args.workdir / "changes-v2.yaml"
    v2.write_text(yaml.safe_dump(build_version2().data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    diff = diff_taxonomies(icvac.load_taxonomy(), icvac.load_taxonomy(v2))
    changes.write_text(correspondence_yaml(diff.correspondence("2026-01-01")), encoding="utf-8")
    export = export_file(args.workdir, rows, args.seed, args.ids)
    coded, migrated = args.workdir / f"migrate-coded-{rows}.csv", args.workdir / f"migrated-{rows}.csv"
    recode, migrate = Result(rows, "icvac recode"), Result(rows, "icvac migrate")
    for _ in range(args.repeat):
        coded.unlink(missing_ok=True)
        migrated.unlink(missing_ok=True)
        recode.runs.append(measure(icvac_command() + recode_args(export, coded), ok=(0,)))
        migrate.runs.append(measure(icvac_command() + ["migrate", str(coded), "--changes", str(changes), "--to",
                                                       str(v2), "--output", str(migrated)], ok=(0,)))
    return recode, migrate


def render_migrate(pairs: list[tuple[Result, Result]]) -> str:
    lines = [f"{'rows':>10}  {'recode s':>9} {'migrate s':>10} {'migrate/recode':>15} {'RSS recode':>11} "
             f"{'RSS migrate':>12}  runs (recode/migrate, in the order run)"]
    for recode, migrate in pairs:
        lines.append(f"{recode.rows:>10,}  {recode.wall:>9.2f} {migrate.wall:>10.2f} "
                     f"{migrate.wall / recode.wall:>15.2f} {recode.rss_mb:>11.0f} {migrate.rss_mb:>12.0f}  "
                     + " ".join(f"{r.wall:.2f}/{m.wall:.2f}" for r, m in zip(recode.runs, migrate.runs)))
    return "\n".join(lines)


# ---------------------------------------------------------------- machine and report

def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    try:
        import duckdb
        duck = duckdb.__version__
    except ImportError:
        duck = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cores, "python": platform.python_version(), "platform": platform.platform(),
            "duckdb": duck, "duckdb_threads": DUCKDB_THREADS, "load_average": _load()}


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def render(results: list[Result], helps: dict[str, Result], draft: Result | None, info: dict) -> str:
    lines = [f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, DuckDB {info['duckdb']} "
             f"(threads={DUCKDB_THREADS}); load average before {info['load_average']}, after {_load()}", ""]
    if results:
        lines.append(f"{'rows':>10}  {'tool':<16} {'median s':>9} {'x DuckDB':>9} {'peak RSS MB':>12}  runs")
        for r in results:
            ref = next((d for d in results if d.rows == r.rows and d.tool == "duckdb " + r.tool.split()[-1]), None)
            ratio = f"{r.wall / ref.wall:.2f}" if ref else "-"
            runs = " ".join(f"{x.wall:.2f}" for x in r.runs)
            lines.append(f"{r.rows:>10,}  {r.tool:<16} {r.wall:>9.2f} {ratio:>9} {r.rss_mb:>12.0f}  {runs}")
        lines.append("")
    for name, r in helps.items():
        lines.append(f"{name:<24} median {r.wall * 1000:6.0f} ms   peak RSS {r.rss_mb:4.0f} MB")
    if draft:
        lines.append(f"{'icvac mapping draft':<24} median {draft.wall:6.2f} s    peak RSS {draft.rss_mb:4.0f} MB"
                     f"   ({draft.rows:,} distinct labels)")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", action="append", default=None,
                        help="rows in the export; repeatable or comma-separated (default 100000,1000000,3000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the median is shown")
    parser.add_argument("--workdir", type=Path, default=HERE / "_work", help="generated files (default %(default)s)")
    parser.add_argument("--only", default=",".join(TASKS),
                        help=f"comma list among {','.join(TASKS + EXTRA_TASKS)} (default: all but migrate)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--ids", choices=ID_ORDERS, default="in-order",
                        help="case ids in order, as registers number them (default), or shuffled")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--reference", type=Path, help="another checkout of icvac (a folder holding its icvac/ "
                        "package), timed in the same runs and checked to give the same outputs")
    args = parser.parse_args(argv)
    args.rows = sorted({int(x.replace("_", "")) for item in args.rows or [] for x in item.split(",") if x.strip()}
                       or DEFAULT_ROWS)
    args.only = {x.strip() for x in args.only.split(",") if x.strip()}
    if args.only - set(TASKS + EXTRA_TASKS) or args.repeat < 1 or min(args.rows) < 1:
        parser.error(f"--only takes {','.join(TASKS)}; --repeat and --rows must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--duckdb-child"]:
        _child(argv[1:])
        return 0
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    results: list[Result] = []
    notes: list[str] = []
    if args.only & {"recode", "validate"}:
        try:
            import duckdb  # noqa: F401
        except ImportError:
            raise SystemExit("bench: DuckDB is needed for the reference: pip install '.[bench]'") from None
        recode_spec = build_lookups(args.workdir, args.seed)
        for rows in args.rows:
            bench_rows(rows, args, recode_spec, results, notes)
    helps = bench_help() if "help" in args.only else {}
    draft = bench_draft(args) if "draft" in args.only else None
    migrations = [bench_migrate(rows, args) for rows in args.rows] if "migrate" in args.only else []
    print(render(results, helps, draft, info))
    if migrations:
        print("\n" + render_migrate(migrations))
    for note in notes:
        print(f"note: {note}")
    if args.json:
        data = {"machine": info, "load_average_after": _load(), "notes": notes,
                "results": [{"rows": r.rows, "tool": r.tool, "median_s": r.wall, "peak_rss_mb": r.rss_mb,
                             "runs": [vars(x) for x in r.runs]}
                            for r in [*results, *helps.values(), *([draft] if draft else []),
                                      *(r for pair in migrations for r in pair)]]}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
