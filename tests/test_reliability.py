"""Issue 18: `icvac agree` and `icvac evaluate`: joining codings on an id, multi-act cells, levels,
accuracy by match method, reports and their outputs."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from icvac import load_taxonomy
from icvac.joining import CodeLevels, Coding, join_codings
from icvac.reliability import agree, evaluate

from .conftest import EXAMPLES, FIXTURES

# behaviour tests code into a made-up classification of four levels (codes of 1, 3, 5 and 7 digits): they hold
# whatever the official ICVAC codes turn out to be; only the shipped example's tests use the bundled taxonomy
TOY = FIXTURES / "four_levels" / "taxonomy.yaml"


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(TOY)


@pytest.fixture
def toy(monkeypatch):
    """The commands use the fixture taxonomy."""
    monkeypatch.setenv("ICVAC_TAXONOMY", str(TOY))


def _csv(path: Path, header, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return path


def test_code_cells_roll_up_by_level_as_sets(taxonomy):
    levels = CodeLevels(taxonomy)
    assert levels.values("101") == ("1", "101", "101", "101")
    assert levels.values("10101") == ("1", "101", "10101", "10101")
    assert levels.values("1010101") == ("1", "101", "10101", "1010101")
    assert levels.values("201 ; 101") == levels.values("101|201") == ("1|2", "101|201", "101|201", "101|201")
    assert levels.values("101|102")[0] == "1"               # two acts, one category at level 1
    assert levels.values("") == (None, None, None, None)              # no coding
    assert levels.values("UNCLASSIFIED")[0] == "unclassified"
    assert levels.values("typed words")[0] == "invalid"         # never the value itself
    assert levels.act_count("101|201") == 2 and levels.act_count("") == 0


def test_files_in_another_order_join_on_the_id_and_extra_records_are_kept(tmp_path):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [["1", "3"], ["2", "2"], ["3", "1"], ["4", "4"], ["", "5"]])
    b = _csv(tmp_path / "b.csv", ["icvac_code", "id"], [["2", "2"], ["3", "1"], ["4", "4"], ["9", "9"], ["1", "3"]])
    stats, records = join_codings([Coding(a, "icvac_code"), Coding(b, "icvac_code")], "id")
    out = {rid: cells for rid, cells, _ in records}
    assert out == {"1": ("3", "3"), "2": ("2", "2"), "3": ("1", "1"), "4": ("4", "4"), "9": (None, "9")}
    assert stats.records == 5 and stats.in_every_file == 4
    assert stats.blank_ids == [1, 0] and stats.missing_from == [1, 0] and stats.rows == [5, 5]


def test_files_in_the_same_order_hold_nothing_back(tmp_path):
    rows = [[f"INC-{i}", "101" if i % 3 else "201"] for i in range(3000)]
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], rows)
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], rows)
    stats, records = join_codings([Coding(a, "icvac_code"), Coding(b, "icvac_code")], "id")
    assert sum(1 for _ in records) == 3000
    assert stats.max_waiting == 0


def test_agree_two_coders(tmp_path, taxonomy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"],
             [["1", "101"], ["2", "102"], ["3", "201"], ["4", "4"], ["5", "101|201"], ["6", ""], ["7", "5"]])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"],
             [["1", "101"], ["2", "101"], ["3", "201"], ["4", "5"], ["5", "101"], ["6", "4"], ["8", "3"]])
    seen = []
    report = agree([a, b], taxonomy, id_column="id", on_record=seen.append, max_listed=2)
    level1, level2 = report.levels[0], report.levels[1]
    # compared: 1-5 (6 has one coding, 7 and 8 are in one file each)
    assert level1.compared == 5 and level2.compared == 5
    # level 1: 1, 2, 3 agree; 4 (4/5) and 5 ({1,2}/{1}) do not
    assert level1.percent.value == pytest.approx(3 / 5)
    # level 2: 2 (102/101) differs too
    assert level2.percent.value == pytest.approx(2 / 5)
    assert level1.kappa_kind == "cohen" and level1.kappa.value is not None
    # per act at level 1: 1+1+1+0+1 shared acts over 1+1+1+2+2 acts in either
    assert level1.per_act == pytest.approx(4 / 7)
    assert report.multi_act == {"records": 1, "compared": 1, "exact_set_agreement": 0.0, "per_act_agreement": 0.5}
    assert report.counts == {"disagree": 3, "missing-coding": 1, "unmatched": 2}
    assert [(x.id, x.status, x.level) for x in seen] == [
        ("2", "disagree", 2), ("4", "disagree", 1), ("5", "disagree", 1), ("6", "missing-coding", None),
        ("7", "unmatched", None), ("8", "unmatched", None)]
    assert seen[-1].codes == ("(not in file)", "3") and len(report.listed) == 2
    assert report.matrices[0].kind == "A x B" and "1|2" in report.matrices[0].categories
    assert report.most_disagreement[0]["category"] in {"1", "4", "5", "1|2"}


def test_agree_three_coders_uses_fleiss_and_alpha_allows_missing(tmp_path, taxonomy):
    files = [_csv(tmp_path / f"{n}.csv", ["id", "icvac_code"], [["1", "3"], ["2", "2"], ["3", c3], ["4", c4]])
             for n, c3, c4 in (("a", "1", "4"), ("b", "1", "4"), ("c", "4", ""))]
    report = agree(files, taxonomy, id_column="id", replicates=50)
    level1 = report.levels[0]
    assert level1.kappa_kind == "fleiss" and level1.kappa.n == 3      # record 4 is not coded by C
    assert level1.alpha.n == 4 and level1.alpha.value is not None
    assert report.matrices[0].kind == "coincidence"


def test_agree_with_nothing_in_common_says_so(tmp_path, taxonomy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [["1", "3"]])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [["2", "3"]])
    report = agree([a, b], taxonomy, id_column="id")
    assert report.levels[0].compared == 0
    assert report.levels[0].kappa.value is None and "no record" in report.levels[0].kappa.note
    assert any("nothing could be compared" in w for w in report.warnings)


def _recoded_with_methods(tmp_path):
    coded = _csv(tmp_path / "coded.csv", ["incident_id", "icvac_code", "icvac_match"],
                 [["1", "101", "exact-label"], ["2", "102", "exact-label"], ["3", "201", "fuzzy"],
                  ["4", "101", "fuzzy"], ["5", "201", "fuzzy"], ["6", "unclassified", "unclassified"],
                  ["7", "101|201", "exact-label|fuzzy"], ["8", "4", "fuzzy"], ["9", "5", "exact-label"]])
    gold = _csv(tmp_path / "gold.csv", ["incident_id", "icvac_code"],
                [["1", "101"], ["2", "102"], ["3", "201"], ["4", "102"], ["5", "202"], ["6", "unclassified"],
                 ["7", "101|201"], ["8", "5"], ["9", ""]])
    return coded, gold


def test_evaluate_accuracy_by_level_and_method(tmp_path, taxonomy):
    coded, gold = _recoded_with_methods(tmp_path)
    report = evaluate(coded, gold, taxonomy, id_column="incident_id")
    level1, level2 = report.levels[0], report.levels[1]
    assert level1.compared == 8                                   # 9 has no gold coding
    assert level1.accuracy.value == pytest.approx(7 / 8)          # 8: 4 for 5
    assert level2.accuracy.value == pytest.approx(5 / 8)          # 4 and 5 wrong at level 2 too
    assert level1.accuracy_of_coded.value == pytest.approx(6 / 7) and level1.accuracy_of_coded.n == 7
    methods = {m.method: (m.records, [e.value for e in m.accuracy]) for m in report.by_method}
    assert methods["exact-label"] == (2, [1.0, 1.0, 1.0, 1.0])
    assert methods["fuzzy"] == (4, [0.75, 0.25, 0.25, 0.25])
    assert methods["exact-label+fuzzy"] == (1, [1.0, 1.0, 1.0, 1.0])
    assert methods["unclassified"] == (1, [1.0, 1.0, 1.0, 1.0])
    assert report.coverage == {"records": 9, "coded": 8, "unclassified": 1, "share": round(8 / 9, 6)}
    scores = {c.code: c for c in report.categories}
    assert (scores["4"].coded, scores["4"].correct, scores["4"].precision) == (1, 0, 0.0)
    assert (scores["5"].gold, scores["5"].recall, scores["5"].f1) == (1, 0.0, 0.0)
    assert scores["1"].precision == 1.0 and scores["1"].recall == 1.0
    assert report.counts == {"wrong": 3, "no-gold": 1, "unmatched": 0}
    assert report.matrix.kind == "gold x coded"


def test_evaluate_the_shipped_example(tmp_path, icvac):
    recoded = tmp_path / "recoded.csv"
    assert icvac("recode", EXAMPLES / "national_export.csv", "--mapping", "gbvims", "-o", recoded).exit_code == 0
    result = icvac("evaluate", recoded, "--gold", EXAMPLES / "national_export_gold.csv", "--id", "incident_id")
    assert result.exit_code == 0, result.output
    assert "accuracy by match method" in result.stdout
    for method in ("exact-label", "normalised-label", "fuzzy", "unclassified"):
        assert method in result.stdout
    _, data = icvac.json("evaluate", recoded, "--gold", EXAMPLES / "national_export_gold.csv", "--id",
                         "incident_id", "--format", "json")
    assert data["levels"][0]["compared"] == 300 and {m["method"] for m in data["by_method"]} >= {"fuzzy"}


def test_the_gold_example_is_what_its_script_writes(tmp_path):
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_national_export_gold as maker
    finally:
        sys.path.remove(str(EXAMPLES))
    out = tmp_path / "gold.csv"
    maker.main(path=out)
    assert out.read_bytes() == (EXAMPLES / "national_export_gold.csv").read_bytes()


# ---- the commands ----

def test_agree_command_outputs(tmp_path, icvac, toy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code", "narrative"],
             [["=1+1", "101", "secret"], ["2", "102", "x"], ["3", "201", "y"], ["4", "5", "z"]])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [["=1+1", "102"], ["2", "102"], ["3", "201"], ["4", "4"]])
    html, listed = tmp_path / "agree.html", tmp_path / "listed.csv"
    result = icvac("agree", a, b, "--id", "id", "--report", html, "--disagreements", listed)
    assert result.exit_code == 0, result.output
    assert "Cohen's kappa" in result.stdout and "records to review: 2" in result.stdout
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert "background:rgba(" in page
    rows = list(csv.reader(listed.open(encoding="utf-8")))
    assert rows[0] == ["id", "status", "level", "code_A", "code_B"]
    assert rows[1] == ["'=1+1", "disagree", "2", "101", "102"]      # formula-safe
    _, data = icvac.json("agree", a, b, "--id", "id", "--format", "json")
    assert data["levels"][0]["kappa"]["kind"] == "cohen" and data["records"]["disagree"] == 2


def test_agree_is_byte_identical_run_to_run(tmp_path, icvac, toy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [[str(i), ["3", "2", "1"][i % 3]] for i in range(60)])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [[str(i), ["3", "2", "2"][i % 3]] for i in range(60)])
    runs = [icvac("agree", a, b, a, "--id", "id", "--format", "json", "--report", tmp_path / f"{n}.html")
            for n in (1, 2)]
    assert runs[0].stdout == runs[1].stdout
    assert (tmp_path / "1.html").read_bytes() == (tmp_path / "2.html").read_bytes()


@pytest.mark.parametrize("args, code, words", [
    (["agree", "{a}", "--id", "id"], 2, "two files or more"),
    (["agree", "{a}", "{b}", "--id", "nope"], 2, "no id column 'nope'"),
    (["agree", "{a}", "{b}", "--id", "id", "--code-column", "code"], 2, "no code column 'code'"),
    (["agree", "{a}", "{tmp}/missing.csv", "--id", "id"], 3, "no such file"),
    (["agree", "{a}", "{b}", "--id", "id", "--level", "5"], 2, "levels 1 to 4"),
    (["agree", "{a}", "{b}", "--id", "id", "--report", "{a}"], 2, "also an input"),
    (["agree", "{a}", "{c}", "--id", "id"], 1, "no record could be compared"),
    (["evaluate", "{a}", "--gold", "{c}", "--id", "id"], 1, "no record could be compared"),
    (["evaluate", "{a}", "--gold", "{tmp}/missing.csv", "--id", "id"], 3, "no such file"),
])
def test_exit_codes(tmp_path, icvac, toy, args, code, words):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [["1", "3"]])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [["1", "2"]])
    c = _csv(tmp_path / "c.csv", ["id", "icvac_code"], [["2", "3"]])
    result = icvac(*[x.format(a=a, b=b, c=c, tmp=tmp_path) for x in args])
    assert result.exit_code == code, result.output
    assert words in result.stderr and "Traceback" not in result.stderr


def test_the_library_names_are_public():
    import icvac

    assert {"agree", "evaluate", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "percent_agreement",
            "AgreementReport", "EvaluationReport"} <= set(icvac.__all__)
    assert icvac.evaluate is evaluate and callable(icvac.agree)


def test_one_output_on_stdout(tmp_path, icvac, toy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [["1", "3"], ["2", "2"]])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [["1", "2"], ["2", "2"]])
    result = icvac("agree", a, b, "--id", "id", "--disagreements", "-")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["id,status,level,code_A,code_B", "1,disagree,1,3,2"]
    result = icvac("evaluate", a, "--gold", b, "--id", "id", "--report", "-", "-f", "json")
    assert result.exit_code == 2 and "both go to stdout" in result.stderr


def test_the_benchmark_script_runs(tmp_path, capsys):
    bench_dir = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench_dir))
    try:
        import bench_agree
    finally:
        sys.path.remove(str(bench_dir))
    assert bench_agree.main(["--rows", "2000", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "icvac agree" in out and "icvac evaluate" in out and "x recode" in out
    second = list(csv.reader((tmp_path / "agree-second-2000.csv").open(encoding="utf-8")))
    assert len(second) == 2001 and second[0] == ["incident_id", "icvac_code"]


def test_a_level_with_no_finer_codes_repeats_the_level_above(tmp_path, taxonomy):
    a = _csv(tmp_path / "a.csv", ["id", "icvac_code"], [[str(i), ["101", "102", "201"][i % 3]] for i in range(30)])
    b = _csv(tmp_path / "b.csv", ["id", "icvac_code"], [[str(i), ["101", "102", "102"][i % 5 % 3]]
                                                         for i in range(30)])
    report = agree([a, b], taxonomy, id_column="id", replicates=30)
    level2, level3 = report.levels[1], report.levels[2]
    assert (level3.level, level3.percent, level3.kappa, level3.alpha) == (3, level2.percent, level2.kappa, level2.alpha)
    assert report.levels[0].alpha != level2.alpha       # 101 and 102 are one category at level 1
    fresh = agree([a, b], taxonomy, id_column="id", replicates=0)
    assert fresh.levels[2].alpha.value == pytest.approx(fresh.levels[1].alpha.value)


def test_degenerate_codings_on_the_command_line(tmp_path, icvac, toy):
    one = _csv(tmp_path / "one.csv", ["id", "icvac_code"], [["1", "101"], ["2", "101"], ["3", "101"]])
    blank = _csv(tmp_path / "blank.csv", ["id", "icvac_code"], [["1", ""], ["2", ""], ["3", ""]])
    result = icvac("agree", one, one, "--id", "id")               # one category only
    assert result.exit_code == 0 and "100.0%" in result.stdout
    assert "n/a: Cohen's kappa: both coders used one and the same category" in result.stdout
    result = icvac("agree", blank, blank, "--id", "id")           # all missing
    assert result.exit_code == 1 and "no record could be compared" in result.stderr
    _, data = icvac.json("agree", blank, one, "--id", "id", "-f", "json")
    assert data["levels"][0]["kappa"]["value"] is None and data["records"]["missing-coding"] == 3
    assert "Traceback" not in result.stderr and "ZeroDivision" not in result.output
