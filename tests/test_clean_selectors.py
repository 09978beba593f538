"""Selector prefiltering never changes what a query finds; it only leaves out selectors that find nothing."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from thresher.clean.selectors import PageTokens, SelectorList, in_markup
from thresher.extract.profiles import default_profiles

PAGES = sorted(Path(__file__).resolve().parents[1].joinpath("fixtures", "pages").rglob("*.html*"))


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _ids(nodes: list[object]) -> list[int]:
    return [node.mem_id for node in nodes]  # type: ignore[attr-defined]


def _lists() -> list[SelectorList]:
    profiles = default_profiles()
    catalogue = profiles.catalogue
    lists = [catalogue.ad_list, catalogue.chrome_list, SelectorList(catalogue.related_selector)]
    for profile in profiles.profiles:
        kinds = (profile.strip, profile.listing, profile.page, profile.article)
        lists += [SelectorList(s) for s in kinds if s]
    return lists


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_filtered_lists_find_what_the_full_lists_find_on_every_fixture(path: Path) -> None:
    tree = LexborHTMLParser(_read(path))
    for scope in (tree.root, tree.body):
        tokens = PageTokens.of(scope)
        for selectors in _lists():
            full = scope.css(selectors.text)
            narrowed = selectors.for_page(tokens)
            assert _ids(scope.css(narrowed) if narrowed else []) == _ids(full), selectors.text[:80]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_related_markers_are_in_the_markup_of_every_page_with_a_related_block(path: Path) -> None:
    page = _read(path)
    catalogue = default_profiles().catalogue
    markers = catalogue.related_markers
    assert markers is not None
    if LexborHTMLParser(page).css_first(catalogue.related_selector) is not None:
        assert any(in_markup(page.lower(), marker) for marker in markers)


def test_subject_requirements() -> None:
    tokens = PageTokens.of(
        LexborHTMLParser(
            '<div class="Post-Nav x" id="main"><a href="https://shop.pxf.io/c/1" data-x>t</a>'
            '<i class="fa-b"></i></div>'
        ).root
    )
    cases = {
        ".post-nav": True,  # compared lower-cased: never narrower than a quirks-mode match
        ".post-navigation": False,
        "#main": True,
        "#comments": False,
        "div.x": True,
        "span.x": False,
        "nav .x": True,  # only the subject (last compound) is required
        ".x > svg": False,
        "a[href*='.pxf.io/c/' i]": True,
        "a[href*='.sjv.io/c/' i]": False,
        "[data-x]": True,
        "[data-y]": False,
        "i[class*='fa-']": True,
        "noscript:not(:has(img))": False,
        "div:has(.x)": True,
    }
    for selector, admitted in cases.items():
        assert (SelectorList(selector).for_page(tokens) != "") is admitted, selector


def test_unreadable_selectors_are_always_kept() -> None:
    selectors = SelectorList("div.a, a[href=unterminated, p::first-line")
    assert selectors.for_page(PageTokens.of(LexborHTMLParser("<p>x</p>").root))
    assert selectors.markers() is None


def test_markers_drop_those_that_contain_another() -> None:
    assert SelectorList(".related, .yarpp-related, .crp_related, #jp-relatedposts, .yarpp").markers() == (
        b"related",
        b"yarpp",
    )
    assert SelectorList(".related, aside").markers() is None


def test_in_markup_sees_tags_not_text() -> None:
    assert in_markup(b'<div class="related">x</div>', b"related")
    assert not in_markup(b"<p>some related words</p>", b"related")
    assert in_markup(b'<p>related</p><div data-a="1>2" class="related">', b"related")
    assert in_markup(b"<p>unterminated related", b"related")
    assert not in_markup(b"<p>nothing</p>", b"related")


@settings(max_examples=200, deadline=None)
@given(
    classes=st.lists(
        st.sampled_from(["related", "ad-slot", "x", "Sponsor", "mv_slot_target", "fa-x"]), max_size=4
    ),
    tag=st.sampled_from(["div", "aside", "i", "ins", "section"]),
    text=st.sampled_from(["", "related", "<b>related</b>"]),
)
def test_filtering_is_exact_on_generated_pages(classes: list[str], tag: str, text: str) -> None:
    html = f'<main><{tag} class="{" ".join(classes)}">{text}</{tag}><p>{text}</p></main>'
    tree = LexborHTMLParser(html)
    tokens = PageTokens.of(tree.root)
    for selectors in _lists():
        narrowed = selectors.for_page(tokens)
        assert _ids(tree.css(narrowed) if narrowed else []) == _ids(tree.css(selectors.text))


@settings(max_examples=300, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(
            st.sampled_from(["div", "section", "aside", "ul"]),
            st.sampled_from(["", "Related", "related-posts x", "yarpp", "crp_related", "RelatedPosts"]),
            st.sampled_from(["", "a>b", "<x>", "'related'", "1>2 and 3<4"]),
            st.sampled_from(["", "related reading", "see <b>yarpp</b>", "a > b < c"]),
        ),
        max_size=4,
    )
)
def test_related_markers_never_miss_a_related_block(blocks: list[tuple[str, str, str, str]]) -> None:
    page = "".join(
        f'<{tag} data-note="{note}" class="{cls}">{text}</{tag}>' for tag, cls, note, text in blocks
    ).encode()
    catalogue = default_profiles().catalogue
    markers = catalogue.related_markers
    assert markers is not None
    if LexborHTMLParser(page).css_first(catalogue.related_selector) is not None:
        assert any(in_markup(page.lower(), marker) for marker in markers)
