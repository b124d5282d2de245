"""Where a record's national categories and variables sit in a data file: a mapping's ``columns`` section,
with ``--column`` overrides, resolved against the file's header (for recode and the crosswalk's coverage)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .columns import VARIABLE_ROLES, resolve_columns, roles_for
from .errors import UsageError, shown_list
from .mapping import DEFAULT_SEPARATORS, CategorySlot, Mapping
from .text import fold

__all__ = ["Layout", "category_layout", "RECORDED_ROLES"]

RECORDED_ROLES = ("id", "victim_age", "victim_birth_date", "incident_date")  # read back as they are


@dataclass(frozen=True)
class Layout:
    """Where a record's national categories and variables sit in a data file."""

    slots: tuple[tuple[int | None, int | None], ...]  # (code column, label column) per category
    separators: tuple[str, ...]                       # what splits a cell into several acts
    variables: dict[str, int]                         # variable role -> column
    age: int | None
    missing: tuple[str, ...] = ()                     # declared by the mapping, absent from the file
    birth: int | None = None                          # birth and incident dates: both, or neither
    incident: int | None = None
    whole: frozenset[str] = frozenset()               # folded codes and labels of the mapping that hold a separator
    roles: dict[str, str] = field(default_factory=dict)  # role -> column name, every role found

    def recorded_columns(self) -> dict[str, str]:
        """Role -> column of recode's output, for validate and tabulate to read it back (``recoded_columns``):
        the id, age and date columns as found, each variable as the ``icvac_<role>`` column recode adds."""
        kept = {role: name for role, name in self.roles.items() if role in RECORDED_ROLES}
        kept.update({role: f"icvac_{role}" for role in self.variables})
        kept["icvac_code"] = "icvac_code"
        return dict(sorted(kept.items()))

    def category_values(self, cells: list[str]) -> Iterator[tuple[int, str, str]]:
        """``(slot number, code, label)`` of each national category a record holds: several values in one
        cell (``Rape; Physical Assault``) are split at the separators and paired in order, so that each is
        coded on its own; blank ones are skipped. A cell that is a code or label of the mapping as a whole
        is not split."""
        for n, (code_col, label_col) in enumerate(self.slots):
            code = cells[code_col].strip() if code_col is not None and code_col < len(cells) else ""
            label = cells[label_col].strip() if label_col is not None and label_col < len(cells) else ""
            codes, labels = self._split(code), self._split(label)
            if len(codes) == len(labels) == 1:
                if code or label:
                    yield n, code, label
                continue
            for i in range(max(len(codes), len(labels))):
                c = codes[i].strip() if i < len(codes) else ""
                lab = labels[i].strip() if i < len(labels) else ""
                if c or lab:
                    yield n, c, lab

    def _split(self, text: str) -> list[str]:
        if not text or not any(sep in text for sep in self.separators) or fold(text) in self.whole:
            return [text]
        first = self.separators[0]
        for sep in self.separators[1:]:
            text = text.replace(sep, first)
        return text.split(first)


def category_layout(header: list[str], mapping: Mapping, overrides: dict[str, str], source: str = "data",
                    variables: tuple[str, ...] = VARIABLE_ROLES) -> Layout:
    """Columns from the mapping's `columns` section, with --column overrides on top; ``variables`` are the
    taxonomy's variables held in columns (``Taxonomy.variable_roles``)."""
    declared = mapping.columns
    roles = dict(declared.variables) if declared else {}
    if declared and declared.id:
        roles["id"] = declared.id
    # A variable column the mapping declares but this export lacks is reported, not fatal: the
    # categories can still be recoded. Columns named with --column must exist.
    missing = tuple(name for role, name in roles.items() if name not in header and role not in overrides)
    roles = {role: name for role, name in roles.items() if name in header}
    cli_slot = {k: v for k, v in overrides.items() if k in ("national_code", "national_label")}
    roles.update(overrides)
    columns = resolve_columns(header, roles, roles_for(variables), source=source)
    slots: tuple[CategorySlot, ...]
    if cli_slot or not (declared and declared.categories):
        slots = (CategorySlot(code=columns.name("national_code") if columns.get("national_code") is not None else None,
                              label=columns.name("national_label") if columns.get("national_label") is not None
                              else None),)
    else:
        slots = declared.categories
    index = {name: i for i, name in enumerate(header)}
    resolved = []
    for slot in slots:
        for name in (slot.code, slot.label):
            if name is not None and name not in index:
                raise UsageError(f"{source}: the mapping names category column {name!r}, which is not in the file; "
                                 f"the columns are {shown_list(header)}; use --column national_label=NAME")
        resolved.append((None if slot.code is None else index[slot.code],
                         None if slot.label is None else index[slot.label]))
    if not any(c is not None or lab is not None for c, lab in resolved):
        raise UsageError(f"{source}: no category column found; name it national_code or national_label, or pass "
                         "--column national_label=NAME")
    found = {role: columns.index[role] for role in variables if role in columns.index}
    birth, incident = columns.get("victim_birth_date"), columns.get("incident_date")
    if birth is None or incident is None:
        birth = incident = None
    separators = declared.separators if declared else DEFAULT_SEPARATORS
    whole = frozenset(fold(value) for entry in mapping.entries for value in (entry.source_code, *entry.labels)
                      if value and any(sep in value for sep in separators))
    return Layout(tuple(resolved), separators, found, columns.get("victim_age"), missing, birth, incident,
                  whole, {role: header[i] for role, i in columns.index.items()})
