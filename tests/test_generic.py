"""Tests for the generic (profile-less) main-content finder."""

from __future__ import annotations

import time

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from thresher.extract.generic import class_weight, find_main_content, link_density

# Hand-written prose: long enough, with commas, to read like article paragraphs.
ARTICLE = [
    "Replacing the thermal paste on an old laptop is cheap, quick, and often brings the fan noise "
    "down by a surprising amount, so it is worth trying before buying a cooling pad.",
    "Start by unplugging the charger, removing the battery if it is removable, and grounding "
    "yourself on a radiator or the metal case of a desktop computer nearby.",
    "The bottom panel is usually held by a dozen small screws, some of them hidden under rubber "
    "feet, and a plastic pry tool keeps the clips from snapping when you lift the cover.",
    "Once the heatsink is off, wipe the old compound away with isopropyl alcohol and a lint-free "
    "cloth, then apply a pea-sized dot in the middle of the processor die.",
    "Reassemble everything in reverse order, boot into the firmware setup, and watch the idle "
    "temperature for a few minutes to confirm that the new paste is doing its job.",
    "If the temperatures are still high, the fan itself may be clogged with dust, which a short "
    "burst of compressed air through the exhaust grille usually clears.",
]


def _paragraphs(sentences: list[str]) -> str:
    return "".join(f"<p>{s}</p>" for s in sentences)


def _body(html: str) -> LexborNode:
    body = LexborHTMLParser(html).body
    assert body is not None
    return body


def _pick(html: str) -> LexborNode | None:
    return find_main_content(_body(html))


def _text(node: LexborNode | None) -> str:
    assert node is not None, "expected an article node, got None"
    return str(node.text(deep=True, separator=" ", strip=True))


def _links(prefix: str, count: int) -> str:
    return "".join(f'<li><a href="/{prefix}/{i}">{prefix} entry number {i}</a></li>' for i in range(count))


def test_blog_with_big_blogroll_sidebar() -> None:
    blogroll = _links("Friendly weblog", 60)
    html = f"""<html><body><div class="wrap">
      <div class="col-left"><h1>Repasting a laptop</h1>{_paragraphs(ARTICLE)}</div>
      <div class="col-right">
        <h3>Blogroll</h3><ul>{blogroll}</ul>
        <div><p>I write about fixing old hardware, mostly on weekends, and I answer mail slowly.</p></div>
      </div>
    </div></body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.attributes.get("class") == "col-left"
    for sentence in ARTICLE:
        assert sentence in text
    assert "Friendly weblog" not in text
    assert "answer mail slowly" not in text


def test_news_split_across_para_divs_with_newsletter_box() -> None:
    most_read = _links("Most read headline", 12)
    html = f"""<html><body>
      <div class="top-links">{_links("Section", 25)}</div>
      <div class="layout">
        <div class="k3x9">
          <h1>Council approves new cycle lanes</h1>
          <div class="para">{_paragraphs(ARTICLE[0:2])}</div>
          <div class="newsletter-box"><p>Get the morning briefing in your inbox, free, every weekday.</p>
            <div><input type="email"><button>Sign up</button></div></div>
          <div class="para">{_paragraphs(ARTICLE[2:4])}</div>
          <div class="para">{_paragraphs(ARTICLE[4:6])}</div>
        </div>
        <div class="rail"><h3>Most read</h3><ol>{most_read}</ol></div>
      </div>
    </body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.attributes.get("class") == "k3x9"  # common parent of the three parts
    for sentence in ARTICLE:
        assert sentence in text
    assert "Most read headline" not in text
    assert "Section entry" not in text


def test_sibling_merging_climbs_to_common_parent() -> None:
    # Each part outscores the wrapper (class bonus), so only sibling merging reaches the wrapper.
    html = f"""<html><body><div class="shell">
      <div class="wrapper-a">
        <div class="story-part">{_paragraphs(ARTICLE[0:2])}</div>
        <div class="story-part">{_paragraphs(ARTICLE[2:4])}</div>
        <div class="inline-promo">
          <p>Readers also liked our guide to quiet fans, which covers twelve models.</p>
        </div>
        <div class="story-part">{_paragraphs(ARTICLE[4:6])}</div>
      </div>
      <div class="x"><ul>{_links("Trending", 20)}</ul></div>
    </div></body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.attributes.get("class") == "wrapper-a"
    assert all(sentence in text for sentence in ARTICLE)
    assert "Trending" not in text


def test_one_wrapper_pair_per_paragraph_is_merged() -> None:
    # Page builders wrap every paragraph twice; no wrapper gets enough score on its own.
    wrapped = "".join(f'<div class="blk"><div class="inner"><p>{s}</p></div></div>' for s in ARTICLE)
    html = f"""<html><body><div class="shell">
      <div class="c8">{wrapped}</div>
      <div class="c4"><p>Short bio of the writer, who fixes laptops on weekends near the coast.</p>
        <ul>{_links("Archive", 20)}</ul></div>
    </div></body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.attributes.get("class") == "c8"
    assert all(sentence in text for sentence in ARTICLE)
    assert "Short bio" not in text


def test_nested_anonymous_divs_and_link_heavy_footer() -> None:
    columns = "".join(f"<div><h4>Column {c}</h4><ul>{_links(f'Footer {c}', 15)}</ul></div>" for c in range(4))
    html = f"""<html><body><div><div>
      <div><div><div id="x1">{_paragraphs(ARTICLE)}</div></div></div>
      <div><div>{columns}</div><div>Copyright notice, all rights reserved, 2024.</div></div>
    </div></div></body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.attributes.get("id") == "x1"  # the tightest container of the paragraphs
    for sentence in ARTICLE:
        assert sentence in text
    assert "Footer" not in text
    assert "Copyright notice" not in text


def test_page_of_only_links_is_none() -> None:
    html = f"<html><body><div>{_links('Category', 80)}</div><div>{_links('Archive', 40)}</div></body></html>"
    assert _pick(html) is None


def test_teaser_cards_are_not_an_article() -> None:
    card = '<a class="card" href="/p/{i}"><div><h3>Story {i}</h3><p>{s}</p></div></a>'
    cards = "".join(card.format(i=i, s=s) for i, s in enumerate(ARTICLE))
    assert _pick(f"<html><body><div class='grid'>{cards}</div></body></html>") is None


def test_empty_and_tiny_pages_are_none() -> None:
    assert _pick("<html><body></body></html>") is None
    assert _pick("<html><body><p>Just one short line of text, nothing more.</p></body></html>") is None


def test_article_element_is_preferred() -> None:
    html = f"""<html><body>
      <div class="promo-strip">
        <p>Spring sale on every refurbished model, today only, while stocks last.</p>
      </div>
      <main><article><h1>Repasting a laptop</h1><figure><img src="a.jpg"><figcaption>The heatsink</figcaption>
        </figure>{_paragraphs(ARTICLE)}</article>
        <div class="more"><h3>More from us</h3><ul>{_links("Another story", 10)}</ul></div>
      </main>
    </body></html>"""
    node = _pick(html)
    text = _text(node)
    assert node is not None
    assert node.tag == "article"
    assert all(sentence in text for sentence in ARTICLE)
    assert "Spring sale" not in text
    assert "Another story" not in text


def test_declared_article_body_beats_a_longer_comment_thread() -> None:
    comments = "".join(
        f"<div class='c'><b>user{i}</b><p>{s} Same here, it took me about an hour in total.</p></div>"
        for i, s in enumerate(ARTICLE * 2)
    )
    html = f"""<html><body><div class="wrap">
      <div itemprop="articleBody">{_paragraphs(ARTICLE[:3])}</div>
      <div class="x2">{comments}</div>
    </div></body></html>"""
    node = _pick(html)
    assert node is not None
    assert node.attributes.get("itemprop") == "articleBody"
    assert "Same here" not in _text(node)


def test_unknown_comment_thread_is_left_out() -> None:
    comments = "".join(
        f"<div class='c{i}'><div><b>reader{i}</b> <i>2 days ago</i></div>"
        f"<div><p>Thanks, this worked on my machine as well, number {i}.</p></div>"
        f"<div><a href='#r{i}'>Reply</a></div></div>"
        for i in range(4)
    )
    html = f"""<html><body><div class="page">
      <div class="body-copy">{_paragraphs(ARTICLE)}</div>
      <div class="thread"><h3>4 responses</h3>{comments}</div>
    </div></body></html>"""
    text = _text(_pick(html))
    assert all(sentence in text for sentence in ARTICLE)
    assert "worked on my machine" not in text


def test_text_with_line_breaks_in_a_single_div() -> None:
    loose = "<br><br>".join(ARTICLE)
    html = f"""<html><body><div class="menu-bar">{_links("Menu", 10)}</div>
      <div id="story">{loose}<div class="share-row"><a href="#">Share</a></div></div></body></html>"""
    node = _pick(html)
    assert node is not None
    assert node.attributes.get("id") == "story"


def test_ten_thousand_deep_nesting() -> None:
    depth = 10_000
    html = "<html><body>" + "<div>" * depth + _paragraphs(ARTICLE) + "</div>" * depth + "</body></html>"
    text = _text(_pick(html))
    assert ARTICLE[0] in text
    assert ARTICLE[-1] in text


def test_tree_is_not_modified() -> None:
    side = _links("Side", 5)
    body = _body(
        f"<html><body><div class='sidebar'>{side}</div><div>{_paragraphs(ARTICLE)}</div></body></html>"
    )
    before = body.html
    find_main_content(body)
    assert body.html == before


def test_html_root_is_accepted() -> None:
    tree = LexborHTMLParser(
        f"<html><head><title>t</title></head><body><div>{_paragraphs(ARTICLE)}</div></body></html>"
    )
    assert tree.root is not None
    node = find_main_content(tree.root)
    assert node is not None
    assert node.tag == "div"


def test_large_page_is_linear() -> None:
    # 400 sidebar links and 300 paragraphs (~15k nodes): an O(n^2) pass would take seconds.
    body = f"<div class='side'>{_links('Link', 400)}</div><div class='main'>{_paragraphs(ARTICLE * 50)}</div>"
    root = _body(f"<html><body>{body}</body></html>")
    start = time.perf_counter()
    node = find_main_content(root)
    elapsed = time.perf_counter() - start
    assert node is not None
    assert node.attributes.get("class") == "main"
    assert elapsed < 1.0


def test_link_density() -> None:
    body = _body(
        '<html><body><p id="a">abcd<a href="#">efgh</a></p><p id="b"></p><a id="c">xy</a></body></html>'
    )
    a, b, c = (body.css_first(f"#{k}") for k in "abc")
    assert a is not None
    assert b is not None
    assert c is not None
    assert link_density(a) == pytest.approx(0.5)
    assert link_density(b) == 0.0
    assert link_density(c) == 1.0


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ('class="entry-content"', 25.0),
        ('id="sidebar"', -25.0),
        ('class="post-content has-sidebar"', 25.0),  # state classes are not role hints
        ('class="shadow-lg text-sm md:flex"', 0.0),  # Tailwind utilities hint nothing
        ('class="ad-slot"', -25.0),
        ('class="widget-content"', 0.0),  # both hints cancel
        ("", 0.0),
    ],
)
def test_class_weight(attrs: str, expected: float) -> None:
    node = _body(f"<html><body><div {attrs}>x</div></body></html>").css_first("div")
    assert node is not None
    assert class_weight(node) == expected
