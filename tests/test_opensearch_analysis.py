"""On a real node: every analysed field gives the tokens and positions of its Whoosh analyzer."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from searchsvc.analysis import exact_analyzer, folded_analyzer
from searchsvc.article import Article
from searchsvc.demo import demo_sources
from searchsvc.ingest import iter_sources
from searchsvc.opensearch.mapping import _SAFE_EXACT, _SAFE_FOLDED, TEXT_FIELDS, creation_body, to_os_document
from searchsvc.schema import to_document
from searchsvc.text import clean

pytestmark = pytest.mark.opensearch

SHARED_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sample.jsonl"
ANALYZERS = {name: exact_analyzer() if name.endswith("_x") else folded_analyzer() for name in TEXT_FIELDS}


@pytest.fixture(scope="module")
def analysis_index(opensearch_url: str) -> Iterator[tuple[OpenSearch, str]]:  # noqa: F811
    """Create an empty index of the current definition for _analyze; delete it afterwards."""
    client = OpenSearch(opensearch_url, timeout=30)
    name = f"test-analysis-{uuid.uuid4().hex[:12]}"
    client.indices.create(index=name, body=creation_body(name, "test"))
    yield client, name
    client.indices.delete(index=name, ignore_unavailable=True)


def python_tokens(field: str, text: str) -> list[tuple[str, int]]:
    """Return the Whoosh analyzer's (term, position) pairs of one field value."""
    return [(t.text, t.pos) for t in ANALYZERS[field](text, positions=True)]


def cluster_tokens(client: OpenSearch, index: str, field: str, sent: str) -> list[tuple[str, int]]:
    """Return the (term, position) pairs OpenSearch indexes for the value sent to ``field``."""
    found = client.indices.analyze(index=index, body={"field": field, "text": sent})
    return [(t["token"], t["position"]) for t in found["tokens"]]


def differences(client: OpenSearch, index: str, articles: list[Article]) -> list[tuple[str, str]]:
    """Return (article id, field) of every field value whose tokens differ between the engines."""
    found = []
    for article in articles:
        whoosh_doc, sent = to_document(article), to_os_document(article)
        for field in TEXT_FIELDS:
            if field in whoosh_doc and python_tokens(field, whoosh_doc[field]) != cluster_tokens(
                client, index, field, sent[field]
            ):
                found.append((article.id, field))
    return found


GOLDEN = [
    "Hoà Bình hòa bình HOÀ BÌNH hOà",
    "thuý Thúy THUÝ thủy quý Quý khoẻ khỏe loè xoè",
    "hoàng Hoàng HOÀNG huỳnh toán hoạch khoèo",
    "Đà Nẵng đà nẵng ĐÀ NẴNG Ðà Nẵng ðà nẵng",
    "Ha\u0300 No\u0323\u0302i ho\u0300a thu\u0301y",  # NFD
    "COVID-19 U23 5G 2.000 1,500,000 3.14 10.000.000đ 1.000,5",
    "rock'n'roll l'Équipe O'Neil Hà‑Nội Hà—Nội",
    "Hà\u00a0Nội\u202fHà\u3000Nội zero\u200bwidth soft\u00adhyphen",
    "Tom &amp; Jerry &quot;Hà Nội&quot; &#7909; &lt;b&gt;",
    "Путин Москва 中国 東京 İstanbul Σοφία ΣΟΦΙΑΣ ½ Ⅻ ① ٣ ＡＢＣ ǅ ß æ ø",
    "x\u0301 a\u0301\u0301 ʼ ʻokina",
    "_under_score a_b 123abc abc123",
]


@pytest.mark.parametrize("text", GOLDEN)
@pytest.mark.parametrize("field", ["title", "title_x"])
def test_golden_cases(analysis_index, text, field):
    client, index = analysis_index
    article = Article(id="g", title=text, body="b")
    sent = to_os_document(article)[field]
    assert cluster_tokens(client, index, field, sent) == python_tokens(field, clean(text))


@pytest.mark.parametrize(("field", "letters"), [("body", _SAFE_FOLDED), ("body_x", _SAFE_EXACT)])
def test_every_latin_letter_folds_and_lowers_alike(analysis_index, field, letters):
    client, index = analysis_index
    text = " ".join(sorted(letters))
    sent = to_os_document(Article(id="l", title="t", body=text))[field]
    assert sent == text  # nothing protected: OpenSearch analyses every one itself
    assert cluster_tokens(client, index, field, sent) == python_tokens(field, text)


def test_demo_corpus_analyses_alike(analysis_index):
    client, index = analysis_index
    articles = [r for r in iter_sources(demo_sources()) if isinstance(r, Article)]
    assert len(articles) > 40
    assert differences(client, index, articles) == []


def test_shared_sample_analyses_alike(analysis_index):
    if not SHARED_SAMPLE.is_file():
        pytest.skip(f"the shared corpus is not at {SHARED_SAMPLE} (it sits beside the repository)")
    client, index = analysis_index
    records = (r for r in iter_sources([SHARED_SAMPLE]) if isinstance(r, Article))
    articles = list(itertools.islice(records, 300))
    assert len(articles) == 300
    assert differences(client, index, articles) == []
