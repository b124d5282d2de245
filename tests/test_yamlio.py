"""The two YAML readers: libyaml's (fast, for sound files) and PyYAML's own (for every message)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert fast is None or fast == expected


@needs_libyaml
def test_the_bundled_taxonomy_is_read_by_libyaml():
    assert yamlio._parse_fast((ROOT / "taxonomy" / "icvac.yaml").read_text("utf-8-sig")) is not None


BUNDLED = sorted(p for folder in ("taxonomy", "mappings") for p in (ROOT / folder).glob("*.yaml"))


@needs_libyaml
@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(ROOT)) for p in BUNDLED])
def test_every_bundled_file_is_read_by_libyaml_even_with_characters_it_might_read_otherwise(path, monkeypatch):
    """``->`` in a mapping's comment or ``"&"`` in the vocabulary would send a file to the strict reader, ten
    times slower; known-valid.json names the bundled ones that libyaml reads alike, so libyaml reads them."""
    text = path.read_text("utf-8-sig")
    expected = strict(text)
    monkeypatch.setattr(yamlio, "_StrictLoader", None)  # any use of it fails
    doc = yamlio.parse_yaml(text, str(path), ConfigFileError)
    assert (doc.data, doc.lines) == expected


@needs_libyaml
def test_a_file_that_is_not_bundled_with_such_characters_goes_to_the_strict_reader(monkeypatch):
    text = (ROOT / "mappings" / "gbvims.yaml").read_text("utf-8-sig") + "\n# an edit -> a file of one's own\n"
    assert yamlio._NOT_FAST.search(text) and yamlio._parse_fast(text) is None
    monkeypatch.setattr(yamlio, "_StrictLoader", None)
    with pytest.raises(TypeError):
        yamlio.parse_yaml(text, "mine.yaml", ConfigFileError)


def outcome(text: str):
    """What parse_yaml makes of ``text``: (values, lines), or the problems of its error."""
    try:
        doc = yamlio.parse_yaml(text, "f.yaml", ConfigFileError)
    except ConfigFileError as exc:
        return [(p.path, p.message, p.line) for p in exc.problems] or str(exc)
    return doc.data, doc.lines


def strict_outcome(text: str):
    try:
        data, lines = strict(text)
    except (yamlio._Refused, yaml.YAMLError):
        return "refused"
    return data, lines


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


# where libyaml and PyYAML's own parser part ways (found by fuzzing the repository's files)
EDGES = ["id: x\ntitle: a title\t\n", "id: x\t# note\n", 'id:\t"x"\n', "id: [x, \t y]\n", "tags: {a?: 1}\n",
         "a: |#\n  x\n", "id: !\n", "? a\n", "? \n", "---", "--- x", "id: x\n---\n", "a: 1\n\ufeffb: 2\n",
         "a: b\u2028c: d\n", "a: b\x85c: d\n", "a: b\r\nc: d\r\n", "a: &x 1\nb: *x\n"]


@pytest.mark.parametrize("text", EDGES)
def test_where_the_parsers_part_ways_the_strict_reader_decides(text):
    strict_result = strict_outcome(text)
    result = outcome(text)
    if strict_result == "refused":
        assert not isinstance(result, tuple)  # refused by parse_yaml too
    else:
        assert isinstance(result, tuple) and same(result[0], strict_result[0]) and result[1] == strict_result[1]


PIECES = [":", ": ", " ", "\t", "\n", "\r\n", "- ", "?", "? ", "[", "]", "{", "}", ",", "#", "&a ", "*a", "!", "!!str ",
          "'", '"', "|", ">", "---\n", "...\n", "\\", "\x85", "\u2028", "\ufeff", "é", "<<: ", "0x1F", "1_000", "1e3",
          ".nan", "~", "yes", "2024-01-01", "a", "key", "\u00a0", "@", "%"]
TEXTS = [p.read_text("utf-8-sig")[:1500] for p in FILES]


@needs_libyaml
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_files_are_read_as_the_strict_reader_reads_them(data):
    text = data.draw(st.sampled_from(TEXTS))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.sampled_from([0, 0, 1, 2, 5]))
        text = text[:at] + data.draw(st.sampled_from(PIECES)) + text[at + cut:]
    fast = yamlio._parse_fast(text)
    if fast is not None:
        expected = strict_outcome(text)
        assert expected != "refused" and same(fast[0], expected[0]) and fast[1] == expected[1]


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


# -- bundled files known to pass their schema (icvac/schemas/known-valid.json)

def test_the_known_valid_digests_are_up_to_date():
    # Out of date after an edit of a bundled file or a schema: every command then checks that file with
    # jsonschema again (some 80 ms).
    recorded = (ROOT / "icvac" / "schemas" / yamlio.KNOWN_VALID).read_text("utf-8")
    forgotten = f"a bundled file or schema changed: run `{yamlio.UPDATE_COMMAND}` (README, Development)"
    assert recorded == yamlio.known_valid_json(), forgotten
    assert set(json.loads(recorded)["digests"]) == {f"{folder}/{p.name}" for folder in ("taxonomy", "mappings")
                                                    for p in (ROOT / folder).glob("*.yaml")}, \
        "a bundled file fails its schema: run `icvac taxonomy check` / `icvac mapping check FILE`"


def test_the_update_step_is_documented_in_the_readme():
    assert yamlio.UPDATE_COMMAND in (ROOT / "README.md").read_text("utf-8").split("## Development")[1]


def test_the_update_step_rewrites_the_digests_of_an_edited_file(tmp_path, monkeypatch):
    # a copy of the package whose taxonomy was edited: the step writes digests that hold for the new text
    import shutil

    pkg = tmp_path / "icvac"
    shutil.copytree(ROOT / "icvac", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("taxonomy", "mappings"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    taxonomy = tmp_path / "taxonomy" / "icvac.yaml"
    taxonomy.write_text(taxonomy.read_text("utf-8").replace("version: \"", "version: \"edited-"), "utf-8")
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "icvac.yamlio", "--write"], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    digests = json.loads((pkg / "schemas" / yamlio.KNOWN_VALID).read_text("utf-8"))["digests"]
    assert digests["taxonomy/icvac.yaml"] != yamlio._known_valid()["taxonomy/icvac.yaml"]
    assert set(digests) == set(yamlio._known_valid())


def test_the_bundled_files_are_loaded_without_jsonschema():
    import subprocess
    import sys

    code = ("import sys; from icvac.taxonomy import load_taxonomy; from icvac.mapping import load_mapping; "
            "t = load_taxonomy(); load_mapping('gbvims', t); load_mapping('iccs', t); "
            "print('jsonschema' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_a_file_is_trusted_only_as_it_was_checked_and_against_its_own_schema(tmp_path):
    text = (ROOT / "taxonomy" / "icvac.yaml").read_text("utf-8")
    doc = yamlio.parse_yaml(text, "icvac.yaml", ConfigFileError)
    assert yamlio.schema_problems(doc, "taxonomy.schema.json") == []
    assert yamlio.schema_problems(doc, "mapping.schema.json")  # the same text, another schema: checked
    edited = text.replace("\ncategories:", "\ncategoriez:", 1)
    assert edited != text
    problems = yamlio.schema_problems(yamlio.parse_yaml(edited, "icvac.yaml", ConfigFileError), "taxonomy.schema.json")
    assert any("categoriez" in p.message or p.path == "categories" for p in problems)
