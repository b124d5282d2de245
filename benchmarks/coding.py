"""How well the suggester codes real national category lists: ``mapping draft`` and ``taxonomy search``.

    python benchmarks/coding.py                       # the development lists in ../shared/data/national
    python benchmarks/coding.py --data DIR --format json

Each ``<system>.yaml`` of DIR lists categories with a gold level-1 reading (``icvac``: ``01``…``05``,
``09``, or ``none`` for a label that names no act). For each list and in total it prints: top-1 and
top-3 level-1 accuracy of the draft suggestion on act labels (an abstention counts as a miss for
top-1; top-3 looks at the candidates shown), the share of ``none`` labels the suggester abstains on,
the share of them it codes anyway (wrong code), ``taxonomy search`` top-1 on act labels, and, from
``<system>-records.csv`` when present, how many junk values (blank code, gold ``none``) got a code and
top-1 on the messy spellings of act labels.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "national"
FIELDS = ("acts", "top1", "top3", "none", "abstained", "wrong", "search_top1", "junk", "junk_coded",
          "messy", "messy_top1")


def _level1(taxonomy, code: str) -> str:
    return taxonomy.get(code.split("+")[0]).level1


def measure(system: Path, taxonomy, scorer) -> dict:
    """The counts of one list (see FIELDS)."""
    from rapidfuzz import fuzz

    from icvac.text import fold

    data = yaml.safe_load(system.read_text(encoding="utf-8"))
    counts = dict.fromkeys(FIELDS, 0)
    for category in data["categories"]:
        gold, label = str(category["icvac"]), category["label"]
        verdict = scorer.assess(label)
        shown = [_level1(taxonomy, c.targets[0]) for c in verdict.candidates if c.targets]
        if gold == "none":
            counts["none"] += 1
            counts["abstained"] += verdict.reason is not None
            counts["wrong"] += verdict.reason is None
            continue
        counts["acts"] += 1
        counts["top1"] += verdict.reason is None and shown[:1] == [gold]
        counts["top3"] += gold in shown[:3]
        hits = taxonomy.search(label, limit=1)
        counts["search_top1"] += bool(hits) and _level1(taxonomy, hits[0].code) == gold
    records = system.with_name(f"{system.stem}-records.csv")
    labels = [fold(c["label"]) for c in data["categories"]]
    if records.is_file():
        with open(records, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["national_code"]:
                    continue
                verdict = scorer.assess(row["national_label"])
                coded = verdict.reason is None
                if row["gold_icvac"] == "none":
                    # a messy spelling of a listed none label is not junk: junk resembles no label of the list
                    if max(fuzz.ratio(fold(row["national_label"]), label) for label in labels) < 75:
                        counts["junk"] += 1
                        counts["junk_coded"] += coded
                else:
                    counts["messy"] += 1
                    counts["messy_top1"] += coded and _level1(taxonomy, verdict.candidates[0].code) == row["gold_icvac"]
    return counts


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def table(results: dict[str, dict]) -> str:
    head = ("list", "acts", "top-1", "top-3", "search top-1", "none", "abstained", "wrong code", "junk coded",
            "messy top-1")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for name, c in results.items():
        lines.append(" | ".join((name, str(c["acts"]), _share(c["top1"], c["acts"]), _share(c["top3"], c["acts"]),
                                 _share(c["search_top1"], c["acts"]), str(c["none"]),
                                 _share(c["abstained"], c["none"]), _share(c["wrong"], c["none"]),
                                 f"{c['junk_coded']}/{c['junk']}", _share(c["messy_top1"], c["messy"]))))
    return "\n".join(f"| {line} |" for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of <system>.yaml lists")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    from icvac.scoring import scorer_for
    from icvac.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    scorer = scorer_for(taxonomy)
    systems = sorted(p for p in args.data.glob("*.yaml"))
    if not systems:
        print(f"no <system>.yaml in {args.data}", file=sys.stderr)
        return 2
    results = {p.stem: measure(p, taxonomy, scorer) for p in systems}
    results["total"] = {k: sum(r[k] for r in results.values()) for k in FIELDS}
    print(json.dumps(results, indent=2) if args.format == "json" else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
