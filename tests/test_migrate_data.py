"""``icvac migrate`` through Arrow: the cases that must leave it for the row-by-row path (issue 17)."""
from __future__ import annotations

import csv

import pytest

import icvac
from icvac import migrate_data
from icvac.correspondence import load_correspondence

from .test_versions import recoded, v2  # noqa: F401  (fixtures)


def test_a_cell_holding_the_key_separator_goes_row_by_row(v2, recoded, tmp_path, monkeypatch):  # noqa: F811
    """The ICVAC cells of a row are joined with U+001F into one key; a cell holding it would split the key
    wrongly, so Arrow's pass is refused and the file goes row by row, with the same bytes out."""
    with open(recoded, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    title = rows[0].index("icvac_title")
    rows[5][title] += "\x1f"
    data = tmp_path / "odd.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    passes = []
    run = migrate_data._migrate
    monkeypatch.setattr(migrate_data, "_migrate", lambda *a, arrow: (passes.append(arrow), run(*a, arrow=arrow))[1])
    _, path, changes = v2
    corr, new = load_correspondence(changes), icvac.load_taxonomy(path)
    summary = migrate_data.migrate_file(data, corr, new, tmp_path / "out.csv")
    assert passes == [True, False] and summary.rows_out == len(rows) - 1
    slow = run(data, corr, new, tmp_path / "slow.csv", "csv", icvac.ReadOptions(), None, arrow=False)
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert summary.acts == slow.acts


def test_a_write_that_fails_on_a_later_piece_fails_the_migration_and_leaves_nothing(v2, recoded, tmp_path,  # noqa: F811
                                                                                    monkeypatch):
    from icvac import arrowio

    real = arrowio.lines

    def failing(cells, separator):
        pieces = real(cells, separator)
        yield next(pieces)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(arrowio, "FORMAT_ROWS", 3)
    monkeypatch.setattr(arrowio, "lines", failing)
    _, path, changes = v2
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="No space"):
        migrate_data.migrate_file(recoded, load_correspondence(changes), icvac.load_taxonomy(path), out / "m.csv")
    assert list(out.iterdir()) == []
