"""search_query: valid FTS5 keeps its meaning, anything else becomes plain terms that always run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.errors import StoreError
from thresher.search_query import (
    DEFAULT_TOKENIZE,
    MAX_CHARS,
    MAX_TERMS,
    FtsQuery,
    QueryBuilder,
    build_query,
)
from thresher.sqlite import sqlite3

COLUMNS = ("title", "description", "tags", "text")
ROWS = {
    1: (
        "Café culture in Paris",
        "A résumé of coffee houses on the Left Bank",
        "travel food",
        "We visited cafés.",
    ),
    2: ("Running shoes reviewed", "Trail and road shoes", "sport review", "A state-of-the-art e-mail alert."),
    3: ("Morning routine", "Small habits", "health", "He runs five kilometres before breakfast at the cafe."),
    4: ("東京の夜", "東京タワーの夜景。日本語の記事です。", "japan", "写真 と 夜景"),
    5: (
        "Rust compiler notes",
        "Naive benchmarks of résumé parsers",
        "programming rust",
        "The naïve snake_case way.",
    ),
}
# A plain fallback is quoted strings separated by single spaces, nothing else.
PLAIN_RE = re.compile(r'"(?:[^"]|"")+"(?: "(?:[^"]|"")+")*')


@pytest.fixture(scope="module")
def archive() -> Iterator[sqlite3.Connection]:
    """A real FTS5 table shaped like the archive's, holding ROWS."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        f"CREATE VIRTUAL TABLE articles_fts USING fts5({', '.join(COLUMNS)}, tokenize='{DEFAULT_TOKENIZE}')"
    )
    conn.executemany(
        "INSERT INTO articles_fts(rowid, title, description, tags, text) VALUES (?, ?, ?, ?, ?)",
        [(rowid, *row) for rowid, row in ROWS.items()],
    )
    conn.commit()
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def builder() -> Iterator[QueryBuilder]:
    """One probe for the whole module, as a long-running caller would keep it."""
    with QueryBuilder(COLUMNS) as made:
        yield made


def _rows(archive: sqlite3.Connection, expression: str) -> set[int]:
    """Row ids the archive's FTS5 table returns for ``expression``."""
    cursor = archive.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (expression,))
    return {rowid for (rowid,) in cursor}


def _check_safe(archive: sqlite3.Connection, text: str, result: FtsQuery | None) -> None:
    """The invariants every result keeps, whatever the input."""
    if result is None:
        return
    _rows(archive, result.expression)  # raises sqlite3.Error if the expression is not runnable
    if result.plain:
        assert PLAIN_RE.fullmatch(result.expression), result.expression
        assert result.expression.count('" "') + 1 <= MAX_TERMS
        assert len(result.expression) <= 3 * MAX_CHARS
    else:
        assert result.expression == text.strip(" \t\n\r")
        assert len(result.expression) <= MAX_CHARS


def test_sqlite_has_fts5_with_remove_diacritics_2() -> None:
    # remove_diacritics=2 appeared in SQLite 3.27.0; older builds would refuse the archive's table.
    assert sqlite3.sqlite_version_info >= (3, 27, 0), sqlite3.sqlite_version
    with QueryBuilder(COLUMNS) as made:
        assert made.build("x") == FtsQuery("x", plain=False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("café", {1, 3}),
        ("cafe", {1, 3}),
        ("running", {2, 3}),
        ("naïve", {5}),
        ('"coffee houses"', {1}),
        ('"e-mail"', {2}),
        ("e + mail", {2}),
        ("caf*", {1, 3}),
        ('"résum"*', {1, 5}),
        ("résumé NOT rust", {1}),
        ("(café OR rust) NOT paris", {3, 5}),
        ("café AND breakfast", {3}),
        ("NEAR(coffee bank, 5)", {1}),
        ("NEAR(coffee bank, 2)", set()),
        ("NEAR(café paris)", {1}),
        ("title:café", {1}),
        ("TITLE : café", {1}),
        ('"title":café', {1}),
        ("title:running OR tags:health", {2, 3}),
        ("{title tags}: rust", {5}),
        ("-text: café", {1}),
        ("title:(café OR rust)", {1, 5}),
        ("^running", {2}),
        ("title:^morning", {3}),
        ("東京タワーの夜景", {4}),
        ("東京*", {4}),
        ("写真 AND 夜景", {4}),
        ("  café\t", {1, 3}),
        ("NEAR", set()),
    ],
)
def test_valid_fts5_keeps_its_meaning(
    archive: sqlite3.Connection, builder: QueryBuilder, query: str, expected: set[int]
) -> None:
    result = builder.build(query)
    assert result == FtsQuery(query.strip(), plain=False)
    assert _rows(archive, result.expression) == expected == _rows(archive, query)


def test_diacritics_are_folded(archive: sqlite3.Connection, builder: QueryBuilder) -> None:
    # Row 3 only has "cafe", row 1's title only "Café": each spelling finds the other.
    for query in ("café", "cafe", "CAFÉ"):
        result = builder.build(query)
        assert result is not None
        assert {1, 3} <= _rows(archive, result.expression)


def test_porter_stemming_matches_word_forms(archive: sqlite3.Connection, builder: QueryBuilder) -> None:
    result = builder.build("running")
    assert result is not None
    assert 3 in _rows(archive, result.expression)  # row 3 says only "runs"


@pytest.mark.parametrize(
    ("query", "expression", "expected"),
    [
        ("e-mail", '"e" "mail"', {2}),
        ("state-of-the-art", '"state" "of" "the" "art"', {2}),
        ("snake_case", '"snake" "case"', {5}),
        ("résumé's", '"résumé" "s"', set()),
        ('"coffee houses', '"coffee" "houses"', {1}),
        ("café AND", '"café"', {1, 3}),
        ("NEAR(coffee", '"coffee"', {1}),
        ("-foo", '"foo"', set()),
        ("bogus:café", '"bogus" "café"', set()),
        ("🙂 café", '"café"', {1, 3}),
        ("running, runs, ran", '"running" "ran"', set()),
        ("'; DROP TABLE articles; --", '"DROP" "TABLE" "articles"', set()),
        ("*reads", '"reads"', set()),
        ("東京、タワー", '"東京" "タワー"', set()),
        ("caf\u00e9\x00 bogus:x", '"café" "bogus" "x"', set()),
    ],
)
def test_fallback_is_plain_terms(
    archive: sqlite3.Connection, builder: QueryBuilder, query: str, expression: str, expected: set[int]
) -> None:
    result = builder.build(query)
    assert result == FtsQuery(expression, plain=True)
    assert _rows(archive, result.expression) == expected


HOSTILE = [
    '"unbalanced',
    'un"balanced" "',
    "*",
    "*reads",
    "*id",
    "* café",
    "NEAR(",
    "NEAR(a b, x)",
    "'; DROP TABLE articles; --",
    '"; DROP TABLE articles; --',
    "x" * 5000,
    "word " * 1000,
    "😀",
    "🙂",
    '"😀"',
    '""',
    "🇫🇷 👍🏽",
    "\x00",
    "café\x00",
    "\x1a",
    "\x07\x1b[31m",
    "a\x0bb\x0cc",
    "\ud800",
    "café \udfff",
    "-foo",
    "^",
    ":",
    ",",
    "()",
    "{}",
    "title:",
    "bogus:x",
    "{title bogus}: x",
    "rank:x",
    "rowid:x",
    "articles_fts:x",
    "NOT café",
    "AND",
    "OR OR OR",
    "(" * 2000 + "café" + ")" * 2000,
    " OR ".join(f"w{i}" for i in range(MAX_TERMS + 1)),
    "\u200b\u200d\ufeff",
    "\u3000",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_falls_back_safely(
    archive: sqlite3.Connection, builder: QueryBuilder, query: str
) -> None:
    result = builder.build(query)
    assert result is None or result.plain
    _check_safe(archive, query, result)


def test_sql_in_the_query_is_only_text(archive: sqlite3.Connection, builder: QueryBuilder) -> None:
    result = builder.build("'; DROP TABLE articles_fts; --")
    assert result is not None
    _rows(archive, result.expression)
    assert archive.execute("SELECT count(*) FROM articles_fts").fetchone() == (len(ROWS),)


def test_nothing_searchable_gives_none(builder: QueryBuilder) -> None:
    for query in ("", "   ", "\t\n", "*", "^", ":", "😀", '"--"', "AND OR NOT NEAR", "\x00\x01", "x" * 5000):
        assert builder.build(query) is None, query


def test_term_limit(builder: QueryBuilder) -> None:
    words = [f"w{i}" for i in range(MAX_TERMS + 10)]
    at_limit = " OR ".join(words[:MAX_TERMS])
    assert builder.build(at_limit) == FtsQuery(at_limit, plain=False)
    # One more term is refused as FTS5; the fallback keeps the first MAX_TERMS words, no "OR".
    result = builder.build(" OR ".join(words))
    assert result == FtsQuery(" ".join(f'"{word}"' for word in words[:MAX_TERMS]), plain=True)
    # A phrase counts every token it holds.
    long_phrase = builder.build('"' + " ".join(words[: MAX_TERMS + 1]) + '"')
    assert long_phrase is not None and long_phrase.plain


def test_length_limit_cuts_at_a_word_boundary(builder: QueryBuilder) -> None:
    at_limit = "café " + "b" * (MAX_CHARS - 5)
    assert builder.build(at_limit) == FtsQuery(at_limit, plain=False)
    # One character more is refused as FTS5; the plain terms come from the first MAX_CHARS characters.
    assert builder.build(at_limit + "b") == FtsQuery('"café"', plain=True)
    # 1,003 characters, the limit falling inside "running": that half word is not searched for.
    over = "café " + "b" * 990 + " running"
    assert len(over) == MAX_CHARS + 3
    assert builder.build(over) == FtsQuery('"café" "' + "b" * 990 + '"', plain=True)


def test_only_the_given_columns_may_be_filtered(archive: sqlite3.Connection) -> None:
    with QueryBuilder(("title",)) as titles:
        assert titles.build("title:café") == FtsQuery("title:café", plain=False)
        assert titles.build("text:café") == FtsQuery('"text" "café"', plain=True)


def test_build_query_matches_the_builder(builder: QueryBuilder) -> None:
    for query in ("café", "NEAR(", "title:rust OR 東京*", "😀"):
        assert build_query(query, COLUMNS) == builder.build(query)


def test_builder_rejects_unusable_columns() -> None:
    with pytest.raises(TypeError):
        QueryBuilder("title")
    for columns in ((), ("",), ("rank",), ("title", "title"), ("fts5_probe",)):
        with pytest.raises(ValueError, match="column"):
            QueryBuilder(columns)


def test_builder_reports_an_unusable_tokenizer() -> None:
    with pytest.raises(StoreError, match="FTS5"):
        QueryBuilder(COLUMNS, tokenize="no_such_tokenizer")


def test_odd_column_names_are_quoted(archive: sqlite3.Connection) -> None:
    with QueryBuilder(("my col", 'a"b')) as odd:
        assert odd.build('"my col": café') == FtsQuery('"my col": café', plain=False)
        assert odd.build('"a""b": café') == FtsQuery('"a""b": café', plain=False)


# Pieces of FTS5 syntax, valid and broken, so generated queries reach both paths often.
FRAGMENTS = st.sampled_from(
    [
        "café",
        "cafe",
        "running",
        "rust",
        "東京*",
        "夜景",
        "résumé",
        "e-mail",
        "snake_case",
        "🙂",
        "😀",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "NEAR(",
        ")",
        "(",
        '"',
        '"coffee houses"',
        "*",
        "^",
        ":",
        ",",
        "+",
        "-",
        "{",
        "}",
        "title:",
        "tags:",
        "bogus:",
        "-text:",
        "{title tags}:",
        ", 3)",
        "''",
        ";",
        "--",
        "\x00",
        "\t",
        "\u3000",
        "\ud800",
        "x" * 300,
    ]
)


# Well-formed FTS5 built from a small grammar: every one must stay FTS5 and mean the same.
WORDS = st.sampled_from(
    ["café", "cafe", "running", "rust", "résumé", "coffee", "houses", "naïve", "夜景", "東京*"]
)
TERMS = st.one_of(
    WORDS,
    WORDS.map(lambda word: word.rstrip("*") + "*"),
    WORDS.map(lambda word: "^" + word),
    st.lists(WORDS, min_size=1, max_size=3).map(lambda words: '"' + " ".join(words).replace("*", "") + '"'),
    st.tuples(WORDS, WORDS).map(lambda pair: " + ".join(pair).replace("*", "")),
    st.tuples(st.lists(WORDS, min_size=2, max_size=3), st.integers(0, 20)).map(
        lambda near: f"NEAR({' '.join(near[0])}, {near[1]})"
    ),
)
FILTERED = st.tuples(st.sampled_from(["", "", "title:", "-text: ", "{title tags}:", "description : "]), TERMS)
# FTS5 has an implicit AND between phrases only, never next to a parenthesised group.
VALID = st.recursive(
    st.lists(FILTERED.map("".join), min_size=1, max_size=3).map(" ".join),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" AND ", " OR ", " NOT "]), inner).map("".join),
        inner.map(lambda expression: f"({expression})"),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(query=VALID)
def test_any_valid_fts5_stays_fts5(archive: sqlite3.Connection, builder: QueryBuilder, query: str) -> None:
    result = builder.build(query)
    assert result == FtsQuery(query, plain=False)
    assert _rows(archive, result.expression) == _rows(archive, query)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_is_safe(archive: sqlite3.Connection, builder: QueryBuilder, text: str) -> None:
    _check_safe(archive, text, builder.build(text))


@settings(max_examples=600, deadline=None)
@given(parts=st.lists(FRAGMENTS, max_size=12), glue=st.sampled_from([" ", ""]))
def test_any_fts5_like_text_is_safe(
    archive: sqlite3.Connection, builder: QueryBuilder, parts: list[str], glue: str
) -> None:
    text = glue.join(parts)
    result = builder.build(text)
    _check_safe(archive, text, result)
    if result is not None and not result.plain:
        # Accepted syntax means exactly what FTS5 makes of the user's own text.
        assert _rows(archive, result.expression) == _rows(archive, text)


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), min_size=MAX_CHARS - 20, max_size=MAX_CHARS * 5))
def test_long_text_is_safe(archive: sqlite3.Connection, builder: QueryBuilder, text: str) -> None:
    _check_safe(archive, text, builder.build(text))
