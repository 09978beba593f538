"""Token-level removal of techidaily's affiliate comment ranges, and DOM cleaning helpers."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from thresher.clean.dom import absolutize, normalize_code_blocks, rewrite_lazy_images, strip_affiliate_ranges

BANNER = '<a href="https://shop.pxf.io/c/1/2/3"><img src="//a.impactradius-go.com/display-ad/1-2"></a>'


def _items(html: str) -> list[tuple[str, str]]:
    tree = LexborHTMLParser(html)
    return [(li.parent.tag, li.text(deep=False).strip()) for li in tree.css("li")]


def test_range_opening_in_li_and_closing_after_the_list_keeps_the_list_shape() -> None:
    html = (
        "<ol><li>one<ul><li>inner a</li><li>inner b<!-- affiliate ads begin -->"
        + BANNER
        + "</li></ul><!-- affiliate ads end --></li><li>two</li></ol>"
    )
    cleaned, count = strip_affiliate_ranges(html.encode())
    assert count == 1
    assert b"pxf.io" not in cleaned
    assert _items(cleaned.decode()) == [("ol", "one"), ("ul", "inner a"), ("ul", "inner b"), ("ol", "two")]


def test_range_opening_mid_paragraph() -> None:
    html = (
        "<p>Before the ad <!-- affiliate ads begin --><div>"
        + BANNER
        + "</div><!-- affiliate ads end --> after.</p>"
    )
    cleaned, _ = strip_affiliate_ranges(html.encode())
    assert LexborHTMLParser(cleaned).css_first("p").text() == "Before the ad  after."


def test_ranges_are_case_and_space_tolerant_and_unterminated_is_left() -> None:
    html = "<p>a</p><!--Affiliate Ads Begin-->" + BANNER + "<!--  affiliate ads end  --><p>b</p>"
    assert strip_affiliate_ranges(html.encode()) == (b"<p>a</p><p>b</p>", 1)
    lone = b"<p>a</p><!-- affiliate ads begin --><p>rest of the article</p>"
    assert strip_affiliate_ranges(lone) == (lone, 0)


def test_lazy_images_and_noscript_twins() -> None:
    tree = LexborHTMLParser(
        '<div><img src="/images/loading.svg" data-src="https://cdn.example/a.png" lazyload>'
        '<img src="data:image/gif;base64,R0l" data-lazy-src="https://cdn.example/b.png">'
        '<noscript><img src="https://cdn.example/b.png"></noscript>'
        '<noscript><img src="https://cdn.example/c.png"></noscript></div>'
    )
    root = tree.css_first("div")
    rewrite_lazy_images(root)
    assert [img.attributes["src"] for img in root.css("img")] == [
        "https://cdn.example/a.png",
        "https://cdn.example/b.png",
        "https://cdn.example/c.png",
    ]
    assert root.css_first("noscript") is None


def test_absolutize_with_lazy_images_equals_the_rewrite_then_absolutize() -> None:
    html = (
        '<div><a href="/post/">p</a><img src="/images/loading.svg" data-src="/a.png">'
        '<img data-lazy-src="https://cdn.example/lazyload.gif" data-srcset="/b.png 1x, /b2.png 2x">'
        '<img src="data:image/gif;base64,R0l"><img alt="none"><a href="#top">t</a>'
        '<img src="c.png" data-src="data:image/gif;base64,R0l"></div>'
    )
    base = "https://site.example/dir/page/"
    two, one = LexborHTMLParser(html), LexborHTMLParser(html)
    rewrite_lazy_images(two.css_first("div"))
    expected = [(a.html, href) for a, href in absolutize(two.css_first("div"), base)]
    pairs = absolutize(one.css_first("div"), base, lazy_images=True)
    assert [(a.html, href) for a, href in pairs] == expected
    assert [(a.attributes["href"], href) for a, href in pairs] == [("https://site.example/post/",) * 2]
    assert one.css_first("div").html == two.css_first("div").html
    assert [img.attributes["src"] for img in one.css("img")] == [
        "https://site.example/a.png",
        "https://site.example/b.png",
        "https://site.example/dir/page/c.png",
    ]


def test_highlight_tables_become_code_blocks() -> None:
    tree = LexborHTMLParser(
        '<div><figure class="highlight bash"><table><tr><td class="gutter"><pre><span class="line">1</span>'
        '<br><span class="line">2</span></pre></td><td class="code"><pre>'
        '<span class="line">echo &quot;a &amp; b&quot;</span><br><span class="line">ls *.txt</span></pre>'
        "</td></tr></table></figure></div>"
    )
    root = tree.css_first("div")
    normalize_code_blocks(root)
    code = root.css_first("pre > code")
    assert code.attributes["class"] == "language-bash"
    assert code.text() == 'echo "a & b"\nls *.txt'
    assert root.css_first("table") is None
