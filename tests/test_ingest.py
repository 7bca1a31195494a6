"""Ingest: every source format, every reject reason, bad data never hiding good data."""

from __future__ import annotations

import gzip
import json
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from searchsvc.article import Article
from searchsvc.config import IndexSettings
from searchsvc.dates import VIETNAM_TZ
from searchsvc.errors import IngestError
from searchsvc.ingest import (
    IngestLimits,
    IngestReport,
    IngestWarning,
    Record,
    Reject,
    detect_format,
    expand_sources,
    iter_records,
    iter_sources,
    page_id,
    parse_page_text,
    write_rejects,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sample.jsonl"


def vn(*parts: int) -> datetime:
    """Return a datetime in Vietnam time."""
    return datetime(*parts, tzinfo=VIETNAM_TZ)


def read(path: Path) -> list[Record]:
    """Return every record of one source file."""
    return list(iter_records(path))


def articles(records: list[Record]) -> list[Article]:
    """Return the articles among records."""
    return [record for record in records if isinstance(record, Article)]


def rejects(records: list[Record]) -> list[tuple[int | None, str]]:
    """Return (line, reason) of the rejects among records."""
    return [(record.line, record.reason) for record in records if isinstance(record, Reject)]


def warnings(records: list[Record]) -> list[tuple[int | None, str, str]]:
    """Return (line, article id, reason) of the warnings among records."""
    return [
        (record.line, record.article_id, record.reason)
        for record in records
        if isinstance(record, IngestWarning)
    ]


def by_id(records: list[Record]) -> dict[str, Article]:
    """Return the articles among records keyed by id."""
    return {article.id: article for article in articles(records)}


def write_lines(path: Path, lines: list[bytes]) -> Path:
    """Write raw byte lines to path and return it."""
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def json_line(**fields: object) -> bytes:
    """Return one JSONL line for fields."""
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


GOOD_A = json_line(id="a", title="Tin thứ nhất", body="Nội dung bài thứ nhất.")
GOOD_B = json_line(id="b", title="Tin thứ hai", body="Nội dung bài thứ hai.")


# --- formats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bai.jsonl", "jsonl"),
        ("BAI.JSONL.GZ", "jsonl"),
        ("bai.ndjson", "jsonl"),
        ("bai.json", "json"),
        ("bai.json.gz", "json"),
        ("bai.csv", "csv"),
        ("000_0b40b70c7b3deff6.txt", "page-text"),
        ("trang.html", "html"),
        ("trang.htm", "html"),
        ("bai.xml", None),
        ("bai.gz", None),
        ("README.md", None),
    ],
)
def test_detect_format(name: str, expected: str | None) -> None:
    assert detect_format(name) == expected


def test_jsonl_record_becomes_article() -> None:
    assert by_id(read(FIXTURES / "articles.jsonl"))["vd-001"] == Article(
        id="vd-001",
        url="https://bao.example.vn/thoi-su/ha-noi-mo-them-tuyen-xe-buyt-dien-001.htm",
        title="Hà Nội mở thêm tuyến xe buýt điện",
        summary="Từ tháng sau, người dân Thủ đô có thêm ba tuyến xe buýt điện "
        "nối trung tâm với các khu đô thị mới.",
        body="Sở Giao thông vận tải Hà Nội cho biết ba tuyến mới sẽ chạy từ 5h đến 22h "
        "mỗi ngày.\n\nGiá vé lượt giữ nguyên 7.000 đồng, người cao tuổi được miễn phí.",
        author="Minh Anh",
        published=vn(2024, 3, 15, 8, 30),
        category="Thời sự",
        source="Báo Ví Dụ",
        tags=("xe buýt", "Hà Nội"),
    )


def test_jsonl_nulls_stay_none() -> None:
    assert by_id(read(FIXTURES / "articles.jsonl"))["vd-002"] == Article(
        id="vd-002",
        title="Đà Nẵng đón lượng khách kỷ lục dịp lễ",
        body="Trong bốn ngày nghỉ lễ, các khách sạn ven biển Đà Nẵng đạt công suất phòng trên 90%.",
        category="Du lịch",
        source="Báo Ví Dụ",
    )


def test_jsonl_vietnamese_date_form() -> None:
    article = by_id(read(FIXTURES / "articles.jsonl"))["vd-003"]
    assert article.published == vn(2020, 11, 17, 16, 37)


def test_missing_optional_fields_default_to_none(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "toi-gian.jsonl", [GOOD_A])
    assert read(path) == [Article(id="a", title="Tin thứ nhất", body="Nội dung bài thứ nhất.")]


def test_text_fields_are_unescaped_and_stripped() -> None:
    assert by_id(read(FIXTURES / "broken.jsonl"))["hong-04"] == Article(
        id="hong-04",
        title="Đèn lồng & công viên bờ sông Hoài",
        body="Mỗi tối rằm, phố cổ tắt đèn điện để thắp đèn lồng.",
        summary=None,
        author=None,
        category="Văn hóa",
        tags=("di sản", "Quảng Nam"),
    )


def test_text_is_not_otherwise_normalized(tmp_path: Path) -> None:
    decomposed = "Hoa\u0300 bi\u0300nh"  # NFD: the indexer normalizes, ingest must not
    path = write_lines(tmp_path / "nfd.jsonl", [json_line(id="x", title=decomposed, body="B")])
    assert articles(read(path))[0].title == decomposed


def test_gzip_jsonl_reads_like_plain(tmp_path: Path) -> None:
    plain = FIXTURES / "articles.jsonl"
    packed = tmp_path / "articles.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read(packed) == read(plain)


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    plain = FIXTURES / "articles.jsonl"
    renamed = tmp_path / "doi-ten.jsonl"
    renamed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read(renamed) == read(plain)


def test_json_file_of_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dong.json", [GOOD_A, GOOD_B])
    assert [article.id for article in articles(read(path))] == ["a", "b"]


def test_json_file_holding_an_array(tmp_path: Path) -> None:
    items = [
        {"id": "m1", "title": "Mảng một", "body": "Bài trong mảng JSON."},
        {"id": "m2", "title": "", "body": "Tiêu đề rỗng."},
        "không phải đối tượng",
        {"id": "m4", "title": "Mảng bốn", "body": "Bài cuối.", "published": "ngày mai"},
    ]
    path = tmp_path / "mang.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    records = read(path)
    assert [article.id for article in articles(records)] == ["m1", "m4"]
    assert rejects(records) == [
        (None, "item 2: empty field 'title'"),
        (None, "item 3: not a JSON object (got string)"),
    ]
    assert warnings(records) == [(None, "m4", "item 4: unparseable date in 'published': 'ngày mai'")]


# --- rejects: bad lines never hide good ones -----------------------------------


def test_broken_jsonl_rejects_name_line_and_reason() -> None:
    assert rejects(read(FIXTURES / "broken.jsonl")) == [
        (2, "malformed JSON: Unterminated string starting at column 62"),
        (3, "not a JSON object (got array)"),
        (5, "missing field 'id'"),
        (6, "empty field 'title'"),
        (7, "missing field 'body'"),
        (8, "field 'title' must be a string, got number"),
        (9, "field 'tags' must be a list of strings, got string"),
        (10, "field 'tags' must be a list of strings, item 2 is number"),
        (12, "field 'url' must be a string or null, got number"),
        (14, "field 'published' must be a string or null, got number"),
    ]


def test_broken_jsonl_keeps_every_good_record() -> None:
    ids = [article.id for article in articles(read(FIXTURES / "broken.jsonl"))]
    assert ids == ["hong-01", "hong-04", "hong-13", "hong-15"]


def test_unparseable_date_warns_and_keeps_article() -> None:
    records = read(FIXTURES / "broken.jsonl")
    assert warnings(records) == [(13, "hong-13", "unparseable date in 'published': 'hôm qua'")]
    assert by_id(records)["hong-13"].published is None


def test_reject_keeps_raw_excerpt() -> None:
    reject = next(r for r in read(FIXTURES / "broken.jsonl") if isinstance(r, Reject))
    assert reject.path == str(FIXTURES / "broken.jsonl")
    assert reject.raw.startswith('{"id": "hong-02"')
    assert not reject.raw.endswith("\n")


def test_raw_excerpt_is_capped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dai.jsonl", [b'{"id": "x", ' + "ồ".encode() * 2000])
    assert len(read(path)[0].raw) == 500  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{}", "missing field 'id'"),
        (b"null", "not a JSON object (got null)"),
        (b'"chu\xe1\xbb\x97i"', "not a JSON object (got string)"),
        (b"42", "not a JSON object (got number)"),
        (
            b'{"id": 7, "title": "T", "body": "B"}',
            "field 'id' must be a string, got number",
        ),
        (b'{"id": "  ", "title": "T", "body": "B"}', "empty field 'id'"),
        (b'{"id": "x", "title": "T", "body": "&nbsp;"}', "empty field 'body'"),
        (b'{"id": "x", "title": null, "body": "B"}', "missing field 'title'"),
        (
            b'{"id": "x", "title": ["T"], "body": "B"}',
            "field 'title' must be a string, got array",
        ),
        (b"{\"id\": 'x'}", "malformed JSON: Expecting value at column 8"),
        (b"Ti\xeau \xf0\x9f", "invalid UTF-8 at byte 3"),
    ],
)
def test_each_reject_reason(tmp_path: Path, line: bytes, reason: str) -> None:
    path = write_lines(tmp_path / "mot-dong.jsonl", [GOOD_A, line, GOOD_B])
    records = read(path)
    assert [article.id for article in articles(records)] == ["a", "b"]
    assert rejects(records) == [(2, reason)]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "trong.jsonl", [b"", GOOD_A, b"   \t", GOOD_B, b""])
    records = read(path)
    assert [article.id for article in articles(records)] == ["a", "b"]
    assert rejects(records) == []


def test_wrong_type_reasons_name_the_json_type(tmp_path: Path) -> None:
    lines = [
        b'{"id": "x", "title": "T", "body": "B", "author": {}}',
        b'{"id": "x", "title": "T", "body": "B", "tags": [null]}',
        b'{"id": "x", "title": "T", "body": true}',
    ]
    assert rejects(read(write_lines(tmp_path / "kieu.jsonl", lines))) == [
        (1, "field 'author' must be a string or null, got object"),
        (2, "field 'tags' must be a list of strings, item 1 is null"),
        (3, "field 'body' must be a string, got boolean"),
    ]


def test_invalid_utf8_line_does_not_stop_the_file(tmp_path: Path) -> None:
    bad = json_line(id="c", title="Tin hỏng", body="Nội dung.").replace("ỏ".encode(), b"\xe1\xbb")
    path = write_lines(tmp_path / "utf8.jsonl", [GOOD_A, bad, GOOD_B])
    records = read(path)
    assert [article.id for article in articles(records)] == ["a", "b"]
    assert rejects(records) == [(2, "invalid UTF-8 at byte 28")]
    assert "Tin h\ufffd" in records[1].raw  # type: ignore[union-attr]


def test_utf8_bom_on_first_line_is_ignored(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + GOOD_A, GOOD_B])
    assert [article.id for article in articles(read(path))] == ["a", "b"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(GOOD_A + b"\r\n" + GOOD_B + b"\r\n")
    assert [article.id for article in articles(read(path))] == ["a", "b"]


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    lines = [json_line(id=f"g{n}", title=f"Tin số {n}", body="Nội dung " * 50) for n in range(200)]
    packed = gzip.compress(b"".join(line + b"\n" for line in lines))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    records = read(path)
    good = articles(records)
    assert 0 < len(good) < 200
    assert [article.id for article in good] == [f"g{n}" for n in range(len(good))]
    assert records[-1] == Reject(
        str(path),
        len(good) + 1,
        f"truncated or corrupt gzip data after line {len(good)}: "
        "Compressed file ended before the end-of-stream marker was reached",
    )


# --- CSV ---------------------------------------------------------------------


def test_csv_record_spanning_lines() -> None:
    assert by_id(read(FIXTURES / "articles.csv"))["csv-01"] == Article(
        id="csv-01",
        url="https://bao.example.vn/kinh-te/gia-vang-csv-01.htm",
        title="Giá vàng đi ngang",
        summary="Giá vàng miếng giữ ở mức cao.",
        body="Sáng nay, giá vàng miếng niêm yết quanh 80 triệu đồng một lượng.\n\n"
        "Các chuyên gia khuyên người dân thận trọng.",
        author="Lan Hương",
        published=vn(2018, 7, 12, 15, 40),
        category="Kinh doanh",
        source="Báo Ví Dụ",
        tags=("vàng", "thị trường"),
    )


@pytest.mark.parametrize(
    ("article_id", "tags"),
    [
        ("csv-01", ("vàng", "thị trường")),  # ";"-separated
        ("csv-02", ("giao thông", "Cần Thơ")),  # ","-separated
        ("csv-05", ("Huế", "áo dài")),  # JSON list
        ("csv-08", ()),  # empty cell
    ],
)
def test_csv_tag_forms(article_id: str, tags: tuple[str, ...]) -> None:
    assert by_id(read(FIXTURES / "articles.csv"))[article_id].tags == tags


def test_csv_empty_cells_and_entities() -> None:
    assert by_id(read(FIXTURES / "articles.csv"))["csv-05"] == Article(
        id="csv-05",
        title="Huế vào mùa lễ hội",
        body="Lễ hội áo dài thu hút đông du khách.",
        published=vn(2024, 5, 1),
        category="Du lịch",
        source="Báo Ví Dụ",
        tags=("Huế", "áo dài"),
    )


def test_csv_rejects_and_warnings_name_lines() -> None:
    records = read(FIXTURES / "articles.csv")
    assert [article.id for article in articles(records)] == [
        "csv-01",
        "csv-02",
        "csv-05",
        "csv-08",
    ]
    assert rejects(records) == [
        (6, "expected 10 columns, got 5"),
        (7, "empty field 'title'"),
        (9, "field 'tags' is not a valid JSON list: Expecting ',' delimiter"),
    ]
    assert warnings(records) == [(11, "csv-08", "unparseable date in 'published': 'Thứ năm'")]


def test_csv_invalid_utf8_rejects_its_record_only(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "utf8.csv",
        [
            b"id,title,body",
            "c1,Một,Thân bài một".encode(),
            b'c2,Hai,"D\xf2ng m\xe1\xbb',
            b'ti\xe1\xbb\x81p theo"',
            "c3,Ba,Thân bài ba".encode(),
        ],
    )
    records = read(path)
    assert [article.id for article in articles(records)] == ["c1", "c3"]
    assert rejects(records) == [(3, "invalid UTF-8 at byte 10 of line 3")]


def test_csv_columns_in_any_order_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "thu-tu.csv",
        [b"Body,ID,ghi_chu,Title", "Nội dung,k1,bỏ qua,Tiêu đề".encode()],
    )
    assert read(path) == [Article(id="k1", title="Tiêu đề", body="Nội dung")]


def test_csv_without_required_column_is_an_ingest_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "thieu.csv", [b"id,title", b"x,Tin"])
    with pytest.raises(IngestError) as caught:
        read(path)
    assert (caught.value.path, caught.value.line, caught.value.reason) == (
        str(path),
        1,
        "CSV header lacks column(s): body",
    )


# --- page text -------------------------------------------------------------


def test_page_text_drops_site_furniture() -> None:
    assert read(FIXTURES / "001_vi_du_trang.txt") == [
        Article(
            id="page-001_vi_du_trang",
            title="Khánh thành thư viện số cho học sinh vùng cao",
            author="Hoàng Lan",
            published=vn(2023, 9, 5, 9, 15),
            body="Sáng 5/9, tại xã Tả Van (Lào Cai), thư viện số đầu tiên dành cho học sinh "
            "vùng cao đã chính thức mở cửa.\n\n"
            "Học sinh đọc sách trên máy tính bảng - Ảnh: Báo Ví Dụ\n\n"
            "Thư viện có 40 máy tính bảng và hơn 5.000 đầu sách điện tử bằng tiếng Việt "
            "và tiếng Mông.\n\n"
            "Thầy hiệu trưởng cho biết nhà trường sẽ mở cửa thư viện cả vào cuối tuần để "
            "phụ huynh cùng đọc với con.",
        )
    ]


def test_page_text_without_byline_or_dont_miss_list() -> None:
    assert read(FIXTURES / "002_khong_ngay.txt") == [
        Article(
            id="page-002_khong_ngay",
            title="Nông dân trồng cà phê theo hướng hữu cơ",
            body="Nhiều hộ ở Đắk Lắk đã bỏ phân hóa học, chuyển sang bón phân vi sinh tự ủ."
            "\n\nNăng suất giảm nhẹ nhưng giá bán cao hơn gần gấp đôi.",
        )
    ]


def test_page_text_bad_byline_date_warns_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ngay-hong.txt"
    path.write_text("\nTiêu đề\n\nPhóng viên| 45/13/2023 09:15\nThân bài.\n", encoding="utf-8")
    records = read(path)
    assert warnings(records) == [(4, "page-ngay-hong", "unparseable date in 'published': '45/13/2023 09:15'")]
    assert articles(records) == [
        Article(id="page-ngay-hong", title="Tiêu đề", author="Phóng viên", body="Thân bài.")
    ]


def test_page_text_without_body_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rong.txt"
    path.write_text("Chỉ có tiêu đề\nĐừng bỏ lỡ\n  • Tin khác\n", encoding="utf-8")
    assert rejects(read(path)) == [(None, "empty field 'body'")]


def test_page_text_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "hong.txt"
    path.write_bytes("Tiêu đề\n\nDòng tốt\nDòng ".encode() + b"\xff" + b"\n")
    assert rejects(read(path)) == [(4, "invalid UTF-8 at byte 7")]


def test_parse_page_text_is_pure() -> None:
    page = parse_page_text("Tiêu đề\nTác giả| 2023-09-05\nĐoạn một\n\nĐoạn hai\n")
    assert (
        page.title,
        page.author,
        page.published,
        page.published_line,
        page.body,
    ) == (
        "Tiêu đề",
        "Tác giả",
        "2023-09-05",
        2,
        "Đoạn một\n\nĐoạn hai",
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b/000_0b40b70c7b3deff6.txt", "page-000_0b40b70c7b3deff6"),
        ("trang.chu.html", "page-trang.chu"),
    ],
)
def test_page_id_comes_from_file_name(path: str, expected: str) -> None:
    assert page_id(path) == expected


# --- HTML --------------------------------------------------------------------


def test_html_with_meta_tags_and_article_element() -> None:
    assert read(FIXTURES / "meta_only.html") == [
        Article(
            id="page-meta_only",
            url="https://bao.example.vn/kinh-te/nguoi-tre-nong-nghiep-123.htm",
            title="Người trẻ làm nông nghiệp công nghệ cao",
            summary="Nhiều kỹ sư trẻ rời thành phố về quê trồng rau thủy canh.",
            body="Sau năm năm làm việc ở TP.HCM, anh Lê Minh Tâm quyết định về Lâm Đồng "
            "lập trang trại rau thủy canh.\n\n"
            "Trang trại rộng 2.000 m², mỗi tháng cung cấp hơn ba tấn rau cho siêu thị.\n\n"
            "Anh đang tuyển thêm năm kỹ sư.\n\n"
            "Khó khăn ban đầu\n\n"
            "Năm đầu tiên, anh mất gần hết vốn vì sâu bệnh và thời tiết.",
            author="Trần Văn Bình",
            published=vn(2023, 10, 2, 7, 45),
            category="Kinh doanh",
            source="Báo Ví Dụ",
            tags=("nông nghiệp", "khởi nghiệp"),
        )
    ]


def test_html_with_json_ld_only() -> None:
    assert read(FIXTURES / "json_ld.html") == [
        Article(
            id="page-json_ld",
            url="https://bao.example.vn/du-lich/ha-giang-tam-giac-mach-456.htm",
            title="Hà Giang mùa hoa tam giác mạch",
            summary="Những cánh đồng hoa nở rộ trên cao nguyên đá thu hút du khách.",
            body="Cuối tháng 10, hoa tam giác mạch phủ hồng các sườn đồi ở Đồng Văn.\n"
            "Nhiều homestay đã kín phòng đến hết tháng 11.",
            author="Vũ Thu Hà, Đỗ Nam",
            published=vn(2022, 10, 28, 6, 0),
            category="Du lịch",
            source="Báo Ví Dụ",
            tags=("Hà Giang", "tam giác mạch", "du lịch"),
        )
    ]


def test_html_falls_back_to_title_tag_and_warns_on_bad_json_ld(tmp_path: Path) -> None:
    path = tmp_path / "toi-gian.htm"
    path.write_text(
        "<html><head><title> Tin &amp; ảnh </title>"
        '<script type="application/ld+json">{"@type": "NewsArticle",</script></head>'
        "<body><article><p>Đoạn một<p>Đoạn hai</article></body></html>",
        encoding="utf-8",
    )
    records = read(path)
    assert warnings(records) == [
        (
            None,
            "page-toi-gian",
            "malformed JSON-LD block 1 ignored: Expecting property name enclosed in double quotes",
        )
    ]
    assert articles(records) == [Article(id="page-toi-gian", title="Tin & ảnh", body="Đoạn một\n\nĐoạn hai")]


def test_html_declared_charset_is_honoured(tmp_path: Path) -> None:
    # Windows-1258 writes tone marks as combining characters, so the text is NFD.
    title = unicodedata.normalize("NFD", "Tin cũ")
    path = tmp_path / "cp1258.html"
    html_text = (
        '<html><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=windows-1258">'
        f"<title>{title}</title></head>"
        "<body><article><p>Bài cũ</p></article></body></html>"
    )
    path.write_bytes(unicodedata.normalize("NFD", html_text).encode("cp1258"))
    assert articles(read(path))[0].title == title


def test_html_without_body_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rong.html"
    path.write_text("<html><head><title>Chỉ có tiêu đề</title></head></html>", encoding="utf-8")
    assert rejects(read(path)) == [(None, "missing field 'body'")]


# --- sources, directories, errors ------------------------------------------


def test_missing_file_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as caught:
        iter_records(tmp_path / "khong-co.jsonl")
    assert (caught.value.path, caught.value.reason) == (
        str(tmp_path / "khong-co.jsonl"),
        "no such file",
    )


def test_unknown_format_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "bai.xml"
    path.write_text("<bai/>", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        iter_records(path)
    assert caught.value.reason.startswith("unknown source format (supported: .jsonl.gz")


def test_iter_sources_checks_every_path_before_reading(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as caught:
        iter_sources([FIXTURES / "articles.jsonl", tmp_path / "thieu.csv"])
    assert caught.value.reason == "no such file or directory"


def test_directory_without_sources_is_an_ingest_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("ghi chú", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        expand_sources([tmp_path])
    assert caught.value.reason.startswith("no supported source files")


def test_directory_source_is_recursive_sorted_and_skips_others(tmp_path: Path) -> None:
    (tmp_path / "b" / "sau").mkdir(parents=True)
    (tmp_path / ".an").mkdir()
    shutil.copy(FIXTURES / "articles.jsonl", tmp_path / "b" / "sau" / "z.jsonl")
    shutil.copy(FIXTURES / "json_ld.html", tmp_path / "b" / "a.html")
    shutil.copy(FIXTURES / "articles.csv", tmp_path / "a.csv")
    shutil.copy(FIXTURES / "articles.jsonl", tmp_path / ".an" / "bi-an.jsonl")
    (tmp_path / "README.md").write_text("không phải nguồn", encoding="utf-8")
    assert expand_sources([tmp_path]) == [
        tmp_path / "a.csv",
        tmp_path / "b" / "a.html",
        tmp_path / "b" / "sau" / "z.jsonl",
    ]


def test_sources_mix_directories_and_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "thu-muc").mkdir()
    shutil.copy(FIXTURES / "articles.jsonl", tmp_path / "thu-muc" / "z.jsonl")
    shutil.copy(FIXTURES / "json_ld.html", tmp_path / "thu-muc" / "a.html")
    single = write_lines(tmp_path / "mot.jsonl", [GOOD_A])
    records = list(iter_sources([tmp_path / "thu-muc", single]))
    ids = [article.id for article in articles(records)]
    assert ids == ["page-a", "vd-001", "vd-002", "vd-003", "a"]


def test_write_rejects_writes_json_lines(tmp_path: Path) -> None:
    found = [record for record in read(FIXTURES / "broken.jsonl") if isinstance(record, Reject)]
    target = tmp_path / "out" / "rejects.jsonl"
    assert write_rejects(found[:2], target) == 2
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {
            "path": str(FIXTURES / "broken.jsonl"),
            "line": 2,
            "reason": "malformed JSON: Unterminated string starting at column 62",
            "raw": '{"id": "hong-02", "title": "Dòng bị cắt giữa chừng", "body": "Dòng này thiếu dấu đóng',
        },
        {
            "path": str(FIXTURES / "broken.jsonl"),
            "line": 3,
            "reason": "not a JSON object (got array)",
            "raw": "[1, 2, 3]",
        },
    ]


def test_ingest_report_collects_rejects_and_warnings() -> None:
    report = IngestReport()
    ids = [article.id for article in report.collect(iter_sources([FIXTURES / "broken.jsonl"]))]
    assert (ids, report.articles, len(report.rejects), len(report.warnings)) == (
        ["hong-01", "hong-04", "hong-13", "hong-15"],
        4,
        10,
        1,
    )


# --- the shared corpus sample with broken lines ---------------------------


def test_sample_corpus_with_broken_lines_keeps_all_good_records(tmp_path: Path) -> None:
    if not SAMPLE.is_file():
        pytest.skip(f"shared corpus sample not found at {SAMPLE}")
    good = SAMPLE.read_bytes().splitlines()
    inserted = {
        11: b'{"id": "hong-json", "title": "Thi\xe1\xba\xbfu ngo\xe1\xba\xb7c"',
        250: json_line(id="hong-title", body="Không có tiêu đề nào cả."),
        500: b'{"id": "hong-utf8", "title": "T\xe1\xbb", "body": "x"}',
        777: b'["kh\xc3\xb4ng", "ph\xe1\xba\xa3i", "\xc4\x91\xe1\xbb\x91i t\xc6\xb0\xe1\xbb\xa3ng"]',
    }
    lines: list[bytes] = []
    for line in good:
        while len(lines) + 1 in inserted:
            lines.append(inserted[len(lines) + 1])
        lines.append(line)
    path = write_lines(tmp_path / "sample-hong.jsonl", lines)
    records = read(path)
    expected_ids = [json.loads(line)["id"] for line in good]
    assert [article.id for article in articles(records)] == expected_ids
    assert len(expected_ids) == 1000
    assert rejects(records) == [
        (11, "malformed JSON: Expecting ',' delimiter at column 43"),
        (250, "missing field 'title'"),
        (500, "invalid UTF-8 at byte 32"),
        (777, "not a JSON object (got array)"),
    ]


# ---------------------------------------------------------------------------
# Text that cannot be encoded, and the article size limit (issue 10)


def test_lone_surrogates_and_non_characters_are_replaced_with_a_warning(tmp_path: Path) -> None:
    # A JSON "\ud800" escape is the way a lone surrogate gets into a Python string.
    source = write_lines(
        tmp_path / "surrogates.jsonl",
        [
            GOOD_A,
            b'{"id": "surr", "title": "a\\ud800b", "body": "x", "tags": ["t\\udfff"]}',
            json_line(id="nonchar", title="Tin nóng", body="Giá vàng\ufffe tăng\ufdd0 mạnh"),
            b'{"id": "bad\\ud800", "title": "Tin", "body": "x"}',
        ],
    )
    records = read(source)
    found = by_id(records)
    assert (found["surr"].title, found["surr"].tags) == ("a\ufffdb", ("t\ufffd",))
    assert found["nonchar"].body == "Giá vàng\ufffd tăng\ufffd mạnh"
    assert warnings(records) == [
        (2, "surr", "field 'title': 1 character that cannot be encoded (first U+D800) replaced by U+FFFD"),
        (2, "surr", "field 'tags': 1 character that cannot be encoded (first U+DFFF) replaced by U+FFFD"),
        (3, "nonchar", "field 'body': 2 characters that cannot be encoded (first U+FFFE) replaced by U+FFFD"),
    ]
    assert rejects(records) == [(4, "field 'id' has a character that cannot be encoded (U+D800)")]
    for article in articles(records):
        json.dumps(article.__dict__, ensure_ascii=False, default=str).encode("utf-8")


def test_rejects_file_with_unencodable_text_is_written(tmp_path: Path) -> None:
    source = tmp_path / "array.json"
    source.write_text('[{"id": "x\\ud800", "title": "t", "body": "b"}]', encoding="utf-8")
    records = read(source)
    assert rejects(records) == [(None, "item 1: field 'id' has a character that cannot be encoded (U+D800)")]
    target = tmp_path / "rejects.jsonl"
    assert write_rejects([r for r in records if isinstance(r, Reject)], target) == 1
    assert (
        json.loads(target.read_text(encoding="utf-8"))["raw"]
        == '{"id": "x\ufffd", "title": "t", "body": "b"}'
    )


def long_body(chars: int) -> str:
    """Return a Vietnamese body of about ``chars`` characters (no space at either end)."""
    sentence = "Mưa lớn kéo dài ở Hà Nội, nhiều tuyến phố ngập sâu. "
    return (sentence * (chars // len(sentence) + 1))[:chars].strip()


def test_a_body_over_the_article_limit_is_cut_with_a_warning(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "long.jsonl",
        [
            GOOD_A,
            json_line(id="long", title="Mưa lớn", body=long_body(5_000)),
            GOOD_A.replace(b'"a"', b'"c"'),
        ],
    )
    records = list(iter_sources([source], IngestLimits(max_article_chars=1_000)))
    long = by_id(records)["long"]
    assert len(long.id) + len(long.title) + len(long.body) <= 1_000
    assert len(long.body) > 800
    assert long.body == long_body(5_000)[: len(long.body)]
    assert long.body.endswith(("phố", "ngập", "sâu.", "lớn", "Nội,"))
    assert warnings(records) == [
        (
            2,
            "long",
            f"field 'body' cut from {len(long_body(5_000)):,} to {len(long.body):,} characters (index.max_article_chars is 1,000)",
        )
    ]
    assert sorted(by_id(records)) == ["a", "c", "long"]


def test_a_record_whose_other_fields_exceed_the_limit_is_rejected(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "title.jsonl", [json_line(id="t", title="Tít " * 400, body="x"), GOOD_A])
    records = list(iter_sources([source], IngestLimits(max_article_chars=1_000)))
    assert rejects(records) == [
        (
            1,
            "the fields besides 'body' have 1,600 characters, more than the index.max_article_chars limit of 1,000",
        )
    ]
    assert sorted(by_id(records)) == ["a"]


def test_default_article_limit_is_the_config_default(tmp_path: Path) -> None:
    huge = long_body(IndexSettings().max_article_chars + 10_000)
    source = write_lines(tmp_path / "huge.jsonl", [json_line(id="huge", title="T", body=huge)])
    article = by_id(read(source))["huge"]
    assert len(article.body) <= IndexSettings().max_article_chars
    assert IngestLimits.from_settings(IndexSettings(max_article_chars=5)) == IngestLimits(5)
