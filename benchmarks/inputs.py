"""The benchmark's inputs: how each export is made, recoded and validated.

``synthetic`` is benchmarks/generate.py's export (its labels made up, with noise). ``national`` is the
development records of real national category lists, repeated:
``../shared/data/national/<system>-records.csv`` (next to the repository) holds 2,000 synthetic records for
each of five real national category lists: exact codes and labels, messy labels with a blank code, junk.
The export here is those records, every system's after another, repeated until it has the rows asked for;
each repeat's case ids get a suffix (``AU-000001.3``) so that they stay unique. One file holds five systems,
so each national code is prefixed with its system (``ncands:4``), as a multi-country warehouse keys them,
and recode reads it with the five shipped mappings merged into one (their codes prefixed alike).
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import yaml

import generate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "data" / "national"


@dataclass(frozen=True)
class Input:
    name: str
    columns: tuple[str, ...]            # the export's header
    recode_options: tuple[str, ...]     # icvac recode's --mapping and --column options
    label_keys: tuple[str, ...]         # the export columns the category coding is a function of
    variable_sources: dict[str, str]    # added variable column -> the export column it is coded from
    validate_columns: dict[str, str]    # validate on recode's output: role -> column
    write: Callable[[Path, int], None]  # write an export of n rows
    probe: Callable[[Path], None]       # write a file holding every distinct value an export holds
    tag: str                            # names the export files: a change of generator or data renames them


# The synthetic export: the bundled GBVIMS mapping calls the relationship column
# alleged_perpetrator_relationship, the export calls it otherwise; validate reads recode's output, whose
# roles keep the export's column names.
SYNTHETIC_VALIDATE = {"id": "incident_id", "victim_age": "survivor_age", "victim_birth_date": "survivor_birth_date",
                      "incident_date": "date_of_incident", "victim_sex": "icvac_victim_sex",
                      "perpetrator_relationship": "icvac_perpetrator_relationship", "setting": "icvac_setting"}
SYNTHETIC_VARIABLES = {"icvac_victim_sex": "survivor_sex", "icvac_perpetrator_relationship": "perpetrator",
                       "icvac_setting": "setting", "icvac_victim_age_group": "survivor_age"}


def synthetic(seed: int, ids: str) -> Input:
    suffix = "" if ids == "in-order" else f"-{ids}"
    return Input("synthetic", generate.COLUMNS,
                 ("--mapping", "gbvims", "--column", "perpetrator_relationship=perpetrator"), ("gbv_type",),
                 SYNTHETIC_VARIABLES, SYNTHETIC_VALIDATE,
                 lambda path, rows: generate.write_export(path, rows, seed, ids),
                 lambda path: generate.write_probe(path, seed), f"s{seed}-g{generate.GENERATOR_VERSION}{suffix}")


def national(source: Path, workdir: Path) -> Input:
    """The national input, its merged mapping written into ``workdir``; ``missing(source)`` must be None."""
    mapping = workdir / "national-mapping.yaml"
    write_mapping(mapping, source)
    digest = hashlib.sha256()
    for system in SYSTEMS:
        path = source / f"{system}-records.csv"
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return Input("national", COLUMNS, ("--mapping", str(mapping), *RECODE_COLUMNS), LABEL_KEYS,
                 VARIABLE_SOURCES, VALIDATE_COLUMNS, partial(write_export, source=source),
                 partial(write_probe, source=source), f"national-{digest.hexdigest()[:8]}")


# <system>-records.csv -> the shipped mapping of that system
SYSTEMS = {"aihw": "aihw", "cin_abuse": "england-cin", "icd10": "icd10", "ncands": "ncands",
           "primero_violence": "primero"}
COLUMNS = ("case_id", "national_code", "national_label", "victim_sex", "victim_age", "incident_date",
           "narrative", "gold_icvac")
RECODE_COLUMNS = ("--column", "national_code=national_code", "--column", "national_label=national_label",
                  "--column", "id=case_id")
LABEL_KEYS = ("national_code", "national_label")
VARIABLE_SOURCES = {"icvac_victim_sex": "victim_sex", "icvac_victim_age_group": "victim_age"}
# validate on recode's output: these records carry no birth date
VALIDATE_COLUMNS = {"id": "case_id", "victim_age": "victim_age", "incident_date": "incident_date",
                    "victim_sex": "icvac_victim_sex"}


def missing(source: Path) -> str | None:
    """Why the national input cannot be built from ``source``, or None when it can."""
    found = [s for s in SYSTEMS if (source / f"{s}-records.csv").is_file()]
    if not found:
        return (f"no national records in {source} (the development lists of ../shared/data/national, "
                "beside the repository; --national-dir points elsewhere)")
    return None


def _records(source: Path) -> list[list[str]]:
    rows: list[list[str]] = []
    for system in SYSTEMS:
        path = source / f"{system}-records.csv"
        if not path.is_file():
            continue
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            if tuple(next(reader)) != COLUMNS:
                raise SystemExit(f"bench: {path} has not the columns {','.join(COLUMNS)}")
            rows += [[r[0], f"{system}:{r[1]}" if r[1] else "", *r[2:]] for r in reader]
    return rows


def write_export(path: Path, rows: int, source: Path) -> None:
    """``rows`` records: the national records over and over, each repeat's ids suffixed with its number."""
    records = _records(source)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for n in range(rows):
            repeat, record = divmod(n, len(records))
            row = records[record]
            writer.writerow([f"{row[0]}.{repeat}", *row[1:]])


def write_probe(path: Path, source: Path) -> None:
    """Every distinct value of the export: the records once."""
    write_export(path, len(_records(source)), source)


def write_mapping(path: Path, source: Path) -> None:
    """The shipped mappings of the systems present, merged, their source codes prefixed with the system."""
    merged: dict = {}
    categories = []
    for system, name in SYSTEMS.items():
        if not (source / f"{system}-records.csv").is_file():
            continue
        data = yaml.safe_load((REPO / "mappings" / f"{name}.yaml").read_text(encoding="utf-8"))
        merged = merged or {k: v for k, v in data.items() if k not in ("categories", "columns", "values")}
        for entry in data["categories"]:
            categories.append({**entry, "source_code": f"{system}:{entry['source_code']}"})
    merged.update(id="national-benchmark", title="Five national category lists (benchmark)",
                  categories=categories)
    path.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
