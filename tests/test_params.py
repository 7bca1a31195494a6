"""The one parameter parser: what each reader accepts, its default, and the error it raises."""

from __future__ import annotations

from datetime import date

import pytest

from searchsvc.config import SearchSettings
from searchsvc.errors import QueryError
from searchsvc.messages import SearchRequest
from searchsvc.params import choice, day, flag, integer, one, request_from_params, values


def message(call) -> tuple[str, str]:
    """Return the code and message of the QueryError ``call`` raises."""
    with pytest.raises(QueryError) as caught:
        call()
    return caught.value.code, caught.value.message


def test_one_is_the_single_value_or_none():
    assert (one({"q": ["x"]}, "q"), one({}, "q"), one({"q": []}, "q")) == ("x", None, None)
    assert message(lambda: one({"q": ["a", "b"]}, "q")) == ("invalid_parameter", "'q' may be given only once")


@pytest.mark.parametrize(("raw", "expected"), [(None, 7), ("", 7), ("1", 1), ("20", 20), ("007", 7)])
def test_integer_reads_ascii_digits_and_defaults_when_empty(raw, expected):
    params = {} if raw is None else {"n": [raw]}
    assert integer(params, "n", 7, 1, 20) == expected


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("0", "'n' must be between 1 and 20, got 0"),
        ("21", "'n' must be between 1 and 20, got 21"),
        ("x", "'n' must be an integer, got 'x'"),
        ("+2", "'n' must be an integer, got '+2'"),
        ("٣", "'n' must be an integer, got '٣'"),
        ("1_0", "'n' must be an integer, got '1_0'"),
        ("x" * 50, f"'n' must be an integer, got {'x' * 40!r}"),
        # 19 digits are out of range, leading zeros or not.
        ("0" * 18 + "5", f"'n' must be between 1 and 20, got {'0' * 18 + '5'}"),
    ],
)
def test_integer_errors_name_the_parameter_and_quote_the_value(raw, text):
    assert message(lambda: integer({"n": [raw]}, "n", 7, 1, 20)) == ("invalid_parameter", text)


def test_integer_digits_bounds_how_long_a_number_may_be():
    assert integer({"n": ["07"]}, "n", 1, 1, 20, digits=2) == 7
    assert message(lambda: integer({"n": ["007"]}, "n", 1, 1, 20, digits=2))[1] == (
        "'n' must be between 1 and 20, got 007"
    )


@pytest.mark.parametrize("raw", ["0", "x", "0020"])
def test_integer_wanted_words_every_error_alike(raw):
    found = message(lambda: integer({"n": [raw]}, "n", 1, 1, 20, digits=2, wanted="a small number"))
    assert found == ("invalid_parameter", f"'n' must be a small number, got {raw!r}")


def test_day_reads_iso_dates_only():
    assert (day({"d": ["2024-09-07"]}, "d"), day({"d": [""]}, "d"), day({}, "d")) == (
        date(2024, 9, 7),
        None,
        None,
    )
    for raw in ("2024-9-7", "07/09/2024", "2024-13-01", "2024-0٣-01"):
        assert message(lambda raw=raw: day({"d": [raw]}, "d")) == (
            "invalid_parameter",
            f"'d' must be a date YYYY-MM-DD, got {raw!r}",
        )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), (" 0 ", False), ("false", False), ("", None)]
)
def test_flag_reads_yes_and_no(raw, expected):
    assert flag({"f": [raw]}, "f", None) is expected


def test_flag_rejects_other_words():
    assert message(lambda: flag({"f": ["yes"]}, "f", None)) == (
        "invalid_parameter",
        "'f' must be 1 or 0, got 'yes'",
    )


def test_values_keeps_the_non_blank_ones():
    assert values({"tag": ["a", " ", "", "b"]}, "tag") == ("a", "b")
    assert values({}, "tag") == ()


def test_choice_returns_an_allowed_value_or_the_default():
    assert choice({"s": ["newest"]}, "s", "relevance", ("relevance", "newest")) == "newest"
    assert choice({"s": [""]}, "s", "relevance", ("relevance", "newest")) == "relevance"
    assert message(lambda: choice({"s": ["best"]}, "s", "relevance", ("relevance", "newest"))) == (
        "invalid_parameter",
        "'s' must be one of relevance, newest, got 'best'",
    )


def test_request_from_params_builds_the_whole_request():
    params = {
        "q": ["hà nội"],
        "page": ["2"],
        "per_page": ["5"],
        "sort": ["oldest"],
        "category": ["Thời sự", ""],
        "tag": ["bão"],
        "date_from": ["2024-01-01"],
        "as_typed": ["1"],
        "aliases": ["0"],
        "accents": ["ignore"],
    }
    assert request_from_params(params, SearchSettings()) == SearchRequest(
        q="hà nội",
        page=2,
        per_page=5,
        sort="oldest",
        categories=("Thời sự",),
        tags=("bão",),
        date_from=date(2024, 1, 1),
        as_typed=True,
        aliases=False,
        accents="ignore",
    )


def test_request_from_params_is_still_importable_from_search():
    from searchsvc.search import request_from_params as from_search

    assert from_search is request_from_params
