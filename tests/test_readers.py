from __future__ import annotations

import io
import sys
from datetime import date, datetime

import pytest

from icvac.errors import InputError, UsageError
from icvac.readers import ReadOptions, csv_rows_from, open_table


def read(path, **options):
    with open_table(path, ReadOptions(**options)) as table:
        return table.header, list(table.rows()), table


def put(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data, encoding", [
    ("id,label\n1,Abus sexuel é\n".encode("utf-8"), "utf-8"),
    ("id,label\n1,Abus sexuel é\n".encode("utf-8-sig"), "utf-8-sig"),
    ("id,label\n1,Abus sexuel é\n".encode("cp1252"), "cp1252"),
    (b"id,label\n1,Abus sexuel \xe9 \x81\n", "latin-1"),  # 0x81 is undefined in cp1252
])
def test_encoding_is_detected(tmp_path, data, encoding):
    header, rows, table = read(put(tmp_path, "a.csv", data))
    assert header == ["id", "label"] and table.encoding == encoding
    assert rows[0][1][1].startswith("Abus sexuel é")


def test_bom_is_dropped_even_with_an_explicit_utf8_encoding(tmp_path):
    header, _, _ = read(put(tmp_path, "b.csv", "id,label\n1,x\n".encode("utf-8-sig")), encoding="utf-8")
    assert header == ["id", "label"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    text = delimiter.join(["id", "code", "label"]) + "\n" + delimiter.join(["1", "101", "a, b; c"]) + "\n"
    header, rows, table = read(put(tmp_path, "d.csv", text.encode()))
    assert table.delimiter == delimiter and header == ["id", "code", "label"]
    assert rows == [(2, ["1", "101", "a, b; c"])] or delimiter in ", ;"


@pytest.mark.parametrize("spelling", ["\t", "\\t", "tab", "TAB"])
def test_explicit_tab_delimiter(tmp_path, spelling):
    header, rows, _ = read(put(tmp_path, "t.txt", b"a,b\tc\n1,2\t3\n"), delimiter=spelling)
    assert header == ["a,b", "c"] and rows == [(2, ["1,2", "3"])]


def test_bad_delimiter_and_encoding_are_input_errors(tmp_path):
    path = put(tmp_path, "x.csv", b"a,b\n1,2\n")
    with pytest.raises(InputError, match="one character"):
        read(path, delimiter=";;")
    with pytest.raises(InputError, match="unknown encoding"):
        read(path, encoding="klingon")


def test_row_numbers_follow_records_and_header_row(tmp_path):
    data = b"exported 2024\nid,text\n1,\"two\nlines\"\n\n3,x\n"
    header, rows, _ = read(put(tmp_path, "r.csv", data), header_row=2)
    assert header == ["id", "text"]
    assert rows == [(3, ["1", "two\nlines"]), (4, []), (5, ["3", "x"])]


def test_rows_from_an_offset_go_on_as_the_whole_file_does(tmp_path):
    head = "id;text\n1;é\n".encode("utf-8-sig")
    path = put(tmp_path, "on.csv", head + '2;"b\nc"\n3;"bad"x\n'.encode("utf-8"))
    with pytest.raises(InputError) as whole:
        read(path)
    rows = csv_rows_from(str(path), len(head), 2, "utf-8-sig", ";")
    assert next(rows) == (3, ["2", "b\nc"])
    with pytest.raises(InputError) as on:
        next(rows)
    assert str(on.value) == str(whole.value) and "row 4" in str(on.value)


def test_decoding_error_names_the_row(tmp_path):
    data = b"id,label\n" + b"1,ok\n" * 10 + b"2,caf\xe9\n"
    path = put(tmp_path, "late.csv", data)
    with pytest.raises(InputError, match="late.csv: line 12: not valid utf-8 text; pass --encoding"):
        read(path, encoding="utf-8")


@pytest.mark.parametrize("name, data, message", [
    ("e.csv", b"", "empty"),
    ("h.csv", b",,\n1,2,3\n", "header row is blank"),
    ("dup.csv", b"id,id\n1,2\n", "both named 'id'"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old .xls"),
    ("zip.csv", b"PK\x03\x04rest", "is an Excel workbook"),
    ("text.xlsx", b"id,code\n", "not an Excel"),
    ("bin.csv", b"id\x00\x01\x02", "binary"),
    ("broken.xlsx", b"PK\x03\x04not really a zip", "not a readable .xlsx"),
    ("bad.jsonl", b'{"id": 1}\n[1, 2]\n', "line 2"),
    ("quote.csv", b'id,text\n1,"never closed\n', "row 2"),
])
def test_unreadable_inputs(tmp_path, name, data, message):
    with pytest.raises(InputError, match=message):
        read(put(tmp_path, name, data))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_table(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="directory"):
        open_table(tmp_path)


def test_unknown_format_and_non_csv_stdin_are_usage_errors(tmp_path):
    with pytest.raises(UsageError):
        open_table(put(tmp_path, "a.csv", b"a\n1\n"), ReadOptions(format="xls"))
    with pytest.raises(UsageError):
        open_table("-", ReadOptions(format="xlsx"))


def test_stdin(monkeypatch):
    data = "id;code\n1;101\n".encode("cp1252")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    header, rows, table = read("-")
    assert (table.name, header, rows) == ("<stdin>", ["id", "code"], [(2, ["1", "101"])])


def test_empty_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match="empty"):
        open_table("-")


def test_jsonl(tmp_path):
    data = (b'{"id": "A", "age": 7, "ok": true, "when": null}\n\n'
            b'{"age": 7.0, "id": "B", "extra": "x"}\n{"id": "C", "late": [1], "extra": "y"}\n')
    header, rows, table = read(put(tmp_path, "d.jsonl", data))
    # keys the first record lacks are columns after its own, in the order they first appear
    assert table.format == "jsonl" and header == ["id", "age", "ok", "when", "extra", "late"]
    assert rows == [(1, ["A", "7", "true", "", "", ""]), (3, ["B", "7", "", "", "x", ""]),
                    (4, ["C", "", "", "", "y", "[1]"])]


def test_jsonl_distinct_keys_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("ICVAC_CSV_CELLS", "3")
    path = put(tmp_path, "k.jsonl", b'{"a": 1, "b": 2}\n{"c": 3}\n{"d": 4}\n')
    with pytest.raises(InputError, match="more than 3 distinct keys; set ICVAC_CSV_CELLS"):
        read(path)


def _workbook(tmp_path, rows, name="w.xlsx", write_only=True, title="Sheet"):
    from openpyxl import Workbook

    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet(title) if write_only else wb.active
    for row in rows:
        ws.append(row)
    wb.save(tmp_path / name)
    return tmp_path / name


def test_xlsx_cells_are_text_and_short_rows_are_padded(tmp_path):
    path = _workbook(tmp_path, [["id", "age", "born", "when", "", None],
                                [1, 7.0, date(2016, 1, 10), datetime(2023, 5, 1, 14, 30)],
                                ["B"],
                                [],
                                ["C", 7.5, None, None, None, None],
                                [], [None, None], []])
    header, rows, table = read(path)
    assert table.format == "xlsx" and header == ["id", "age", "born", "when"]
    assert rows == [(2, ["1", "7", "2016-01-10", "2023-05-01 14:30:00"]), (3, ["B", "", "", ""]),
                    (4, ["", "", "", ""]), (5, ["C", "7.5", "", ""])]


def test_xlsx_sheet_and_header_row(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "cover"
    wb.active.append(["not", "data"])
    ws = wb.create_sheet("data")
    ws.append(["Ministry export"])
    ws.append(["id", "code"])
    ws.append(["A", "101"])
    wb.save(tmp_path / "s.xlsx")
    for sheet in ("data", "2"):
        header, rows, _ = read(tmp_path / "s.xlsx", sheet=sheet, header_row=2)
        assert header == ["id", "code"] and rows == [(3, ["A", "101"])]
    with pytest.raises(InputError, match="no sheet 'nope'.*'cover', 'data'"):
        read(tmp_path / "s.xlsx", sheet="nope")
    with pytest.raises(InputError, match="no row 9"):
        read(tmp_path / "s.xlsx", sheet="data", header_row=9)


# ---- limits of an .xlsx, checked as it is unpacked (icvac.xlsx_limits)

def _zip(tmp_path, members: dict[str, bytes]):
    import zipfile

    path = tmp_path / "parts.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _read_in(part, size: int) -> bytes:
    return b"".join(iter(lambda: part.read(size), b""))


@pytest.mark.parametrize("size", [1, 7, 999, 1000, 1001, 1 << 16])
def test_a_run_of_text_is_measured_across_reads(tmp_path, size):
    from icvac.xlsx_limits import GuardedZip, XlsxLimitError, XlsxLimits

    MB = 1000  # noqa: N806 - a small cell limit, so that reads of one byte stay quick
    limits = XlsxLimits(part=10 * MB, sheet=10 * MB, cell=MB)
    # the bytes after a "<" up to the next one: MB of them pass, MB + 1 do not
    fits = b"<a>" + b"x" * (MB - 2) + b"</a>" + b"y" * (MB - 3) + b"<b/>"
    over = b"<a>" + b"x" * (MB // 2) + b"</a>" + b" " * (MB - 2) + b"<b/>"
    path = _zip(tmp_path, {"xl/worksheets/sheet1.xml": fits, "xl/sharedStrings.xml": over})
    with GuardedZip(path, "w.xlsx", limits) as archive:
        with archive.open("xl/worksheets/sheet1.xml") as part:
            assert _read_in(part, size) == fits
        with archive.open("xl/sharedStrings.xml") as part, pytest.raises(XlsxLimitError, match="ICVAC_XLSX_CELL_MB"):
            _read_in(part, size) if size < (1 << 16) else part.read()


@pytest.mark.parametrize("text", [b"<a><!-- x --></a>", b"<a><![CDATA[<<<]]></a>", b'<?xml version="1.0"?><a/><?pi x?>',
                                  b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'])
def test_declarations_are_refused_even_split_between_two_reads(tmp_path, text):
    from icvac.xlsx_limits import GuardedZip, XlsxLimitError, XlsxLimits

    path = _zip(tmp_path, {"xl/workbook.xml": text})
    for size in (1, 2, 3, 1 << 16):
        with GuardedZip(path, "w.xlsx", XlsxLimits()) as archive, archive.open("xl/workbook.xml") as part:
            with pytest.raises(XlsxLimitError, match="Excel never writes"):
                _read_in(part, size)


def test_the_xml_declaration_and_a_byte_order_mark_are_allowed(tmp_path):
    from icvac.xlsx_limits import GuardedZip, XlsxLimits

    text = b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<a b="1 > 0">x</a>'
    path = _zip(tmp_path, {"xl/workbook.xml": text})
    with GuardedZip(path, "w.xlsx", XlsxLimits()) as archive:
        assert archive.read("xl/workbook.xml") == text


def test_parts_are_refused_by_the_size_the_directory_states(tmp_path):
    from icvac.xlsx_limits import MB, GuardedZip, XlsxLimitError, XlsxLimits

    path = _zip(tmp_path, {"xl/styles.xml": b"<a/>" * (MB // 2), "xl/worksheets/sheet1.xml": b"<a/>" * MB})
    with pytest.raises(XlsxLimitError, match=r"xl/styles.xml unpacks to 2.0 MB, above the 1 MB limit for one "
                                             r"part of a workbook; set ICVAC_XLSX_PART_MB"):
        GuardedZip(path, "w.xlsx", XlsxLimits(part=MB))
    with pytest.raises(XlsxLimitError, match="sheet1.xml unpacks to 4.0 MB, above the 3 MB limit for a worksheet"):
        GuardedZip(path, "w.xlsx", XlsxLimits(sheet=3 * MB))
    GuardedZip(path, "w.xlsx", XlsxLimits(part=2 * MB, sheet=4 * MB)).close()


def test_xlsx_limits_from_the_environment():
    from icvac.xlsx_limits import MB, XlsxLimits

    assert XlsxLimits.from_env({}) == XlsxLimits()
    assert XlsxLimits.from_env({"ICVAC_XLSX_PART_MB": "7", "ICVAC_XLSX_CELL_MB": " 2 "}) == \
        XlsxLimits(part=7 * MB, cell=2 * MB)
    for bad in ("0", "-1", "1.5", "lots", "1" * 5000, "\u0663"):
        with pytest.raises(UsageError, match="ICVAC_XLSX_SHEET_MB"):
            XlsxLimits.from_env({"ICVAC_XLSX_SHEET_MB": bad})


def test_sheet_numbers_and_header_rows_are_bounded(tmp_path):
    _workbook(tmp_path, [["id"], ["1"]])
    path = tmp_path / "w.xlsx"
    assert read(path, sheet="01")[0] == ["id"]
    for sheet in ("0", "2", "9" * 5000, "x" * 10_000):
        with pytest.raises(InputError, match="no sheet") as caught:
            read(path, sheet=sheet)
        assert len(str(caught.value)) < 300
    with pytest.raises(InputError, match="1,048,576 rows at most"):
        read(path, header_row=1 << 62)


def test_binary_parts_are_counted_not_scanned(tmp_path):
    from icvac.xlsx_limits import GuardedZip, XlsxLimitError, XlsxLimits

    image = b"\x89PNG<!" + bytes(5000)
    path = _zip(tmp_path, {"xl/media/image1.png": image, "xl/drawings/drawing1.xml": b"<a>" + bytes(5000) + b"</a>"})
    with GuardedZip(path, "w.xlsx", XlsxLimits(cell=1000)) as archive:
        assert archive.read("xl/media/image1.png") == image
        with pytest.raises(XlsxLimitError, match="run of text"):
            archive.read("xl/drawings/drawing1.xml")


def test_parquet_reads_as_its_csv_export(tmp_path, icvac):
    """Parquet input: every column as text, as the CSV export of the same table would give it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from tests.conftest import EXAMPLES

    typed = pa.table({"id": ["A", None], "age": [7, None], "score": [7.0, 0.5], "ok": [True, False],
                      "when": [date(2024, 1, 2), None], "at": [datetime(2024, 1, 2, 3, 4), datetime(2024, 1, 2)]})
    pq.write_table(typed, tmp_path / "t.parquet")
    header, rows, table = read(tmp_path / "t.parquet")
    assert table.format == "parquet" and header == ["id", "age", "score", "ok", "when", "at"]
    assert rows == [(2, ["A", "7", "7", "true", "2024-01-02", "2024-01-02 03:04:00"]),
                    (3, ["", "", "0.5", "false", "", "2024-01-02"])]
    # a national export as Parquet recodes to the same bytes as the CSV it was made from
    source = EXAMPLES / "national_export.csv"
    names = source.read_text(encoding="utf-8").splitlines()[0].split(",")
    text = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    pq.write_table(text, tmp_path / "export.pq")
    outputs = []
    for data in (source, tmp_path / "export.pq"):
        result = icvac("recode", data, "--mapping", "gbvims", "--no-fuzzy", "--summary", "json")
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == text.num_rows + 1
    with pytest.raises(InputError, match="is not a Parquet file"):
        read(put(tmp_path, "text.parquet", b"id\n1\n"))
