"""The article index schema and the mapping from an Article to index fields.

Every searchable text field is indexed twice, both with positions: folded
syllables (``body``: a word typed without marks matches every accent form) and
exact syllables (``body_x``: a word typed with marks matches only its own marks,
and a marked phrase only its marked forms). Both forms come from the same
tokenizer, so a syllable has the same position in both. Category, source and dates are sortable columns
for facets and sorting. Bump ``SCHEMA_VERSION`` whenever the fields or their
analysis change: an index of another version refuses to open.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Generator
from datetime import datetime
from pickle import dumps
from typing import Any

from whoosh import columns, fields
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from searchsvc.analysis import EXACT, FOLDED, exact_analyzer, folded_analyzer
from searchsvc.article import Article
from searchsvc.dates import VIETNAM_TZ
from searchsvc.text import clean, fold, forms, syllables

SCHEMA_VERSION = 3

# The field groups, named once: every module that walks fields takes its group from here.
# The text fields a query word is looked for in (folded syllables).
SEARCH_FIELDS = ("title", "summary", "body", "author")
# What the article says, without its byline: proximity, related articles and written forms read these.
PROSE_FIELDS = ("title", "summary", "body")
# The lead: the lexicon counts its word pairs, and the same accents there earn a bonus.
LEAD_FIELDS = ("title", "summary")
# The exact-form (accent-keeping) twin of each searched field.
EXACT_FIELDS = {name: f"{name}_x" for name in SEARCH_FIELDS}
# The searched fields and their twins: the fields indexed with positions and lengths.
INDEXED_TEXT_FIELDS = SEARCH_FIELDS + tuple(EXACT_FIELDS.values())


class SyllableText(fields.TEXT):
    """A TEXT field that indexes syllables through a fast path equal to its analyzer.

    Whoosh's generic path builds a Token object per syllable; news bodies have
    hundreds, so indexing computes the same terms straight from ``searchsvc.text``.
    The analyzer still serves query parsing and highlighting.
    """

    def __init__(self, form: int, positions: bool, stored: bool = False) -> None:
        analyzer = exact_analyzer() if form == EXACT else folded_analyzer()
        super().__init__(analyzer=analyzer, phrase=positions, stored=stored)
        self.form = form
        self.positions = positions

    def index(self, value: Any, **kwargs: Any) -> Generator[tuple[bytes, int, float, bytes], None, None]:
        """Yield (term bytes, frequency, weight, encoded posting) per distinct term."""
        form = self.form
        terms = [forms(raw)[form] for raw in syllables(value)]
        if self.positions:
            where: dict[str, list[int]] = defaultdict(list)
            for pos, term in enumerate(terms):
                where[term].append(pos)
            for term, poslist in where.items():
                freq = len(poslist)
                encoded = _single_position(poslist[0]) if freq == 1 else _encode_positions(poslist)
                yield term.encode("utf-8"), freq, float(freq), encoded
        else:
            for term, freq in Counter(terms).items():
                yield term.encode("utf-8"), freq, float(freq), pack_uint(freq)


def _encode_positions(poslist: list[int]) -> bytes:
    """Encode positions exactly as ``whoosh.formats.Positions.encode`` does."""
    deltas = [poslist[0]]
    deltas.extend(b - a for a, b in itertools.pairwise(poslist))
    return pack_uint(len(deltas)) + dumps(deltas, 2)


@functools.lru_cache(maxsize=8192)
def _single_position(pos: int) -> bytes:
    """Encode a one-position list; most terms occur once in a field, so this is cached."""
    return _encode_positions([pos])


def build_schema() -> fields.Schema:
    """Return a new article schema."""
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        url=fields.STORED(),
        title=SyllableText(FOLDED, positions=True, stored=True),
        title_x=SyllableText(EXACT, positions=True),
        summary=SyllableText(FOLDED, positions=True, stored=True),
        summary_x=SyllableText(EXACT, positions=True),
        body=SyllableText(FOLDED, positions=True, stored=True),
        body_x=SyllableText(EXACT, positions=True),
        author=SyllableText(FOLDED, positions=True, stored=True),
        author_x=SyllableText(EXACT, positions=True),
        author_key=fields.ID(),
        category=fields.ID(stored=True, sortable=True),
        category_key=fields.ID(),
        source=fields.ID(stored=True, sortable=True),
        source_key=fields.ID(),
        tags=fields.STORED(),
        tag_key=fields.KEYWORD(commas=True),
        published=fields.STORED(),
        # Columns only: sorting and date filters read them in bulk, no terms needed.
        published_ts=fields.COLUMN(columns.NumericColumn("q", default=0)),
        day=fields.COLUMN(columns.NumericColumn("I", default=0)),
        month=fields.ID(sortable=True),
    )
    return schema


def facet_key(value: str) -> str:
    """Return the case-, accent- and spacing-insensitive key of a category, source, author or tag."""
    return " ".join(fold(value).split())


def to_document(article: Article) -> dict[str, Any]:
    """Return the index fields of one article; text is cleaned but keeps its accents."""
    title = clean(article.title)
    summary = clean(article.summary) if article.summary else ""
    body = clean(article.body)
    doc: dict[str, Any] = {
        "id": article.id,
        "title": title,
        "title_x": title,
        "body": body,
        "body_x": body,
    }
    if article.url:
        doc["url"] = article.url
    if summary:
        doc["summary"] = summary
        doc["summary_x"] = summary
    if article.author:
        author = clean(article.author)
        doc["author"] = author
        doc["author_x"] = author
        doc["author_key"] = facet_key(author)
    if article.category:
        doc["category"] = clean(article.category).strip()
        doc["category_key"] = facet_key(article.category)
    if article.source:
        doc["source"] = clean(article.source).strip()
        doc["source_key"] = facet_key(article.source)
    if article.tags:
        tags = [clean(t).strip() for t in article.tags if t.strip()]
        doc["tags"] = tags
        doc["tag_key"] = ",".join(facet_key(t).replace(",", " ") for t in tags)
    if article.published is not None:
        doc.update(date_fields(article.published))
    return doc


def date_fields(published: datetime) -> dict[str, Any]:
    """Return the stored and sortable date fields; buckets use the Vietnam local date."""
    if published.tzinfo is None:
        published = published.replace(tzinfo=VIETNAM_TZ)
    local = published.astimezone(VIETNAM_TZ)
    return {
        "published": published.isoformat(),
        "published_ts": int(published.timestamp()),
        "day": local.year * 10000 + local.month * 100 + local.day,
        "month": f"{local.year:04d}-{local.month:02d}",
    }


def check_field_formats(schema: fields.Schema) -> None:
    """Assert that the fast indexing path matches the declared Whoosh formats."""
    for name in schema.names():
        field = schema[name]
        if isinstance(field, SyllableText):
            expected = Positions if field.positions else Frequency
            assert type(field.format) is expected, name
