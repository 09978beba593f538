"""The devset metric (thresher.quality) on small hand-computed examples."""

from __future__ import annotations

from collections import Counter

import pytest

from thresher.quality import (
    AD_MARKERS,
    BodyScore,
    ad_remnants,
    aggregate,
    markdown_to_text,
    score_body,
    shingles,
    tokens,
)

# --- tokens and shingles ------------------------------------------------------------------------------------


def test_tokens_are_word_runs_case_kept() -> None:
    got = tokens("Hello, world! it's 3.5 — Ünïcode_ok")
    assert got == ["Hello", "world", "it", "s", "3", "5", "Ünïcode_ok"]
    assert tokens(" ,.;! ") == []


def test_shingles_are_overlapping_4grams() -> None:
    assert shingles(["a", "b", "c", "d", "e"]) == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles(["a", "b", "c", "d"]) == Counter({("a", "b", "c", "d"): 1})


def test_shingles_are_a_multiset() -> None:
    got = shingles(["x", "y", "z", "w"] * 2)
    assert got[("x", "y", "z", "w")] == 2
    assert got.total() == 5  # 8 tokens -> 5 windows


@pytest.mark.parametrize(
    ("toks", "expected"),
    [
        (["a"], Counter({("a",): 1})),
        (["a", "b"], Counter({("a", "b"): 1})),
        (["a", "b", "c"], Counter({("a", "b", "c"): 1})),
        ([], Counter()),
    ],
)
def test_one_to_three_tokens_make_one_short_shingle(
    toks: list[str], expected: Counter[tuple[str, ...]]
) -> None:
    assert shingles(toks) == expected


def test_shingle_size_is_a_parameter() -> None:
    assert shingles(["a", "b", "c"], n=2) == Counter({("a", "b"): 1, ("b", "c"): 1})


# --- per-page scores ----------------------------------------------------------------------------------------


def test_one_changed_last_word() -> None:
    # expected: abcd bcde cdef; got: abcd bcde cdeg
    score = score_body("a b c d e f", "a b c d e g")
    assert score == BodyScore(tp=2, fp=1, fn=1)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 / 3)


def test_repeated_shingles_count_once_each() -> None:
    # expected: abcd x2, bcda, cdab, dabc (5); got: abcd once
    score = score_body("a b c d a b c d", "a b c d")
    assert score == BodyScore(tp=1, fp=0, fn=4)
    assert score.precision == 1.0
    assert score.recall == pytest.approx(0.2)
    assert score.f1 == pytest.approx(2 * 1.0 * 0.2 / 1.2)


def test_punctuation_and_layout_do_not_matter() -> None:
    assert score_body("One two, three\nfour five.", "One two three four five") == BodyScore(tp=2, fp=0, fn=0)


def test_tokens_are_case_sensitive() -> None:
    assert score_body("Alpha beta gamma delta", "alpha beta gamma delta") == BodyScore(tp=0, fp=1, fn=1)


def test_short_texts_compare_as_one_shingle() -> None:
    assert score_body("hello world", "hello world") == BodyScore(tp=1, fp=0, fn=0)
    assert score_body("hello world", "hello there world") == BodyScore(tp=0, fp=1, fn=1)


@pytest.mark.parametrize("got", ["", "   \n", "!!! ..."])
def test_empty_output_has_zero_recall(got: str) -> None:
    score = score_body("a b c d e", got)
    assert score == BodyScore(tp=0, fp=0, fn=2)
    assert score.empty_output
    assert (score.precision, score.recall, score.f1) == (0.0, 0.0, 0.0)


def test_nothing_expected_and_something_extracted() -> None:
    score = score_body("", "a b c d e")
    assert score == BodyScore(tp=0, fp=2, fn=0)
    assert (score.precision, score.recall, score.f1) == (0.0, 1.0, 0.0)


# --- aggregate ----------------------------------------------------------------------------------------------


def test_aggregate_precision_skips_empty_outputs_recall_does_not() -> None:
    scores = [
        BodyScore(tp=3, fp=1, fn=0),  # P 3/4, R 1
        BodyScore(tp=1, fp=1, fn=2),  # P 1/2, R 1/3
        BodyScore(tp=0, fp=0, fn=5),  # empty output: no P, R 0
    ]
    precision, recall, f1 = aggregate(scores)
    assert precision == pytest.approx(5 / 8)
    assert recall == pytest.approx(4 / 9)
    assert f1 == pytest.approx(40 / 77)  # 2 * 5/8 * 4/9 / (5/8 + 4/9)


def test_aggregate_is_a_mean_of_page_ratios_not_of_counts() -> None:
    precision, recall, _ = aggregate([BodyScore(tp=1, fp=0, fn=0), BodyScore(tp=1, fp=99, fn=99)])
    assert precision == pytest.approx((1 + 0.01) / 2)
    assert recall == pytest.approx((1 + 0.01) / 2)


def test_aggregate_accepts_an_iterator() -> None:
    assert aggregate(iter([BodyScore(tp=4, fp=0, fn=0)])) == (1.0, 1.0, 1.0)


def test_aggregate_of_nothing_or_only_empty_outputs() -> None:
    assert aggregate([]) == (0.0, 0.0, 0.0)
    assert aggregate([BodyScore(tp=0, fp=0, fn=3)]) == (0.0, 0.0, 0.0)


# --- Markdown -> text ---------------------------------------------------------------------------------------


def test_markdown_blocks_become_lines() -> None:
    md = "# Title here\n\nFirst *para* with `code`.  \nSecond line\n\n- one\n- two\n\n> quoted\n"
    assert markdown_to_text(md) == "Title here\nFirst para with code.\nSecond line\none\ntwo\nquoted"


def test_markdown_links_images_and_entities() -> None:
    md = "See [the docs](https://example.org/x) ![a logo](logo.png) now &amp; then\n"
    assert markdown_to_text(md) == "See the docs now & then"


def test_inline_elements_do_not_split_words() -> None:
    # rendered as By<a>Name</a>Updated: one word on the page, so one token here too
    assert tokens(markdown_to_text("By[Name](https://example.org/)Updated on May 1\n")) == [
        "ByNameUpdated",
        "on",
        "May",
        "1",
    ]


def test_markdown_tables_are_enabled() -> None:
    md = "| col a | col b |\n|---|---|\n| x1 | y1 |\n"
    assert markdown_to_text(md) == "col a col b\nx1 y1"


def test_fenced_code_keeps_its_lines() -> None:
    assert markdown_to_text("```\nline one\nline two\n```\n") == "line one\nline two"


def test_raw_html_in_markdown_counts_as_html() -> None:
    md = (
        'Before\n\n<div class="box"><p>Boxed <b>text</b></p></div>\n\n'
        "<script>var hidden = 1;</script>\n\nAfter\n"
    )
    assert markdown_to_text(md) == "Before\nBoxed text\nAfter"


def test_markdown_to_text_of_nothing() -> None:
    assert markdown_to_text("") == ""


# --- ad remnants --------------------------------------------------------------------------------------------


def test_clean_body_has_no_ad_remnants() -> None:
    md = "## Steps\n\nRead the [manual](https://example.org/manual) and also read the FAQ.\n"
    assert ad_remnants(md) == []


def test_ad_remnants_lists_every_hit_in_order() -> None:
    md = (
        '<ins class="adsbygoogle" data-ad-client="ca-pub-123"></ins>\n\n'
        "[![x](https://a.impactradius-go.com/display-ad/1.jpg)](https://vendor.pxf.io/c/1/2/3)\n\n"
        "Also read:\n\n- [Other post](https://example.org/other/)\n"
    )
    assert ad_remnants(md) == [
        "adsbygoogle",
        "data-ad-client",
        "ca-pub-",
        "impactradius-go.com",
        "pxf.io/c/",
        "Also read:",
    ]


def test_ad_remnants_ignore_case_and_report_the_catalogued_marker() -> None:
    assert ad_remnants("<!-- AFFILIATE ADS BEGIN --> ALSO READ: Taboola") == [
        "affiliate ads begin",
        "Also read:",
        "taboola",
    ]


def test_ad_markers_cover_the_catalogue() -> None:
    for marker in ("adsbygoogle", "div-gpt-ad", "ezoic-pub-ad", "mv_slot_target", "sjv.io/c/", "8odi.net/c/"):
        assert marker in AD_MARKERS
    for marker in ("2checkout.com/order", "avangate", "amazon-adsystem", "outbrain", "atpl-alsoreadstyle"):
        assert marker in AD_MARKERS
    assert len({m.lower() for m in AD_MARKERS}) == len(AD_MARKERS)
