"""Where a record's national categories and variables sit in a data file: a mapping's ``columns`` section,
with ``--column`` overrides, resolved against the file's header (for recode and the crosswalk's coverage)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .columns import VARIABLE_ROLES, resolve_columns
from .errors import UsageError, shown_list
from .mapping import CategorySlot, Mapping

__all__ = ["Layout", "category_layout"]


@dataclass(frozen=True)
class Layout:
    """Where a record's national categories and variables sit in a data file."""

    slots: tuple[tuple[int | None, int | None], ...]  # (code column, label column) per category
    separator: str | None
    variables: dict[str, int]                         # variable role -> column
    age: int | None
    missing: tuple[str, ...] = ()                     # declared by the mapping, absent from the file
    birth: int | None = None                          # birth and incident dates: both, or neither
    incident: int | None = None

    def category_values(self, cells: list[str]) -> Iterator[tuple[int, str, str]]:
        """``(slot number, code, label)`` of each national category a record holds: several values in one
        cell are split at the separator and paired in order; blank ones are skipped."""
        sep = self.separator
        for n, (code_col, label_col) in enumerate(self.slots):
            code = cells[code_col].strip() if code_col is not None and code_col < len(cells) else ""
            label = cells[label_col].strip() if label_col is not None and label_col < len(cells) else ""
            if sep is None or (sep not in code and sep not in label):
                if code or label:
                    yield n, code, label
                continue
            codes, labels = code.split(sep), label.split(sep)
            for i in range(max(len(codes), len(labels))):
                c = codes[i].strip() if i < len(codes) else ""
                lab = labels[i].strip() if i < len(labels) else ""
                if c or lab:
                    yield n, c, lab


def category_layout(header: list[str], mapping: Mapping, overrides: dict[str, str], source: str = "data") -> Layout:
    """Columns from the mapping's `columns` section, with --column overrides on top."""
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
    columns = resolve_columns(header, roles, source=source)
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
        resolved.append((index.get(slot.code), index.get(slot.label)))
    if not any(c is not None or lab is not None for c, lab in resolved):
        raise UsageError(f"{source}: no category column found; name it national_code or national_label, or pass "
                         "--column national_label=NAME")
    variables = {role: columns.index[role] for role in VARIABLE_ROLES if role in columns.index}
    birth, incident = columns.get("victim_birth_date"), columns.get("incident_date")
    if birth is None or incident is None:
        birth = incident = None
    return Layout(tuple(resolved), declared.separator if declared else None, variables, columns.get("victim_age"),
                  missing, birth, incident)
