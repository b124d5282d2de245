"""benchmarks/report_bench.py runs end to end on a small export (the 1M-row figures are in the README)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("vl_convert", reason="charts need the report extra (vl-convert-python)")
BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_report_bench_runs_and_compares_with_tabulate(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import report_bench

    out = tmp_path / "result.json"
    code = report_bench.main(["--rows", "2000", "--repeat", "1", "--workdir", str(tmp_path), "--json", str(out)])
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    assert result["rows"] == 2000 and result["report"]["runs_s"] and result["tabulate"]["runs_s"]
    assert code == (0 if result["met"] else 1)
    assert result["difference_s"] == pytest.approx(result["report"]["median_s"] - result["tabulate"]["median_s"],
                                                   abs=0.002)
    assert "tabulate" in capsys.readouterr().out
    assert (tmp_path / "report-bench-summary.html").read_text(encoding="utf-8").count("<svg") >= 6
    sys.modules.pop("report_bench", None)
