"""Affiliate-link inventory: the fast host reader agrees with urlsplit wherever it answers."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from thresher.extract.links import _plain_host, take_affiliate_links
from thresher.extract.profiles import default_profiles


@settings(max_examples=500, deadline=None)  # a loaded CI box must not fail a string test
@given(
    scheme=st.sampled_from(["https://", "http://", "HTTP://", "//", ""]),
    rest=st.text(alphabet="ab.:@/?#[]\\\t\nAZ%- \x00", max_size=24),
)
def test_plain_host_agrees_with_urlsplit(scheme: str, rest: str) -> None:
    url = scheme + rest
    host = _plain_host(url)
    if host is not None:
        assert host == (urlsplit(url).hostname or "").lower()


def test_affiliate_links_with_odd_hosts_still_found() -> None:
    body = LexborHTMLParser(
        "<div><a href='https://WWW.Amazon.com/dp/1?tag=x-20'>A</a>"
        "<a href='https://user@amzn.to/abc'>B</a>"
        "<a href='https://tools.techidaily.com:443/x/'>C</a>"
        "<a href='https://example.com/?tag=1'>D</a></div>"
    ).css_first("div")
    found = take_affiliate_links(body, default_profiles().catalogue)
    assert [(x.text, x.network) for x in found] == [("A", "amazon"), ("B", "amazon"), ("C", "techidaily")]
