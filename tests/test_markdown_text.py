"""markdown_to_text's shortcuts give what its general regexes give."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from thresher.markdown import markdown_to_text
from thresher.markdown.text import _IMAGE, _INLINE, _LINK, _inline, _inline_markup

# The link and image patterns as first written, with the text class as an alternation.
_DESTINATION = r"\((?:<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"\n]*\")?\)"
_IMAGE_ALTERNATION = re.compile(r"!\[((?:[^\]\\\n]|\\.)*)\]" + _DESTINATION)
_LINK_ALTERNATION = re.compile(r"\[((?:[^\]\\\n]|\\.)*)\]" + _DESTINATION)


@given(st.text(alphabet='[]()\\!<>"ab \n', max_size=40))
def test_unrolled_link_and_image_patterns_match_the_alternation(text: str) -> None:
    assert _IMAGE.sub("", text) == _IMAGE_ALTERNATION.sub("", text)
    assert _LINK.sub(r"\1", text) == _LINK_ALTERNATION.sub(r"\1", text)


@given(st.text(alphabet="\\*~_a \n", max_size=40))
def test_inline_without_code_equals_the_regex(text: str) -> None:
    assert _inline_markup(text) == _INLINE.sub(_inline, text)


@given(st.text(max_size=40))
def test_inline_on_any_text_equals_the_regex(text: str) -> None:
    text = text.replace("\x00", "")  # the code-line mark, never in converter output
    assert _inline_markup(text) == _INLINE.sub(_inline, text)


def test_emphasis_and_strike_runs_go_lone_tildes_stay() -> None:
    assert markdown_to_text("a **b** ~~c~~ ~*~ ~~~d") == "a b c ~~ ~d"
    assert markdown_to_text("keep \\*this\\* and `x*y`") == "keep *this* and x*y"
    assert markdown_to_text("\\\\**a**\\b \\~~c~~ end\\") == "\\a\\b ~~c end"
