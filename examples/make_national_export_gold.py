"""Write examples/national_export_gold.csv: a reference ICVAC coding of examples/national_export.csv.

The export is synthetic (see make_national_export.py): every record's gbv_type is one of 24 label
values, each a spelling of one of the six GBVIMS core types (as published, in another case, in
French or Spanish, with a typo) or junk. The table below was written by reading each of the 24
values and deciding, as a coder would, which GBVIMS type it spells and so which ICVAC code it gets
(the GBVIMS type's ICVAC category as in mappings/gbvims.yaml; `unclassified` where the value says
nothing about the act). It does not call icvac. The narratives of this synthetic export are
generic and carry nothing more to code from, so this is the best reference the file allows: a
gold sample for trying `icvac evaluate`, not a measure of any real coding.

    python examples/make_national_export_gold.py
    icvac recode examples/national_export.csv --mapping gbvims -o recoded.csv
    icvac evaluate recoded.csv --gold examples/national_export_gold.csv --id incident_id
"""
from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
# label value, read by a person -> ICVAC code
GOLD = {
    "Rape": "0301", "RAPE": "0301", "Viol": "0301",
    "Sexual Assault": "0302", "sexual  assault": "0302", "Sexual asault": "0302", "Agresión sexual": "0302",
    "Physical Assault": "0202", "physical assault": "0202", "Physical assaults": "0202",
    "Physcal Assault": "0202", "Agression physique": "0202",
    "Forced Marriage": "0901", "Forced marrige": "0901", "Matrimonio forzado": "0901",
    "Denial of Resources, Opportunities or Services": "05",
    "Psychological / Emotional Abuse": "04", "Psychological/Emotional Abuse": "04",
    "Violence psychologique / émotionnelle": "04",
    "zzzz": "unclassified", "n/a": "unclassified", "see notes": "unclassified", "": "unclassified",
    "unknown": "unclassified",
}


def main(source: Path = HERE / "national_export.csv", path: Path = HERE / "national_export_gold.csv") -> None:
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["incident_id", "icvac_code"])
        for row in rows:
            writer.writerow([row["incident_id"], GOLD[row["gbv_type"]]])


if __name__ == "__main__":
    main()
