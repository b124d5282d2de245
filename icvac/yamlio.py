"""Safe YAML loading for taxonomy and mapping files.

PyYAML's SafeLoader already refuses ``!!python`` tags. On top of it we refuse
duplicate keys (a silent overwrite would drop a category), anchors and aliases
(our files never need them, and refusing them defuses "billion laughs"), and
files above a size limit. Every problem comes back as a ``Problem`` with the
path inside the file and its line, so users can find it.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .digest import sha256_hex
from .errors import ConfigFileError, Problem

MAX_YAML_BYTES = 10 * 1024 * 1024
# Keys, values and list items (YAML nodes): the bundled taxonomy has some 4,500, a mapping of 10,000 national
# labels some 50,000. Loading costs time and memory per node (PyYAML's own parser, which reads any file holding
# a tab or a `>`, some 50 microseconds each), so a file within the size limit can still take a minute: refused.
MAX_YAML_NODES = 100_000


class _Refused(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Constructor(yaml.constructor.SafeConstructor):
    """What both loaders build values with: SafeConstructor, refusing duplicate keys and huge numbers."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, tuple[yaml.Node, Any]] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused("a mapping key must be a plain value", key_node.start_mark.line + 1) from None
            if key in seen:
                raise _duplicate(*seen[key], key_node, key)
            seen[key] = key_node, key
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python refuses to convert integers of more than 4300 digits
            raise _Refused("a number is too long; write it as text in quotes", node.start_mark.line + 1) from None

    # SafeConstructor's table names its own construct_yaml_int: this copy names the one above, and both
    # loaders find it first (this class comes before SafeConstructor in their bases)
    yaml_constructors = {**yaml.constructor.SafeConstructor.yaml_constructors,
                         "tag:yaml.org,2002:int": construct_yaml_int}


def _duplicate(first, first_key, second, second_key) -> _Refused:
    """Two keys that are one to YAML: written the same, or read the same (YAML 1.1 reads an unquoted ``on``
    as true, which Python holds equal to 1: ``{on: male, 1: female}`` has two keys 1)."""
    if first.value == second.value:
        return _Refused(f"duplicate key {short_value(second_key)} (first at line {first.start_mark.line + 1}); "
                        "keep one of them", second.start_mark.line + 1)
    # the key that does not read as written: a YAML 1.1 boolean (on, off, yes, no), else the second
    word, value, other = (first, first_key, second) if first.tag.endswith(":bool") else (second, second_key, first)
    return _Refused(f"key {word.value} is read by YAML as {short_value(value)}, the same key as {other.value} "
                    f"(line {other.start_mark.line + 1}); quote it: '{word.value}'", word.start_mark.line + 1)


class _StrictLoader(_Constructor, yaml.SafeLoader):
    """SafeLoader that refuses aliases, duplicate keys and more than MAX_YAML_NODES nodes."""

    nodes = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused("anchors and aliases (*name) are not allowed; write the value out",
                           event.start_mark.line + 1)
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise _Refused(_TOO_MANY, self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


_TOO_MANY = (f"more than {MAX_YAML_NODES:,} keys, values and list items, the limit for a YAML file; "
             "check that it is the right file, or split it")


def _too_many_nodes(text: str) -> int | None:
    """The line where the file passes MAX_YAML_NODES, counted on libyaml's events one at a time (nothing is
    built, and the count stops there); None within the limit, or without libyaml (_StrictLoader counts)."""
    if not yaml.__with_libyaml__ or 2 * len(text) < MAX_YAML_NODES:  # a node takes half a character at least
        return None
    count = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            count += isinstance(event, yaml.NodeEvent)
            if count > MAX_YAML_NODES:
                assert event.start_mark is not None  # libyaml marks every event; the stubs allow None
                return event.start_mark.line + 1
    except yaml.YAMLError:
        return None  # reported by the loader, with PyYAML's own message
    return None


# libyaml's parser, where PyYAML was built with it, reads our files ten times faster (every command
# loads the taxonomy); the values are built by the same Python constructor. libyaml and PyYAML's own
# parser differ at the edges (a tab after a value, `!` tags, `?` keys, `|#`, document markers, unusual
# line breaks: libyaml takes some that PyYAML refuses, or reads them otherwise), so libyaml gets only text
# without any of those characters (_NOT_FAST), and only the files it finds sound with no alias; anything
# else is read by _StrictLoader, whose values, messages and line numbers are the ones users see.
_FastLoader: type[yaml.CSafeLoader] | None = (
    type("_FastLoader", (_Constructor, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else None)
_NOT_FAST = re.compile("[\t!?|>%&*@`\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]|^(?:---|\\.\\.\\.)",
                       re.MULTILINE)

# Timestamps stay strings: a mapping's `date: 2024-01-31` must round-trip as written.
_RESOLVERS = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _loader in (_StrictLoader, _FastLoader):
    if _loader is not None:
        _loader.yaml_implicit_resolvers = _RESOLVERS


def format_path(parts: tuple) -> str:
    """``("categories", 3, "code")`` -> ``categories[3].code``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _locations(node, parts=(), acc=None) -> dict[tuple, int]:
    acc = {} if acc is None else acc
    acc[parts] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _locations(value_node, parts + (key_node.value,), acc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _locations(item, parts + (i,), acc)
    return acc


class YamlDocument:
    """Parsed data plus the line of every path, for error messages."""

    def __init__(self, path: str, data: Any, lines: dict[tuple, int], text: str):
        self.path = path
        self.data = data
        self.lines = lines
        self.text = text

    def line_of(self, parts: tuple) -> int | None:
        parts = tuple(parts)
        while parts not in self.lines and parts:
            parts = parts[:-1]
        return self.lines.get(parts)

    def problem(self, parts, message: str, severity: str = "error") -> Problem:
        return Problem(format_path(tuple(parts)), message, severity, self.line_of(tuple(parts)))


def read_text(path: str | os.PathLike, error: type[ConfigFileError], max_bytes: int = MAX_YAML_BYTES) -> str:
    """The file's text. At most ``max_bytes`` + 1 bytes are ever read, whatever the file is: a pipe,
    /dev/stdin or a device has no size to check beforehand, and may never end."""
    p = Path(path)
    try:
        if p.is_dir():
            raise error(str(p), message="is a directory; give a YAML file")
        size = p.stat().st_size
        if size > max_bytes:
            raise _too_large(p, error, max_bytes, size)
        with open(p, "rb") as handle:
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise _too_large(p, error, max_bytes, None)
    except FileNotFoundError:
        raise error(str(p), message="does not exist; check the path") from None
    except PermissionError:
        raise error(str(p), message="cannot be read (permission denied)") from None
    except OSError as exc:
        raise error(str(p), message=f"cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(str(p), message=f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _too_large(p: Path, error: type[ConfigFileError], max_bytes: int, size: int | None) -> ConfigFileError:
    stated = f"is {size / 1e6:.1f} MB, above" if size is not None else "holds more than"
    return error(str(p), message=f"{stated} the {max_bytes // 1_000_000} MB limit for a YAML file; "
                                 "check that it is the right file")


def parse_yaml(text: str, path: str, error: type[ConfigFileError]) -> YamlDocument:
    """Parse YAML text safely; any syntax problem raises ``error`` naming the file and line."""
    line = _too_many_nodes(text)
    if line is not None:
        raise error(path, message=f"line {line}: {_TOO_MANY}")
    fast = _parse_fast(text)
    if fast is not None:
        return YamlDocument(path, *fast, text)
    return _parse_strict(text, path, error)


def _parse_strict(text: str, path: str, error: type[ConfigFileError]) -> YamlDocument:
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        lines = _locations(node) if node is not None else {}
    except _Refused as exc:
        raise error(path, [Problem("", exc.message, "error", exc.line)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        if "tag" in str(what) or "constructor" in type(exc).__name__.lower():
            what = f"{what}; only plain YAML values are allowed"
        raise error(path, [Problem("", f"YAML syntax: {what}", "error", mark.line + 1 if mark else None)]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise error(path, message=f"is not valid YAML ({type(exc).__name__})") from None
    if node is None:
        raise error(path, message="is empty (or holds only comments); it should start with keys such as `id:`")
    return YamlDocument(path, data, lines, text)


def _parse_fast(text: str, anyway: bool = False) -> tuple[Any, dict[tuple, int]] | None:
    """(data, lines) read by libyaml; None where it is missing or the text needs _StrictLoader's word. A
    bundled file that holds characters of _NOT_FAST (``->`` in a comment, ``"&"`` in a list) is read by
    libyaml all the same where known-valid.json says that libyaml reads it as _StrictLoader does (the
    mappings and the abstention vocabulary: 40 ms of every recode), or ``anyway``."""
    if _FastLoader is None:
        return None
    if not anyway and _NOT_FAST.search(text) and _text_digest(text) not in _read_alike():
        return None
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
            if node is None or _has_alias(node):
                return None
            return loader.construct_document(node), _locations(node)
        finally:
            loader.dispose()
    except (_Refused, yaml.YAMLError, RecursionError, ValueError):
        return None


def _has_alias(root) -> bool:
    """Whether a node is reached twice: libyaml composes an alias as its anchor's node. Stops there, so a
    "billion laughs" file costs no more than its size."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo += [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return False


def load_yaml(path: str | os.PathLike, error: type[ConfigFileError]) -> YamlDocument:
    return parse_yaml(read_text(path, error), str(path), error)


@lru_cache(maxsize=None)
def _schema_text(name: str) -> str:
    return (resources.files("icvac") / "schemas" / name).read_text("utf-8")


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads(_schema_text(name))


def schema_problems(doc: YamlDocument, schema_name: str) -> list[Problem]:
    """Every JSON Schema violation at once, each with its path inside the file."""
    if _digest(doc.text, schema_name) in _known_valid().values():
        # a bundled file, as it was when it passed this schema: importing jsonschema and checking it again
        # would add some 80 ms to every command
        return []
    return _checked(doc, schema_name)


def _checked(doc: YamlDocument, schema_name: str) -> list[Problem]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(schema_name))
    errors = [_branch_error(e) if e.validator == "oneOf" else e for e in validator.iter_errors(doc.data)]
    problems = []
    for err in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        parts = tuple(err.absolute_path)
        if err.validator == "required":
            parts += (_quoted(err.message),)
        problems.append(doc.problem(parts, _schema_message(err)))
    return problems


def _digest(text: str, schema_name: str) -> str:
    return sha256_hex("\0".join((schema_name, _schema_text(schema_name), text)).encode())


@lru_cache(maxsize=None)
def _known_valid() -> dict[str, str]:
    return json.loads(_schema_text(KNOWN_VALID))["digests"]


def _text_digest(text: str) -> str:
    return sha256_hex(text.encode("utf-8", "surrogatepass"))


@lru_cache(maxsize=None)
def _read_alike() -> frozenset[str]:
    return frozenset(json.loads(_schema_text(KNOWN_VALID)).get("libyaml", ()))


def _libyaml_reads_alike(doc: YamlDocument) -> bool:
    """Whether libyaml gives a file the values and lines that _StrictLoader gives it."""
    fast = _parse_fast(doc.text, anyway=True)
    strict = _parse_strict(doc.text, doc.path, ConfigFileError)
    return fast is not None and fast == (strict.data, strict.lines)


KNOWN_VALID = "known-valid.json"
UPDATE_COMMAND = "python -m icvac.yamlio --write"
_BUNDLED_SCHEMAS = {"taxonomy": "taxonomy.schema.json", "mappings": "mapping.schema.json"}
_FILE_SCHEMAS = {"taxonomy/abstention.yaml": "abstention.schema.json"}  # a file beside others of its folder


def known_valid_json() -> str:
    """icvac/schemas/known-valid.json: the digest of each bundled file that passes its schema, with the
    schema (checked here with jsonschema, not taken on trust)."""
    from .resources import bundled_dirs

    digests, alike = {}, []
    for folder, schema in _BUNDLED_SCHEMAS.items():
        for path in sorted(bundled_dirs(folder)[-1].glob("*.yaml")):
            doc = load_yaml(path, ConfigFileError)
            name = f"{folder}/{path.name}"
            if not _checked(doc, _FILE_SCHEMAS.get(name, schema)):
                digests[name] = _digest(doc.text, _FILE_SCHEMAS.get(name, schema))
            if _NOT_FAST.search(doc.text) and _libyaml_reads_alike(doc):
                alike.append(_text_digest(doc.text))
    about = ("SHA-256 of (schema name, schema, file) for each bundled file that passes its schema: such a file "
             "is not checked again at run time; under libyaml, the SHA-256 of each bundled file that libyaml "
             "reads as PyYAML's own parser does although it holds characters on which the two can differ: such "
             f"a file is read by libyaml. Generated by `{UPDATE_COMMAND}` after any edit of a bundled "
             "file or schema; tests/test_yamlio.py says when it is out of date.")
    return json.dumps({"about": about, "digests": digests, "libyaml": sorted(alike)}, indent=2) + "\n"


def _branch_error(err):
    """"Not valid under any of the given schemas" says neither where nor why; the error inside the branch
    for the value's own type does (``columns.categories[1].label`` for a label that is a number)."""
    inside = [e for e in err.context if e.relative_path or e.validator != "type"]
    return max(inside, key=lambda e: len(e.relative_path)) if inside else err


def _schema_message(err) -> str:
    if err.validator == "anyOf" and err.context and all(e.validator == "required" for e in err.context):
        return f"give at least one of {', '.join(_quoted(e.message) for e in err.context)}"
    if err.validator == "oneOf" and err.context and all(e.validator == "type" for e in err.context):
        kinds = " or ".join(str(e.validator_value) for e in err.context)
        return f"value {short_value(err.instance)} should be of type {kinds}"
    if err.validator == "required":
        return f"missing required key '{_quoted(err.message)}'"
    if err.validator == "additionalProperties":
        return f"{err.message}; remove it or check its spelling"
    if err.validator == "enum":
        return f"value {short_value(err.instance)} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "type" and not err.absolute_path:
        return (f"the file holds {short_value(err.instance)}; it should hold keys and values "
                "(`id: …`, `title: …`, `categories: …`)")
    if err.validator == "type" and isinstance(err.instance, bool) and "string" in err.validator_value:
        return (f"value {err.instance} should be of type {err.validator_value}; YAML 1.1 reads an unquoted yes, no, "
                "on or off as true or false: quote it")
    if err.validator == "type":
        return f"value {short_value(err.instance)} should be of type {err.validator_value}"
    if err.validator == "pattern":
        return f"value {short_value(err.instance)} does not match the expected form {err.validator_value}"
    return err.message if len(err.message) < 200 else err.message[:200] + "…"


def _quoted(message: str) -> str:
    return message.split("'")[1] if message.count("'") >= 2 else message


def short_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def write_known_valid() -> list[str]:
    """Regenerate icvac/schemas/known-valid.json in place (temp file + rename); return the bundled files that
    fail their schema (left out of it: they are checked at every run, and the tests fail)."""
    text = known_valid_json()
    digests = json.loads(text)["digests"]
    from .resources import bundled_dirs

    failing = [f"{folder}/{p.name}" for folder in _BUNDLED_SCHEMAS
               for p in sorted(bundled_dirs(folder)[-1].glob("*.yaml")) if f"{folder}/{p.name}" not in digests]
    target = Path(__file__).resolve().parent / "schemas" / KNOWN_VALID
    temp = target.with_name(f".{KNOWN_VALID}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, target)
    return failing


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write"]:
        bad = write_known_valid()
        for name in bad:
            print(f"{name} fails its schema: run `icvac taxonomy check` or `icvac mapping check {name}`",
                  file=sys.stderr)
        sys.exit(1 if bad else 0)
    sys.stdout.write(known_valid_json())
