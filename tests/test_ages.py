"""icvac.ages: the one reading of ages and dates that validate, tabulate and recode share."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icvac.ages import BAD, MAX_AGE, age_group, completed_years, parse_age, parse_date, record_age
from icvac.taxonomy import Variable, VariableValue, load_taxonomy


@pytest.mark.parametrize("text, age", [
    ("7", 7), (" 7 ", 7), ("7.0", 7), ("7.", 7), ("007", 7), ("0", 0), ("130", 130), ("18", 18),
    ("", None), ("  ", None), ("unknown", None), ("Unknown", None),
    ("7.5", BAD), ("12,5", BAD), ("7,0", BAD), ("-1", BAD), ("nan", BAD), ("1e1", BAD), ("inf", BAD),
    ("131", BAD), ("1000", BAD), ("+7", BAD), ("seven", BAD), ("٧", BAD),
])
def test_parse_age(text, age):
    assert parse_age(text) is age if age in (None, BAD) else parse_age(text) == age


@given(st.integers(0, MAX_AGE))
def test_every_whole_age_reads_back(n):
    assert parse_age(str(n)) == parse_age(f"{n}.0") == parse_age(f" {n} ") == n


@pytest.mark.parametrize("text, day", [
    ("2023-04-01", date(2023, 4, 1)), (" 2023-04-01 ", date(2023, 4, 1)), ("2023-04-01 14:30", date(2023, 4, 1)),
    ("2023-04-01T14:30:05.5", date(2023, 4, 1)), ("", None),
    ("2023-02-30", BAD), ("01/04/2023", BAD), ("20230401", BAD), ("2023-04-01x", BAD), ("unknown", BAD),
    ("0000-01-01", BAD),
])
def test_parse_date(text, day):
    assert parse_date(text) is day if day in (None, BAD) else parse_date(text) == day


@pytest.mark.parametrize("birth, at, years", [
    ("2010-06-01", "2020-06-01", 10), ("2010-06-02", "2020-06-01", 9), ("2012-02-29", "2013-02-28", 0),
    ("2012-02-29", "2013-03-01", 1), ("2021-01-01", "2020-06-01", -1),
])
def test_completed_years(birth, at, years):
    assert completed_years(date.fromisoformat(birth), date.fromisoformat(at)) == years


def test_age_groups_of_the_bundled_taxonomy():
    groups = load_taxonomy().variables["victim_age_group"]
    assert [age_group(groups, a) for a in (0, 4, 5, 9, 10, 14, 15, 17, 18)] == [
        "0-4", "0-4", "5-9", "5-9", "10-14", "10-14", "15-17", "15-17", None]


def test_a_missing_bound_is_open():
    groups = Variable("victim_age_group", {"en": "Age"}, "provisional", (
        VariableValue("young", {"en": "Young"}, max=4), VariableValue("older", {"en": "Older"}, min=5),
        VariableValue("unknown", {"en": "Unknown"})))
    assert [age_group(groups, a) for a in (0, 4, 5, 130)] == ["young", "young", "older", "older"]


@pytest.mark.parametrize("age, birth, at, expected", [
    ("7", "", "", 7), ("7", "2000-01-01", "2020-01-01", 7), ("", "2010-06-01", "2020-06-01", 10),
    ("unknown", "2010-06-01", "2020-06-01", 10), ("", "", "2020-06-01", None), ("", "", "", None),
    ("x", "2010-06-01", "2020-06-01", BAD), ("", "2010-06-01", "junk", BAD), ("", "junk", "", BAD),
    ("", "2021-01-01", "2020-06-01", BAD), ("", "1800-01-01", "2020-01-01", BAD),
])
def test_record_age_from_the_age_else_the_dates(age, birth, at, expected):
    got = record_age(age, birth, at)
    assert got is expected if expected in (None, BAD) else got == expected


def test_bad_is_one_sentinel():
    assert repr(BAD) == "BAD" and BAD is not None and not isinstance(BAD, int)


def test_variable_lookup_reads_codes_titles_and_synonyms():
    sex = load_taxonomy().variables["victim_sex"]
    assert [sex.lookup(v) for v in ("female", " FEMALE ", "Féminin", "feminin", "niña", "f", "", "zebra")] == [
        "female", "female", "female", "female", "female", "female", None, None]


def test_variable_lookup_prefers_a_code_to_another_value_s_synonym():
    var = Variable("v", {"en": "V"}, "provisional", (
        VariableValue("a", {"en": "A"}, {"en": ("b",)}), VariableValue("b", {"en": "Bee"}),
        VariableValue("unknown", {"en": "Unknown"})))
    assert var.lookup("b") == "b" and var.lookup("B") == "b" and var.lookup("Bee") == "b"
