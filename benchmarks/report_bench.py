"""`icvac report` against `icvac tabulate` on the same coded file (issue 21's target: report within
tabulate's time plus 2 s, memory flat as the file grows).

    python benchmarks/report_bench.py                       # 100k and 1M rows, 3 runs each
    python benchmarks/report_bench.py --rows 1000000 --repeat 5 --json report-bench.json

The coded file is bench.py's synthetic export recoded with the gbvims mapping (kept in the work folder,
with its sidecar, so the report finds the age and date columns and draws every section). Within each
repeat the two commands alternate, each in its own process, measured by bench.py's launcher (wall time
and the process's own peak RSS). tabulate runs as `icvac tabulate CODED --by victim_sex -o table.csv`;
report as `icvac report CODED -o summary.html` (charts included: needs `pip install '.[report]'`).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import export_file, icvac_command, measure, recode_args  # noqa: E402

BUDGET_S = 2.0


def coded_file(workdir: Path, rows: int, seed: int) -> Path:
    coded = workdir / f"report-coded-{rows}-s{seed}.csv"
    if not coded.exists() or not Path(f"{coded}.meta.json").exists():
        print(f"recoding {rows} rows ...", file=sys.stderr)
        measure(icvac_command() + recode_args(export_file(workdir, rows, seed), coded), ok=(0,))
    return coded


def bench(rows: int, repeat: int, workdir: Path, seed: int) -> dict:
    coded = coded_file(workdir, rows, seed)
    commands = {"tabulate": ["tabulate", coded, "--by", "victim_sex", "-o", workdir / "report-bench-table.csv"],
                "report": ["report", coded, "-o", workdir / "report-bench-summary.html"]}
    runs: dict[str, list] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, args in commands.items():
            runs[name].append(measure(icvac_command() + [str(a) for a in args], ok=(0,)))
    out = {"rows": rows}
    for name, measured in runs.items():
        out[name] = {"median_s": round(statistics.median(r.wall for r in measured), 3),
                     "runs_s": [round(r.wall, 3) for r in measured],
                     "peak_rss_mb": round(max(r.rss_mb for r in measured), 1)}
    out["difference_s"] = round(out["report"]["median_s"] - out["tabulate"]["median_s"], 3)
    out["met"] = out["difference_s"] <= BUDGET_S
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=HERE / "_work")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = [bench(int(r), args.repeat, args.workdir, args.seed) for r in args.rows.split(",") if r.strip()]
    print(f"{'rows':>10} {'tabulate':>9} {'report':>9} {'diff':>7} {'budget':>7} {'tab RSS':>8} {'rep RSS':>8}")
    for r in results:
        print(f"{r['rows']:>10,} {r['tabulate']['median_s']:>8.2f}s {r['report']['median_s']:>8.2f}s "
              f"{r['difference_s']:>+6.2f}s {'met' if r['met'] else 'NOT met':>7} "
              f"{r['tabulate']['peak_rss_mb']:>6.0f}MB {r['report']['peak_rss_mb']:>6.0f}MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
