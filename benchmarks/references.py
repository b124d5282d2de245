"""The references ``benchmarks/bench.py`` times against icvac, each run as a process of its own
(``bench.py --child NAME ...``): the same work done by DuckDB and by Polars.

recode: every reference applies the coding icvac gave each distinct value (``spec``: {"lookups": [{"file":
csv, "keys": [export columns], "columns": [added columns]}], "order": [added columns in icvac's order]};
each lookup file has a ``_key`` column, the key columns' values joined by ``KEY_SEP``) and writes the rows
out in input order, with the added columns:

- ``duckdb``: MAPs in the projection, so DuckDB keeps the input order without sorting;
- ``duckdb-join``: hash joins on the look-up tables, the order kept by a row number and ORDER BY;
- ``polars``: ``replace_strict`` per added column, scanned and written by Polars' streaming engine.

validate: ``duckdb`` only, the checks of ``icvac validate`` as one SQL aggregate.
"""
from __future__ import annotations

import csv
import json
import os

KEY_SEP = "\x1f"  # between the values of a multi-column key: a character no export cell holds
REFERENCES = ("duckdb", "duckdb-join", "polars")


def _duckdb(threads: int):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    return con


def _key_sql(table: str, keys: list[str]) -> str:
    """A row's look-up key in SQL: its key cells, blank for NULL (icvac reads an empty cell as "")."""
    return f" || {_quote(KEY_SEP)} || ".join(f"coalesce({table}.{_ident(k)}, '')" for k in keys)


def _read(path: str) -> str:
    return f"read_csv({_quote(path)}, all_varchar = true, header = true, delim = ',', quote = '\"')"


def duckdb_recode(src: str, spec_json: str, out: str, threads: int) -> None:
    """The look-ups as MAPs in the projection: DuckDB's hash join does not keep the input order and
    icvac's output must; maps keep it without a sort."""
    spec, con = json.loads(spec_json), _duckdb(threads)
    expr = {}
    for lookup in spec["lookups"]:
        for c in lookup["columns"]:
            con.execute(f"SET VARIABLE {_ident(c)} = (SELECT map(list(coalesce(_key, '')), list({_ident(c)})) "
                        f"FROM {_read(lookup['file'])})")
            expr[c] = f"getvariable({_quote(c)})[{_key_sql('t', lookup['keys'])}] AS {_ident(c)}"
    added = ", ".join(expr[c] for c in spec["order"])
    con.execute(f"COPY (SELECT t.*, {added} FROM {_read(src)} t) TO {_quote(out)} (HEADER, DELIMITER ',')")


def duckdb_join_recode(src: str, spec_json: str, out: str, threads: int) -> None:
    """The look-ups as LEFT JOINs, as SQL is usually written; a row number and ORDER BY keep the order."""
    spec, con = json.loads(spec_json), _duckdb(threads)
    joins, expr = [], {}
    for n, lookup in enumerate(spec["lookups"]):
        con.execute(f"CREATE TABLE l{n} AS SELECT * FROM {_read(lookup['file'])}")
        joins.append(f"LEFT JOIN l{n} ON {_key_sql('t', lookup['keys'])} = coalesce(l{n}._key, '')")
        expr.update({c: f"l{n}.{_ident(c)}" for c in lookup["columns"]})
    added = ", ".join(expr[c] for c in spec["order"])
    con.execute(f"""COPY (SELECT t.* EXCLUDE (_row), {added}
                          FROM (SELECT row_number() OVER () AS _row, * FROM {_read(src)}) t {' '.join(joins)}
                          ORDER BY t._row)
                    TO {_quote(out)} (HEADER, DELIMITER ',')""")


def polars_recode(src: str, spec_json: str, out: str, threads: int) -> None:
    """Per added column a ``replace_strict`` of the row's key (a hash look-up), scanned and written by
    Polars' streaming engine, which keeps the input order."""
    os.environ["POLARS_MAX_THREADS"] = str(int(threads))  # read when Polars is imported
    import polars as pl

    spec = json.loads(spec_json)
    expr = {}
    for lookup in spec["lookups"]:
        with open(lookup["file"], encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        key = pl.concat_str([pl.col(k).fill_null("") for k in lookup["keys"]], separator=KEY_SEP)
        for c in lookup["columns"]:
            table = {row["_key"]: row[c] for row in rows}
            expr[c] = key.replace_strict(table, default=None, return_dtype=pl.String).alias(c)
    frame = pl.scan_csv(src, infer_schema=False)
    frame.with_columns([expr[c] for c in spec["order"]]).sink_csv(out)


def duckdb_validate(src: str, spec_json: str, threads: int) -> None:
    """The checks of ``icvac validate`` as one SQL aggregate; prints the count of each check as JSON."""
    spec, con = json.loads(spec_json), _duckdb(threads)
    row = con.execute(validate_sql(src, spec)).fetchone()
    names = [d[0] for d in con.description]
    print(json.dumps(dict(zip(names, row))))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _in_list(values) -> str:
    return ", ".join(map(_quote, values)) or "NULL"


_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"


def _date(col: str) -> str:
    return (f"CASE WHEN regexp_full_match(trim({col}), '{_DATE_RE}') "
            f"THEN try_strptime(substr(trim({col}), 1, 10), '%Y-%m-%d')::DATE END")


def validate_sql(src: str, spec: dict) -> str:
    """``spec``: {"codes": [...], "columns": {role: column}, "variables": {role: [codes]}} -> one query."""
    # read_csv gives NULL for an empty cell; icvac sees "", so compare with "" throughout
    col = {role: f"coalesce({_ident(name)}, '')" for role, name in spec["columns"].items()}
    for role in ("victim_age", "victim_birth_date", "incident_date"):
        col.setdefault(role, "''")  # no such column: icvac does not run the checks that need it; 0 here
    variables = {role: codes for role, codes in spec["variables"].items() if role in col}
    var_select = "".join(f", {col[r]} AS v_{r}" for r in variables)
    var_counts = []
    for role, codes in variables.items():
        v, lower = f"v_{role}", _in_list([c.lower() for c in codes])
        var_counts += [f"count_if(trim({v}) = '') AS \"missing-value:{role}\"",
                       f"count_if(trim({v}) <> '' AND lower(trim({v})) NOT IN ({lower})) AS \"invalid-value:{role}\"",
                       f"count_if({v} NOT IN ({_in_list(codes)}) AND trim({v}) <> '' AND lower(trim({v})) IN ({lower}))"
                       f" AS \"noncanonical-value:{role}\""]
    return f"""
WITH r AS (
  SELECT trim({col['id']}) AS id, {col['icvac_code']} AS raw_code,
         -- one code per act, joined by | or ; (icvac.codes); 'unclassified' is not a code but is allowed
         list_filter(list_transform(string_split_regex({col['icvac_code']}, '[|;]'), lambda p: trim(p)),
                     lambda p: p <> '') AS pieces,
         len(list_filter(pieces, lambda p: lower(p) <> 'unclassified'
                                      AND NOT list_contains([{_in_list(spec['codes'])}], p))) AS unknown_codes,
         CASE WHEN lower(trim({col['victim_age']})) IN ('', 'unknown') THEN NULL
              ELSE trim({col['victim_age']}) END AS age_text,
         {_date(col['incident_date'])} AS incident, {_date(col['victim_birth_date'])} AS birth,
         trim({col['incident_date']}) <> '' AND incident IS NULL AS bad_incident,
         trim({col['victim_birth_date']}) <> '' AND birth IS NULL AS bad_birth{var_select}
  FROM {_read(src)}),
a AS (SELECT *, try_cast(age_text AS DOUBLE) AS age_num FROM r),
-- an age is a whole number of years from 0 to 130 (icvac.ages)
c AS (SELECT *, CASE WHEN regexp_full_match(age_text, '[0-9]{{1,3}}(\\.0*)?') AND age_num <= 130
                     THEN age_num::BIGINT END AS age,
             -- a date in the future is reported once and not compared with the other date
             CASE WHEN incident <= current_date THEN incident END AS ci,
             CASE WHEN birth <= current_date THEN birth END AS cb FROM a),
-- completed years as icvac counts them (DuckDB's date_sub treats 29 February differently)
b AS (SELECT *, CASE WHEN cb <= ci THEN year(ci) - year(cb)
                     - CASE WHEN month(ci) * 100 + day(ci) < month(cb) * 100 + day(cb) THEN 1 ELSE 0 END
                END AS years FROM c)
SELECT count(*) AS rows_read,
       count_if(id = '') AS "missing-id",
       count_if(id <> '') - count(DISTINCT nullif(id, '')) AS "duplicate-id",
       count_if(len(pieces) = 0) AS "missing-code",
       sum(unknown_codes) AS "unknown-code",
       count_if(len(pieces) > 0 AND unknown_codes = 0 AND regexp_matches(raw_code, '\\s'))
           AS "noncanonical-value:code",
       count_if(age_text IS NOT NULL AND age IS NULL) AS "age-not-a-number",
       count_if(age NOT BETWEEN 0 AND 17) + count_if(age_text IS NULL AND years > 17) AS "age-out-of-range",
       count_if(bad_incident) + count_if(bad_birth) AS "invalid-date",
       count_if(incident > current_date) + count_if(birth > current_date) AS "future-date",
       count_if(cb > ci) AS "birth-after-incident",
       count_if(age BETWEEN 0 AND 17 AND age <> years) AS "age-inconsistent"
       {''.join(', ' + c for c in var_counts)}
FROM b"""


RECODERS = {"duckdb": duckdb_recode, "duckdb-join": duckdb_join_recode, "polars": polars_recode}


def child(argv: list[str]) -> None:
    """``bench.py --child REFERENCE recode SRC SPEC OUT THREADS`` or ``--child duckdb validate SRC SPEC THREADS``."""
    reference, task, *args = argv
    if task == "recode":
        RECODERS[reference](args[0], args[1], args[2], int(args[3]))
    else:
        duckdb_validate(args[0], args[1], int(args[2]))
