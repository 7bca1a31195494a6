"""Parse the publication dates found in CMS exports and Vietnamese news pages."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

# The one Vietnam time zone of searchsvc: UTC+7, without daylight saving since 1975.
VIETNAM_TZ = timezone(timedelta(hours=7))

# ISO-8601 is handed to datetime.fromisoformat; the prefix check keeps it from
# accepting compact or week forms ("20180712", "2018-W28-4") nobody exports.
_ISO_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")

_WEEKDAY = r"(?:th[ứu]\s*(?:hai|ba|t[ưu]|n[ăa]m|s[áa]u|b[ảẩa]y|[2-7])|ch[ủu]\s*nh[ậa]t|cn|t[2-7])"
_DATE = r"(?P<day>\d{1,2})(?P<sep>[/.-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})"
_TIME = r"(?P<hour>\d{1,2})[:hH](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_ZONE = r"\(?\s*(?:GMT|UTC)\s*(?P<offset>[+-]\d{1,2})(?::?(?P<offset_minutes>\d{2}))?\s*\)?"

# Vietnamese sites write day first: "Thứ năm, 12/7/2018, 15:40 (GMT+7)",
# "12/07/2018 15:40", "12/7/2018", and some put the time first: "15:40 - 12/07/2018".
_DATE_FIRST = re.compile(
    rf"^(?:{_WEEKDAY}\s*,?\s*)?{_DATE}(?:\s*[,-]?\s*(?:lúc\s+)?{_TIME})?(?:\s*,?\s*{_ZONE})?$",
    re.IGNORECASE,
)
_TIME_FIRST = re.compile(
    rf"^{_TIME}\s*[,-]?\s*(?:{_WEEKDAY}\s*,?\s*)?{_DATE}(?:\s*,?\s*{_ZONE})?$",
    re.IGNORECASE,
)


def parse_published(value: str | None) -> datetime | None:
    """Return the timezone-aware datetime in value, or None when it is not a date."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        return None
    if _ISO_PREFIX.match(text):
        return _parse_iso(text)
    match = _DATE_FIRST.match(text) or _TIME_FIRST.match(text)
    if match is None:
        return None
    return _from_match(match.groupdict())


def _parse_iso(text: str) -> datetime | None:
    """Parse an ISO-8601 date or date-time, assuming Vietnam time when it has no zone."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=VIETNAM_TZ)


def _from_match(groups: dict[str, str | None]) -> datetime | None:
    """Build the datetime from the named groups of a day-first match."""
    try:
        return datetime(
            int(groups["year"] or 0),
            int(groups["month"] or 0),
            int(groups["day"] or 0),
            int(groups["hour"] or 0),
            int(groups["minute"] or 0),
            int(groups["second"] or 0),
            tzinfo=_zone(groups.get("offset"), groups.get("offset_minutes")),
        )
    except ValueError:
        # 31/2/2018, 25:00 or a zone beyond ±24 h: looks like a date, is not one.
        return None


def _zone(offset: str | None, offset_minutes: str | None) -> timezone:
    """Return the zone a "GMT+7" suffix names, Vietnam time when there is none."""
    if offset is None:
        return VIETNAM_TZ
    hours = int(offset)
    minutes = int(offset_minutes or 0)
    sign = -1 if offset.startswith("-") else 1
    return timezone(timedelta(hours=hours, minutes=sign * minutes))
