"""The fast front-matter reader gives exactly what PyYAML gives, or leaves the block to PyYAML."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from thresher.errors import PostError
from thresher.models import FRONT_MATTER_KEYS, _front_matter_block, _Loader, split_front_matter
from thresher.store.frontmatter import _mapping, read_front_matter, render_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
# the one regex split_front_matter found the block with before (now: the opening, then the closing line)
_FENCE = re.compile(
    r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)

_TRICKY = "#,[]{}&*!|>'\"%@`?:-.~ \t\n\r\x00\x07\x7f\x85\xa0\u2028\u2029\ufeff\ufffeé—’😀0123456789eExX+_T Z"
_WORDS = [
    "yes",
    "No",
    "null",
    "Null",
    "~",
    "true",
    "OFF",
    "on",
    "y",
    "1.5",
    ".inf",
    "-.inf",
    ".NaN",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "1e3",
    "+1",
    "-0",
    "00",
    "12:30",
    "190:20:30",
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.120Z",
    "2024-01-02T03:04:05.000Z",
    "2024-01-02 03:04:05",
    "2024-13-02T03:04:05Z",
    "2024-01-02t03:04:05z",
    "=",
    "<<",
    "---x",
    "...",
    "- a",
    "-a",
    "a: b",
    "a #b",
    "a#b",
    "a:",
    ":a",
    "? x",
    "?x",
    "*x",
    "&x",
    "!x",
    "' x",
    "'",
    "''",
    "a, b",
    "",
    " ",
    "x" * 300,
    "https://example.test/a:b/?q=1#frag",
]
_TEXT = st.sampled_from(_WORDS) | st.text(alphabet=st.sampled_from(_TRICKY) | st.characters(), max_size=14)
_KEYS = st.sampled_from(FRONT_MATTER_KEYS) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_WHEN = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, None])
).map(lambda d: d if d.tzinfo else d.replace(tzinfo=timezone(timedelta(hours=-5))))
_SCALAR = _TEXT | st.integers(min_value=-(10**30), max_value=10**30) | _WHEN
_ITEM = _TEXT | st.dictionaries(_KEYS, _SCALAR, min_size=1, max_size=4)
_META = st.dictionaries(_KEYS, _SCALAR | st.lists(_ITEM, min_size=1, max_size=4), min_size=1, max_size=8)


def _pyyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except Exception as exc:  # YAMLError, and ValueError for a timestamp that is no date (2024-02-30)
        return exc


def _same(fast: Any, slow: Any) -> bool:
    """Equal, with the same types all the way down (repr tells int from bool, and shows tzinfo)."""
    return bool(fast == slow) and repr(fast) == repr(slow)


def _pyyaml_split(document: str) -> tuple[dict[str, Any], str]:
    """split_front_matter with PyYAML alone: one regex for the block, PyYAML for what it holds, and any
    error PyYAML raises a PostError."""
    match = _FENCE.match(document)
    if not match:
        return {}, document
    try:
        meta = yaml.load(match.group(1), Loader=_Loader) if match.group(1).strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise PostError(f"invalid YAML front matter{where}") from exc
    except Exception as exc:
        raise PostError(f"invalid value in YAML front matter ({exc})") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostError("front matter is not a mapping of keys to values")
    return meta, document[match.end() :].lstrip("\n")


def _split(document: str) -> tuple[Any, ...]:
    try:
        meta, body = split_front_matter(document)
    except Exception as exc:  # PostError, or anything else that escapes (the test then fails)
        return (type(exc).__name__, str(exc))
    return (repr(meta), meta, body)


def _reference(document: str) -> tuple[Any, ...]:
    try:
        meta, body = _pyyaml_split(document)
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    return (repr(meta), meta, body)


def _expect_fast(value: Any) -> bool:
    """Not left to PyYAML: keys that read back as strings, no timestamp written as ``.000`` (under 1 ms)."""
    if isinstance(value, datetime):
        return not 0 < value.microsecond < 1000
    if isinstance(value, list):
        return all(map(_expect_fast, value))
    if isinstance(value, dict):
        keys = all(yaml.load(f"{k}: 1", Loader=_Loader) == {k: 1} for k in value)
        return keys and all(map(_expect_fast, value.values()))
    return True


@settings(max_examples=800, deadline=None)
@given(meta=_META)
def test_written_front_matter_reads_as_pyyaml_reads_it(meta: dict[str, Any]) -> None:
    text = _mapping(meta, "")
    assume(text is not None)
    assert text is not None
    fast = read_front_matter(text)
    slow = _pyyaml(text)
    assert not isinstance(slow, Exception)
    if fast is not None:
        assert _same(fast, slow)
    # what the archive writes is read fast
    if _expect_fast(meta):
        assert fast is not None
    document = f"---\n{text}\n---\n\nBody.\n"
    assert _split(document) == _reference(document)


_LINES = [
    "# a comment",
    "title: x # comment",
    "title: [a, b]",
    "title: {a: b}",
    "title: &anchor x",
    "other: *anchor",
    "title: !!str 5",
    "title: |",
    "title: >-",
    "  continued",
    "   three spaces",
    "\ttab: 1",
    "title:  two spaces",
    'title: "double"',
    "title: 'open",
    "title: 'a''b'",
    "title: 'a'b'",
    "title: ''",
    "title:",
    "title: ",
    "title: ~",
    "title: null",
    "yes: 1",
    "on: 2",
    "null: x",
    "? complex",
    ": value",
    "- item",
    "- - nested",
    "- key:",
    "-  two",
    "- 5",
    "- 2024-01-02T03:04:05Z",
    "  key: v",
    "  - x",
    "date: 2024-01-02T03:04:05Z",
    "date: 2024-01-02T03:04:05.120Z",
    "date: 2024-01-02T03:04:05.000Z",
    "date: 2024-01-02T03:04:05.1Z",
    "date: 2024-01-02 03:04:05",
    "date: 2024-02-30T03:04:05Z",
    "date: 2024-01-02",
    "word_count: 007",
    "word_count: -0",
    "word_count: 1_000",
    "word_count: 0x1F",
    "word_count: " + "9" * 5000,
    "x" * 70 + ": long key",
    "...",
    "---",
    "%YAML 1.1",
    "title: a\r",
    "",
    " ",
]


@st.composite
def _documents(draw: st.DrawFn) -> str:
    meta = draw(_META)
    text = _mapping(meta, "")
    if text is None:
        text = yaml.dump(meta, allow_unicode=True, sort_keys=False).rstrip("\n")
    lines = text.split("\n")
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        where = draw(st.integers(min_value=0, max_value=len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "copy", "edit", "indent"]))
        if action == "insert":
            lines.insert(where, draw(st.sampled_from(_LINES) | _TEXT))
        elif lines and action == "delete":
            del lines[min(where, len(lines) - 1)]
        elif lines and action == "copy":
            lines.insert(where, lines[min(where, len(lines) - 1)])
        elif lines and action == "edit":
            at = min(where, len(lines) - 1)
            line = lines[at]
            cut = draw(st.integers(min_value=0, max_value=len(line)))
            lines[at] = line[:cut] + draw(_TEXT) + line[cut + draw(st.integers(0, 2)) :]
        elif lines:
            at = min(where, len(lines) - 1)
            lines[at] = draw(st.sampled_from([" ", "  ", "- ", "\t"])) + lines[at]
    return "\n".join(lines)


@settings(max_examples=1500, deadline=None)
@given(text=_documents())
def test_any_block_reads_as_pyyaml_reads_it_or_is_left_to_pyyaml(text: str) -> None:
    fast = read_front_matter(text)
    if fast is not None:
        slow = _pyyaml(text)
        assert not isinstance(slow, Exception)
        assert _same(fast, slow)
    document = f"---\n{text}\n---\nBody.\n"
    assert _split(document) == _reference(document)


@pytest.mark.parametrize(
    ("block", "fast"),
    [
        ("title: T\ndate: 2024-01-02T03:04:05Z\nword_count: 12\ntags:\n- a\n- 'yes'", True),
        ("also_read:\n- title: A\n  url: https://x.test/a/\n- url: https://x.test/b/\n  title: B", True),
        ("date: 2024-01-02T03:04:05.120Z", True),
        ("title: 'it''s: here'", True),
        ("title: T # note", False),
        ("tags: [a, b]", False),
        ("title: yes", False),
        ("yes: title", False),
        ("title: T\ntitle: U", False),
        ("title: 'a'b'", False),
        ("date: 2024-01-02T03:04:05.000Z", False),
        ("word_count: 007", False),
        ("title: 08", True),
        ("title: 2024-01-02T03:04:05", False),
        ("tags:", False),
        ("title: |\n  two\n  lines", False),
    ],
)
def test_blocks_read_fast_or_by_pyyaml(block: str, fast: bool) -> None:
    got = read_front_matter(block)
    assert (got is not None) == fast
    if got is not None:
        assert _same(got, yaml.load(block, Loader=_Loader))
    document = f"---\n{block}\n---\n\nBody.\n"
    assert _split(document) == _reference(document)


def test_timestamps_are_aware_utc_datetimes_as_pyyaml_makes_them() -> None:
    got = read_front_matter("date: 2024-01-02T03:04:05.120Z\nupdated: 2024-01-02T03:04:05Z")
    assert got == {
        "date": datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        "updated": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    assert got["date"].tzinfo is UTC


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("---\ntitle: [unclosed\n---\nbody\n", "invalid YAML front matter at line 3"),
        ("---\ntitle: a\n  b: c\n---\n", "invalid YAML front matter at line 3"),
        ("---\ntitle: 'open\n---\n", "invalid YAML front matter at line 2"),
        ("---\n- a\n- b\n---\n", "front matter is not a mapping of keys to values"),
        ("---\njust text\n---\n", "front matter is not a mapping of keys to values"),
    ],
)
def test_malformed_front_matter_is_the_same_post_error(document: str, message: str) -> None:
    with pytest.raises(PostError) as fast:
        split_front_matter(document)
    with pytest.raises(PostError) as slow:
        _pyyaml_split(document)
    assert str(fast.value) == str(slow.value) == message


@pytest.mark.parametrize("page", sorted(FIXTURES.glob("**/*.html")), ids=lambda p: p.name)
def test_every_fixture_document_is_read_fast(page: Path) -> None:
    import thresher

    article = thresher.extract(page.read_bytes(), url=f"https://fixture.test/{page.stem}/")
    document = render_document(article)
    match = _FENCE.match(document)
    assert match is not None
    fast = read_front_matter(match.group(1))
    assert fast is not None
    assert _same(fast, yaml.load(match.group(1), Loader=_Loader))


_PIECES = [
    "---",
    "...",
    "--- ",
    "---\t",
    "----",
    "...x",
    " ---",
    "\ufeff",
    "\r\n",
    "\n",
    "\n\n",
    "\r",
    "a",
    "t: x",
    "",
]


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=12))
def test_the_block_ends_where_the_one_regex_ended_it(pieces: list[str]) -> None:
    for document in ("".join(pieces), "---\n" + "".join(pieces), "\ufeff---\r\n" + "".join(pieces)):
        match = _FENCE.match(document)
        assert _front_matter_block(document) == (None if match is None else (match.group(1), match.end()))
        assert _split(document) == _reference(document)
