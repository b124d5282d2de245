"""A synthetic national export of violence-against-children records, for the benchmark.

Seeded and deterministic: the same ``rows`` and ``seed`` give a byte-identical file. Rows
are written as they are made, so a 3-million-row file costs no more memory than a
thousand-row one. Nothing here comes from real records: labels are the GBVIMS core
types and the ICVAC titles (en/fr/es) with typos, case, accent and spacing noise, plus
some junk; narratives are filler words.

    python benchmarks/generate.py --rows 100000 --out export.csv
"""
from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from bisect import bisect_right
from datetime import date, timedelta
from pathlib import Path

__all__ = ["COLUMNS", "GENERATOR_VERSION", "base_labels", "noisy_labels", "write_export",
           "write_distinct_labels", "write_probe"]

GENERATOR_VERSION = 1
COLUMNS = ("incident_id", "date_of_incident", "survivor_birth_date", "survivor_age", "survivor_sex",
           "gbv_type", "gbv_type_2", "setting", "perpetrator", "narrative")
DISTINCT_LABELS = 500

# GBVIMS core incident types (the classification is by the act alone) in English, French, Spanish.
GBVIMS = (
    ("Rape", "Viol", "Violación"),
    ("Sexual Assault", "Agression sexuelle", "Agresión sexual"),
    ("Physical Assault", "Agression physique", "Agresión física"),
    ("Forced Marriage", "Mariage forcé", "Matrimonio forzado"),
    ("Denial of Resources, Opportunities or Services", "Déni de ressources, d'opportunités ou de services",
     "Negación de recursos, oportunidades o servicios"),
    ("Psychological / Emotional Abuse", "Violence psychologique / émotionnelle", "Abuso psicológico / emocional"),
)
JUNK = ("N/A", "?", "-", "unknown", "see narrative", "autre", "otro", "test", "0", "xx", "Other", "n.d.",
        "pending", "TBD", "dup", "no data")
SETTINGS = ("Home", "home", "School", "Community", "Domicile", "Escuela", "Online", "Unknown", "Street",
            "Orphanage", "Workplace", "Détention", "")
# GBVIMS "alleged perpetrator relationship" values, with some noise and blanks.
PERPETRATORS = ("Primary caregiver", "Family other than spouse or caregiver", "Intimate partner / former partner",
                "Teacher / school official", "Schoolmate", "Family friend / neighbour", "No relation", "Unknown",
                "primary caregiver", "Stepfather", "")
SEXES = ("F", "M", "")
MAX_AGE = 40
AGE_JUNK = ("?", "twelve", "-1", "7.5")
FILLER = ("the", "child", "reported", "was", "seen", "at", "by", "after", "and", "staff", "visit", "family",
          "referred", "case", "worker", "noted", "follow-up", "school", "home", "clinic", "on", "week")
# Case numbers under 10**8 as they are, or each multiplied by a number prime to 10**8 (a one-to-one map).
ID_ORDERS = {"in-order": lambda n: n, "shuffled": lambda n: n * 2654435761 % 10**8}
_FIRST_DAY = date(2015, 1, 1)
_DAYS = (date(2024, 12, 31) - _FIRST_DAY).days + 1


def base_labels(taxonomy_titles: list[str] | None = None) -> list[str]:
    """The clean labels noise is added to: GBVIMS types and ICVAC titles in three languages, plus junk."""
    if taxonomy_titles is None:
        taxonomy_titles = _taxonomy_titles()
    out = [label for triple in GBVIMS for label in triple] + list(taxonomy_titles) + list(JUNK)
    return list(dict.fromkeys(out))


def _taxonomy_titles() -> list[str]:
    from icvac.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    return [c.title_in(lang) for c in taxonomy.categories.values() for lang in ("en", "fr", "es")]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _noise(label: str, rnd: random.Random) -> str:
    kind = rnd.randrange(8)
    if kind == 0:
        return label.upper()
    if kind == 1:
        return label.lower()
    if kind == 2:
        return _strip_accents(label)
    if kind == 3:
        return f"  {label} "
    if kind == 4:
        return label.replace(" ", "  ", 1) + rnd.choice((".", ";", "!", " -"))
    if len(label) < 4:
        return label.swapcase()
    i = rnd.randrange(1, len(label) - 1)
    if kind == 5:  # a letter dropped
        return label[:i] + label[i + 1:]
    if kind == 6:  # two letters swapped
        return label[:i - 1] + label[i] + label[i - 1] + label[i + 1:]
    return label[:i] + label[i] + label[i:]  # a letter doubled


def noisy_labels(count: int, seed: int = 6, bases: list[str] | None = None,
                 qualifiers: tuple[str, ...] = ()) -> list[str]:
    """``count`` distinct labels: every base label once, then noisy variants (and qualifiers) of them."""
    rnd = random.Random(seed)
    bases = base_labels() if bases is None else bases
    out = dict.fromkeys(bases[:count])
    while len(out) < count:
        label = _noise(rnd.choice(bases), rnd)
        if rnd.random() < 0.3:
            label = _noise(label, rnd)
        if qualifiers:
            label = f"{label}{rnd.choice(qualifiers)}"
        if label.strip():
            out.setdefault(label)
    return list(out)


def _iso_dates(first: date, days: int) -> list[str]:
    return [(first + timedelta(days=d)).isoformat() for d in range(days)]


def write_export(path: str | Path, rows: int, seed: int = 6, ids: str = "in-order",
                 distinct: int = DISTINCT_LABELS) -> None:
    """Write the 10-column export, streaming. About 1 in 100 rows carries a data error of some kind.
    ``ids``: "in-order" (case numbers as a register gives them, 1 in 2000 a repeat of an earlier one) or
    "shuffled" (the same numbers, each one mapped to another, so that they come in no order). ``distinct``:
    the noisy labels ``gbv_type`` draws from (500; 100,000 for the many-labels figure of the README)."""
    if ids not in ID_ORDERS:
        raise ValueError(f"ids: one of {', '.join(ID_ORDERS)}")
    scramble = ID_ORDERS[ids]
    rnd = random.Random(seed)
    labels = noisy_labels(distinct, seed)
    # A few labels are very common (the GBVIMS types), most are rare: Zipf-like weights.
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(labels))]
    cum = _cumulative(weights)
    birth_first = _FIRST_DAY - timedelta(days=19 * 366)
    births = _iso_dates(birth_first, (date(2025, 1, 1) - birth_first).days)
    incidents = births[(_FIRST_DAY - birth_first).days:][:_DAYS]
    narratives = [_narrative(rnd) for _ in range(2000)]
    offset = (_FIRST_DAY - birth_first).days
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        chunk = []
        for n in range(1, rows + 1):
            chunk.append(_row(n, rnd, labels, cum, births, incidents, offset, narratives, scramble))
            if len(chunk) == 10000:
                writer.writerows(chunk)
                chunk.clear()
        writer.writerows(chunk)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _narrative(rnd: random.Random) -> str:
    words = rnd.choices(FILLER, k=rnd.randrange(8, 30))
    if rnd.random() < 0.3:
        words[rnd.randrange(len(words))] += ","
    if rnd.random() < 0.05:
        words.append('"quoted"')
    return " ".join(words)


def _row(n, rnd, labels, cum, births, incidents, offset, narratives, scramble) -> tuple:
    r = rnd.random
    incident_id = f"INC-{scramble(n if r() > 0.0005 or n < 10 else rnd.randrange(1, n)):08d}"
    day = rnd.randrange(_DAYS)
    age = rnd.randrange(18)
    birth_index = day + offset - age * 365 - rnd.randrange(365)
    incident = incidents[day]
    noise = r()
    if noise < 0.01:
        incident = ""
    elif noise < 0.012:
        incident = rnd.choice(("2023-02-30", "2021-13-01", "not known", "31.12.2020"))
    elif noise < 0.013:
        incident = f"{rnd.randrange(2031, 2040)}-06-15"
    birth = births[birth_index]
    noise = r()
    if noise < 0.1:
        birth = ""
    elif noise < 0.102:
        birth = births[min(day + offset + 30, len(births) - 1)]  # born after the incident
    age_text = str(age)
    noise = r()
    if noise < 0.02:
        age_text = ""
    elif noise < 0.025:
        age_text = str(rnd.randrange(18, MAX_AGE))
    elif noise < 0.026:
        age_text = rnd.choice(AGE_JUNK)
    sex = SEXES[0] if r() < 0.6 else SEXES[1 if r() < 0.95 else 2]
    second = "" if r() < 0.8 else labels[_pick(cum, rnd)]
    return (incident_id, incident, birth, age_text, sex, labels[_pick(cum, rnd)], second,
            rnd.choice(SETTINGS), rnd.choice(PERPETRATORS), narratives[rnd.randrange(len(narratives))])


def _pick(cum: list[float], rnd: random.Random) -> int:
    return min(bisect_right(cum, rnd.random() * cum[-1]), len(cum) - 1)


def write_probe(path: str | Path, seed: int = 6) -> None:
    """A short export holding every value the generator can put in the category, sex, perpetrator and age
    columns, so that one recode of it shows how each distinct value is coded."""
    labels = noisy_labels(DISTINCT_LABELS, seed)
    ages = [str(a) for a in range(MAX_AGE)] + ["", *AGE_JUNK]
    count = max(len(labels), len(ages), len(PERPETRATORS), len(SEXES))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(count):
            writer.writerow((f"P-{i:06d}", "2020-01-01", "", ages[i % len(ages)], SEXES[i % len(SEXES)],
                             labels[i % len(labels)], "", SETTINGS[i % len(SETTINGS)],
                             PERPETRATORS[i % len(PERPETRATORS)], ""))


def write_distinct_labels(path: str | Path, count: int = 20000, seed: int = 6, column: str = "gbv_type") -> None:
    """A CSV of ``count`` distinct category labels, one a row, for timing ``icvac mapping draft``."""
    qualifiers = ("", "", " (suspected)", " (reported)", " - follow-up", " / other", " (minor)", " (adult)",
                  " - referral", " (repeat)", " - case closed", " (online)", " (school)", " (home)")
    labels = noisy_labels(count, seed, qualifiers=qualifiers)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("incident_id", column))
        writer.writerows((f"L-{i:06d}", label) for i, label in enumerate(labels, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ids", choices=ID_ORDERS, default="in-order")
    parser.add_argument("--labels", type=int, default=DISTINCT_LABELS, help="distinct gbv_type labels of the export")
    parser.add_argument("--distinct-labels", action="store_true",
                        help="write --rows distinct labels (for `icvac mapping draft`) instead of an export")
    args = parser.parse_args()
    if args.distinct_labels:
        write_distinct_labels(args.out, args.rows, args.seed)
    else:
        write_export(args.out, args.rows, args.seed, args.ids, args.labels)


if __name__ == "__main__":
    main()
