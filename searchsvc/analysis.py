"""Whoosh analyzers for Vietnamese, built on the pure functions of ``searchsvc.text``.

Two term forms come out of one syllable tokenizer:

- *exact*: NFC, canonical tone placement, lower case, accents kept (``hòa``);
- *folded*: no accents at all, ``đ`` -> ``d`` (``hoa``).

Offsets (``startchar``/``endchar``) index the text given to the analyzer, so
they are valid in the stored article text. Analyzer classes are pickled into
the index: keep their module path and names stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.analysis.acore import Token
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.analysis.filters import Filter
from whoosh.analysis.tokenizers import Tokenizer

from searchsvc.text import forms, spans

EXACT = 0
FOLDED = 1


class SyllableTokenizer(Tokenizer):
    """Split text into syllables (runs of letters and digits) with positions and offsets.

    >>> [t.text for t in SyllableTokenizer()("Hà Nội, 2.000 người")]
    ['Hà', 'Nội', '2000', 'người']
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value  # type: ignore[attr-defined]  # Token keeps extras in __dict__
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for pos, (start, end, raw) in enumerate(spans(value), start_pos):
            token.text = raw
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = raw  # type: ignore[attr-defined]
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class FormFilter(Filter):
    """Replace each token's text by one of its term forms (exact or folded).

    >>> [t.text for t in FormFilter(FOLDED)(SyllableTokenizer()("Đối NGOẠI"))]
    ['doi', 'ngoai']
    >>> [t.text for t in FormFilter(EXACT)(SyllableTokenizer()("Hoà Bình"))]
    ['hòa', 'bình']
    """

    def __init__(self, form: int) -> None:
        self.form = form

    # Whoosh's own Filter narrows Composable.__call__ the same way.
    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]
        form = self.form
        for token in tokens:
            token.text = forms(token.text)[form]
            yield token


def exact_analyzer() -> CompositeAnalyzer:
    """Return the analyzer producing accent-keeping lower-case syllables."""
    return SyllableTokenizer() | FormFilter(EXACT)


def folded_analyzer() -> CompositeAnalyzer:
    """Return the analyzer producing accent-free syllables."""
    return SyllableTokenizer() | FormFilter(FOLDED)
