"""Review decisions written into a mapping file: as YAML *text* inserted into the file, never by
re-dumping it, since PyYAML would drop the comments and the order a person gave the file.

``yaml_scalar`` and ``entry_block`` write values and entries that YAML reads back exactly; the
``categories`` helpers find where an entry's lines are, for ``migrate_mapping`` too.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from .errors import MappingError
from .mapping import Mapping, _semantic_problems, load_mapping
from .taxonomy import Taxonomy
from .yamlio import parse_yaml, read_text, schema_problems

__all__ = ["write_entries", "entry_block", "yaml_scalar", "categories_node", "item_indent", "item_lines"]


# Characters a YAML double-quoted scalar cannot hold as they are: outside YAML's printable set (C0 and C1
# controls, DEL, U+FFFE/FFFF), line breaks JSON leaves alone (NEL, U+2028, U+2029: YAML folds them into a
# space) and the byte order mark. JSON escapes the C0 controls itself.
_YAML_UNSAFE = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                          "\U00010000-\U0010ffff]")


def yaml_scalar(value) -> str:
    """``value`` as a YAML flow scalar (or flow list/mapping) that reads back exactly: JSON, whose
    double-quoted strings are YAML's, with the characters YAML treats specially escaped too."""
    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) <= 0xFFFF else f"\\U{ord(m[0]):08x}",
                            text)


def entry_block(entry: dict, indent: int) -> list[str]:
    """One ``categories`` item as YAML lines; values as JSON scalars, which YAML reads unchanged."""
    pad = " " * indent
    return [f"{pad}{'- ' if n == 0 else '  '}{key}: {yaml_scalar(value)}"
            for n, (key, value) in enumerate(entry.items())]


def write_entries(path: str | os.PathLike, new: list[dict], replace: dict[int, dict], taxonomy: Taxonomy,
                  ) -> Mapping:
    """Add entries at the end of ``categories`` and replace entries by index, keeping the rest of the text.

    A replacing entry keeps the ``aliases`` and ``conditions`` of the entry it replaces unless it gives
    its own: a decision on a draft suggestion settles its target, not the labels and rules around it.
    The result is checked before it replaces the file (atomically); a mapping that would not load is
    never written.
    """
    from .writers import atomic_output

    file = Path(path)
    text = read_text(file, MappingError)
    lines = text.splitlines(keepends=True)
    if lines and lines[-1].splitlines() == [lines[-1]]:  # no line break at the end of the file
        lines[-1] += "\n"  # else an entry appended after the last line would be glued onto it
    node = categories_node(text, str(file))
    if node.flow_style and node.value:
        raise MappingError(str(file), message="write `categories` as a block list (one `- ` item per entry) "
                                              "so that decisions can be added to it")
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line exclusive, new lines)
    indent = item_indent(lines, node)
    current = parse_yaml(text, str(file), MappingError).data["categories"] if replace else []
    for index, entry in replace.items():
        start, end = item_lines(lines, node.value[index])
        edits.append((start, end, entry_block(_keeping(entry, current[index]), indent)))
    block = [line for entry in new for line in entry_block(entry, indent)]
    if block and node.flow_style:  # `categories: []`
        line = node.start_mark.line
        head = lines[line][:node.start_mark.column].rstrip()
        tail = lines[line][node.end_mark.column:] if node.end_mark.line == line else "\n"
        edits.append((line, line + 1, [head] + block + ([tail.rstrip("\n")] if tail.strip() else [])))
    elif block:
        _, end = item_lines(lines, node.value[-1])
        edits.append((end, end, block))
    for start, end, new_lines in sorted(edits, reverse=True):
        lines[start:end] = [line + "\n" for line in new_lines]
    updated = "".join(lines)
    doc = parse_yaml(updated, str(file), MappingError)
    problems = schema_problems(doc, "mapping.schema.json") + _semantic_problems(doc, taxonomy)
    if any(p.severity == "error" for p in problems):
        raise MappingError(str(file), [p for p in problems if p.severity == "error"],
                           message="the decisions would make the mapping invalid; nothing was written")
    with atomic_output(file, newline="") as handle:
        handle.write(updated)
    return load_mapping(file, taxonomy)


_KEPT_ON_REPLACE = ("aliases", "conditions")
_ENTRY_ORDER = ("source_code", "source_label", "aliases", "target", "relation", "conditions")


def _keeping(entry: dict, old) -> dict:
    """``entry`` with the kept keys of the entry it replaces, in the usual key order."""
    old = old if isinstance(old, dict) else {}
    merged = entry | {key: old[key] for key in _KEPT_ON_REPLACE if key in old and key not in entry}
    rank = {key: n for n, key in enumerate(_ENTRY_ORDER)}
    return dict(sorted(merged.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def categories_node(text: str, name: str):
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise MappingError(name, message=f"is not valid YAML ({type(exc).__name__})") from None
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "categories" and isinstance(value, yaml.SequenceNode):
                return value
    raise MappingError(name, message="has no `categories` list; add `categories: []`")


def item_indent(lines: list[str], node) -> int:
    if node.flow_style or not node.value:
        return 2
    first = lines[node.value[0].start_mark.line]
    return len(first) - len(first.lstrip(" "))


def item_lines(lines: list[str], item) -> tuple[int, int]:
    """Lines of one block-sequence item: from its ``-`` to its last line of content (not trailing comments)."""
    start = item.start_mark.line
    end = item.end_mark.line
    if end < len(lines) and lines[end][:item.end_mark.column].strip():
        end += 1  # the item ends inside this line: keep it
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return start, end
