"""Crosswalks (to-icvac, from-icvac, composed), their formats, and coverage.

Golden files live in tests/golden/crosswalk/ and are built from the small fixtures in
tests/fixtures/crosswalk/ (a taxonomy and two mappings of its own), so that editing the bundled
taxonomy or mappings does not change them. Regenerate after an intended change with
``pytest tests/test_crosswalk.py --update-goldens`` and review the diff.
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac.crosswalk import DIRECTIONS, Link, chain, compose, coverage, crosswalk, inverse
from icvac.crosswalk_formats import COLUMNS, SQL_TABLE, render, write_crosswalk
from icvac.mapping import RELATIONS, Mapping, MappingEntry, load_mapping
from icvac.taxonomy import load_taxonomy
from icvac.writers import excel_safe

from .conftest import FIXTURES, MAPPINGS, TAXONOMY

HERE = FIXTURES / "crosswalk"
XW_TAXONOMY = HERE / "taxonomy.yaml"


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy(XW_TAXONOMY)


def _fixture_mapping(name):
    """A module-scoped fixture ``name``: the mapping ``name.yaml`` of the crosswalk fixtures, loaded against ``tax``."""
    @pytest.fixture(scope="module", name=name)
    def mapping(tax):
        return load_mapping(HERE / f"{name}.yaml", tax)

    return mapping


alpha = _fixture_mapping("alpha")
beta = _fixture_mapping("beta")


# ---------------------------------------------------------------- relations

def test_chain_rules():
    assert chain("exact", "exact") == "exact"
    assert chain("exact", "broad") == chain("broad", "exact") == "broad"
    assert chain("narrow", "narrow", "exact") == "narrow"
    assert chain("close", "exact") == "close"
    assert chain("broad", "narrow") == chain("narrow", "broad") == "related"
    assert chain("close", "close") == chain("close", "broad") == chain("related", "exact") == "related"
    with pytest.raises(ValueError):
        chain("exact", "no-match")


MATCHES = st.sampled_from([r for r in RELATIONS if r != "no-match"])


@given(MATCHES, MATCHES, MATCHES)
def test_chain_is_associative_with_exact_as_identity(a, b, c):
    assert chain(chain(a, b), c) == chain(a, chain(b, c)) == chain(a, b, c)
    assert chain(a, "exact") == chain("exact", a) == a
    assert inverse(chain(a, b)) == chain(inverse(b), inverse(a))


# ---------------------------------------------------------------- golden files

@pytest.mark.parametrize("fmt,name", [("csv", "alpha-to-icvac.csv"), ("json", "alpha-to-icvac.json"),
                                      ("markdown", "alpha-to-icvac.md"), ("sssom", "alpha-to-icvac.sssom.tsv"),
                                      ("sql", "alpha-to-icvac.sql")])
def test_golden_to_icvac(tax, alpha, fmt, name, golden):
    golden(f"crosswalk/{name}", render(crosswalk(alpha, tax, "to-icvac"), fmt))


@pytest.mark.parametrize("fmt,name", [("csv", "alpha-from-icvac.csv"), ("markdown", "alpha-from-icvac.md"),
                                      ("sssom", "alpha-from-icvac.sssom.tsv")])
def test_golden_from_icvac(tax, alpha, fmt, name, golden):
    golden(f"crosswalk/{name}", render(crosswalk(alpha, tax, "from-icvac"), fmt))


@pytest.mark.parametrize("fmt,name", [("csv", "alpha-beta.csv"), ("sql", "alpha-beta.sql")])
def test_golden_compose(tax, alpha, beta, fmt, name, golden):
    golden(f"crosswalk/{name}", render(compose(alpha, beta, tax), fmt))


def test_compose_relations(tax, alpha, beta):
    got = [(link.subject_code or link.subject_label, link.relation, link.object_code, " > ".join(link.via))
           for link in compose(alpha, beta, tax).links]
    assert got == [
        ("A1", "exact", "B1", "0101"),            # exact . exact
        ("A1", "close", "B6", "0101"),            # exact . close = close
        ("A2", "broad", "B2", "02012 > 02"),      # broad . up the tree . exact
        ("A2", "broad", "B3", "02012"),           # broad . inverse(narrow)
        ("A3", "broad", "B2", "02011 > 02"),
        ("A3", "exact", "B8", "02011"),
        ("A4", "related", "B4", "0301 > 03"),     # close . broad . close
        ("A4", "related", "B4", "0302 > 03"),
        ("Child's sexual abuse", "related", "B4", "03"),
        ("Child's sexual abuse", "related", "B4", "0301 > 03"),  # a conditional target
        ("A6", "broad", "B2", "0202 > 02"),
        ("A7", "exact", "B2", "02"),
        ("A7", "related", "B3", "02 > 02012"),    # narrow . inverse(narrow) = narrow . broad
        ("A7", "narrow", "B8", "02 > 02011"),     # down the tree . exact
        ("A9", "no-match", None, ""),             # no-match never composes
    ]


def test_xlsx_reads_back(tmp_path, tax, alpha):
    from openpyxl import load_workbook

    cw = crosswalk(alpha, tax, "to-icvac")
    out = tmp_path / "cw.xlsx"
    write_crosswalk(cw, "xlsx", out)
    rows = [list(r) for r in load_workbook(out, read_only=True)["crosswalk"].iter_rows(values_only=True)]
    assert rows[0] == list(COLUMNS)
    assert len(rows) == len(cw.links) + 1
    labels = [r[2] for r in rows[1:]]
    assert labels == [excel_safe(link.subject_label) for link in cw.links]
    assert "'=Other offence" in labels and "Burns\\scalds" in labels  # formula neutralised, text exact


def test_to_icvac_lists_every_decided_entry_in_file_order(tax, alpha):
    cw = crosswalk(alpha, tax)
    seen = list(dict.fromkeys((link.subject_code, link.subject_label) for link in cw.links))
    decided = [(e.source_code, e.source_label) for e in alpha.entries if not e.review]
    assert seen == decided and cw.left_out == 1


# ---------------------------------------------------------------- SQL and SSSOM

def _load_sqlite(sql: str) -> sqlite3.Connection:
    """The SQL as SQLite reads it, with no function registered (issue 14: it needed a CHR of ours)."""
    db = sqlite3.connect(":memory:")
    db.executescript(sql)
    return db


def _load_duckdb(sql: str):
    duckdb = pytest.importorskip("duckdb")
    db = duckdb.connect()
    db.execute(sql)
    return db


ENGINES = {"sqlite": _load_sqlite, "duckdb": _load_duckdb}


def _pairs(rows):
    """Rows or links as a sorted list of tuples (None sorts apart from text)."""
    rows = [(r.subject_code, r.subject_label, r.relation, r.object_code, r.object_label) if isinstance(r, Link)
            else tuple(r) for r in rows]
    return sorted(rows, key=repr)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_sql_loads_in_sqlite_and_joins_back(tax, alpha, direction):
    cw = crosswalk(alpha, tax, direction)
    db = _load_sqlite(render(cw, "sql"))
    rows = db.execute(f"SELECT subject_code, subject_label, relation, object_code, object_label "
                      f"FROM {SQL_TABLE}").fetchall()
    assert _pairs(rows) == _pairs(cw.links)
    # a warehouse join: national codes in a fact table to their ICVAC targets
    db.execute("CREATE TABLE incidents (offence_code VARCHAR(8))")
    db.executemany("INSERT INTO incidents VALUES (?)", [("A1",), ("A4",), ("A9",)])
    if direction == "to-icvac":
        joined = db.execute(f"SELECT i.offence_code, c.object_code FROM incidents i JOIN {SQL_TABLE} c "
                            "ON c.subject_code = i.offence_code ORDER BY 1, 2").fetchall()
        assert joined == [("A1", "0101"), ("A4", "0301"), ("A4", "0302"), ("A9", None)]


def test_sql_loads_in_duckdb(tax, alpha, beta):
    for cw in (crosswalk(alpha, tax), crosswalk(alpha, tax, "from-icvac"), compose(alpha, beta, tax)):
        db = _load_duckdb(render(cw, "sql"))
        rows = db.execute(f"SELECT subject_code, subject_label, relation, object_code, object_label "
                          f"FROM {SQL_TABLE}").fetchall()
        assert _pairs(rows) == _pairs(cw.links)


def test_sql_quotes_the_standard_way(tax, alpha):
    sql = render(crosswalk(alpha, tax), "sql")
    assert "CHR(" not in sql and "IF NOT EXISTS" not in sql
    assert "'Child''s sexual abuse'" in sql


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30))
def test_a_sql_literal_reads_back_as_the_text(engine, text):
    from icvac.crosswalk_formats import _sql_text

    db = ENGINES[engine]("SELECT 1")
    assert db.execute(f"SELECT {_sql_text(text)}").fetchone()[0] == text


def _bundled_crosswalks():
    taxonomy = load_taxonomy(TAXONOMY)
    mappings = [load_mapping(path, taxonomy) for path in sorted(MAPPINGS.glob("*.yaml"))]
    for mapping in mappings:
        for direction in DIRECTIONS:
            yield f"{mapping.id} {direction}", crosswalk(mapping, taxonomy, direction)
    for left, right in zip(mappings, mappings[1:]):
        yield f"{left.id} to {right.id}", compose(left, right, taxonomy)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sql_of_every_bundled_mapping_loads(engine):
    """Every bundled mapping, each direction, and the two composed: loaded by the real engine, row for row."""
    names = []
    for name, cw in _bundled_crosswalks():
        db = ENGINES[engine](render(cw, "sql"))
        rows = db.execute(f"SELECT subject_code, subject_label, relation, object_code, object_label "
                          f"FROM {SQL_TABLE}").fetchall()
        assert _pairs(rows) == _pairs(cw.links), name
        names.append(name)
    assert len(names) >= 2 * len(list(MAPPINGS.glob("*.yaml")))


def _read_sssom(text: str):
    header = "".join(line[1:] + "\n" for line in text.splitlines() if line.startswith("#"))
    body = [line for line in text.splitlines() if not line.startswith("#")]
    return yaml.safe_load(header), list(csv.DictReader(io.StringIO("\n".join(body)), delimiter="\t"))


def test_sssom_header_and_rows(tax, alpha):
    meta, rows = _read_sssom(render(crosswalk(alpha, tax), "sssom"))
    assert meta["mapping_date"] == alpha.date  # the mapping's date, not today's: reproducible
    assert {"skos", "sssom", "semapv", "XW", "ALPHA"} <= set(meta["curie_map"])
    assert meta["license"].startswith("https://") and meta["mapping_set_id"].startswith("https://")
    assert list(rows[0]) == ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                             "mapping_justification", "comment", "author_label"]
    assert rows[1]["predicate_id"] == "skos:broadMatch" and rows[1]["object_id"] == "XW:02012"
    assert rows[-1]["object_id"] == "sssom:NoTermFound" and rows[-1]["subject_label"] == "=Other offence"
    for row in rows:
        prefix = row["subject_id"].split(":")[0]
        assert prefix in meta["curie_map"] and row["predicate_id"].startswith("skos:")


def test_sssom_from_icvac_swaps_broad_and_narrow(tax, alpha):
    _, rows = _read_sssom(render(crosswalk(alpha, tax, "from-icvac"), "sssom"))
    row = next(r for r in rows if r["subject_id"] == "XW:02012")
    assert row["predicate_id"] == "skos:narrowMatch" and row["object_id"] == "ALPHA:A2"


# ---------------------------------------------------------------- acceptance on the shipped GBVIMS mapping

def test_gbvims_from_icvac_lists_every_category():
    taxonomy = load_taxonomy(TAXONOMY)
    gbvims = load_mapping(MAPPINGS / "gbvims.yaml", taxonomy)
    cw = crosswalk(gbvims, taxonomy, "from-icvac")
    order = list(dict.fromkeys(link.subject_code for link in cw.links))
    assert order == [c.code for c in taxonomy.walk()]
    targets = {code for e in gbvims.entries if not e.review for code in e.targets}
    reached = {c.code for t in targets for c in taxonomy.ancestors(t)}
    for link in cw.links:
        assert link.matched == (link.subject_code in reached), link
        if not link.matched:
            assert link.object_label is None and link.object_code is None
    # a GBVIMS type whose ICVAC target is narrower reads the other way as broader
    assault = next(e for e in gbvims.entries if e.source_label == "Sexual Assault")
    direct = [link for link in cw.links if link.subject_code == assault.targets[0] and not link.via]
    assert [link.relation for link in direct] == [inverse(assault.relation)]
    db = _load_sqlite(render(cw, "sql"))
    assert [r[0] for r in db.execute(f"SELECT DISTINCT subject_code FROM {SQL_TABLE}")] == order


# ---------------------------------------------------------------- coverage

def test_coverage_of_alpha(tax, alpha):
    report = coverage(alpha, tax)
    assert [code for code, _ in report.unreached] == ["0109", "09"]
    assert len(report.reached) + len(report.unreached) == report.icvac_total == 12
    assert [(u.national_code, u.reason) for u in report.unlinked] == [("A9", "no-match"),
                                                                     ("A8", "awaiting review")]
    shapes = {(c.national_code or c.national_label, c.icvac_code): c.cardinality for c in report.links}
    assert shapes[("A1", "0101")] == "1:1"
    assert shapes[("A4", "0302")] == "1:n"
    assert shapes[("A4", "0301")] == "n:m"  # A4 has two targets, and the conditional target shares 0301
    assert report.cardinality_counts() == {"1:1": 5, "1:n": 2, "n:1": 0, "n:m": 2}


def test_coverage_counts_unknown_values_in_data(tax, alpha):
    report = coverage(alpha, tax, HERE / "alpha_data.csv")
    assert report.rows_read == 9
    assert [(u.code, u.label, u.count) for u in report.unknown] == [("Z9", "Unknown thing", 2), ("Q1", None, 1)]
    assert report.unknown[0].code_column == "offence_code" and report.unknown[0].label_column == "offence"
    text = json.dumps(report.to_dict())
    assert "private text" not in text  # other columns are never shown


def _entries(draw_targets, draw_relations, reviews):
    out = []
    for i, (targets, relation, review) in enumerate(zip(draw_targets, draw_relations, reviews)):
        targets = () if relation == "no-match" else tuple(dict.fromkeys(targets)) or ("01",)
        out.append(MappingEntry(f"N{i}", f"national {i}", targets, relation, "because", "someone", "2024-01-01",
                                review=review, index=i))
    return tuple(out)


def _mapping(entries) -> Mapping:
    return Mapping(id="gen", title="generated", source_system="generated", country=None, version="1",
                   taxonomy_version="1.0", author="tests", date="2024-01-01", source_reference="tests",
                   status="draft", columns=None, entries=entries, values={}, path="gen.yaml", sha256="0")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_coverage_adds_up(tax, data):
    codes = list(tax.categories)
    n = data.draw(st.integers(0, 8))
    entries = _entries(data.draw(st.lists(st.lists(st.sampled_from(codes), max_size=3), min_size=n, max_size=n)),
                       data.draw(st.lists(st.sampled_from(RELATIONS), min_size=n, max_size=n)),
                       data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    mapping = _mapping(entries)
    report = coverage(mapping, tax)
    unreached = [code for code, _ in report.unreached]
    assert len(report.reached) + len(unreached) == report.icvac_total
    assert set(report.reached) | set(unreached) == set(codes) and not set(report.reached) & set(unreached)
    assert report.linked + len(report.unlinked) == report.entries_total == n
    assert sum(report.cardinality_counts().values()) == len(report.links)
    assert {c.icvac_code for c in report.links} <= set(report.reached)
    for c in report.links:
        many_targets = sum(1 for x in report.links if (x.national_code, x.national_label) ==
                           (c.national_code, c.national_label)) > 1
        many_nationals = sum(1 for x in report.links if x.icvac_code == c.icvac_code) > 1
        assert c.cardinality == {(False, False): "1:1", (False, True): "1:n", (True, False): "n:1",
                                 (True, True): "n:m"}[many_nationals, many_targets]
    back = crosswalk(mapping, tax, "from-icvac")
    assert {link.subject_code for link in back.links if link.matched} == set(report.reached)
    assert list(dict.fromkeys(link.subject_code for link in back.links)) == codes


# ---------------------------------------------------------------- CLI

def _xw(*args):
    return ("--taxonomy", XW_TAXONOMY, *args)


def test_cli_matches_golden_and_library(icvac, golden):
    result = icvac("crosswalk", "--mapping", HERE / "alpha.yaml", "--format", "csv", *_xw())
    assert result.exit_code == 0, result.stderr
    golden("crosswalk/alpha-to-icvac.csv", result.stdout)
    assert "1 mapping entry awaiting review left out" in result.stderr


def test_cli_compose_json(icvac):
    result, doc = icvac.json("crosswalk", "-m", HERE / "alpha.yaml", "-m", HERE / "beta.yaml", "-f", "json", *_xw())
    assert result.exit_code == 0
    assert doc["crosswalk"]["direction"] == "compose"
    assert [m["id"] for m in doc["crosswalk"]["mappings"]] == ["alpha", "beta"]
    assert [Link(**{**d, "via": tuple(d["via"]), "authors": tuple(d["authors"])}).relation
            for d in doc["links"]][:2] == ["exact", "close"]


def test_cli_format_from_extension_and_atomic_file(icvac, tmp_path):
    out = tmp_path / "cw.sql"
    result = icvac("crosswalk", "-m", HERE / "alpha.yaml", "-d", "from-icvac", "-o", out, *_xw())
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("-- icvac crosswalk xw to alpha (from-icvac)")
    assert [p.name for p in tmp_path.iterdir()] == ["cw.sql"]


@pytest.mark.parametrize("args", [
    (),                                                            # no mapping
    ("-m", HERE / "alpha.yaml", "-m", HERE / "beta.yaml", "-m", HERE / "beta.yaml"),
    ("-m", HERE / "alpha.yaml", "-m", HERE / "beta.yaml", "-d", "to-icvac"),
    ("-m", HERE / "alpha.yaml", "-o", HERE / "alpha.yaml"),      # over its input
    ("-m", HERE / "alpha.yaml", "-f", "xlsx"),                    # xlsx to stdout
    ("-m", HERE / "alpha.yaml", "-f", "yaml"),
])
def test_cli_usage_errors(icvac, args):
    result = icvac("crosswalk", *args, *_xw())
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_mapping_is_unreadable_config(icvac):
    result = icvac("crosswalk", "-m", "no-such-mapping", *_xw())
    assert result.exit_code == 3 and "bundled" in result.stderr


def test_cli_coverage_table_and_json(icvac):
    args = ("crosswalk", "coverage", "-m", HERE / "alpha.yaml", "--data", HERE / "alpha_data.csv", *_xw())
    result = icvac(*args)
    assert result.exit_code == 0, result.stderr
    assert "ICVAC categories reached: 10 of 12" in result.stdout
    assert "not reached: 09  Other violence" in result.stdout
    assert "no target (awaiting review): A8 'Kidnapping'" in result.stdout
    assert "private text" not in result.stdout + result.stderr
    result, doc = icvac.json(*args, "--format", "json")
    assert doc["data"]["unknown_records"] == 3 and doc["links"]["cardinality"]["n:m"] == 2


def test_cli_coverage_column_override(icvac):
    result, doc = icvac.json("crosswalk", "coverage", "-m", MAPPINGS / "gbvims.yaml", "--data",
                             HERE / "labels_only.csv", "--column", "national_label=categorie", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [(u["label"], u["count"]) for u in doc["data"]["unknown"]] == [("Sexual asault", 1)]
    missing = icvac("crosswalk", "coverage", "-m", MAPPINGS / "gbvims.yaml", "--data", HERE / "labels_only.csv")
    assert missing.exit_code == 2 and "gbv_type" in missing.stderr


def test_coverage_knows_what_recode_codes_without_fuzzy_matching(tmp_path):
    """Taxonomy titles and synonyms code a value by its normalised label: known. A typo is not."""
    tax = load_taxonomy(TAXONOMY)
    data = tmp_path / "export.csv"
    data.write_text("incident_id,gbv_type,notes\n1,physical abuse,secret\n2,Neglect,secret\n3,Rape,secret\n"
                    "4,Rpae,secret\n5,Rpae,secret\n6,Violent killing of a child,secret\n7,zzzz,secret\n",
                    encoding="utf-8")
    report = coverage(load_mapping("gbvims", tax), tax, data)
    assert report.rows_read == 7
    assert [(u.label, u.count) for u in report.unknown] == [("Rpae", 2), ("zzzz", 1)]
    assert "secret" not in json.dumps(report.to_dict())


def test_coverage_counts_a_no_match_entry_as_known(tax, alpha, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("offence_code,offence\nA9,\n,=other offence\n", encoding="utf-8")
    no_match = [e for e in alpha.entries if e.relation == "no-match"]
    assert no_match and no_match[0].source_code == "A9"
    assert coverage(alpha, tax, data).unknown == ()


def test_cli_coverage_of_a_header_only_file_warns(icvac, tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("case,offence_code,offence\n", encoding="utf-8")
    result, doc = icvac.json("crosswalk", "coverage", "-m", HERE / "alpha.yaml", "--data", data, "-f", "json", *_xw())
    assert result.exit_code == 0
    assert f"{data}: no data rows (only a header)" in result.stderr
    assert doc["data"]["rows"] == 0 and doc["data"]["unknown"] == []
