"""Column roles: which column of a data file holds the id, the code, the victim's age…

Each role has a standard default column name; ``--column ROLE=NAME`` points a role
at another column. Columns with no role are opaque: the tool carries them through
but never shows their values (they may hold names or narratives).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Sequence

from .errors import UsageError, shown, shown_list
from .text import fold

__all__ = ["ROLES", "VARIABLE_ROLES", "ColumnMap", "Recoded", "parse_column_options",
           "resolve_columns", "recoded_columns", "resolve_recoded", "roles_for"]

RECORD_ROLES = ("id", "icvac_code", "victim_age", "victim_birth_date", "incident_date")
NATIONAL_ROLES = ("national_code", "national_label")
# The variables of the bundled taxonomy held in columns (``Taxonomy.variable_roles``), for what must not load a
# taxonomy: help texts, the check catalogue, the defaults below. Code that has a taxonomy asks it instead
# (``roles_for(taxonomy.variable_roles)``); a test keeps this copy equal to the file.
VARIABLE_ROLES = (
    "victim_sex", "victim_disability", "victim_migration_status", "perpetrator_relationship",
    "perpetrator_sex", "perpetrator_age_group", "setting", "technology_facilitated", "armed_conflict",
)


def roles_for(variables: Sequence[str]) -> tuple[str, ...]:
    """Every column role for a taxonomy whose variables held in columns are ``variables``."""
    return (*RECORD_ROLES, *variables, *NATIONAL_ROLES)


ROLES = roles_for(VARIABLE_ROLES)


@dataclass(frozen=True)
class ColumnMap:
    """Role -> column index in the header, for the roles present in the file."""

    header: tuple[str, ...]
    index: dict[str, int]

    def get(self, role: str) -> int | None:
        return self.index.get(role)

    def name(self, role: str) -> str:
        return self.header[self.index[role]]


def parse_column_options(values: list[str] | None, roles=ROLES) -> dict[str, str]:
    """``["victim_sex=Sexe", "id=N°"]`` -> ``{"victim_sex": "Sexe", "id": "N°"}``."""
    out: dict[str, str] = {}
    for item in values or []:
        role, sep, name = item.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not role or not name:
            raise UsageError(f"--column {item!r}: write ROLE=COLUMN, for example victim_sex=Sexe")
        if role not in roles:
            raise UsageError(f"--column {item!r}: unknown role {role!r}; roles are {', '.join(roles)}")
        out[role] = name
    return out


def resolve_columns(header: list[str], overrides: dict[str, str] | None = None, roles=ROLES,
                    source: str = "") -> ColumnMap:
    """Find each role's column: an explicit override must exist; a default name (``icvac_<role>`` first
    for variables) matches exactly, else ignoring case, accents and punctuation."""
    overrides = overrides or {}
    exact = {name: i for i, name in enumerate(header)}
    for role in roles:  # before folding every name: a file of a million columns takes seconds to fold
        name = overrides.get(role)
        if name is not None and name not in exact:
            raise UsageError(f"{source + ': ' if source else ''}--column {role}={name}: no column named "
                             f"{shown(name)}; the columns are {shown_list(header)}")
    folded: dict[str, int] = {}
    for i, name in enumerate(header):
        folded.setdefault(fold(name).replace(" ", "_"), i)
    index: dict[str, int] = {}
    for role in roles:
        if role in overrides:
            index[role] = exact[overrides[role]]
        else:
            # `icvac recode` writes a variable's ICVAC codes as `icvac_<role>` beside the national column:
            # prefer it, so that recode output can be validated and tabulated as it is.
            names = (role,) if role in RECORD_ROLES or role in NATIONAL_ROLES else (f"icvac_{role}", role)
            found = next((exact[n] for n in names if n in exact), None)
            if found is None:
                found = next((folded[n] for n in names if n in folded), None)
            if found is not None:
                index[role] = found
    return ColumnMap(tuple(header), index)


@dataclass(frozen=True)
class Recoded:
    """What the sidecar ``OUT.meta.json`` of a file ``icvac recode`` wrote says of its columns."""

    roles: dict[str, str] = field(default_factory=dict)  # role -> column, those present in the file
    long: bool = False                                     # one row per act: an id repeats by design
    sidecar: str | None = None                             # the sidecar's file name, when one was read


def recoded_columns(source: str | os.PathLike, header: list[str], known: Sequence[str] = ROLES) -> Recoded:
    """The roles ``icvac recode`` used for ``source``, from its sidecar when there is one: the export's id,
    age and date columns (under their national names, which the default names would not find) and the
    ``icvac_<variable>`` columns. A sidecar that does not fit the file (no ``icvac_code`` column, unreadable
    or of another shape) is ignored: the default names apply, as for any file."""
    if str(source) == "-" or "icvac_code" not in header:
        return Recoded()
    path = f"{os.fspath(source)}.meta.json"
    if not os.path.isfile(path):  # nor a FIFO or device someone named so: nothing to block on
        return Recoded()
    try:
        with open(path, encoding="utf-8") as handle:
            provenance = json.load(handle).get("provenance") or {}
        declared = provenance.get("columns") or {}
        long = bool((provenance.get("options") or {}).get("long"))
    except (OSError, ValueError, AttributeError):
        return Recoded()
    if not isinstance(declared, dict):
        return Recoded()
    present = set(header)
    roles = {role: name for role, name in declared.items()
             if role in known and isinstance(name, str) and name in present}
    return Recoded(roles, long, os.path.basename(path))


def resolve_recoded(source: str | os.PathLike, header: list[str], overrides: dict[str, str] | None = None,
                    name: str = "", roles: Sequence[str] = ROLES) -> tuple[ColumnMap, Recoded]:
    """``resolve_columns`` for a file that may be ``icvac recode`` output: --column first, then the columns its
    sidecar records (the export's own id, age and date columns), then the default names. In recode's
    one-row-per-act output an id repeats by design, so there it is an id only when named with --column."""
    overrides = overrides or {}
    recoded = recoded_columns(source, header, roles)
    cmap = resolve_columns(header, {**recoded.roles, **overrides}, roles, source=name)
    if recoded.long and "id" not in overrides and "id" in cmap.index:
        cmap = ColumnMap(cmap.header, {role: i for role, i in cmap.index.items() if role != "id"})
    return cmap, recoded
