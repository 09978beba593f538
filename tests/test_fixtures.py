"""Golden tests over the fixture sites: every template family, every field, every ad pattern.

Each ``fixtures/pages/<family>/<name>.html`` comes with:
- ``<name>.expected.json``: the metadata, links and body facts the page states (written with the page);
- ``<name>.expected.md``: the reviewed extractor output (golden); regenerate with
  ``THRESHER_REGEN_GOLDEN=1 pytest tests/test_fixtures.py`` and review the diff;
- optionally ``<name>.body.md``: the article body as its author would have written it, the reference for
  the F1 quality gate whose floors are pinned in ``fixtures/floors.json``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

import thresher
from thresher.quality import ad_remnants, markdown_to_text, score_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES = sorted(p for p in (FIXTURES / "pages").rglob("*.html") if p.with_suffix(".expected.json").exists())
IDS = [str(p.relative_to(FIXTURES / "pages")) for p in PAGES]
FLOORS = FIXTURES / "floors.json"
_WS = re.compile(r"\s+")


def _expected(page: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return data


def _extract(page: Path) -> thresher.Article:
    return thresher.extract(page.read_bytes(), _expected(page)["url"])


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_there_are_fixtures_for_every_family() -> None:
    families = {p.parent.name for p in PAGES}
    assert {
        "redefine",
        "landscape",
        "next",
        "butterfly",
        "fluid",
        "icarus",
        "wordpress",
        "plainblog",
        "news",
    } <= families


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_metadata(page: Path) -> None:
    exp = _expected(page)
    art = _extract(page)
    assert art.kind == exp["kind"]
    assert art.canonical_url == exp["canonical_url"]
    assert art.title == exp["title"]
    if exp["kind"] != "article":
        return
    for name in ("author", "description", "thumbnail", "site_name", "lang"):
        if name in exp:
            assert getattr(art, name) == exp[name], name
    for name in ("published", "updated"):
        if name in exp:
            assert getattr(art, name) == _instant(exp[name]), name
    for name in ("tags", "categories"):
        assert getattr(art, name) == exp.get(name, []), name
    assert [link.url for link in art.also_read] == exp.get("also_read", [])
    assert [link.url for link in art.related] == exp.get("related", [])
    assert all(link.title for link in art.also_read + art.related)
    got_aff = [(a.url, a.network) for a in art.affiliate_links]
    want_aff = [(a["url"], a["network"]) for a in exp.get("affiliate_links", [])]
    assert got_aff == want_aff


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_body_keeps_the_grain_and_loses_the_chaff(page: Path) -> None:
    exp = _expected(page)
    art = _extract(page)
    text = _norm(art.text)
    for sentence in exp.get("body_must_contain", []):
        assert _norm(sentence) in text, sentence
    for chaff in exp.get("body_must_not_contain", []):
        assert chaff not in art.markdown, chaff
    assert ad_remnants(art.markdown) == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_markdown_is_commonmark_without_raw_html(page: Path) -> None:
    art = _extract(page)
    tokens = MarkdownIt("commonmark").enable("table").parse(art.markdown)
    stack = list(tokens)
    while stack:
        token = stack.pop()
        assert token.type not in ("html_block", "html_inline"), token.content
        stack.extend(token.children or [])


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_golden_markdown(page: Path) -> None:
    golden = page.with_suffix(".expected.md")
    got = _extract(page).to_markdown()
    if os.environ.get("THRESHER_REGEN_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden file; run THRESHER_REGEN_GOLDEN=1 pytest {__file__}"
    assert got == golden.read_text(encoding="utf-8")


def _floors() -> dict[str, float]:
    data: dict[str, float] = json.loads(FLOORS.read_text(encoding="utf-8")) if FLOORS.exists() else {}
    return data


REFERENCED = [p for p in PAGES if p.with_suffix(".body.md").exists()]


@pytest.mark.parametrize("page", REFERENCED, ids=[str(p.relative_to(FIXTURES / "pages")) for p in REFERENCED])
def test_quality_gate(page: Path) -> None:
    """Body F1 against the hand-written reference never drops below its pinned floor."""
    key = str(page.relative_to(FIXTURES / "pages"))
    floor = _floors().get(key)
    assert floor is not None, f"{key} has a reference body but no floor in {FLOORS.name}"
    reference = markdown_to_text(page.with_suffix(".body.md").read_text(encoding="utf-8"))
    score = score_body(reference, _extract(page).text)
    assert score.f1 >= floor, f"{key}: F1 {score.f1:.3f} < floor {floor}"


def test_every_reference_has_a_floor_and_floors_are_strict() -> None:
    floors = _floors()
    for page in REFERENCED:
        key = str(page.relative_to(FIXTURES / "pages"))
        assert key in floors
        assert 0.9 <= floors[key] <= 1.0
