"""Archive paths: readable for ordinary URLs, safe and collision-free for hostile ones."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.errors import InputError
from thresher.store.paths import MAX_NAME_BYTES, article_path, resolve_inside
from thresher.urls import canonicalize

_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{n}" for d in ("com", "lpt") for n in "123456789"}


def _spellings(url: str) -> list[str]:
    """``url`` and its canonical form (canonicalize cannot encode lone surrogates; the paths still can)."""
    try:
        return [url, canonicalize(url)]
    except UnicodeError:
        return [url]


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:10]


def _assert_safe(path: PurePosixPath) -> None:
    """Every structural promise of article_path, checked on one result."""
    assert not path.is_absolute()
    assert len(path.parts) == 2
    host, name = path.parts
    for part in (host, name):
        assert part not in ("", ".", "..")
        assert ".." not in part
        assert not part.startswith(".")
        assert not part.endswith((".", " "))
        assert not any(ch in '<>:"/\\|?*' for ch in part)
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp") for ch in part)
        assert part.split(".")[0].lower() not in _RESERVED
        assert len(part.encode()) <= MAX_NAME_BYTES
    assert name.endswith(".md")
    assert name == unicodedata.normalize("NFC", name)


# --------------------------------------------------------------------------- readable examples


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/how-to-fix-wifi/", "x.com/how-to-fix-wifi.md"),
        ("https://x.com/2024/01/02/post/", "x.com/2024-01-02-post.md"),
        ("https://x.com/", "x.com/index.md"),
        (
            "https://fix-guides.techidaily.com/free-up-disk-space-windows-11-without-losing-files/",
            "fix-guides.techidaily.com/free-up-disk-space-windows-11-without-losing-files.md",
        ),
        (
            "https://win-helpdesk.techidaily.com/1731024511842-windows-11bluetooth/",
            "win-helpdesk.techidaily.com/1731024511842-windows-11bluetooth.md",
        ),
        (
            "https://notes.example-next.test/2024/08/20/nightly-backups-with-rsync-and-cron/",
            "notes.example-next.test/2024-08-20-nightly-backups-with-rsync-and-cron.md",
        ),
        (
            "https://blog.example-hexo.test/2025/01/convert-mkv/",
            "blog.example-hexo.test/2025-01-convert-mkv.md",
        ),
        ("https://blog.example-hexo.test/2025/01/19/", "blog.example-hexo.test/2025-01-19.md"),
        (
            "https://blog.example-hexo.test/2025/01/19/mkv.html",
            "blog.example-hexo.test/2025-01-19-mkv.html.md",
        ),
        (
            "https://jp.example.test/ブルートゥース-接続-できない/",
            "jp.example.test/ブルートゥース-接続-できない.md",
        ),
        ("https://de.example.test/wlan-probleme-lösen/", "de.example.test/wlan-probleme-lösen.md"),
        ("https://fr.example.test/réparer-le-wi-fi/", "fr.example.test/réparer-le-wi-fi.md"),
        ("https://bücher.example/", "xn--bcher-kva.example/index.md"),
        ("https://日本語.example/記事/", "xn--wgv71a119e.example/記事.md"),
        ("https://x.com:8443/a/", "x.com_8443/a.md"),
        ("https://x.com/c++-tips/", "x.com/c++-tips.md"),
        ("https://x.com/🎉-party/", "x.com/🎉-party.md"),
    ],
)
def test_readable_urls_map_without_a_hash(url: str, expected: str) -> None:
    canonical = canonicalize(url)
    assert article_path(canonical) == PurePosixPath(expected)


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("https://butterfly.example-blog.test/posts/slow-wifi-checklist/", "posts-slow-wifi-checklist"),
        ("https://x.com/Post/", "post"),
        ("https://x.com/post", "post"),  # "/post/" owns the clean name
        ("http://x.com/how-to-fix-wifi/", "how-to-fix-wifi"),  # https owns the clean name
        ("https://x.com/2024-01-02-post/", "2024-01-02-post"),  # "/2024/01/02/post/" owns it
        ("https://x.com/archives/?p=1", "archives-p=1"),
        ("https://x.com/?p=123", "p=123"),
        ("https://de.example.test/straße/", "straße"),  # ß case-folds to "ss"
        ("https://xn--bcher-kva.example/", "index"),  # the Unicode spelling owns the clean name
        ("https://x.com/post-0123456789/", "post-0123456789"),  # looks like a hashed name
    ],
)
def test_lossy_urls_keep_a_readable_prefix_and_add_the_hash(url: str, prefix: str) -> None:
    canonical = canonicalize(url)
    path = article_path(canonical)
    assert path.name == f"{prefix}-{_digest(canonical)}.md"
    _assert_safe(path)


def test_is_deterministic_and_keeps_query_and_port_apart() -> None:
    url = "https://x.com/2024/01/02/post/"
    assert article_path(url) == article_path(url)
    assert article_path(url) != article_path("https://x.com/2024/01/02/post/?page=2")
    assert article_path(url) != article_path("https://x.com:8443/2024/01/02/post/")


# --------------------------------------------------------------------------- hostile URLs


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/..",
        "https://x.com/../../etc/passwd",
        "https://x.com/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "https://x.com/%2E%2E/%2E%2E/",
        "https://x.com//etc/passwd",
        "file:///etc/passwd",
        "/etc/passwd",
        "C:\\Windows\\system32\\config",
        "https://x.com/..\\..\\windows\\system32/",
        "https://x.com/a\x00b/",
        "https://x.com/a%00b/",
        "https://x.com/%0d%0aSet-Cookie:x/",
        "https://x.com/" + "a" * 2000 + "/",
        "https://x.com/" + "あ" * 2000 + "/",
        "https://x.com/" + "é" * 99 + "/",
        "https://x.com/" + "-/" * 500,
        "https://x.com/con/",
        "https://x.com/CON/",
        "https://x.com/aux.md",
        "https://x.com/LPT1/",
        "https://x.com/nul.tar.gz/",
        "https://x.com/com¹/",
        "https://x.com/foo./",
        "https://x.com/foo.../",
        "https://x.com/foo%20%20/",
        "https://x.com/.hidden/",
        "https://x.com/.../",
        "https://x.com/<script>/",
        'https://x.com/a:b|c"d?e*f/',
        "https://x.com/evil\u202egnp.md/",
        "https://x.com/zero\u200bwidth/",
        "https://x.com/%ED%A0%80/",
        "https://x.com/\ud800/",
        "https://../x",
        "https://./",
        "https://.../",
        "https://con/",
        "https://aux.example.com/a/",
        "http://[::1]:8080/a/",
        "https://user:pw@x.com/a/",
        "https://x.com:99999/a/",
        "https://" + "a" * 300 + ".com/a/",
        "https://a\x00b.com/a/",
        "",
        "/",
        "..",
        "not a url",
    ],
)
def test_hostile_urls_stay_safe_and_inside(url: str, tmp_path: Path) -> None:
    for candidate in _spellings(url):
        path = article_path(candidate)
        _assert_safe(path)
        target = resolve_inside(tmp_path, path)
        assert target.is_relative_to(tmp_path.resolve())
        assert target.parent.parent == tmp_path.resolve()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/../../etc/passwd", "x.com/etc-passwd-"),
        ("https://x.com/..", "x.com/index-"),
        ("https://x.com/con/", "x.com/con_-"),
        ("https://x.com/aux.md", "x.com/aux_.md-"),
        ("https://x.com/LPT1/", "x.com/lpt1_-"),
        ("https://x.com/evil\u202egnp.md/", "x.com/evil-gnp.md-"),
        ("https://x.com/a\x00b/", "x.com/a-b-"),
        ("https://x.com/..\\..\\windows\\system32/", "x.com/windows-system32-"),
        ("https://../x", "_nohost/x-"),
        ("https://aux.example.com/a/", "aux_.example.com/a-"),
        ("http://[::1]:8080/a/", "__1_8080/a-"),
        ("file:///etc/passwd", "_nohost/etc-passwd-"),
    ],
)
def test_hostile_urls_read_sensibly(url: str, expected: str) -> None:
    path = str(article_path(canonicalize(url)))
    assert path.startswith(expected)
    assert path.removeprefix(expected)[:-3] == _digest(canonicalize(url))


def test_long_slugs_are_cut_at_a_character_boundary() -> None:
    for ch in ("a", "é", "あ", "🎉"):
        url = canonicalize("https://x.com/" + ch * 2000 + "/")
        name = article_path(url).name
        assert len(name.encode()) <= MAX_NAME_BYTES
        assert name.startswith(ch * 40)
        assert name.endswith(f"-{_digest(url)}.md")


def test_case_variants_never_share_a_file() -> None:
    urls = ["https://x.com/post/", "https://x.com/Post/", "https://x.com/POST/", "https://X.com/post/"]
    paths = {str(article_path(u)).lower() for u in urls}
    assert len(paths) == len(urls)


def test_a_clean_slug_never_equals_another_urls_hashed_name() -> None:
    hashed = article_path("https://x.com/Post/")
    mimic = f"https://x.com/{hashed.stem}/"
    assert article_path(mimic) != hashed
    assert article_path(mimic).name.lower() != hashed.name.lower()


def test_segment_joins_never_collide() -> None:
    urls = [
        "https://x.com/a-b/",
        "https://x.com/a/b/",
        "https://x.com/a-b",
        "https://x.com/a//b/",
        "https://x.com/2024/01/02/post/",
        "https://x.com/2024-01-02-post/",
        "https://x.com/2024/01-02-post/",
        "https://x.com/2024/01/02-post/",
        "https://x.com/index/",
        "https://x.com/",
    ]
    assert len({str(article_path(u)).lower() for u in urls}) == len(urls)


# --------------------------------------------------------------------------- resolve_inside


def test_resolve_inside_joins_relative_paths(tmp_path: Path) -> None:
    assert resolve_inside(tmp_path, "x.com/a.md") == tmp_path.resolve() / "x.com" / "a.md"
    assert resolve_inside(tmp_path, PurePosixPath("x.com", "a.md")) == tmp_path.resolve() / "x.com/a.md"


@pytest.mark.parametrize(
    "relative", ["../x.md", "x.com/../../x.md", "/etc/passwd", "", ".", "x.com/..", "a\x00b"]
)
def test_resolve_inside_refuses_escapes(tmp_path: Path, relative: str) -> None:
    with pytest.raises(InputError):
        resolve_inside(tmp_path / "archive", relative)


def test_resolve_inside_refuses_a_symlink_pointing_outside(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "evil.example").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "real", target_is_directory=True)
    with pytest.raises(InputError):
        resolve_inside(root, "evil.example/a.md")
    (root / "x.com").mkdir()
    (root / "x.com" / "a.md").symlink_to(outside / "a.md")
    with pytest.raises(InputError):
        resolve_inside(root, "x.com/a.md")
    assert resolve_inside(root, "inner/a.md") == root.resolve() / "real" / "a.md"


# --------------------------------------------------------------------------- properties

_hostish = st.one_of(
    st.sampled_from(["x.com", "X.com", "bücher.example", "xn--bcher-kva.example", "con", "..", "", "[::1]"]),
    st.text(max_size=20),
)
_pathish = st.one_of(
    st.text(alphabet="aAbß-/._0f%2e\\", max_size=24),  # small alphabet: joins, case, dots, hex tails meet
    st.text(max_size=60),
)
_urls = st.one_of(
    st.builds(
        lambda scheme, host, port, path, query: f"{scheme}{host}{port}/{path}{query}",
        st.sampled_from(["https://", "http://", "HTTPS://", "", "file://", "//"]),
        _hostish,
        st.sampled_from(["", ":8443", ":443", ":0", ":99999", ":x"]),
        _pathish,
        st.sampled_from(["", "?", "?p=1", "?a=1&b=2", "#frag"]),
    ),
    st.text(max_size=80),
)


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archive")


@settings(max_examples=400)
@given(_urls)
def test_any_url_gives_a_safe_path_inside_the_archive(archive_root: Path, url: str) -> None:
    for candidate in _spellings(url):
        path = article_path(candidate)
        _assert_safe(path)
        assert article_path(candidate) == path
        target = resolve_inside(archive_root, path)
        assert target.parent.parent == archive_root.resolve()


@settings(max_examples=300)
@given(st.lists(_urls, min_size=2, max_size=12, unique=True))
def test_distinct_urls_never_collide_case_insensitively(urls: list[str]) -> None:
    paths = [str(article_path(u)) for u in urls]
    assert len({p.lower() for p in paths}) == len(urls)
    assert len({p.casefold() for p in paths}) == len(urls)
    canonical = sorted({canonicalize(u) for u in urls})
    assert len({str(article_path(u)).lower() for u in canonical}) == len(canonical)


@given(_urls)
def test_a_url_spelling_another_urls_name_gets_its_own_path(url: str) -> None:
    path = article_path(url)
    for mimic in (f"https://{path.parent}/{path.stem}/", f"https://{path.parent}/{path.stem.upper()}/"):
        if mimic != url:
            assert str(article_path(mimic)).lower() != str(path).lower()


@settings(max_examples=500)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
    | st.text(alphabet=st.sampled_from('ab.-/ :*?<>|\\"\x7f\t'), max_size=12)
)
def test_clean_segment_fast_path_agrees_with_the_character_walk(segment: str) -> None:
    from thresher.store.paths import _clean_segment, _clean_segment_by_char

    assert _clean_segment(segment) == _clean_segment_by_char(segment)


_plain_hosts = st.one_of(
    st.sampled_from(["x.com", "con.example", "xn--bcher-kva.example", "nul", "a" * 199, "a" * 200, "-.x"]),
    st.text(alphabet="acnox0-.", min_size=1, max_size=12),
)
_plain_slugs = st.one_of(  # reserved, dated, hash-like and too long ones must leave the fast path
    st.sampled_from(
        ["index", "con", "com1", "2024-01-02-post", "2024-01-post", "post-0123456789", "a" * 197, "a" * 198]
    ),
    st.text(alphabet="acnox012-", min_size=1, max_size=20),
)


@settings(max_examples=500)
@given(
    st.from_regex(r"https://((?:[a-z0-9-]+\.)*[a-z0-9-]+)/([a-z0-9]+(?:-[a-z0-9]+)*)/", fullmatch=True)
    | st.builds(lambda host, slug: f"https://{host}/{slug}/", _plain_hosts, _plain_slugs)
)
def test_plain_url_fast_path_agrees_with_the_general_derivation(url: str) -> None:
    from thresher.store.paths import _derived_path, _plain_path

    assert article_path(url) == _derived_path(url)
    for spelling in _spellings(url):
        assert article_path(spelling) == _derived_path(spelling)
    # the fast path is really taken for ordinary URLs, and left for the ones it cannot decide alone
    assert _plain_path("https://x.com/how-to-fix-wifi/") == PurePosixPath("x.com/how-to-fix-wifi.md")
    assert _plain_path("https://x.com/2024-01-02-post/") is None
