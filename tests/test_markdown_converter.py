"""node_to_markdown: each construct, escaping, normalisation, depth, round-trip properties (markdown-it)."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser, LexborNode

from thresher.markdown.converter import node_to_markdown

COMMONMARK = MarkdownIt("commonmark").enable("table")
GFM_LIKE = MarkdownIt("commonmark").enable(["table", "strikethrough"])
DEEP = 10_000
HTML_TOKEN_TYPES = frozenset({"html_block", "html_inline"})
BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "h1"}
    | {"h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "section", "table", "tbody", "td", "th"}
    | {"thead", "tr", "ul"}
)


def root_of(fragment: str) -> LexborNode:
    """Parse a fragment inside a wrapper div and return the wrapper."""
    node = LexborHTMLParser(f"<div id='wrapper'>{fragment}</div>").css_first("#wrapper")
    assert node is not None
    return node


def convert(fragment: str) -> str:
    """Markdown for an HTML fragment."""
    return node_to_markdown(root_of(fragment))


def html_tokens(markdown: str) -> list[str]:
    """Types of raw-HTML tokens markdown-it finds in Markdown (block and inline)."""
    found = []
    for token in COMMONMARK.parse(markdown):
        found += [token.type] if token.type in HTML_TOKEN_TYPES else []
        found += [child.type for child in token.children or [] if child.type in HTML_TOKEN_TYPES]
    return found


def visible_text(node: LexborNode) -> str:
    """Text of a subtree, with a space at every block boundary (iterative, like the converter)."""
    parts: list[str] = []
    stack: list[LexborNode] = []
    child = node.first_child
    while True:
        if child is None:
            if not stack:
                return "".join(parts)
            element = stack.pop()
            parts.append(" " if element.tag in BLOCK_TAGS else "")
            child = element.next
            continue
        if child.tag == "-text":
            parts.append(child.text_content or "")
            child = child.next
        elif child.tag in {"script", "style", "-comment"}:
            child = child.next
        else:
            parts.append(" " if child.tag in BLOCK_TAGS else "")
            stack.append(child)
            child = child.first_child


def rendered_text(markdown: str, parser: MarkdownIt = COMMONMARK) -> str:
    """What a reader sees: the Markdown rendered to HTML, then its text."""
    return visible_text(root_of(parser.render(markdown)))


def words(text: str) -> Counter[str]:
    """The word-token multiset used by the extraction benchmark."""
    return Counter(re.findall(r"\w+", text))


def assert_normalised(markdown: str) -> None:
    """One blank line between blocks, no trailing spaces, a single final newline (code content exempt)."""
    assert markdown.endswith("\n")
    assert not markdown.endswith("\n\n")
    code_lines: set[int] = set()
    for token in COMMONMARK.parse(markdown):
        if token.type in {"fence", "code_block"} and token.map:
            code_lines.update(range(token.map[0] + 1, token.map[1]))
    lines = markdown.split("\n")
    for number, line in enumerate(lines):
        if number in code_lines:
            continue
        assert line == line.rstrip(" \t"), (number, markdown)
        assert line or number == len(lines) - 1 or lines[number + 1], (number, markdown)


# --- blocks -------------------------------------------------------------------------------------------------


def test_headings_all_levels_are_atx() -> None:
    fragment = "".join(f"<h{level}>Level {level} title</h{level}>" for level in range(1, 7))
    assert (
        convert(fragment) == "\n\n".join(f"{'#' * level} Level {level} title" for level in range(1, 7)) + "\n"
    )


def test_heading_trailing_hash_is_not_a_closing_sequence() -> None:
    markdown = convert("<h2>Tips for C#</h2><h3>Ranked #</h3>")
    assert markdown == "## Tips for C#\n\n### Ranked \\#\n"
    assert rendered_text(markdown).split() == ["Tips", "for", "C#", "Ranked", "#"]


def test_paragraphs_and_containers_are_blocks() -> None:
    fragment = (
        "<section><p>First   thought\n spans\tlines.</p><div>Loose text in a div"
        "<article><p>Nested paragraph.</p></article>after it</div></section><main>Main text</main>"
    )
    assert convert(fragment) == (
        "First thought spans lines.\n\nLoose text in a div\n\nNested paragraph.\n\nafter it\n\nMain text\n"
    )


def test_whitespace_collapses_across_inline_boundaries() -> None:
    assert convert("<p>  one <span> two </span> <b> three</b>  four </p>") == "one two **three** four\n"


def test_nested_blockquotes_prefix_every_line_including_blank_ones() -> None:
    fragment = (
        "<blockquote><p>Outer one.</p><blockquote><p>Inner.</p><p>Inner two.</p></blockquote></blockquote>"
    )
    markdown = convert(fragment)
    assert markdown == "> Outer one.\n>\n> > Inner.\n> >\n> > Inner two.\n"
    assert "<blockquote>\n<blockquote>" in COMMONMARK.render(markdown).replace("<p>Outer one.</p>\n", "")


def test_lists_three_deep_mixing_ordered_and_bulleted_with_paragraphs() -> None:
    fragment = (
        "<ol>"
        "<li><p>Prepare the bench.</p><p>Clear it first.</p>"
        "<ul><li>Sweep<ol><li>left side</li><li>right side</li></ol></li><li>Dust</li></ul></li>"
        "<li>Assemble</li>"
        "</ol>"
    )
    markdown = convert(fragment)
    assert markdown == (
        "1. Prepare the bench.\n"
        "\n"
        "   Clear it first.\n"
        "   - Sweep\n"
        "     1. left side\n"
        "     2. right side\n"
        "   - Dust\n"
        "\n"
        "2. Assemble\n"
    )
    rendered = COMMONMARK.render(markdown)
    assert rendered.count("<ol>") == 2
    assert rendered.count("<ul>") == 1
    assert "<li>left side</li>" in rendered
    assert words(rendered_text(markdown)) == words(
        "Prepare the bench Clear it first Sweep left side right side Dust Assemble"
    )


def test_ordered_list_start_and_marker_width_indentation() -> None:
    markdown = convert("<ol start='9'><li>nine</li><li><p>ten</p><p>more of ten</p></li></ol>")
    assert markdown == "9. nine\n\n10. ten\n\n    more of ten\n"
    rendered = COMMONMARK.render(markdown)
    assert '<ol start="9">' in rendered
    assert "<p>more of ten</p>\n</li>" in rendered


def test_sub_list_that_cannot_interrupt_a_paragraph_gets_a_blank_line() -> None:
    markdown = convert("<ul><li>steps<ol start='4'><li>fourth</li></ol></li></ul>")
    assert markdown == "- steps\n\n  4. fourth\n"
    assert '<ol start="4">' in COMMONMARK.render(markdown)


def test_adjacent_lists_keep_apart() -> None:
    markdown = convert("<ul><li>a</li></ul><ul><li>b</li></ul><ol><li>c</li></ol><ol><li>d</li></ol>")
    rendered = COMMONMARK.render(markdown)
    assert rendered.count("<ul>") == 2
    assert rendered.count("<ol>") == 2


def test_empty_list_items_are_dropped() -> None:
    assert convert("<ul><li></li><li>kept</li><li> </li></ul>") == "- kept\n"


def test_li_outside_a_list_still_becomes_an_item() -> None:
    assert convert("<p>before</p><li>stray item</li>") == "before\n\n- stray item\n"


def test_code_block_keeps_language_and_text_verbatim() -> None:
    code = "def pick(items):\n    return [i * 2 for i in items]  # *not* _emphasis_ <b>\n"
    markdown = convert(f"<pre><code class='language-python'>{html.escape(code)}</code></pre>")
    assert markdown == "```python\n" + code + "```\n"
    tokens = COMMONMARK.parse(markdown)
    assert tokens[0].type == "fence"
    assert tokens[0].info == "python"
    assert tokens[0].content == code


def test_code_block_fence_is_longer_than_backtick_runs_inside() -> None:
    code = "echo ```\nprint(`x`)"
    markdown = convert(f"<pre class='lang-sh'>{html.escape(code)}</pre>")
    assert markdown == "````sh\n" + code + "\n````\n"
    assert COMMONMARK.parse(markdown)[0].content == code + "\n"


def test_code_block_markup_becomes_text_with_line_breaks() -> None:
    markdown = convert("<pre><span class='k'>let</span> x = 1;<br>let y = 2;</pre>")
    assert markdown == "```\nlet x = 1;\nlet y = 2;\n```\n"


def test_thematic_break() -> None:
    assert convert("<p>above</p><hr><p>below</p>") == "above\n\n---\n\nbelow\n"
    assert "<hr />" in COMMONMARK.render(convert("<ul><li><hr></li></ul>"))


def test_table_with_thead_pipes_and_short_rows() -> None:
    fragment = (
        "<table><thead><tr><th>Tool</th><th>Use | Note</th><th>Cost</th></tr></thead>"
        "<tbody><tr><td>Saw</td><td>cut <b>wood</b></td></tr>"
        "<tr><td><p>Chisel</p><p>sharp</p></td><td><code>a|b</code></td><td>cheap</td></tr></tbody></table>"
    )
    markdown = convert(fragment)
    assert markdown == (
        "| Tool | Use \\| Note | Cost |\n"
        "| --- | --- | --- |\n"
        "| Saw | cut **wood** |  |\n"
        "| Chisel sharp | `a\\|b` | cheap |\n"
    )
    rendered = COMMONMARK.render(markdown)
    assert "<th>Use | Note</th>" in rendered
    assert "<td><code>a|b</code></td>" in rendered
    assert rendered.count("<tr>") == 3


def test_table_without_thead_uses_first_row_as_header() -> None:
    markdown = convert("<table><tr><td>k</td><td>v</td></tr><tr><td>1</td><td>2</td></tr></table>")
    assert markdown == "| k | v |\n| --- | --- |\n| 1 | 2 |\n"


def test_table_colspan_pads_the_row() -> None:
    markdown = convert(
        "<table><tr><th>a</th><th>b</th><th>c</th></tr><tr><td colspan='2'>wide</td><td>c</td></tr></table>"
    )
    assert markdown.splitlines()[2] == "| wide |  | c |"


def test_definition_lists_become_paragraphs() -> None:
    assert convert("<dl><dt>Rake</dt><dd>Gathers leaves.</dd></dl>") == "Rake\n\nGathers leaves.\n"


def test_figure_caption_is_its_own_paragraph() -> None:
    markdown = convert(
        "<figure><img src='https://ex.test/a.png' alt='A barn'><figcaption>The barn</figcaption></figure>"
    )
    assert markdown == "![A barn](https://ex.test/a.png)\n\nThe barn\n"


def test_br_is_a_hard_break_inside_paragraphs_only() -> None:
    assert (
        convert("<p>line one<br>line two<br><br>line three<br></p>") == "line one\\\nline two\\\nline three\n"
    )
    assert "<br />" in COMMONMARK.render(convert("<p>x<br>y</p>"))
    assert convert("<h2>top<br>bottom</h2>") == "## top bottom\n"


# --- inline -------------------------------------------------------------------------------------------------


def test_emphasis_elements() -> None:
    fragment = (
        "<strong>s</strong> <b>b</b> <em>e</em> <i>i</i> <del>d</del> <s>st</s> x<sup>2</sup> H<sub>2</sub>"
    )
    markdown = convert(fragment)
    assert markdown == "**s** **b** *e* *i* ~~d~~ ~~st~~ x2 H2\n"
    rendered = GFM_LIKE.render(markdown)
    assert rendered.count("<strong>") == 2
    assert rendered.count("<em>") == 2
    assert rendered.count("<s>") == 2


def test_wrappers_without_markdown_are_unwrapped() -> None:
    assert (
        convert("<p><span>a</span> <font>b</font> <u>c</u> <mark>d</mark> <ins>e</ins> <abbr>f</abbr></p>")
        == "a b c d e f\n"
    )


def test_spaces_move_outside_emphasis_and_empty_emphasis_disappears() -> None:
    assert convert("<p>a<b> bold </b>b <i></i>c <em> </em>d</p>") == "a **bold** b c d\n"


def test_emphasis_that_could_not_close_is_dropped_but_text_kept() -> None:
    markdown = convert("<p><strong>Note:</strong>text and <b>ok</b>.</p>")
    assert markdown == "Note:text and **ok**.\n"
    assert "<strong>ok</strong>" in COMMONMARK.render(markdown)


def test_nested_emphasis_round_trips() -> None:
    markdown = convert("<p><b>bold <i>both</i></b> and <i>it <b>bb</b></i></p>")
    rendered = COMMONMARK.render(markdown)
    assert "<strong>bold <em>both</em></strong>" in rendered
    assert "<em>it <strong>bb</strong></em>" in rendered


def test_inline_code_with_backticks_is_padded() -> None:
    markdown = convert("<p>Run <code>ls</code>, <code>a`b</code> and <code>`quoted`</code>.</p>")
    assert markdown == "Run `ls`, ``a`b`` and `` `quoted` ``.\n"
    codes = [
        child.content for child in COMMONMARK.parse(markdown)[1].children or [] if child.type == "code_inline"
    ]
    assert codes == ["ls", "a`b", "`quoted`"]


def test_links() -> None:
    fragment = (
        "<p><a href='https://ex.test/page' title='The \"page\"'>page</a> "
        "<a href='https://ex.test/a b'>spaced</a> <a href='https://ex.test/x_(y)'>parens</a> "
        "<a href='https://ex.test/empty'></a><a href='https://ex.test/icon'><i class='icon'></i></a>"
        "<a href='javascript:void(0)'>script</a> <a>no href</a></p>"
    )
    markdown = convert(fragment)
    assert markdown == (
        '[page](https://ex.test/page "The \\"page\\"") [spaced](<https://ex.test/a b>) '
        "[parens](<https://ex.test/x_(y)>) script no href\n"
    )
    links = [child for child in COMMONMARK.parse(markdown)[1].children or [] if child.type == "link_open"]
    assert [link.attrs["href"] for link in links] == [
        "https://ex.test/page",
        "https://ex.test/a%20b",
        "https://ex.test/x_(y)",
    ]
    assert links[0].attrs["title"] == 'The "page"'


def test_link_spaces_go_outside_the_brackets() -> None:
    assert convert("<p>see<a href='/x'> this </a>now</p>") == "see [this](/x) now\n"


def test_images() -> None:
    fragment = (
        "<p><img src='https://ex.test/a.png' alt='A [big] *photo*' title='t'>"
        "<img alt='no source'><img src='data:image/png;base64,AAAA' alt='inline'></p>"
    )
    markdown = convert(fragment)
    assert markdown == '![A \\[big\\] \\*photo\\*](https://ex.test/a.png "t")\n'
    assert (
        COMMONMARK.render(markdown)
        == '<p><img src="https://ex.test/a.png" alt="A [big] *photo*" title="t" /></p>\n'
    )


def test_linked_image() -> None:
    assert convert("<a href='https://ex.test/'><img src='https://ex.test/i.png' alt='logo'></a>") == (
        "[![logo](https://ex.test/i.png)](https://ex.test/)\n"
    )


def test_skipped_elements() -> None:
    fragment = (
        "<p>kept</p><script>var a = 1;</script><style>p {}</style><noscript>enable js</noscript>"
        "<template><p>later</p></template><svg><text>vector</text></svg><iframe src='https://v.test/e'></iframe>"
        "<video src='v.mp4'>fallback</video><audio src='a.mp3'></audio><!-- a comment -->"
        "<form><input value='typed'><select><option>opt</option></select><textarea>area</textarea>"
        "<button>Press</button><label>Label text</label></form>"
    )
    # iframe/video/audio are dropped rather than linked: a "[video](src)" link would add a word.
    assert convert(fragment) == "kept\n\nLabel text\n"


# --- escaping -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it's 5-10 min. (roughly) - done!", "it's 5-10 min. (roughly) - done!"),
        ("a*b and a_b_c and _start and end_", "a\\*b and a_b_c and \\_start and end\\_"),
        ("see [the] `tick`", "see \\[the\\] \\`tick\\`"),
        ("a < b but <div> and <!-- x", "a < b but \\<div> and \\<!-- x"),
        ("AT&T & &copy; &#169;", "AT&T & \\&copy; \\&#169;"),
        ("C:\\Users\\me and trailing \\*", "C:\\Users\\me and trailing \\\\\\*"),
        ("~~strike~~ ~5 min", "\\~\\~strike\\~\\~ ~5 min"),
        ("# not a heading", "\\# not a heading"),
        ("#hashtag stays", "#hashtag stays"),
        ("> not a quote", "\\> not a quote"),
        ("- not a bullet", "\\- not a bullet"),
        ("+ not a bullet", "\\+ not a bullet"),
        ("1. not a list", "1\\. not a list"),
        ("1986) not a list", "1986\\) not a list"),
        ("2024 was a year", "2024 was a year"),
    ],
)
def test_text_escaping(text: str, expected: str) -> None:
    markdown = convert(f"<p>{html.escape(text)}</p>")
    assert markdown == expected + "\n"
    assert rendered_text(markdown).strip() == text
    assert not html_tokens(markdown)


def test_line_start_escaping_after_hard_breaks() -> None:
    markdown = convert("<p>top<br>===<br>- item?<br>2. two?<br>| a |<br>|---|</p>")
    # `===\` is no underline (a hard break ends the line); only the last line could be one.
    assert markdown == "top\\\n===\\\n\\- item?\\\n2\\. two?\\\n| a |\\\n\\|---|\n"
    tokens = COMMONMARK.parse(markdown)
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]


def test_characters_at_text_node_edges_escape_only_when_they_could_join_markup() -> None:
    assert convert("<p>Files &amp; <b>Folders</b>, 3 &lt; <i>4</i></p>") == "Files & **Folders**, 3 < *4*\n"
    assert convert("<p>AT&amp;<span>amp;T</span></p>") == "AT\\&amp;T\n"


def test_bang_before_a_link_is_not_an_image() -> None:
    markdown = convert("<p>Wow!<a href='/x'>link</a></p>")
    assert markdown == "Wow\\![link](/x)\n"
    assert "<img" not in COMMONMARK.render(markdown)


def test_nbsp_is_kept_as_text() -> None:
    assert convert("<p>10&nbsp;GB</p>") == "10\xa0GB\n"


# --- normalisation and robustness ---------------------------------------------------------------------------


def test_empty_and_whitespace_only_content() -> None:
    assert convert("") == ""
    assert convert("  \n <p> </p><div>\n</div><span></span><!-- c -->") == ""


def test_output_is_normalised() -> None:
    fragment = (
        "<div>\n  <h2> Title </h2>\n\n  <p>Para <b>one</b> </p>\n"
        "<ul>\n <li> a </li>\n <li>b <br> c</li>\n</ul>"
        "<blockquote>\n<p>q</p>\n\n<p>r</p></blockquote><table><tr><td>x</td><td></td></tr></table></div>"
    )
    markdown = convert(fragment)
    assert_normalised(markdown)
    assert (
        markdown == "## Title\n\nPara **one**\n\n- a\n- b\\\n  c\n\n> q\n>\n> r\n\n| x |  |\n| --- | --- |\n"
    )


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ("<div>", "</div>"),
        ("<blockquote>", "</blockquote>"),
        ("<ul><li>", "</li></ul>"),
        ("<ol><li>", "</li></ol>"),
        ("<span>", "</span>"),
        ("<b><i>", "</i></b>"),
        ("<table><tr><td>", "</td></tr></table>"),
    ],
)
def test_deep_nesting_does_not_recurse(opening: str, closing: str) -> None:
    markdown = convert(opening * DEEP + "deep words" + closing * DEEP)
    assert markdown.count("deep words") == 1
    assert markdown.endswith("\n")
    assert "\n\n\n" not in markdown


def test_block_inside_inline_keeps_the_blocks() -> None:
    markdown = convert("<a href='https://ex.test/card'><h3>Card title</h3><p>Card text</p></a>")
    assert markdown == "### Card title\n\nCard text\n"


# --- properties ---------------------------------------------------------------------------------------------

TEXT_TOKENS = [
    *"abcXYZ019 _*`[]<>#\\!&|-+=.()~;:\"'\n\t",
    "\xa0",
    "&amp;",
    "&copy;",
    "1. ",
    "2) ",
    "- ",
    "# ",
    "> ",
    "---",
    "word",
]
HREFS = ["https://ex.test/a", "https://ex.test/a b", "/p(q)", "#frag", "javascript:void(0)"]
CONTAINER_TAGS = ["p", "ul", "ol", "li", "blockquote", "h2", "strong", "em", "a", "code", "pre"]

texts = st.lists(st.sampled_from(TEXT_TOKENS), max_size=8).map(
    lambda parts: html.escape("".join(parts), quote=False)
)


def wrap(tag: str, children: list[str], href: str) -> str:
    """An element around generated children."""
    attributes = f' href="{html.escape(href)}"' if tag == "a" else ""
    return f"<{tag}{attributes}>{''.join(children)}</{tag}>"


fragments = st.recursive(
    texts,
    lambda children: st.builds(
        wrap, st.sampled_from(CONTAINER_TAGS), st.lists(children, max_size=4), st.sampled_from(HREFS)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fragments)
def test_generated_html_round_trips_without_raw_html_or_word_changes(fragment: str) -> None:
    node = root_of(fragment)
    markdown = node_to_markdown(node)
    assert not html_tokens(markdown), markdown
    assert words(rendered_text(markdown)) == words(visible_text(node)), markdown
    if markdown:
        assert_normalised(markdown)
