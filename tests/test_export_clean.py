"""`--clean basic | strict`: normalisation, each strict rule, no article sentence lost from the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from export_helpers import fixture_articles
from thresher.export import clean_markdown, clean_text
from thresher.markdown import markdown_to_text

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"

# The only lines of the hand-written reference bodies that are boilerplate, deliberately: the techidaily
# fixture copies a breadcrumb and a disclaimer into its body, the WordPress one an affiliate notice.
EXPECTED_BOILERPLATE = {
    "PairPoint >",
    "Windows 11 >",
    "Disclaimer: This post includes affiliate links",
    "We are reader-supported. When you buy through links on this page, we may earn a small commission; "
    "the price you pay does not change.",
}


def _removed(text: str) -> list[str]:
    basic = clean_text(text, "basic").text
    kept = set(clean_text(basic, "strict").text.split("\n"))
    return [line for line in basic.split("\n") if line and line not in kept]


@pytest.mark.parametrize("body", sorted(PAGES.glob("*/*.body.md")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_strict_removes_no_sentence_of_a_reference_body(body: Path) -> None:
    removed = _removed(markdown_to_text(body.read_text(encoding="utf-8")))
    assert set(removed) <= EXPECTED_BOILERPLATE


def test_strict_removes_no_sentence_of_an_extracted_fixture() -> None:
    removed = [line for article in fixture_articles() for line in _removed(article.text)]
    assert set(removed) == EXPECTED_BOILERPLATE  # and the boilerplate is found in the extracted pages too


BOILERPLATE = {
    "breadcrumb": ["Home > Windows > Fix a Slow PC", "AOMEI Backupper >", "Startseite › Windows 11 › Tipps"],
    "share": ["Share this:", "Share on Facebook", "Partager sur Twitter", "Teilen:"],
    "feedback": [
        "Was this article helpful?",
        "Was the provided information useful? Your vote is important to us!",
        "Help Us Improve This Article",
        "Yes No",
        "Oui Non",
        "Helfen Sie uns, diesen Artikel zu verbessern",
    ],
    "byline": [
        "By Jane Doe",
        "Written by Marc van der Berg",
        "Posted by Ana Lima | 5 min read",
        "Lena · Editor",
    ],
    "dateline": ["Updated on March 3, 2025", "Last updated: 2025-03-03", "Mis à jour le 3 mars 2025"],
    "disclaimer": [
        "Disclaimer: This post includes affiliate links",
        "As an Amazon Associate I earn from qualifying purchases.",
        "This article may contain affiliate links.",
        "If you click on a link and make a purchase, I may receive a commission at no extra cost to you.",
    ],
    "button": [
        "Free Download",
        "Download Freeware Windows 11/10/8.1/8/7",
        "100% Clean & Secure",
        "Buy Now",
        "Free Get AOMEI Backupper Now",
        "Read more",
        "⭐ Editor’s Choice",
    ],
    "toc": ["Table of Contents", "Inhaltsverzeichnis", "Оглавление"],
    "related": ["Related Articles", "You may also like", "Related posts:"],
    "comment_form": [
        "Leave a Comment Cancel reply",
        "Save my name, email, and website in this browser for the next time I comment.",
    ],
}

SENTENCES = [
    "Go to Settings > Update & Security > Windows Update and click Check for updates.",
    "By default, Windows keeps restore points for 30 days.",
    "Download the installer from the vendor's site and run it as an administrator.",
    "Download Windows 11",
    "Yes, you can share this folder with other users on the network.",
    "The article was updated on March 3 to cover the new build.",
    "Was the update the cause? Roll it back and see.",
    "Click Read more in the notification to see the details.",
    "Contents of the recycle bin are deleted after 30 days.",
    "echo hello > out.txt",
    "8/10",
]


@pytest.mark.parametrize(("rule", "line"), [(r, line) for r, lines in BOILERPLATE.items() for line in lines])
def test_each_strict_rule_removes_its_boilerplate(rule: str, line: str) -> None:
    text = f"First paragraph of the article, long enough to be prose.\n\n{line}\n\nThe article goes on here."
    result = clean_text(text, "strict")
    assert line not in result.text.split("\n")
    assert result.removed == {rule: 1}
    assert "The article goes on here." in result.text


@pytest.mark.parametrize("line", SENTENCES)
def test_strict_keeps_article_sentences_that_look_like_boilerplate(line: str) -> None:
    text = f"Intro.\n\n{line}\n\nEnd."
    assert clean_text(text, "strict").text == text


def test_breadcrumbs_only_at_the_top() -> None:
    prose = "\n\n".join(f"Paragraph {i} of the article." for i in range(20))
    assert (
        "Settings > Apps > Default apps"
        in clean_text(f"{prose}\n\nSettings > Apps > Default apps", "strict").text
    )
    assert "Home > Apps > Default" not in clean_text(f"Home > Apps > Default\n\n{prose}", "strict").text


def test_the_bio_after_a_name_editor_byline_goes_with_it() -> None:
    text = (
        "Body sentence.\n\nLena · Editor\n\nLena is an editor who covers backup.\n\nLena wrote the next part."
    )
    result = clean_text(text, "strict")
    assert result.text == "Body sentence.\n\nLena wrote the next part."
    assert result.removed == {"byline": 2}


def test_basic_normalises_unicode_and_whitespace() -> None:
    text = "Cafe\u0301 \u200bcorner\u00a0 text\r\n\n\n\nnext\x07 line   \n\n"
    assert clean_text(text, "basic").text == "Café corner text\n\nnext line"


@given(st.text())
def test_cleaning_is_idempotent(text: str) -> None:
    for level in ("basic", "strict"):
        once = clean_text(text, level).text  # type: ignore[arg-type]
        assert clean_text(once, level).text == once  # type: ignore[arg-type]


def test_clean_markdown_keeps_code_blocks_and_drops_boilerplate() -> None:
    markdown = "Share this:\n\n```sh\nShare this:\n```\n\n**Free Download**\n\nReal text."
    assert clean_markdown(markdown, "strict") == "```sh\nShare this:\n```\n\nReal text."
    assert clean_markdown(markdown, "basic") == markdown


def test_clean_markdown_keeps_blank_lines_inside_code() -> None:
    markdown = "Intro\n\n\n\n```py\na = 1\n\n\nb = 2\n```\n\nShare this:\n\n\nEnd"
    assert clean_markdown(markdown, "strict") == "Intro\n\n```py\na = 1\n\n\nb = 2\n```\n\nEnd"
