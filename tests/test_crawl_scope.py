from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thresher.crawl import DEFAULT_SKIP_EXTENSIONS, Scope, is_article_url

SITE = "https://blog.example"


@pytest.fixture
def scope() -> Scope:
    return Scope(allow_hosts={"blog.example"}, max_year=2030)


def test_defaults() -> None:
    s = Scope()
    assert (s.max_depth, s.max_url_length, s.max_repeated_segments) == (6, 2048, 2)
    assert (s.max_query_params, s.max_path_segments) == (6, 12)
    assert (
        s.skip_extensions is DEFAULT_SKIP_EXTENSIONS
        and {"jpg", "css", "js", "pdf", "zip"} <= s.skip_extensions
    )


def test_empty_allow_hosts_allows_any_host() -> None:
    assert Scope().check("https://anything.example/p/", 0) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://blog.example/post/", None),
        ("http://BLOG.example./post/", None),
        ("https://blog.example:443/post/", None),
        ("https://other.example/post/", "off-host"),
        ("https://sub.blog.example/post/", "off-host"),
        ("https://blog.example:8443/post/", "off-host"),
        ("https://blog.example.evil.example/", "off-host"),
    ],
)
def test_host(scope: Scope, url: str, reason: str | None) -> None:
    assert scope.check(url, 0) == reason


def test_host_with_port_and_wildcard() -> None:
    s = Scope(allow_hosts={"blog.example:8080", "*.cdn.example"})
    assert s.check("http://blog.example:8080/x", 0) is None
    assert s.check("http://blog.example/x", 0) == "off-host"
    assert s.check("https://cdn.example/x", 0) is None
    assert s.check("https://a.b.cdn.example/x", 0) is None
    assert s.check("https://notcdn.example/x", 0) == "off-host"


def test_ipv6_host_entry() -> None:
    s = Scope(allow_hosts={"[::1]:8000"})
    assert s.check("http://[::1]:8000/x", 0) is None
    assert s.check("http://[::1]:8001/x", 0) == "off-host"


def test_allows_host_ignores_path_rules() -> None:
    s = Scope(allow_hosts={"blog.example"}, include=[re.compile("/posts/")])
    assert s.check("https://blog.example/sitemap.xml.gz", 0) == "not-included"
    assert s.allows_host("https://blog.example/sitemap.xml.gz")
    assert not s.allows_host("https://other.example/sitemap.xml")
    assert not s.allows_host("ftp://blog.example/sitemap.xml")
    assert not s.allows_host("http://[::1/broken")


def test_for_site() -> None:
    s = Scope.for_site("https://Blog.example/start/", "http://localhost:8000/", max_depth=2)
    assert s.allow_hosts == {"blog.example", "localhost:8000"}
    assert s.max_depth == 2
    assert s.check("https://blog.example/a/", 1) is None
    assert s.check("http://localhost:8000/a/", 1) is None
    assert s.check("https://elsewhere.example/", 1) == "off-host"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://blog.example/p/", None),
        ("HTTPS://blog.example/p/", None),
        ("ftp://blog.example/p/", "scheme"),
        ("mailto:me@blog.example", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("/relative/only", "scheme"),
        ("https:///no-host", "invalid"),
        ("http://[::1/broken", "invalid"),
        ("https://blog.example:99999/", "invalid"),
    ],
)
def test_scheme_and_validity(scope: Scope, url: str, reason: str | None) -> None:
    assert scope.check(url, 0) == reason


def test_depth(scope: Scope) -> None:
    assert scope.check(f"{SITE}/p/", 6) is None
    assert scope.check(f"{SITE}/p/", 7) == "too-deep"
    assert Scope(max_depth=0).check(f"{SITE}/p/", 1) == "too-deep"


def test_url_length(scope: Scope) -> None:
    base = f"{SITE}/"
    assert scope.check(base + "a" * (2048 - len(base)), 0) is None
    assert scope.check(base + "a" * (2049 - len(base)), 0) == "too-long"


def test_include_and_exclude() -> None:
    s = Scope(
        include=[re.compile(r"/(?:posts|page)/")],
        exclude=[re.compile(r"/posts/draft-"), re.compile(r"\?replytocom=")],
    )
    assert s.check(f"{SITE}/posts/hello/", 0) is None
    assert s.check(f"{SITE}/page/2/", 0) is None
    assert s.check(f"{SITE}/about/", 0) == "not-included"
    assert s.check(f"{SITE}/posts/draft-1/", 0) == "excluded"
    assert s.check(f"{SITE}/posts/x/?replytocom=5", 0) == "excluded"
    assert Scope(exclude=[re.compile("/tags/")]).check(f"{SITE}/about/", 0) is None


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/a/b/a/", None),
        ("/a/a/a/", "repeated-segments"),
        ("/x/tag/y/tag/z/TAG/", "repeated-segments"),
        ("/x/%61/a/a/", "repeated-segments"),
        ("//a//a//", None),
    ],
)
def test_repeated_segments(scope: Scope, path: str, reason: str | None) -> None:
    assert scope.check(SITE + path, 0) == reason


def test_repeated_segments_threshold() -> None:
    assert Scope(max_repeated_segments=3).check(f"{SITE}/a/a/a/", 0) is None


def test_path_segments(scope: Scope) -> None:
    assert scope.check(SITE + "".join(f"/s{i}" for i in range(12)), 0) is None
    assert scope.check(SITE + "".join(f"/s{i}" for i in range(13)), 0) == "too-many-segments"


def test_query_params(scope: Scope) -> None:
    six = "&".join(f"k{i}=v" for i in range(6))
    assert scope.check(f"{SITE}/search?{six}", 0) is None
    assert scope.check(f"{SITE}/search?{six}&k6=", 0) == "too-many-params"
    # tracking parameters do not count: canonicalize drops them anyway
    assert scope.check(f"{SITE}/search?{six}&utm_source=a&utm_medium=b&fbclid=c", 0) is None


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/logo.png", "asset"),
        ("/css/style.CSS", "asset"),
        ("/js/app.js?v=3", "asset"),
        ("/files/manual.pdf", "asset"),
        ("/dl/archive.tar.gz", "asset"),
        ("/post.html", None),
        ("/post.php?id=1", None),
        ("/atom.xml", None),
        ("/search.json", None),
        ("/version-2.0/", None),
        ("/photos.jpg/", None),
    ],
)
def test_assets(scope: Scope, path: str, reason: str | None) -> None:
    assert scope.check(SITE + path, 0) == reason


def test_skip_extensions_configurable() -> None:
    assert Scope(skip_extensions=frozenset()).check(f"{SITE}/a.png", 0) is None
    assert Scope(skip_extensions=frozenset({"html"})).check(f"{SITE}/a.html", 0) == "asset"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/2024/10/20/my-post/", None),
        ("/archives/2024/10/", None),
        ("/events/2024-10-20/", None),
        ("/calendar/2087/03/", "calendar-trap"),
        ("/archives/1850/01/", "calendar-trap"),
        ("/events/2099-01/", "calendar-trap"),
        ("/post/1850/", None),  # a lone 4-digit number is an id, not a date
        ("/p/9999/13/", None),  # 13 is not a month
        ("/events/?tribe-bar-date=2024-10", None),
        ("/events/?tribe-bar-date=2099-10", "calendar-trap"),
        ("/calendar?date=1899-12-31", "calendar-trap"),
        ("/calendar?YEAR=3000&month=1", "calendar-trap"),
        ("/list?id=3000", None),
    ],
)
def test_calendar_traps(scope: Scope, path: str, reason: str | None) -> None:
    assert scope.check(SITE + path, 0) == reason


def test_default_max_year_is_next_year() -> None:
    from datetime import UTC, datetime

    assert Scope().max_year == datetime.now(UTC).year + 1


def test_is_article_url() -> None:
    pattern = re.compile(r"^https?://[^/]+/[^/]+/$")
    assert is_article_url("https://blog.example/my-post/", pattern)
    assert not is_article_url("https://blog.example/tags/windows/", pattern)
    assert is_article_url("https://blog.example/tags/windows/", None)


@given(st.text(max_size=300), st.integers(min_value=-10, max_value=100))
def test_check_never_raises_on_arbitrary_text(url: str, depth: int) -> None:
    scope = Scope(allow_hosts={"blog.example", "*.cdn.example:8080"})
    reason = scope.check(url, depth)
    assert reason is None or isinstance(reason, str)
    assert isinstance(scope.allows_host(url), bool)


@given(st.text(max_size=200))
def test_check_never_raises_on_arbitrary_url_tails(tail: str) -> None:
    for prefix in ("https://blog.example/", "http://blog.example/x?", "https://blog.example/2024/"):
        reason = Scope(allow_hosts={"blog.example"}).check(prefix + tail, 1)
        assert reason is None or isinstance(reason, str)
