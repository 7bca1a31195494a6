"""Golden cases for parse_published: ISO-8601 and Vietnamese day-first dates."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from searchsvc.dates import VIETNAM_TZ, parse_published


def vn(*parts: int) -> datetime:
    """Return a datetime in Vietnam time."""
    return datetime(*parts, tzinfo=VIETNAM_TZ)


def test_vietnam_tz_is_utc_plus_seven() -> None:
    assert VIETNAM_TZ.utcoffset(None) == timedelta(hours=7)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2018-07-12T15:40:00+07:00", vn(2018, 7, 12, 15, 40)),
        ("2018-07-12T15:40:00Z", datetime(2018, 7, 12, 15, 40, tzinfo=UTC)),
        ("2018-07-12T08:40:00+00:00", datetime(2018, 7, 12, 8, 40, tzinfo=UTC)),
        ("2018-07-12T15:40:00.250+07:00", vn(2018, 7, 12, 15, 40, 0, 250000)),
        ("2018-07-12T15:40:00", vn(2018, 7, 12, 15, 40)),
        ("2018-07-12 15:40", vn(2018, 7, 12, 15, 40)),
        ("2018-07-12", vn(2018, 7, 12)),
        ("  2018-07-12T15:40:00+07:00\n", vn(2018, 7, 12, 15, 40)),
    ],
)
def test_parse_iso_8601(value: str, expected: datetime) -> None:
    assert parse_published(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/07/2018 15:40", vn(2018, 7, 12, 15, 40)),
        ("12/07/2018 15:40:59", vn(2018, 7, 12, 15, 40, 59)),
        ("12/7/2018", vn(2018, 7, 12)),
        ("1/3/2020", vn(2020, 3, 1)),
        ("12-07-2018", vn(2018, 7, 12)),
        ("12.07.2018", vn(2018, 7, 12)),
        ("12/07/2018 15h40", vn(2018, 7, 12, 15, 40)),
        ("12/07/2018 lúc 15:40", vn(2018, 7, 12, 15, 40)),
        ("15:40 - 12/07/2018", vn(2018, 7, 12, 15, 40)),
        ("15:40 12/07/2018", vn(2018, 7, 12, 15, 40)),
        ("Thứ năm, 12/7/2018, 15:40 (GMT+7)", vn(2018, 7, 12, 15, 40)),
        ("Thứ ba, 17/11/2020 16:37 (GMT+7)", vn(2020, 11, 17, 16, 37)),
        ("Thứ Hai, 17/8/2020, 06:10 (GMT+7)", vn(2020, 8, 17, 6, 10)),
        ("THỨ BẢY, 14/11/2020", vn(2020, 11, 14)),
        ("Chủ nhật, 15/11/2020, 08:05", vn(2020, 11, 15, 8, 5)),
        ("Thứ 4, 18/11/2020 - 09:00", vn(2020, 11, 18, 9, 0)),
        ("T6, 20/11/2020", vn(2020, 11, 20)),
        ("CN, 22/11/2020", vn(2020, 11, 22)),
        ("12/07/2018 08:40 (GMT+0)", datetime(2018, 7, 12, 8, 40, tzinfo=UTC)),
        ("12/07/2018 08:40 GMT+07:00", vn(2018, 7, 12, 8, 40)),
    ],
)
def test_parse_vietnamese_day_first(value: str, expected: datetime) -> None:
    assert parse_published(value) == expected


def test_day_comes_before_month() -> None:
    assert parse_published("03/04/2021") == vn(2021, 4, 3)


def test_decomposed_weekday_parses_like_composed() -> None:
    value = unicodedata.normalize("NFD", "Thứ năm, 12/7/2018, 15:40 (GMT+7)")
    assert parse_published(value) == vn(2018, 7, 12, 15, 40)


def test_offset_is_kept_not_converted() -> None:
    parsed = parse_published("2018-07-12T15:40:00Z")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "hôm qua",
        "31/02/2018",
        "12/13/2018",
        "2018-02-30",
        "12/07/2018 25:00",
        "20180712",
        "2018-W28-4",
        "12/07/18",
        "Thứ tám, 12/7/2018",
        "Đăng lúc 12/07/2018 15:40 bởi Minh Anh",
        "12/07/2018 15:40 (GMT+30)",
    ],
)
def test_unparseable_is_none(value: str | None) -> None:
    assert parse_published(value) is None


def test_non_string_is_none() -> None:
    assert parse_published(20180712) is None  # type: ignore[arg-type]
