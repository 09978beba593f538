"""`export_corpus` against real temporary archives: every option, the manifest, atomic writing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import thresher
from export_helpers import build_archive, fixture_articles, later, mutate, variant
from thresher.errors import ExportError
from thresher.export import RECORD_KEYS, ExportOptions, Filters, export_corpus
from thresher.export import writers as writers_module
from thresher.models import Article

DISK = "https://redefine.example.test/post-disk-cleanup/"
COPY = "https://copy.example.test/disk/"
NEAR = "https://near.example.test/disk/"
EARLY_NEAR = "https://early.example.test/disk/"
BOILER = "https://boiler.example.test/classic/"
FRENCH = "https://fr.example.test/post/"


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    base = fixture_articles()
    disk = next(a for a in base if a.url == DISK)
    classic = next(a for a in base if "post-classic" in a.url)
    boiler = (
        "Home > Laptops > Battery\n\nBy Jane Doe\n\nUpdated on March 3, 2025\n\n"
        + classic.markdown
        + "\n\nShare this:\n\nWas this article helpful?\n\nYes No\n\n**Free Download**"
    )
    return [
        *base,
        variant(disk, COPY, published=later(disk, 3)),  # exact copy, later
        variant(disk, NEAR, markdown=mutate(disk.markdown, 150), published=later(disk, 5)),  # near, later
        variant(classic, BOILER, markdown=boiler, published=later(classic, 1), tags=["Battery", "boiler"]),
        variant(
            classic,
            FRENCH,
            markdown="Un court article en français sur la batterie.",
            published=datetime(2023, 1, 1, tzinfo=UTC),
            lang="fr",
        ),
    ]


@pytest.fixture
def archive(tmp_path: Path, articles: list[Article]) -> thresher.Archive:
    with build_archive(tmp_path / "archive", articles) as arch:
        yield arch  # type: ignore[misc]


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _urls(path: Path) -> list[str]:
    return [r["url"] for r in _records(path)]


def _manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name + ".manifest.json").read_text(encoding="utf-8"))


def test_default_export_jsonl_records_and_manifest(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    report = export_corpus(archive, out)
    records = _records(out)
    assert all(list(r) == list(RECORD_KEYS) for r in records)  # same keys, same order, every record
    assert json.loads(json.dumps(records)) == records
    urls = [r["url"] for r in records]
    assert COPY not in urls and DISK in urls and NEAR in urls  # exact by default, not near
    dated = [r["published"] for r in records if r["published"]]
    assert dated == sorted(dated)  # earliest published first
    disk = next(r for r in records if r["url"] == DISK)
    assert disk["site"] == "redefine.example.test" and disk["tags"] == ["storage", "windows-11"]
    assert len(disk["also_read"]) == 6 and all(u.startswith("https://") for u in disk["also_read"])
    assert disk["id"] == hashlib.sha256(DISK.encode()).hexdigest()[:16]
    assert disk["word_count"] == len(disk["text"].split()) and disk["content_hash"].startswith("sha256:")
    assert "markdown" not in disk

    manifest = _manifest(out)
    assert manifest["thresher_version"] == thresher.__version__
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == report.sha256
    assert manifest["counts"] == {
        "read": len(archive),
        "dropped": {"kind": 4},  # two listings, the home page and the about page
        "duplicates_removed": {"exact": 1},
        "written": len(records),
    }
    assert manifest["clusters"] == [{"kind": "exact", "kept": DISK, "duplicates": [COPY]}]
    assert manifest["options"]["dedupe"] == "exact" and manifest["options"]["filters"]["site"] is None
    assert manifest["created_at"].endswith("Z") and manifest["format"] == "jsonl"


def test_jsonl_loads_with_pandas(archive: thresher.Archive, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    out = tmp_path / "c.jsonl"
    export_corpus(archive, out, ExportOptions(with_markdown=True))
    frame = pd.read_json(out, lines=True)
    assert list(frame.columns) == [*RECORD_KEYS, "markdown"]


def test_dedupe_none_exact_near(archive: thresher.Archive, tmp_path: Path) -> None:
    none, exact, near = tmp_path / "none", tmp_path / "exact", tmp_path / "near"
    export_corpus(archive, none, ExportOptions(dedupe="none"))
    export_corpus(archive, exact, ExportOptions(dedupe="exact"))
    export_corpus(archive, near, ExportOptions(dedupe="near"))
    assert {DISK, COPY, NEAR} <= set(_urls(none))
    assert set(_urls(none)) - set(_urls(exact)) == {COPY}
    # the boilerplate-wrapped copy of post-classic is a near duplicate too
    assert set(_urls(none)) - set(_urls(near)) == {COPY, NEAR, BOILER}
    manifest = _manifest(near)
    assert manifest["counts"]["duplicates_removed"] == {"exact": 1, "near": 2}
    assert {"kind": "near", "kept": DISK, "duplicates": [NEAR]} in manifest["clusters"]
    assert manifest["options"]["threshold"] == 0.8
    assert _manifest(none)["clusters"] == [] and _manifest(none)["counts"]["duplicates_removed"] == {}


def test_near_keeps_the_earliest_published_copy(
    tmp_path: Path, articles: list[Article], archive: thresher.Archive
) -> None:
    disk = next(a for a in articles if a.url == DISK)
    assert disk.published is not None
    archive.add(variant(disk, EARLY_NEAR, markdown=mutate(disk.markdown, 200), published=later(disk, -30)))
    out = tmp_path / "near.jsonl"
    export_corpus(archive, out, ExportOptions(dedupe="near"))
    urls = _urls(out)
    assert EARLY_NEAR in urls and DISK not in urls and NEAR not in urls
    near = [c for c in _manifest(out)["clusters"] if c["kind"] == "near" and "disk" in c["kept"]]
    assert near == [{"kind": "near", "kept": EARLY_NEAR, "duplicates": [DISK, NEAR]}]


def test_near_threshold_is_configurable(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "strict-threshold"
    export_corpus(archive, out, ExportOptions(dedupe="near", threshold=0.99))
    assert NEAR in _urls(out)
    assert _manifest(out)["options"]["threshold"] == 0.99


def test_clean_strict_removes_boilerplate_and_counts_it(archive: thresher.Archive, tmp_path: Path) -> None:
    basic, strict = tmp_path / "basic", tmp_path / "strict"
    export_corpus(archive, basic, ExportOptions(clean="basic", with_markdown=True, dedupe="none"))
    export_corpus(archive, strict, ExportOptions(clean="strict", with_markdown=True, dedupe="none"))
    before = next(r for r in _records(basic) if r["url"] == BOILER)
    after = next(r for r in _records(strict) if r["url"] == BOILER)
    for junk in (
        "Home > Laptops > Battery",
        "By Jane Doe",
        "Updated on",
        "Share this:",
        "Yes No",
        "Free Download",
    ):
        assert junk in before["text"] and junk not in after["text"], junk
        assert junk in before["markdown"] and junk not in after["markdown"], junk
    assert after["word_count"] < before["word_count"]
    classic = next(r for r in _records(strict) if "post-classic" in r["url"])
    assert classic["text"] in after["text"]  # every line of the article itself is still there
    removed = _manifest(strict)["strict_lines_removed"]
    assert {"breadcrumb", "byline", "dateline", "share", "feedback", "button"} <= set(removed)
    assert _manifest(basic)["strict_lines_removed"] == {}
    # once cleaned, the wrapped copy is the article itself: exact dedupe catches it
    exact = tmp_path / "strict-exact"
    export_corpus(archive, exact, ExportOptions(clean="strict"))
    assert BOILER not in _urls(exact)


def test_min_words_drops_short_articles(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "long"
    export_corpus(archive, out, ExportOptions(min_words=100))
    assert FRENCH not in _urls(out)
    assert all(r["word_count"] >= 100 for r in _records(out))
    assert _manifest(out)["counts"]["dropped"]["min_words"] == 1


@pytest.mark.parametrize(
    ("filters", "expected", "reason"),
    [
        (Filters(lang="fr"), {FRENCH}, "lang"),
        (Filters(lang="en-GB"), {"https://wordpress.example.test/post-classic/", BOILER}, "lang"),
        (Filters(site="near.example.test"), {NEAR}, "site"),
        (Filters(tag="BOILER"), {BOILER}, "tag"),
        (Filters(since=datetime(2025, 2, 12, tzinfo=UTC)), None, "since"),
        (Filters(until=datetime(2023, 6, 1, tzinfo=UTC)), {FRENCH}, "until"),
        (Filters(query="français"), {FRENCH}, "query"),
        (Filters(query='"fuel gauge"'), {"https://wordpress.example.test/post-classic/", BOILER}, "query"),
    ],
)
def test_filters(
    archive: thresher.Archive, tmp_path: Path, filters: Filters, expected: set[str] | None, reason: str
) -> None:
    out = tmp_path / "f.jsonl"
    report = export_corpus(archive, out, ExportOptions(filters=filters))
    records = _records(out)
    if expected is not None:
        assert {r["url"] for r in records} == expected
    else:
        assert records and all(r["published"] >= "2025-02-12" for r in records)
    assert report.dropped[reason] > 0
    assert _manifest(out)["options"]["filters"][reason] is not None


def test_lang_prefix_matches_regional_variants(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "en"
    export_corpus(archive, out, ExportOptions(filters=Filters(lang="en")))
    urls = _urls(out)
    assert FRENCH not in urls and "https://wordpress.example.test/post-ads/" in urls  # en-US


def test_a_query_that_matches_nothing_writes_an_empty_file(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "none.jsonl"
    report = export_corpus(archive, out, ExportOptions(filters=Filters(query="zzzznotthere")))
    assert out.read_bytes() == b"" and report.written == 0


def test_all_kinds_includes_pages_and_listings(archive: thresher.Archive, tmp_path: Path) -> None:
    out = tmp_path / "all"
    export_corpus(archive, out, ExportOptions(filters=Filters(kinds=("article", "listing", "page"))))
    assert "kind" not in _manifest(out)["counts"]["dropped"]
    assert "https://redefine.example.test/listing-tag/" in _urls(out)


def test_with_markdown_adds_the_body(
    archive: thresher.Archive, tmp_path: Path, articles: list[Article]
) -> None:
    out = tmp_path / "md.jsonl"
    export_corpus(archive, out, ExportOptions(with_markdown=True))
    disk = next(r for r in _records(out) if r["url"] == DISK)
    original = next(a for a in articles if a.url == DISK)
    assert disk["markdown"] == original.markdown.strip("\n")
    assert all(list(r) == [*RECORD_KEYS, "markdown"] for r in _records(out))


def test_parquet_has_the_same_records(archive: thresher.Archive, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    jsonl, parquet = tmp_path / "c.jsonl", tmp_path / "c.parquet"
    export_corpus(archive, jsonl, ExportOptions(with_markdown=True))
    report = export_corpus(archive, parquet, ExportOptions(format="parquet", with_markdown=True))
    table = pq.read_table(parquet)
    assert table.column_names == [*RECORD_KEYS, "markdown"]
    assert table.to_pylist() == _records(jsonl)
    assert report.sha256 == hashlib.sha256(parquet.read_bytes()).hexdigest()


def test_parquet_without_pyarrow_is_one_clear_error(
    archive: thresher.Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "c.parquet"
    with pytest.raises(ExportError, match=r"pip install 'thresher\[parquet\]'"):
        export_corpus(archive, out, ExportOptions(format="parquet"))
    assert list(tmp_path.iterdir()) == [tmp_path / "archive"]


def test_txt_and_md_formats(archive: thresher.Archive, tmp_path: Path) -> None:
    txt, md, jsonl = tmp_path / "c.txt", tmp_path / "c.md", tmp_path / "c.jsonl"
    export_corpus(archive, jsonl, ExportOptions(with_markdown=True))
    export_corpus(archive, txt, ExportOptions(format="txt"))
    export_corpus(archive, md, ExportOptions(format="md"))
    records = _records(jsonl)
    texts = txt.read_text(encoding="utf-8").split("\n\f\n")
    assert texts[:-1] == [r["text"] for r in records] and texts[-1] == ""
    documents = md.read_text(encoding="utf-8")
    assert documents.count("\n---\n\n") == len(records)
    first = records[0]
    assert documents.startswith(f"---\nid: {first['id']}\nurl: {first['url']}\n")
    assert first["markdown"] in documents


def test_an_error_mid_export_leaves_nothing_at_out(
    archive: thresher.Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "c.jsonl"
    out.write_text("the previous export\n")
    calls = 0
    original = writers_module.JsonlWriter.write

    def failing(self: writers_module.JsonlWriter, record: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        original(self, record)

    monkeypatch.setattr(writers_module.JsonlWriter, "write", failing)
    with pytest.raises(KeyboardInterrupt):
        export_corpus(archive, out)
    assert out.read_text() == "the previous export\n"  # untouched: the new one never replaced it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "c.jsonl"]  # no temp file, no manifest


def test_bad_options_and_outputs(archive: thresher.Archive, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="format"):
        export_corpus(archive, tmp_path / "x", ExportOptions(format="csv"))
    with pytest.raises(ExportError, match="threshold"):
        export_corpus(archive, tmp_path / "x", ExportOptions(dedupe="near", threshold=1.5))
    with pytest.raises(ExportError, match="folder"):
        export_corpus(archive, tmp_path)
    with pytest.raises(ExportError, match="cannot write"):
        export_corpus(archive, tmp_path / "missing" / "x.jsonl")


def test_progress_is_reported(archive: thresher.Archive, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    export_corpus(archive, tmp_path / "p", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == len(archive) - 4


def test_records_are_typed_dataclasses() -> None:
    from thresher.export import ExportRecord

    record = ExportRecord(
        id="x", url="u", site="s", title="t", published=None, updated=None, author=None, lang=None
    )
    assert list(record.to_dict()) == list(RECORD_KEYS)
    assert dataclasses.is_dataclass(record)


def test_rows_stream_in_batches_in_publication_order(archive: thresher.Archive) -> None:
    from collections import Counter

    from thresher.export.records import iter_rows, select_ids

    ids = select_ids(archive, Filters(), Counter())
    whole = [r.url for r in iter_rows(archive, ids)]
    assert [r.url for r in iter_rows(archive, ids, batch=2)] == whole
    published = [r.published for r in iter_rows(archive, ids) if r.published]
    assert published == sorted(published)
