from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.urls import absolute_url, canonicalize, host_of


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Win-Docs.techidaily.com/post/index.html", "https://win-docs.techidaily.com/post/"),
        ("https://a.example/p/?utm_source=x&utm_medium=y&b=2&a=1#top", "https://a.example/p/?a=1&b=2"),
        ("https://a.example/p?fbclid=abc&gclid=def", "https://a.example/p"),
        ("http://a.example:80/x", "http://a.example/x"),
        ("https://a.example:443/x", "https://a.example/x"),
        ("https://a.example:8443/x", "https://a.example:8443/x"),
        ("https://a.example", "https://a.example/"),
        ("https://a.example/%7Euser/a b", "https://a.example/~user/a%20b"),
        ("https://a.example/index.php", "https://a.example/"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@given(st.text(max_size=80))
def test_canonicalize_is_idempotent_on_any_text(tail: str) -> None:
    url = "https://Example.COM/" + tail
    once = canonicalize(url)
    assert canonicalize(once) == once


def test_absolute_url_skips_non_web_links() -> None:
    base = "https://a.example/dir/page/"
    assert absolute_url("../x", base) == "https://a.example/dir/x"
    assert absolute_url("#frag", base) is None
    assert absolute_url("javascript:void(0)", base) is None
    assert absolute_url("", base) is None
    assert absolute_url("https://b.example/y", base) == "https://b.example/y"
    assert host_of("https://Sub.Example.com:8080/x") == "sub.example.com"


def test_lone_surrogates_do_not_raise() -> None:
    assert canonicalize("https://x.example/\ud800/?q=\udfff").startswith("https://x.example/")


@settings(max_examples=500)
@given(
    st.from_regex(r"https?://(?:[a-z0-9-]+\.)*[a-z0-9-]+(?:/[A-Za-z0-9_-]*)+", fullmatch=True)
    | st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["https://", "http://", "HTTP://", "ftp://"]),
        st.text(alphabet="aZ0-._:", min_size=0, max_size=10),
        st.text(alphabet="aZ0-_/.%?#", max_size=16),
    )
)
def test_already_canonical_spellings_skip_the_parse_with_the_same_result(url: str) -> None:
    from urllib.parse import urlsplit

    from thresher.urls import _canonical

    assert canonicalize(url) == _canonical(url)
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    assert host_of(url) == host
