"""Parse a reader's query string into clauses; never raises on malformed syntax.

Syntax: words (ANDed), ``"a phrase"``, ``-word`` / ``-"phrase"`` (exclude),
``a OR b`` (either; OR binds the words on each side), field prefixes
``title:``, ``author:``, ``category:``, ``source:`` (``category:"Thể thao"`` or
``category:the-thao``) and ``word*`` (prefix). Parentheses are ignored, an
unbalanced quote runs to the end, a lone ``-`` or ``OR`` is dropped, control
characters are removed and long input is cut to a limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from searchsvc.text import forms, has_marks, normalize, spans

TEXT_PREFIXES = ("title", "author")
FILTER_PREFIXES = ("category", "source")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"()]+))|(?P<skip>[\s()]+)'
)


@dataclass(frozen=True)
class Syllable:
    """One query syllable in its three forms."""

    raw: str
    exact: str
    folded: str

    @property
    def accented(self) -> bool:
        """Tell whether the reader typed accents on this syllable."""
        return self.exact != self.folded


@dataclass(frozen=True)
class Clause:
    """A word, phrase or prefix the results must (or must not) contain."""

    syllables: tuple[Syllable, ...]
    field: str | None = None  # None: title, summary, body and author
    negated: bool = False
    prefix: bool = False
    alternatives: tuple[Clause, ...] = ()  # set for ``a OR b``
    words: tuple[str, ...] = ()  # the words as typed (``vie65t`` before it splits into syllables)
    quoted: bool = False  # typed in quotes: searched as written, never expanded by aliases

    @property
    def is_phrase(self) -> bool:
        """Tell whether the clause needs its syllables adjacent and in order."""
        return len(self.syllables) > 1

    def text(self) -> str:
        """Return the clause as query syntax (readable, re-parseable)."""
        if self.alternatives:
            return " OR ".join(alt.text() for alt in self.alternatives)
        words = " ".join(s.raw for s in self.syllables)
        body = f'"{words}"' if self.is_phrase else words + ("*" if self.prefix else "")
        return ("-" if self.negated else "") + (f"{self.field}:" if self.field else "") + body


@dataclass(frozen=True)
class ParsedQuery:
    """The clauses of a query, its filters from prefixes, and whether it was cut."""

    text: str
    clauses: tuple[Clause, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    truncated: bool = False

    @property
    def positive(self) -> tuple[Clause, ...]:
        """Return the clauses results must match."""
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def accented(self) -> bool:
        """Tell whether the reader typed any accent."""
        return has_marks(self.text)

    def all_syllables(self) -> list[Syllable]:
        """Return every syllable of the positive clauses, alternatives included."""
        out: list[Syllable] = []
        for clause in self.positive:
            for part in clause.alternatives or (clause,):
                out.extend(part.syllables)
        return out


def to_syllables(text: str) -> tuple[Syllable, ...]:
    """Split text into query syllables."""
    return tuple(Syllable(raw, *forms(raw)) for _, _, raw in spans(text))


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut text to ``max_chars`` at a word boundary when possible."""
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut), True


def parse_query(text: str, max_chars: int = 500, max_terms: int = 32) -> ParsedQuery:
    """Parse ``text`` into a ``ParsedQuery``; malformed syntax degrades to words."""
    text = normalize(_CONTROL.sub(" ", text or "")).strip()
    text, truncated = _cut(text, max_chars)
    clauses: list[Clause] = []
    filters: dict[str, list[str]] = {}
    pending_or = False
    terms = 0
    for m in _TOKEN.finditer(text):
        if m.group("skip") is not None:
            continue
        word = m.group("word")
        if m.group("phrase") is None and word == "OR" and not m.group("field") and not m.group("neg"):
            pending_or = bool(clauses)
            continue
        clause = _clause(m, filters)
        if clause is None:
            continue
        terms += len(clause.syllables)
        if terms > max_terms:
            truncated = True
            break
        if pending_or and clauses and not clause.negated and not clauses[-1].negated:
            previous = clauses.pop()
            clause = Clause((), alternatives=(*(previous.alternatives or (previous,)), clause))
        clauses.append(clause)
        pending_or = False
    return ParsedQuery(text, tuple(clauses), {k: tuple(v) for k, v in filters.items()}, truncated)


def _clause(m: re.Match[str], filters: dict[str, list[str]]) -> Clause | None:
    """Turn one token match into a clause (or a filter); None when it holds no syllable."""
    negated = bool(m.group("neg"))
    field_name = (m.group("field") or "").lower() or None
    phrase = m.group("phrase")
    raw = phrase if phrase is not None else m.group("word") or ""
    if field_name in FILTER_PREFIXES:
        value = raw.replace("-", " ").replace("_", " ").strip()
        if value and not negated:
            filters.setdefault(field_name, []).append(value)
        return None
    if field_name is not None and field_name not in TEXT_PREFIXES:
        # An unknown prefix (`http:`, `abc:`) is just more words.
        raw = f"{m.group('field')} {raw}"
        field_name = None
    prefix = phrase is None and raw.endswith("*")
    syllables = to_syllables(raw)
    if not syllables:
        return None
    if prefix and len(syllables) > 1:
        prefix = False
    return Clause(
        syllables,
        field_name,
        negated,
        prefix,
        words=tuple(raw.rstrip("*").split()),
        quoted=phrase is not None,
    )
