"""The built-in demo corpus carries every trap and feature its README promises."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import datetime, timedelta

import pytest

from searchsvc.demo import ARTICLES_PATH, DEMO_DIR, PAGES_DIR, demo_sources

FIELDS = [
    "id",
    "url",
    "title",
    "summary",
    "body",
    "author",
    "published",
    "category",
    "source",
    "tags",
]
PUBLISHED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
# An open syllable ending in oa/oe/uy (not qu-): the mark sits on the second vowel
# in the old style (hoà, khoẻ, thuỷ) and on the first in the new one (hòa, khỏe, thủy).
OLD_TONE = re.compile(r"(?<![qQ])[uU][ỳýỷỹỵ](?!\w)|[oO][àáảãạèéẻẽẹ](?!\w)")
NEW_TONE = re.compile(r"(?<![qQ])[ùúủũụÙÚỦŨỤ][yY](?!\w)|[òóỏõọÒÓỎÕỌ][aAeE](?!\w)")


def _records() -> list[dict[str, object]]:
    """Return the demo records in file order."""
    with ARTICLES_PATH.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


RECORDS = _records()
BY_ID = {record["id"]: record for record in RECORDS}


def _text(record: dict[str, object]) -> str:
    """Return title, summary and body of a record as one NFC string."""
    parts = [record["title"], record["summary"] or "", record["body"]]
    return unicodedata.normalize("NFC", "\n".join(parts))


def test_every_line_is_one_json_object() -> None:
    raw = ARTICLES_PATH.read_bytes()
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert [type(json.loads(line)) for line in lines[:-1]] == [dict] * 48


def test_ids_are_unique_and_numbered() -> None:
    ids = [record["id"] for record in RECORDS]
    assert ids == [f"demo-{n:03d}" for n in range(1, 49)]


def test_records_have_the_corpus_fields_in_order() -> None:
    assert {tuple(record) for record in RECORDS} == {tuple(FIELDS)}


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_field_types(record: dict[str, object]) -> None:
    for name in ("id", "title", "body", "category", "source"):
        assert isinstance(record[name], str) and record[name].strip() != ""
    for name in ("url", "summary", "author", "published"):
        assert record[name] is None or isinstance(record[name], str)
    assert isinstance(record["tags"], list)
    assert all(isinstance(tag, str) for tag in record["tags"])


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_article_shape(record: dict[str, object]) -> None:
    title = unicodedata.normalize("NFC", record["title"])
    paragraphs = record["body"].split("\n\n")
    assert 6 <= len(title.split()) <= 14
    assert 3 <= len(paragraphs) <= 5
    assert 80 <= len(record["body"].split()) <= 200
    assert all(paragraph == paragraph.strip() != "" for paragraph in paragraphs)
    assert "\n" not in title and "\n" not in record["summary"]


@pytest.mark.parametrize(
    "record",
    [record for record in RECORDS if record["published"] is not None],
    ids=lambda record: record["id"],
)
def test_published_is_vietnam_local_time(record: dict[str, object]) -> None:
    assert PUBLISHED.match(record["published"]) is not None
    published = datetime.fromisoformat(record["published"])
    assert published.utcoffset() == timedelta(hours=7)


def test_facet_spread() -> None:
    categories = Counter(record["category"] for record in RECORDS)
    sources = Counter(record["source"] for record in RECORDS)
    years = {record["published"][:4] for record in RECORDS if record["published"]}
    months = {record["published"][:7] for record in RECORDS if record["published"]}
    assert len(categories) >= 6
    assert min(categories.values()) >= 4
    assert len(set(categories.values())) > 1
    assert len(sources) >= 4
    assert len(years) >= 5
    assert all("2018" <= year <= "2026" for year in years)
    assert len(months) >= 12


def test_three_articles_are_undated() -> None:
    undated = [record["id"] for record in RECORDS if record["published"] is None]
    assert undated == ["demo-029", "demo-036", "demo-040"]


def test_authors_and_tags_are_sometimes_missing() -> None:
    authors = [record["author"] is None for record in RECORDS]
    tags = [record["tags"] == [] for record in RECORDS]
    assert 0 < sum(authors) < len(RECORDS)
    assert 0 < sum(tags) < len(RECORDS)


def test_nfd_records() -> None:
    nfd = [
        record["id"]
        for record in RECORDS
        if unicodedata.normalize("NFC", record["title"]) != record["title"]
        and unicodedata.normalize("NFC", record["body"]) != record["body"]
    ]
    assert nfd == ["demo-009", "demo-025", "demo-027", "demo-041"]


def test_other_text_is_nfc() -> None:
    nfd = {"demo-009", "demo-025", "demo-027", "demo-041"}
    for record in RECORDS:
        fields = [record["title"], record["summary"], record["body"]]
        if record["id"] not in nfd:
            assert [unicodedata.is_normalized("NFC", text) for text in fields] == [True] * 3
        assert unicodedata.is_normalized("NFC", record["category"])


def test_both_tone_styles_occur() -> None:
    old = {record["id"] for record in RECORDS if OLD_TONE.search(_text(record))}
    new = {record["id"] for record in RECORDS if NEW_TONE.search(_text(record))}
    assert old == {
        "demo-003",
        "demo-013",
        "demo-020",
        "demo-022",
        "demo-027",
        "demo-031",
        "demo-036",
        "demo-038",
        "demo-044",
    }
    assert len(new) >= 6
    assert old & new == {"demo-020"}


@pytest.mark.parametrize(
    ("word", "style"),
    [
        ("hoà", OLD_TONE),
        ("thuỷ", OLD_TONE),
        ("khoẻ", OLD_TONE),
        ("Uỷ ban", OLD_TONE),
        ("Toà án", OLD_TONE),
        ("hoá", OLD_TONE),
        ("hòa", NEW_TONE),
        ("khỏe", NEW_TONE),
        ("ma túy", NEW_TONE),
        ("hóa", NEW_TONE),
        ("quý", None),
        ("hoàn", None),
    ],
)
def test_tone_style_patterns(word: str, style: re.Pattern[str] | None) -> None:
    found = [pattern for pattern in (OLD_TONE, NEW_TONE) if pattern.search(word)]
    assert found == ([style] if style else [])


def test_escaping_trap() -> None:
    carriers = [record["id"] for record in RECORDS if "<script>" in record["body"]]
    assert carriers == ["demo-016"]
    assert "<script>alert(1)</script>" in BY_ID["demo-016"]["body"]


def test_raw_text_traps() -> None:
    nbsp = [record["id"] for record in RECORDS if "\u00a0" in record["body"]]
    entity = [record["id"] for record in RECORDS if re.search(r"&\w+;", record["body"])]
    assert nbsp == ["demo-017"]
    assert entity == ["demo-018"]
    assert "TT&amp;TT" in BY_ID["demo-018"]["body"]


# Search-feature material: each word or phrase and the articles designated to carry
# it (in title, summary or body). Other articles may contain it too.
FEATURES = [
    ("thông tin đối ngoại", ["demo-002", "demo-018"]),
    (
        "Hà Nội",
        ["demo-001", "demo-003", "demo-008", "demo-010", "demo-019", "demo-028"],
    ),
    ("bão", ["demo-001", "demo-003"]),
    ("bán nhà", ["demo-004"]),
    ("bàn ghế", ["demo-005"]),
    ("bàn bạc", ["demo-006"]),
    ("ban giám đốc", ["demo-007"]),
    ("mời", ["demo-008", "demo-043"]),
    ("Mỗi", ["demo-009"]),
    ("mới", ["demo-010", "demo-032"]),
    ("Thủ tướng", ["demo-011", "demo-012", "demo-045"]),
    ("COVID-19", ["demo-012", "demo-013", "demo-030"]),
    ("TP.HCM", ["demo-004", "demo-010", "demo-025"]),
    ("5G", ["demo-010"]),
    ("U23", ["demo-014"]),
    ("2.000", ["demo-004"]),
    ("12/7", ["demo-002"]),
    ("hotro5g@nhamang.example", ["demo-010"]),
    ("tuyensinh@daihoc.example", ["demo-035"]),
    ("https://5g.nhamang.example/vung-phu-song", ["demo-010"]),
    ("HÀ NỘI", ["demo-019"]),
    ("Đà Nẵng", ["demo-002", "demo-026", "demo-043"]),
    ("đội tuyển", ["demo-014", "demo-015", "demo-033"]),
    ("đối ngoại", ["demo-002", "demo-018"]),
]


@pytest.mark.parametrize(("phrase", "ids"), FEATURES)
def test_feature_carriers(phrase: str, ids: list[str]) -> None:
    pattern = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")
    assert [i for i in ids if pattern.search(_text(BY_ID[i]))] == ids


@pytest.mark.parametrize(
    ("phrase", "ids"),
    [
        ("thông tin đối ngoại", ["demo-002"]),
        ("Đà Nẵng", ["demo-002", "demo-026"]),
        ("Thủ tướng", ["demo-011", "demo-012", "demo-045"]),
    ],
)
def test_title_carriers(phrase: str, ids: list[str]) -> None:
    carriers = [record["id"] for record in RECORDS if phrase in unicodedata.normalize("NFC", record["title"])]
    assert carriers == ids


def test_near_homographs_stay_apart() -> None:
    # Each sense article must not contain the other senses, so accent ranking
    # has one clear winner per query.
    senses = {
        "demo-004": "bán",
        "demo-005": "bàn",
        "demo-006": "bàn",
        "demo-007": "ban",
    }
    others = {"bán", "bàn", "ban", "bạn", "bản", "bận"}
    for article_id, sense in senses.items():
        words = set(re.findall(r"\w+", _text(BY_ID[article_id]).casefold()))
        assert sorted(words & others) == [sense]


def test_page_has_the_saved_page_shape() -> None:
    lines = (PAGES_DIR / "demo-page-001.txt").read_text(encoding="utf-8").split("\n")
    title = lines[0]
    assert lines[1] == ""
    assert re.fullmatch(r"[^|]+\| \d{2}/\d{2}/\d{4} \d{2}:\d{2}", lines[2]) is not None
    assert lines[3] == "Theo dõi Báo Demo trên"
    assert "20230415-xe-buyt-dien.jpg" in lines
    dont_miss = lines.index("Đừng bỏ lỡ")
    assert lines[dont_miss - 1].startswith("Nổi bật ")
    items = [line for line in lines[dont_miss + 1 : -2] if not line.startswith("    ")]
    assert [line[:4] for line in items] == ["  • "] * 4
    assert lines[-2] == title
    assert lines[-1].startswith("POWERED BY ")


def test_demo_sources_lists_the_package_files() -> None:
    sources = demo_sources()
    assert sources == [
        DEMO_DIR / "articles.jsonl",
        DEMO_DIR / "pages" / "demo-page-001.txt",
    ]
    assert all(path.is_file() for path in sources)


def test_readme_lists_every_article() -> None:
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    missing = [record["id"] for record in RECORDS if f"`{record['id']}`" not in readme]
    assert missing == []
