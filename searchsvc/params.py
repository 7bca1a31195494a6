"""Query-string parameters (name -> values), read one way by every front end.

A search request, the related articles' ``limit`` and ``before`` and the API's
autocomplete all take their parameters through these functions, so a repeated,
empty or malformed value means the same everywhere: empty is the default, and
anything else wrong is ``QueryError("invalid_parameter", ...)`` naming the
parameter (the API answers 400 with it, the CLI prints it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TypeVar

from searchsvc.config import SearchSettings
from searchsvc.errors import QueryError
from searchsvc.messages import ACCENT_MODES, SORTS, SearchRequest

Params = Mapping[str, Sequence[str]]
Choice = TypeVar("Choice", bound=str)
# More digits than this are out of range whatever the bounds (and int() refuses 4,300).
MAX_DIGITS = 18
# How much of a bad value an error message quotes.
QUOTED_CHARS = 40


def one(params: Params, name: str) -> str | None:
    """Return the single value of a parameter (None when absent), rejecting repeats."""
    values = params.get(name) or []
    if len(values) > 1:
        raise QueryError("invalid_parameter", f"'{name}' may be given only once")
    return values[0] if values else None


def integer(
    params: Params,
    name: str,
    default: int,
    low: int,
    high: int,
    digits: int = MAX_DIGITS,
    wanted: str | None = None,
) -> int:
    """Parse an integer of ASCII digits within ``[low, high]``; empty means ``default``.

    More than ``digits`` digits (leading zeros included) is out of range. ``wanted``
    words both errors alike (``'limit' must be {wanted}, got '0'``).
    """
    raw = one(params, name)
    if raw is None or raw == "":
        return default
    # int() also takes "٣", "1_0", "+2" and " 2": the API promises digits.
    is_digits = raw.isascii() and raw.isdigit()
    value = int(raw) if is_digits and len(raw) <= digits else high + 1
    if is_digits and low <= value <= high:
        return value
    shown = raw[:QUOTED_CHARS]
    if wanted is not None:
        raise QueryError("invalid_parameter", f"'{name}' must be {wanted}, got {shown!r}")
    if not is_digits:
        raise QueryError("invalid_parameter", f"'{name}' must be an integer, got {shown!r}")
    raise QueryError("invalid_parameter", f"'{name}' must be between {low} and {high}, got {shown}")


def day(params: Params, name: str) -> date | None:
    """Parse a ``YYYY-MM-DD`` date of ASCII digits; empty means no date."""
    raw = one(params, name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10 or not raw.isascii():
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            "invalid_parameter", f"'{name}' must be a date YYYY-MM-DD, got {raw[:QUOTED_CHARS]!r}"
        ) from None


def flag(params: Params, name: str, default: bool | None) -> bool | None:
    """Parse a yes/no parameter: ``1``/``true`` or ``0``/``false``; empty means ``default``."""
    raw = (one(params, name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise QueryError("invalid_parameter", f"'{name}' must be 1 or 0, got {raw[:QUOTED_CHARS]!r}")


def values(params: Params, name: str) -> tuple[str, ...]:
    """Return the non-empty values of a repeatable parameter."""
    return tuple(v for v in (params.get(name) or []) if v.strip())


def choice(params: Params, name: str, default: Choice, allowed: Sequence[Choice]) -> Choice:
    """Return the one of ``allowed`` a parameter names; empty means ``default``."""
    raw = one(params, name) or default
    for option in allowed:
        if option == raw:
            return option
    raise QueryError(
        "invalid_parameter", f"'{name}' must be one of {', '.join(allowed)}, got {raw[:QUOTED_CHARS]!r}"
    )


def request_from_params(params: Params, limits: SearchSettings) -> SearchRequest:
    """Build a validated search request from query-string style parameters (name -> values)."""
    sort = choice(params, "sort", "relevance", SORTS)
    accents = choice(params, "accents", "match", ACCENT_MODES)
    date_from, date_to = day(params, "date_from"), day(params, "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError("invalid_parameter", "'date_from' is after 'date_to'")
    return SearchRequest(
        q=one(params, "q") or "",
        page=integer(params, "page", 1, 1, limits.max_page),
        per_page=integer(params, "per_page", limits.per_page, 1, limits.max_per_page),
        sort=sort,
        categories=values(params, "category"),
        sources=values(params, "source"),
        authors=values(params, "author"),
        tags=values(params, "tag"),
        date_from=date_from,
        date_to=date_to,
        as_typed=bool(flag(params, "as_typed", False)),
        aliases=flag(params, "aliases", None),
        accents=accents,
    )
