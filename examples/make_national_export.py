"""Write examples/national_export.csv: a synthetic, GBVIMS-like incident export (no real data).

Seeded, so the file is the same on every run: python examples/make_national_export.py
Labels come in the forms met in practice: as published, in other case, in French and
Spanish, with typos, and a few junk values that must stay unclassified.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

ROWS = 300
LABELS = [
    # (label, weight)
    ("Rape", 30), ("Sexual Assault", 30), ("Physical Assault", 45), ("Forced Marriage", 15),
    ("Denial of Resources, Opportunities or Services", 12), ("Psychological / Emotional Abuse", 30),
    ("RAPE", 4), ("physical assault", 6), ("Physical assaults", 3), ("sexual  assault", 3),
    ("Viol", 5), ("Agresión sexual", 4), ("Agression physique", 4), ("Matrimonio forzado", 3),
    ("Violence psychologique / émotionnelle", 3),
    ("Sexual asault", 3), ("Physcal Assault", 3), ("Forced marrige", 2), ("Psychological/Emotional Abuse", 2),
    ("zzzz", 1), ("n/a", 2), ("see notes", 1), ("", 2), ("unknown", 1),
]
SEXES = [("F", 70), ("M", 27), ("", 3)]
RELATIONSHIPS = [("Intimate partner / former partner", 10), ("Primary caregiver", 20),
                 ("Family other than spouse or caregiver", 15), ("Teacher / school official", 8),
                 ("Schoolmate", 8), ("Family friend / neighbour", 15), ("No relation", 10), ("Unknown", 8),
                 ("", 6)]
NARRATIVES = ["Case referred by community focal point.", "Follow-up visit planned.",
              "Referred to health services.", "Survivor accompanied by caregiver.",
              "Information recorded at intake.", ""]


def pick(rng: random.Random, choices):
    values, weights = zip(*choices)
    return rng.choices(values, weights)[0]


def main(path: Path = Path(__file__).with_name("national_export.csv")) -> None:
    rng = random.Random(20240601)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["incident_id", "date_of_incident", "survivor_age", "survivor_sex", "gbv_type",
                         "alleged_perpetrator_relationship", "narrative"])
        for n in range(1, ROWS + 1):
            age = "" if rng.random() < 0.03 else str(rng.randint(2, 17))
            day = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            writer.writerow([f"INC-{n:04d}", day, age, pick(rng, SEXES), pick(rng, LABELS),
                             pick(rng, RELATIONSHIPS), rng.choice(NARRATIVES)])


if __name__ == "__main__":
    main()
