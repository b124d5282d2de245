"""icvac: code records of violence against children into ICVAC (UNICEF 2023).

The library holds the behaviour; ``icvac.cli`` only wires options to it. Public names
are imported on first use (PEP 562), so ``import icvac`` and ``icvac --help`` stay fast.

    >>> import icvac
    >>> taxonomy = icvac.load_taxonomy()
    >>> mapping = icvac.load_mapping("gbvims", taxonomy)
    >>> summary = icvac.recode_file("export.csv", mapping, taxonomy, "recoded.csv")  # doctest: +SKIP
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "errors": ("ConfigFileError", "ExitCode", "IcvacError", "InputError", "MappingError", "OutputError",
               "Problem", "TaxonomyError", "UsageError"),
    "taxonomy": ("Category", "Taxonomy", "Variable", "VariableValue", "check_taxonomy", "load_taxonomy"),
    "text": ("fold", "normalise"),
    "readers": ("ReadOptions", "Table", "open_table"),
    "validate": ("ValidateOptions", "Report", "Issue", "Stats", "validate_batches"),
    "checks": ("CHECKS", "Check"),
    "mapping": ("Mapping", "MappingEntry", "load_mapping", "check_mapping", "RELATIONS", "SKOS_PREDICATES"),
    "matching": ("Matcher", "Match", "Candidate"),
    "recode": ("recode_file", "RecodeOptions", "RecodeSummary"),
    "engine": ("recode_batches",),
    "review": ("write_review", "import_review", "draft_mapping"),
    "crosswalk": ("compose", "coverage", "Crosswalk", "Link", "Coverage"),
    "crosswalk_formats": ("write_crosswalk",),
    "tabulate": ("Tabulation",),
    "suppression": ("suppress",),
    "summary_report": ("Figure", "Summary", "summarise"),
    "agreement": ("Estimate", "DegenerateData", "percent_agreement", "cohen_kappa", "fleiss_kappa",
                  "krippendorff_alpha"),
    "reliability": ("agree", "evaluate", "AgreementReport", "EvaluationReport"),
    "correspondence": ("Correspondence", "Link", "load_correspondence"),
    "taxonomy_diff": ("TaxonomyDiff", "diff_taxonomies"),
    "taxonomy_import": ("import_taxonomy",),
    "migrate_data": ("migrate_file", "DataMigration"),
}
# Functions named like their module get a distinct public name: once ``icvac.validate`` (the module)
# is imported, Python binds that name on the package to the module, not to the function.
_RENAMED = {
    "validate_file": ("validate", "validate"),
    "tabulate_file": ("tabulate", "tabulate"),
    "build_crosswalk": ("crosswalk", "crosswalk"),
    "migrate_mapping_file": ("migrate_mapping", "migrate_mapping"),
}
_WHERE = {name: (module, name) for module, names in _EXPORTS.items() for name in names} | _RENAMED

__all__ = ["__version__", *sorted(_WHERE)]


def _version() -> str:
    """The version of the installed distribution; pyproject.toml is the one place it is written.

    Read on first use only, from the distribution's METADATA where it lies on sys.path as a ``.dist-info``
    folder (as pip installs it), else by importlib.metadata: importing that (email, zipfile, csv) took 14 ms
    and 1.6 MB of every recode, validate and migrate, which record the version in their sidecars."""
    found = _dist_info_version()
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("icvac")
    except PackageNotFoundError:  # a source checkout on sys.path, never installed
        import re
        from pathlib import Path

        try:
            text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
        except OSError:
            return "0+unknown"
        written = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
        return written.group(1) if written else "0+unknown"


def _dist_info_version() -> str | None:
    """The ``Version:`` of the first ``icvac-*.dist-info`` on sys.path, as importlib.metadata finds it."""
    import os
    import sys

    for entry in sys.path:
        try:
            names = sorted(n for n in os.listdir(entry or ".") if n.startswith("icvac-") and n.endswith(".dist-info"))
        except OSError:  # a zip file, a folder gone or unreadable
            continue
        for name in names:
            try:
                with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as handle:
                    for line in handle:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():
                            break  # the headers end at the first blank line
            except OSError:
                continue
    return None


def __getattr__(name: str):
    if name == "__version__":
        value = globals()["__version__"] = _version()
        return value
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'icvac' has no attribute {name!r}")
    module, attribute = where
    value = getattr(importlib.import_module(f"icvac.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
