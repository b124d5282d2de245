"""Write examples/incidents.csv: 300 synthetic incidents in ICVAC codes, some deliberately wrong.

Every record is invented (no real people or cases); the same seed always gives the same
file. About 5% of the rows carry one mistake each, so that `icvac validate` has something
to find: an unknown code, a victim aged 18 or more, a date in the future, a birth date
after the incident, a value outside a variable's code list, a duplicate id, a blank cell.

    python examples/make_incidents.py            # rewrites examples/incidents.csv
"""
from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROWS = 300
SEED = 2023
COLUMNS = ("id", "incident_date", "icvac_code", "victim_age", "victim_birth_date", "victim_sex",
           "victim_disability", "victim_migration_status", "perpetrator_relationship", "perpetrator_sex",
           "setting", "technology_facilitated", "armed_conflict", "narrative")
NARRATIVE = "Synthetic record - no real case"
# Codes of taxonomy/icvac.yaml, most of them level 2 or 3 as national data usually are.
CODES = ("0101", "0102", "0109", "0201", "02021", "02022", "0203", "0301", "03011", "03012", "0302", "03041",
         "03043", "0401", "0402", "04041", "04042", "0405", "0501", "0502", "0503", "0505", "0901", "0902",
         "0904", "02", "03", "05")
VALUES = {
    "victim_sex": (("female", 55), ("male", 43), ("unknown", 2)),
    "victim_disability": (("no", 80), ("yes", 8), ("unknown", 12)),
    "victim_migration_status": (("national", 80), ("migrant", 6), ("refugee_or_asylum_seeker", 5),
                                ("internally_displaced", 4), ("stateless", 1), ("unknown", 4)),
    "perpetrator_relationship": (("parent_or_caregiver", 35), ("other_family_member", 15), ("intimate_partner", 5),
                                 ("authority_or_trust", 10), ("peer", 12), ("other_known", 10), ("stranger", 8),
                                 ("unknown", 5)),
    "perpetrator_sex": (("male", 70), ("female", 25), ("unknown", 5)),
    "setting": (("home", 50), ("school", 15), ("community", 15), ("online", 8), ("alternative_care", 4),
                ("justice_or_detention", 2), ("workplace", 2), ("unknown", 4)),
    "technology_facilitated": (("no", 88), ("yes", 10), ("unknown", 2)),
    "armed_conflict": (("no", 94), ("yes", 3), ("unknown", 3)),
}
# One mistake per listed row (1-based record number), spread through the file.
MISTAKES = {
    17: ("icvac_code", "0699"), 31: ("victim_age", "19"), 48: ("incident_date", "2099-03-01"),
    62: ("victim_sex", "F"), 77: ("setting", "street"), 93: ("victim_age", "twelve"),
    108: ("incident_date", "31/02/2023"), 124: ("perpetrator_relationship", ""), 139: ("icvac_code", "3011"),
    155: ("id", "INC-0150"), 171: ("birth_after", ""), 186: ("armed_conflict", "Yes"),
    203: ("victim_disability", "maybe"), 228: ("icvac_code", ""), 251: ("age_mismatch", ""),
}


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def make_rows(seed: int = SEED, rows: int = ROWS) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for n in range(1, rows + 1):
        incident = date(2021, 1, 1) + timedelta(days=rng.randrange(3 * 365))  # all before 2024
        age = rng.randrange(18)
        birth = incident - timedelta(days=age * 365 + age // 4 + rng.randrange(1, 360))
        age = incident.year - birth.year - ((incident.month, incident.day) < (birth.month, birth.day))
        record = {"id": f"INC-{n:04d}", "incident_date": incident.isoformat(), "icvac_code": rng.choice(CODES),
                  "victim_age": str(age), "victim_birth_date": birth.isoformat() if rng.random() < 0.7 else "",
                  "narrative": NARRATIVE}
        for role, weighted in VALUES.items():
            record[role] = _pick(rng, weighted)
        if n in MISTAKES:
            _spoil(record, *MISTAKES[n])
        out.append([record[c] for c in COLUMNS])
    return out


def _spoil(record: dict, column: str, value: str) -> None:
    if column == "birth_after":
        incident = date.fromisoformat(record["incident_date"])
        record["victim_birth_date"] = (incident + timedelta(days=40)).isoformat()
    elif column == "age_mismatch":
        incident = date.fromisoformat(record["incident_date"])
        record["victim_birth_date"] = incident.replace(year=incident.year - 10, day=1).isoformat()
        record["victim_age"] = "4"
    else:
        record[column] = value


def write(path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(make_rows())


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "incidents.csv")
