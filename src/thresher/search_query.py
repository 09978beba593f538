"""Turn whatever the user typed after ``thresher search`` into an FTS5 MATCH expression that cannot fail.

Two outcomes, both safe to bind as ``... WHERE articles_fts MATCH ?``:

**FTS5 syntax** (``plain=False``, the text is kept verbatim minus surrounding whitespace) when all hold:

* SQLite's own FTS5 parser accepts it, checked against an empty in-memory FTS5 table with the same
  columns and tokenizer: phrases ``"a b"``, prefixes ``foo*``, ``AND``/``OR``/``NOT``, ``a + b``,
  ``NEAR(a b, 5)``, ``^initial``, parentheses, column filters ``title:x``, ``{title tags}: x`` and
  ``-title: x``. Column filters naming columns outside ``columns`` fail this check;
* it has at most ``MAX_CHARS`` (1,000) characters and its phrases hold at most ``MAX_TERMS`` (64)
  tokens in all, so one query cannot ask for an unbounded amount of index work;
* it does not start with ``*``: ``*reads`` and ``*id`` are FTS5 debugging queries that return a
  phantom row instead of articles;
* it holds no control characters: FTS5 stops reading at NUL and treats 0x1A as a word character;
* every bare word is one plain word (letters, digits, combining accents), so ``snake_case``,
  ``foo—bar`` or an emoji are not silently turned into a phrase or a token nobody indexed;
* every phrase yields at least one token, so ``"😀"`` or ``"--"`` cannot make the query match nothing.

**Plain terms** (``plain=True``) for anything else, e.g. unbalanced quotes, a lone ``*``, ``NEAR(``,
``-foo``, ``^``, ``:``, ``bogus:x``, SQL, emoji, control characters, overlong text: the first
``MAX_CHARS`` characters (cut at a word boundary) are split into runs of letters and digits
(apostrophes, hyphens and other punctuation separate terms; a CJK run stays whole, as unicode61
keeps it whole), each run is quoted as an FTS5 string, and the runs are joined with spaces, i.e. all
must match. Dropped: the upper-case keywords ``AND OR NOT NEAR`` (they were meant as operators), runs
the tokenizer reduces to nothing or to a term already present, and every token past ``MAX_TERMS``.
When no run is left (or the only word is longer than ``MAX_CHARS``) the result is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self

from .errors import StoreError
from .sqlite import sqlite3

__all__ = ["DEFAULT_TOKENIZE", "MAX_CHARS", "MAX_TERMS", "FtsQuery", "QueryBuilder", "build_query"]

#: Must match the archive's FTS5 table, or validation would tokenize differently from the real search.
DEFAULT_TOKENIZE: Final = "porter unicode61 remove_diacritics 2"
MAX_CHARS: Final = 1_000
MAX_TERMS: Final = 64

_PROBE_TABLE: Final = "fts5_probe"
# FTS5 skips only these four as whitespace; anything else (NBSP, U+3000, ...) is part of a bare word.
_FTS5_SPACE: Final = " \t\n\r"
# One FTS5 query token, mirroring fts5ExprGetToken: punctuation, a "string" ("" is an escaped quote),
# or a bare word (ASCII letters, digits, "_", 0x1A, and every non-ASCII character).
_FTS5_TOKEN_RE: Final = re.compile(
    r"[ \t\n\r]*(?:(?P<punct>[(){}:,+*^-])"
    r'|"(?P<string>(?:[^"]|"")*)"'
    r"|(?P<bare>[0-9A-Za-z_\x1a\x80-\U0010ffff]+))"
)
# A plain word: letters and digits (not "_", which unicode61 splits at) plus the combining accents
# that remove_diacritics folds into the word ("e\u0301" indexes as "e"); CJK letters included.
_WORD_RE: Final = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_TRAILING_WORD_RE: Final = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+\Z")
# C0/C1 controls other than FTS5's whitespace: NUL truncates the expression FTS5 sees, 0x1A is a word.
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_OPERATORS: Final = frozenset({"AND", "OR", "NOT"})
_KEYWORDS: Final = _OPERATORS | {"NEAR"}


@dataclass(frozen=True, slots=True)
class FtsQuery:
    """An FTS5 MATCH expression; ``plain`` is True when the text fell back to quoted plain terms."""

    expression: str
    plain: bool


class QueryBuilder:
    """Builds safe MATCH expressions, validating them against its own in-memory FTS5 probe tables."""

    def __init__(self, columns: Collection[str], *, tokenize: str = DEFAULT_TOKENIZE) -> None:
        """Create the probe tables for ``columns``; ValueError for unusable names, StoreError without FTS5."""
        if isinstance(columns, str):
            # A str is a Collection[str] too; "title" would silently become five one-letter columns.
            raise TypeError("columns must be a collection of column names, not a str")
        names = list(columns)
        if not names or any(not name or "\x00" in name for name in names):
            raise ValueError(f"invalid FTS5 column names: {names!r}")
        self._conn = sqlite3.connect(":memory:", isolation_level=None)
        tokenizer = _sql_string(tokenize)
        try:
            # The tokenizer table comes first, so its failure means FTS5 itself is unusable.
            self._conn.execute(f"CREATE VIRTUAL TABLE tokens USING fts5(x, tokenize={tokenizer})")
            self._conn.execute("CREATE VIRTUAL TABLE tokens_vocab USING fts5vocab(tokens, instance)")
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} cannot make an FTS5 table (tokenize={tokenize!r}): {exc}"
            ) from exc
        try:
            spec = ", ".join(_sql_identifier(name) for name in names)
            self._conn.execute(
                f"CREATE VIRTUAL TABLE {_PROBE_TABLE} USING fts5({spec}, tokenize={tokenizer})"
            )
        except sqlite3.Error as exc:
            self._conn.close()
            raise ValueError(f"invalid FTS5 column names {names!r}: {exc}") from exc

    def __enter__(self) -> Self:
        """Use as a context manager so the probe connection is closed."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the probe connection."""
        self.close()

    def close(self) -> None:
        """Close the probe connection."""
        self._conn.close()

    def build(self, text: str) -> FtsQuery | None:
        """The MATCH expression for ``text``: its FTS5 syntax when safe, else plain terms, else None."""
        expression = text.strip(_FTS5_SPACE)
        if self._is_safe_fts5(expression):
            return FtsQuery(expression, plain=False)
        return self._plain(text)

    def _is_safe_fts5(self, expression: str) -> bool:
        """Whether FTS5 accepts ``expression`` and it passes the limits in the module docstring."""
        if not expression or len(expression) > MAX_CHARS or expression.startswith("*"):
            return False
        if _CONTROL_RE.search(expression) or not _is_utf8(expression):
            return False
        try:
            # count(*) rather than LIMIT 0: with LIMIT 0 SQLite never calls xFilter, so FTS5 never parses.
            self._conn.execute(
                f"SELECT count(*) FROM {_PROBE_TABLE} WHERE {_PROBE_TABLE} MATCH ?", (expression,)
            )
        except sqlite3.Error:
            return False
        phrases = _phrases(expression)
        if not phrases:
            return False
        if any(bare and not _WORD_RE.fullmatch(text) for text, bare in phrases):
            return False
        tokens = self._tokens([text for text, _ in phrases])
        return all(tokens) and sum(map(len, tokens)) <= MAX_TERMS

    def _plain(self, text: str) -> FtsQuery | None:
        """Quoted plain terms from ``text``, all required; None when none is searchable."""
        words = _WORD_RE.findall(_truncate(text, MAX_CHARS))
        terms: list[str] = []
        seen: set[tuple[str, ...]] = set()
        count = 0
        for word, tokens in zip(words, self._tokens(words), strict=True):
            # The real tokenizer decides: "running runs" is one term twice, a letter newer than its
            # Unicode tables may be no term at all (and an empty phrase would match nothing).
            # Upper-case keywords in text FTS5 refused were meant as operators: "NEAR(" is no search
            # for the word "near", and "a OR b OR ..." should not require the word "or".
            if not tokens or tokens in seen or word in _KEYWORDS:
                continue
            if count + len(tokens) > MAX_TERMS:
                break
            seen.add(tokens)
            terms.append(_quote(word))
            count += len(tokens)
        return FtsQuery(" ".join(terms), plain=True) if terms else None

    def _tokens(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """The index terms the probe's tokenizer makes of each text, in order."""
        if not texts:
            return []
        found: list[list[str]] = [[] for _ in texts]
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany("INSERT INTO tokens(rowid, x) VALUES (?, ?)", enumerate(texts, 1))
            for doc, term in self._conn.execute("SELECT doc, term FROM tokens_vocab ORDER BY doc, offset"):
                found[doc - 1].append(term)
        finally:
            # Rolled back, never committed: the table is scratch space and stays empty between calls.
            self._conn.execute("ROLLBACK")
        return [tuple(terms) for terms in found]


def build_query(text: str, columns: Collection[str]) -> FtsQuery | None:
    """The safe MATCH expression for ``text`` over ``columns``, with a probe made for this one call."""
    with QueryBuilder(columns) as builder:
        return builder.build(text)


def _phrases(expression: str) -> list[tuple[str, bool]] | None:
    """The phrase texts of a parsed FTS5 expression, each with whether it was a bare word."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expression):
        match = _FTS5_TOKEN_RE.match(expression, pos)
        if match is None:
            return None
        kind = match.lastgroup or ""
        value = match[kind] if kind != "string" else match[kind].replace('""', '"')
        tokens.append((kind, value))
        pos = match.end()
    phrases: list[tuple[str, bool]] = []
    in_braces = False
    for i, (kind, value) in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        before = tokens[i - 1] if i else ("", "")
        if kind == "punct":
            in_braces = (in_braces or value == "{") and value != "}"
        elif in_braces or after == ("punct", ":"):
            continue  # column names, not text to search for
        elif kind == "bare" and (value in _OPERATORS or (value == "NEAR" and after == ("punct", "("))):
            continue
        elif before == ("punct", ","):
            continue  # the distance in NEAR(a b, 5): commas appear nowhere else
        else:
            phrases.append((value, kind == "bare"))
    return phrases


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters without leaving half a word at the end."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if _WORD_RE.match(text, limit):
        head = _TRAILING_WORD_RE.sub("", head)
    return head


def _quote(term: str) -> str:
    """``term`` as an FTS5 string, which FTS5 reads as text only, never as syntax."""
    return '"' + term.replace('"', '""') + '"'


def _sql_identifier(name: str) -> str:
    """``name`` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    """``value`` quoted as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8: lone surrogates make sqlite3 raise UnicodeEncodeError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
