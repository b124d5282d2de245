"""Time ``icvac agree`` and ``icvac evaluate`` against ``icvac recode`` on the same synthetic export.

    python benchmarks/bench_agree.py --rows 100000,1000000 --repeat 3

The acceptance target of issue 18: comparing a million records takes no longer than recoding them,
in flat memory. For each size the export of ``bench.py`` is recoded (timed), then a second coding
is made from recode's output, not timed: the id and the code of every record, one record in eight
given another category and one in fifty left blank, in the same order. Then, timed, alternating
within each repeat: ``icvac recode`` of the export, ``icvac agree`` of recode's output (15 columns)
against the second coding, ``icvac evaluate`` of the same two files (accuracy by match method). Each
command is its own process; peak memory is its own maximum RSS (see bench.py). The ratio to
recode is the figure to compare between machines.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import export_file, icvac_command, measure, recode_args  # noqa: E402

HERE = Path(__file__).resolve().parent
OTHER = {"0301": "0302", "0302": "0301", "0202": "0201", "04": "0401", "05": "04", "0901": "0902"}


def second_coding(coded: Path, out: Path) -> None:
    """A second coder's file, made from recode's output: mostly the same codes, some changed, some blank."""
    with open(coded, encoding="utf-8", newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        header = next(reader)
        at_id, at_code = header.index("incident_id"), header.index("icvac_code")
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(["incident_id", "icvac_code"])
        for n, row in enumerate(reader):
            code = row[at_code]
            if n % 8 == 3:
                code = OTHER.get(code, "0202")
            elif n % 50 == 7:
                code = ""
            writer.writerow([row[at_id], code])


def bench(rows: int, args) -> list[tuple[str, list]]:
    export = export_file(args.workdir, rows, args.seed)
    coded, second = args.workdir / f"agree-coded-{rows}.csv", args.workdir / f"agree-second-{rows}.csv"
    runs: dict[str, list] = {"icvac recode": [], "icvac agree": [], "icvac evaluate": []}
    for repeat in range(args.repeat):
        coded.unlink(missing_ok=True)
        runs["icvac recode"].append(measure(icvac_command() + recode_args(export, coded), ok=(0,)))
        if repeat == 0:
            second_coding(coded, second)
        runs["icvac agree"].append(measure(icvac_command() + ["agree", str(coded), str(second), "--id",
                                                              "incident_id", "--format", "json"], ok=(0,)))
        runs["icvac evaluate"].append(measure(icvac_command() + ["evaluate", str(coded), "--gold", str(second),
                                                                 "--id", "incident_id", "--format", "json"], ok=(0,)))
    return list(runs.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma list of export sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the median is shown")
    parser.add_argument("--workdir", type=Path, default=HERE / "_work", help="generated files (default %(default)s)")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'rows':>10}  {'command':<15} {'median s':>9} {'x recode':>9} {'peak RSS MB':>12}  runs")
    for rows in sorted(int(x.replace("_", "")) for x in args.rows.split(",") if x.strip()):
        results = bench(rows, args)
        recode = statistics.median(r.wall for r in results[0][1])
        for name, runs in results:
            wall = statistics.median(r.wall for r in runs)
            print(f"{rows:>10,}  {name:<15} {wall:>9.2f} {wall / recode:>9.2f} {max(r.rss_mb for r in runs):>12.0f}"
                  f"  {' '.join(f'{r.wall:.2f}' for r in runs)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
