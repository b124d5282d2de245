"""The two YAML readers: libyaml's (fast, for sound files) and PyYAML's own (for every message)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from icvac import yamlio
from icvac.errors import ConfigFileError

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for folder in ("taxonomy", "mappings", "tests/fixtures") for p in (ROOT / folder).rglob("*.yaml"))
needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")


def strict(text: str):
    loader = yamlio._StrictLoader(text)
    try:
        node = loader.get_single_node()
        return loader.construct_document(node), yamlio._locations(node)
    finally:
        loader.dispose()


@needs_libyaml
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_both_readers_give_the_same_values_and_lines(path):
    text = path.read_text("utf-8-sig")
    try:
        expected = strict(text)
    except (yamlio._Refused, yaml.YAMLError):
        assert yamlio._parse_fast(text) is None  # left to the strict reader, which words the error
        return
    fast = yamlio._parse_fast(text)
    assert fast is not None and fast == expected


@needs_libyaml
@pytest.mark.parametrize("text, line", [
    ("a: &x 1\nb: *x\n", 2),
    ("a: 1\nb: 2\na: 3\n", 3),
    ("a: [1, 2\n", 2),
    ("a: 2023-01-31\n", None),
])
def test_what_libyaml_does_not_take_is_worded_by_the_strict_reader(text, line):
    if line is None:  # not an error: timestamps stay text in both
        assert yamlio._parse_fast(text)[0] == {"a": "2023-01-31"} == strict(text)[0]
        return
    assert yamlio._parse_fast(text) is None
    with pytest.raises(ConfigFileError) as caught:
        yamlio.parse_yaml(text, "f.yaml", ConfigFileError)
    assert caught.value.problems[0].line == line


def test_a_billion_laughs_is_refused_at_once():
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
    with pytest.raises(ConfigFileError) as caught:
        yamlio.parse_yaml("\n".join(rows) + "\n", "f.yaml", ConfigFileError)
    assert "aliases" in caught.value.problems[0].message and caught.value.problems[0].line == 2
