"""Time ``icvac recode`` and ``icvac validate`` against DuckDB and Polars references on a national export.

    python benchmarks/bench.py --rows 100000,1000000 --repeat 3
    python benchmarks/bench.py --input synthetic,national --rows 1000000 --only recode,validate

Every command runs as its own process: wall time is ``time.perf_counter`` around it, peak
memory is that process's own maximum resident set size (``os.wait4``). Within each
repeat the tools alternate (icvac recode, the recode references, icvac validate, DuckDB validate),
so a busy neighbour slows both sides alike. The table gives medians; the ratio to DuckDB,
not the absolute time, is the figure to compare between machines. benchmarks/README.md
says what the references do and do not do; benchmarks/inputs.py what the two inputs are.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
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
import inputs  # noqa: E402
import references  # noqa: E402
from generate import ID_ORDERS, write_distinct_labels  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_ROWS = (100_000, 1_000_000, 3_000_000)
TASKS = ("recode", "validate", "help", "draft")
EXTRA_TASKS = ("migrate",)  # only when asked (--only migrate): `icvac migrate` beside `icvac recode`
INPUTS = ("synthetic", "national")
DUCKDB_THREADS = 2
DRAFT_LABELS = 20_000
HELP_REPEAT = 10
LABEL_COLUMN = "gbv_type"
# recode's added columns that depend on the category cells alone; the others code a variable
LABEL_OUTPUTS = ("icvac_code", "icvac_level1", "icvac_title", "icvac_match", "icvac_score")


@dataclass
class Run:
    wall: float
    rss_mb: float


@dataclass
class Result:
    rows: int
    tool: str
    input: str = "synthetic"
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


# ---------------------------------------------------------------- the references (references.py)

def child_argv(reference: str, task: str, *args) -> list[str]:
    """A reference's command line: this script in a process of its own (``main``'s ``--child``)."""
    return [sys.executable, str(Path(__file__).resolve()), "--child", reference, task, *map(str, args)]


# ---------------------------------------------------------------- inputs, prepared once

def make_export(workdir: Path, rows: int, source: inputs.Input) -> Path:
    """The export of ``rows`` rows, made on first use and kept in the work folder."""
    path = workdir / f"export-{rows}-{source.tag}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        part = path.with_suffix(".part")
        source.write(part, rows)
        part.replace(path)
    return path


def build_lookups(workdir: Path, source: inputs.Input) -> dict:
    """Recode the probe (every distinct value the export holds) with icvac; its output becomes the
    references' look-up tables. Returns the recode spec of ``references``."""
    probe, coded = workdir / f"probe-{source.name}.csv", workdir / f"probe-{source.name}-coded.csv"
    source.probe(probe)
    coded.unlink(missing_ok=True)
    measure(icvac_command() + input_recode_args(source, probe, coded), ok=(0,))
    with open(coded, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    width = len(source.columns)
    added = header[width:]
    label_columns = [c for c in added if c in LABEL_OUTPUTS]
    if header[:width] != list(source.columns) or set(added) - set(LABEL_OUTPUTS) - set(source.variable_sources):
        raise SystemExit(f"bench: unexpected recode output columns {header}; update inputs.py")
    groups = [(source.label_keys, label_columns)]
    groups += [((source.variable_sources[c],), [c]) for c in added if c in source.variable_sources]
    lookups = []
    for n, (keys, columns) in enumerate(groups):
        k, idx = [header.index(key) for key in keys], [header.index(c) for c in columns]
        table: dict[str, list[str]] = {}
        for row in rows:
            value = [row[i] for i in idx]
            if table.setdefault(references.KEY_SEP.join(row[i] for i in k), value) != value:
                raise SystemExit(f"bench: {columns} is not a function of {keys} alone; "
                                 "the look-up references cannot reproduce it")
        path = workdir / f"lookup-{source.name}-{n}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["_key", *columns])
            writer.writerows([key_value, *value] for key_value, value in table.items())
        lookups.append({"file": str(path), "keys": list(keys), "columns": columns})
    return {"lookups": lookups, "order": added}


def input_recode_args(source: inputs.Input, data: Path, out: Path) -> list[str]:
    return ["recode", str(data), "--output", str(out), *source.recode_options]


def export_file(workdir: Path, rows: int, seed: int, ids: str = "in-order") -> Path:
    """The synthetic export (bench_agree.py and report_bench.py use it)."""
    return make_export(workdir, rows, inputs.synthetic(seed, ids))


def recode_args(data: Path, out: Path) -> list[str]:
    """icvac recode's arguments for the synthetic export."""
    return input_recode_args(inputs.synthetic(0, "in-order"), data, out)


def validate_args(source: inputs.Input, data: Path) -> list[str]:
    columns = [x for role, name in source.validate_columns.items() for x in ("--column", f"{role}={name}")]
    return ["validate", str(data), "--format", "json", *columns]


def validate_spec(source: inputs.Input, coded: Path) -> dict:
    """What icvac validate will check in ``coded``, for the SQL: columns resolved the way icvac does."""
    from icvac.columns import VARIABLE_ROLES, resolve_columns
    from icvac.taxonomy import load_taxonomy

    with open(coded, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    taxonomy = load_taxonomy()
    found = resolve_columns(header, source.validate_columns).index
    columns = {role: header[i] for role, i in found.items()}
    missing = {"id", "icvac_code"} - set(columns)
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

def bench_rows(rows: int, source: inputs.Input, args, spec: dict, results: list[Result], notes: list[str]) -> None:
    export = make_export(args.workdir, rows, source)
    name = f"{source.name}-{rows}"
    coded, report = args.workdir / f"coded-{name}.csv", args.workdir / f"report-{name}.json"
    outputs = {r: args.workdir / f"coded-{name}-{r}.csv" for r in args.references}
    duck_report, ref_report = args.workdir / f"report-{name}-duckdb.json", args.workdir / f"report-{name}-ref.json"
    names = ["icvac recode", *(f"{r} recode" for r in args.references), "icvac validate", "duckdb validate"]
    if args.reference:
        names += ["reference recode", "reference validate"]
    tools = {n: Result(rows, n, source.name) for n in names}
    ref_coded = args.workdir / f"coded-{name}-reference.csv"
    label = f"{source.name}, {rows:,} rows"
    validate = None
    for repeat in range(args.repeat):
        if "recode" in args.only or repeat == 0:  # validate reads recode's output
            for path in (coded, ref_coded, *outputs.values()):
                path.unlink(missing_ok=True)
            run = measure(icvac_command() + input_recode_args(source, export, coded), ok=(0,))
            if args.reference and "recode" in args.only:
                tools["reference recode"].runs.append(measure(reference_command(args.reference)
                                                              + input_recode_args(source, export, ref_coded), ok=(0,)))
                if repeat == 0 and not same_bytes(coded, ref_coded):
                    notes.append(f"{label}: the reference's recode output differs from icvac's")
            if "recode" in args.only:
                tools["icvac recode"].runs.append(run)
                for ref, out in outputs.items():
                    tools[f"{ref} recode"].runs.append(measure(child_argv(
                        ref, "recode", export, json.dumps(spec), out, DUCKDB_THREADS), ok=(0,)))
                    if repeat == 0 and (where := same_rows(coded, out)):
                        notes.append(f"{label}: the {ref} recode output differs from icvac's at {where}")
        if "validate" in args.only:
            validate = validate or json.dumps(validate_spec(source, coded))
            tools["icvac validate"].runs.append(measure(icvac_command() + validate_args(source, coded), report))
            tools["duckdb validate"].runs.append(measure(child_argv(
                "duckdb", "validate", coded, validate, DUCKDB_THREADS), duck_report, ok=(0,)))
            if args.reference:
                tools["reference validate"].runs.append(measure(reference_command(args.reference)
                                                                + validate_args(source, coded), ref_report))
                if repeat == 0 and not same_bytes(report, ref_report):
                    notes.append(f"{label}: the reference's validate report differs from icvac's")
            if repeat == 0:
                notes += [f"{label}, validate counts differ: {d}" for d in compare_counts(report, duck_report)]
        print(f"  {label}: repeat {repeat + 1}/{args.repeat} done", file=sys.stderr)
    results += [r for r in tools.values() if r.runs]


def byte_compile(reference: Path | None) -> None:
    """The measured packages' bytecode written before anything is timed, as ``pip install`` writes it: an
    editable install run where PYTHONDONTWRITEBYTECODE is set (as on some CI images) would otherwise compile
    every module it imports on every run, 0.1-0.2 s that no installed copy pays."""
    import compileall

    spec = importlib.util.find_spec("icvac")
    folders = [Path(spec.origin).parent] if spec and spec.origin else []
    folders += [reference / "icvac"] if reference is not None else []
    for folder in folders:
        compileall.compile_dir(str(folder), quiet=1)


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


def bench_migrate(rows: int, args) -> tuple[Result, Result, Result]:
    """``icvac recode`` of the export, ``icvac recode`` of its recoded output (the file migrate reads, its
    ICVAC columns coded again) and ``icvac migrate`` of that output to the synthetic version 2 of the
    taxonomy (tests/version2.py: a split, a merger, a retitle, a move, a removal), alternated."""
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
    coded, again = args.workdir / f"migrate-coded-{rows}.csv", args.workdir / f"migrate-recoded-{rows}.csv"
    migrated = args.workdir / f"migrated-{rows}.csv"
    recode = Result(rows, "icvac recode")
    recode_coded, migrate = Result(rows, "icvac recode (recoded file)"), Result(rows, "icvac migrate")
    migrate_args = ["migrate", str(coded), "--changes", str(changes), "--to", str(v2), "--output", str(migrated)]
    for n in range(args.repeat):
        for path in (coded, again, migrated):
            path.unlink(missing_ok=True)
        recode.runs.append(measure(icvac_command() + recode_args(export, coded), ok=(0,)))
        # the two that read the recoded file take turns at going first: a run after another's large write can
        # wait on the system writing that one's pages out
        pair = [(recode_coded, recode_args(coded, again)), (migrate, migrate_args)]
        for result, arguments in (pair if n % 2 == 0 else pair[::-1]):
            result.runs.append(measure(icvac_command() + arguments, ok=(0,)))
    return recode, recode_coded, migrate


def render_migrate(triples: list[tuple[Result, Result, Result]]) -> str:
    lines = ["recode: of the export; again: recode of its output, the file migrate reads; migrate: of that file",
             f"{'rows':>10}  {'recode s':>9} {'again s':>8} {'migrate s':>10} {'m/again':>8} {'m/recode':>9} "
             f"{'RSS recode':>11} {'RSS again':>10} {'RSS migrate':>12}  runs (recode/again/migrate; again first in "
             f"the 1st, 3rd... repeat, migrate first in the 2nd, 4th...)"]
    for recode, again, migrate in triples:
        lines.append(f"{recode.rows:>10,}  {recode.wall:>9.2f} {again.wall:>8.2f} {migrate.wall:>10.2f} "
                     f"{migrate.wall / again.wall:>8.2f} {migrate.wall / recode.wall:>9.2f} "
                     f"{recode.rss_mb:>11.0f} {again.rss_mb:>10.0f} {migrate.rss_mb:>12.0f}  "
                     + " ".join(f"{r.wall:.2f}/{a.wall:.2f}/{m.wall:.2f}"
                                for r, a, m in zip(recode.runs, again.runs, migrate.runs, strict=True)))
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
    versions = {}
    for package in ("duckdb", "polars"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            versions[package] = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cores, "python": platform.python_version(), "platform": platform.platform(),
            **versions, "duckdb_threads": DUCKDB_THREADS, "load_average": _load()}


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def render(results: list[Result], helps: dict[str, Result], draft: Result | None, info: dict) -> str:
    lines = [f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, DuckDB {info['duckdb']}, "
             f"Polars {info['polars']} (threads={DUCKDB_THREADS}); load average before {info['load_average']}, "
             f"after {_load()}", ""]
    for name in dict.fromkeys(r.input for r in results):
        lines.append(f"input: {name}")
        lines.append(f"{'rows':>10}  {'tool':<18} {'median s':>9} {'x DuckDB':>9} {'peak RSS MB':>12}  runs")
        for r in (r for r in results if r.input == name):
            ref = next((d for d in results if d.rows == r.rows and d.input == r.input
                        and d.tool == "duckdb " + r.tool.split()[-1]), None)
            ratio = f"{r.wall / ref.wall:.2f}" if ref else "-"
            runs = " ".join(f"{x.wall:.2f}" for x in r.runs)
            lines.append(f"{r.rows:>10,}  {r.tool:<18} {r.wall:>9.2f} {ratio:>9} {r.rss_mb:>12.0f}  {runs}")
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
    parser.add_argument("--input", default="synthetic", help=f"comma list among {','.join(INPUTS)}: the "
                        "generated export (default) and/or the national records of --national-dir, repeated")
    parser.add_argument("--national-dir", type=Path, default=inputs.DEFAULT_DIR,
                        help="the national records (<system>-records.csv; default %(default)s)")
    parser.add_argument("--references", default=",".join(references.REFERENCES),
                        help=f"recode references, comma list among {','.join(references.REFERENCES)} (default all)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--reference", type=Path, help="another checkout of icvac (a folder holding its icvac/ "
                        "package), timed in the same runs and checked to give the same outputs")
    args = parser.parse_args(argv)
    args.rows = sorted({int(x.replace("_", "")) for item in args.rows or [] for x in item.split(",") if x.strip()}
                       or DEFAULT_ROWS)
    args.only = {x.strip() for x in args.only.split(",") if x.strip()}
    args.input = [x.strip() for x in args.input.split(",") if x.strip()]
    args.references = [x.strip() for x in args.references.split(",") if x.strip()]
    if args.only - set(TASKS + EXTRA_TASKS) or args.repeat < 1 or min(args.rows) < 1:
        parser.error(f"--only takes {','.join(TASKS)}; --repeat and --rows must be 1 or more")
    if set(args.input) - set(INPUTS) or not args.input or set(args.references) - set(references.REFERENCES) \
            or "duckdb" not in args.references:
        parser.error(f"--input takes {','.join(INPUTS)}; --references {','.join(references.REFERENCES)}, "
                     "duckdb among them (the ratios are to it)")
    return args


def sources(args, notes: list[str]) -> list[inputs.Input]:
    """The inputs asked for that can be built; a note for one that cannot (the national records missing)."""
    found = []
    for name in args.input:
        if name == "synthetic":
            found.append(inputs.synthetic(args.seed, args.ids))
        elif why := inputs.missing(args.national_dir):
            notes.append(f"national input skipped: {why}")
            print(f"bench: national input skipped: {why}", file=sys.stderr)
        else:
            found.append(inputs.national(args.national_dir, args.workdir))
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        references.child(argv[1:])
        return 0
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    byte_compile(args.reference)
    info = machine()
    results: list[Result] = []
    notes: list[str] = []
    if args.only & {"recode", "validate"}:
        needed = ["duckdb"] + (["polars"] if "polars" in args.references else [])
        if absent := [p for p in needed if importlib.util.find_spec(p) is None]:
            raise SystemExit(f"bench: {' and '.join(absent)} needed for the references: pip install '.[bench]'")
        for source in sources(args, notes):
            recode_spec = build_lookups(args.workdir, source)
            for rows in args.rows:
                bench_rows(rows, source, args, recode_spec, results, notes)
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
                "results": [{"rows": r.rows, "tool": r.tool, "input": r.input, "median_s": r.wall,
                             "peak_rss_mb": r.rss_mb, "runs": [vars(x) for x in r.runs]}
                            for r in [*results, *helps.values(), *([draft] if draft else []),
                                       *(r for pair in migrations for r in pair)]]}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
