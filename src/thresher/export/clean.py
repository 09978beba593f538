"""Corpus cleaning of an article's plain text: ``basic`` normalises, ``strict`` also drops boilerplate lines.

Extraction already removed the ads and the page chrome; what is left is the boilerplate authors copy into the
body itself. ``strict`` removes whole lines only, and only lines that match one of these rules:

==============  ==========================================================================================
rule            removes
==============  ==========================================================================================
breadcrumb      "Home > Windows > Fix" and the one-crumb-per-line form ("AOMEI Backupper >"), in the first
                lines of the text only
share           "Share this:", "Share on Facebook", "Teilen", "Condividi" ...
feedback        "Was this helpful?", "Was the provided information useful? Your vote is important to us!",
                "Help us improve this article", "Yes No" (and their French, German, Italian, Spanish forms)
byline          "By Jane Doe", "Written by ...", "Jane Doe · Editor" and the author bio that follows it
dateline        "Updated on March 3, 2025", "Last updated: 2025-03-03", "Mis à jour le 3 mars 2025" ...
disclaimer      affiliate disclaimers: "This post includes affiliate links", "As an Amazon Associate I earn
                from qualifying purchases", "we may earn a commission" ...
button          leftover call-to-action text: "Free Download", "Download Freeware Windows 11/10/8.1/8/7",
                "100% Clean & Secure", "Buy Now", "Read more", "⭐ Editor's Choice" ...
toc             a lone "Table of Contents" heading
related         a lone "Related Articles" / "You may also like" heading (the links under it stay)
comment_form    WordPress comment-form text: "Leave a Comment Cancel reply", "Save my name, email, and ..."
==============  ==========================================================================================

Each rule needs a short line (a sentence of the article is longer, or does not look like this), so a line
that merely mentions "download" or "updated" stays. ``tests/test_export_clean.py`` proves that no line of
the hand-written fixture bodies is removed except the boilerplate they deliberately carry.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar

__all__ = ["CleanLevel", "CleanResult", "clean_markdown", "clean_text", "strict_rule"]

CleanLevel = Literal["basic", "strict"]
_T = TypeVar("_T")

# Invisible characters that only trip tokenisers: zero-width spaces and joiners, BOMs, soft hyphens.
_INVISIBLE: Final = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_INVISIBLE_RE: Final = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES: Final = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Anything _basic must fix besides line edges: CR, invisible and control characters, odd or double spaces.
# (a plain character class: with an alternative such as "|  " the regex engine loses its fast scan)
_ODD: Final = re.compile(
    r"[\r\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f-\x9f"
    r"\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
_EDGE_SPACES: Final = re.compile(r" ?\n ?")
_BLANK_RUNS: Final = re.compile(r"\n{3,}")
# Breadcrumbs are at the top of a body; further down "Settings > Update & Security" is an instruction.
_BREADCRUMB_LINES: Final = 12
_MAX_SHORT_WORDS: Final = 12


@dataclass(slots=True, kw_only=True)
class CleanResult:
    """A cleaned text and how many lines each strict rule removed."""

    text: str
    removed: Counter[str] = field(default_factory=Counter)


def _i(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CRUMB_SEP: Final = re.compile(r"\s+[>›»]\s+")
_CRUMB_TAIL: Final = re.compile(r"^(?:\d+\.\s+)?[^.!?:;>]{1,60}?\s*[>›»]$")
_SHARE: Final = _i(
    r"^(?:share(?: this(?: (?:post|article|page))?| on [\w .+]{1,30}| via [\w .+]{1,30})?"
    r"|partager(?: sur [\w .+]{1,30})?|teilen(?: auf [\w .+]{1,30})?|condividi(?: su [\w .+]{1,30})?"
    r"|compartir(?: en [\w .+]{1,30})?|tweet|pin it)\s*[:：]?$"
)
_FEEDBACK: Final = (
    _i(
        r"^(?:was|is|did you find) (?:this|the)(?: provided)? (?:article|post|page|guide|answer|information"
        r"|tutorial)(?: you read)? (?:helpful|useful)\s*\?"
    ),
    _i(r"^(?:was this helpful|was this useful|did this help)\s*\?"),
    _i(
        r"(?:your vote is important|votre vote compte|ihre stimme ist wichtig|il tuo voto è importante"
        r"|tu voto es importante|rate this (?:article|post))"
    ),
    _i(
        r"^(?:help us improve this (?:article|page|post)|aidez-nous à améliorer cet article"
        r"|helfen sie uns,? diesen artikel zu verbessern|aiutaci a migliorare questo articolo"
        r"|ayúdanos a mejorar este artículo)\s*[.!]?$"
    ),
    _i(r"^(?:yes|oui|ja|sì|sí|si|sim|はい)\s*[/|]?\s*(?:no|non|nein|não|いいえ)$"),
)
_NAME: Final = r"[A-ZÀ-Ý][\w.'’-]*(?: (?:[A-ZÀ-Ý][\w.'’-]*|van|von|de|da|del|der|la|le)){0,3}"
_BYLINE: Final = (
    re.compile(
        r"^(?:[Bb]y|BY|[Ww]ritten by|[Pp]osted by|[Aa]uthor:|[Aa]utor:|[Aa]uteur\s?:"
        r"|[Pp]ar|[Vv]on|[Dd]i|[Pp]or)"
        rf"\s+{_NAME}(?:\s*[|·•,–—-]\s*.*)?$"
    ),
    _i(
        r"^[\w .'’-]{2,40}\s+[·•|]\s+(?:senior |technical |tech |staff )?(?:editor|author|writer|editore"
        r"|éditeur|éditrice|redakteur(?:in)?|editora?|autor(?:in|a)?|autore|auteur|rédacteur|rédactrice)\b.*$"
    ),
)
_DATELINE: Final = _i(
    r"^(?:last )?(?:updated|modified|published|posted|reviewed)(?: on| at)?\s*[:：]?\s+\S.*\d"
    r"|^(?:mis à jour|publié|modifié) le\s+\S.*\d|^(?:aktualisiert|veröffentlicht) am\s+\S.*\d"
    r"|^(?:aggiornato|pubblicato) il\s+\S.*\d|^(?:actualizado|publicado) el\s+\S.*\d"
    r"|^(?:更新日|公開日|最終更新)\s*[:：]?\s*\d"
)
_DISCLAIMER: Final = (
    _i(r"\baffiliate links?\b.*\b(?:contain|contains|include|includes|may|earn|commission|disclos)"),
    _i(r"\b(?:contain|contains|include|includes|may)\b.*\baffiliate links?\b"),
    _i(r"\bamazon associate\b.*\bqualifying purchases\b"),
    _i(r"\b(?:we|i) (?:may )?(?:earn|receive|get) (?:a )?(?:small )?commission\b"),
    _i(r"^disclaimer\s*:"),
    _i(r"\breader-supported\b.*\bcommission\b"),
)
_BUTTON_TEXT: Final = """download downloads freeware free buy now get try trial secure order purchase
    learn read more click here
    continue reading shop deal subscribe herunterladen kostenlos erhalten jetzt gratis télécharger
    gratuitement gratuiciel obtenez scarica gratuito ora descargar descarga gratuita obtener ahora
    baixar grátis"""
_BUTTON_WORDS: Final = frozenset(_BUTTON_TEXT.split())
# Words a button may carry besides its call to action: platforms and version lists.
_NEUTRAL_TEXT: Final = "windows win mac macos pc pcs server servers & for it the and y e et und"
_BUTTON_NEUTRAL: Final = frozenset(_NEUTRAL_TEXT.split())
_PERCENT_BADGE: Final = _i(r"^100\s?%\s+\w+\s*(?:&|and|e|et|und|y)\s*\w+$")
_TOC: Final = _i(
    r"^(?:table of contents|contents|in this article|sommaire|inhaltsverzeichnis|inhalt|sommario|indice"
    r"|índice|tabla de contenidos?|оглавление|содержание|目次)\s*:?$"
)
_RELATED: Final = _i(
    r"^(?:related (?:articles|posts|reading|guides)|you (?:may|might) also like|articoli correlati"
    r"|articles (?:connexes|similaires)|verwandte artikel|ähnliche artikel|artículos relacionados"
    r"|похожие статьи)\s*:?$"
)
_COMMENT_FORM: Final = _i(
    r"^(?:leave a (?:comment|reply)(?: cancel reply)?|cancel reply|post comment|submit comment|name email"
    r"|name email website|save my name, email, and website in this browser for the next time i comment\.?|δ)$"
)
# A bare "8/10" may be a review score of the article itself, so scores are left alone.
_BADGE: Final = _i(r"^(?:⭐\s*)?editor[’']s choice$")
_SENTENCE_END: Final = re.compile(r"[.!?。！？:;]$")


def _is_breadcrumb(line: str) -> bool:
    parts = _CRUMB_SEP.split(line)
    if len(parts) >= 3 and all(0 < len(p.split()) <= 8 for p in parts) and not _SENTENCE_END.search(line):
        return True
    return bool(_CRUMB_TAIL.match(line))


def _is_button(line: str, words: list[str]) -> bool:
    if _PERCENT_BADGE.match(line):
        return True
    if len(words) > 7 or _SENTENCE_END.search(line):
        return False
    lowered = [w.lower().strip("»›→!") for w in words]
    calls = sum(w in _BUTTON_WORDS for w in lowered)
    others = sum(w not in _BUTTON_WORDS and w not in _BUTTON_NEUTRAL and not w[:1].isdigit() for w in lowered)
    return calls >= 2 and others <= 2


def strict_rule(line: str, position: int) -> str | None:
    """The strict rule that removes ``line`` (stripped, non-empty), or None to keep it.

    ``position`` is the line's index among the text's non-blank lines (breadcrumbs count only near the top).
    """
    words = line.split()
    n = len(words)
    if n > 40:
        return None
    if _DISCLAIMER[0].search(line) or any(p.search(line) for p in _DISCLAIMER[1:]):
        return "disclaimer"
    if n > _MAX_SHORT_WORDS + 8:
        return None
    if any(p.search(line) for p in _FEEDBACK):
        return "feedback"
    if _COMMENT_FORM.match(line):
        return "comment_form"
    if n > _MAX_SHORT_WORDS:
        return None
    if position < _BREADCRUMB_LINES and _is_breadcrumb(line):
        return "breadcrumb"
    if _SHARE.match(line):
        return "share"
    if any(p.match(line) for p in _BYLINE) and not _SENTENCE_END.search(line.rstrip(")")):
        return "byline"
    if _DATELINE.match(line):
        return "dateline"
    if _TOC.match(line):
        return "toc"
    if _RELATED.match(line):
        return "related"
    if _BADGE.match(line) or _is_button(line, words):
        return "button"
    return None


def _basic(text: str) -> str:
    """Invisible and control characters out, NFC, runs of spaces collapsed, lines trimmed, one blank line.

    Whole-text regexes with a check before each step: it runs on every exported article.
    """
    if "  " in text or _ODD.search(text):  # one scan finds the rare texts that need the slower steps
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _INVISIBLE_RE.sub("", text)
        text = _CONTROL.sub("", text)
        text = _SPACES.sub(" ", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if " \n" in text or "\n " in text:
        text = _EDGE_SPACES.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip(" \n")


def _join(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def _strict_lines(lines: list[_T], key: Callable[[_T], str | None]) -> tuple[list[_T], Counter[str]]:
    """Drop the lines a strict rule matches; ``key`` gives a line's text (None: never remove it)."""
    removed: Counter[str] = Counter()
    kept: list[_T] = []
    position = 0
    bio_of: str | None = None  # the name of a "Name · Editor" byline: the next paragraph may be their bio
    for line in lines:
        text = key(line)
        if not text:
            kept.append(line)
            continue
        if bio_of is not None:
            is_bio = text.startswith(bio_of) and len(text.split()) <= 80
            bio_of = None
            if is_bio:
                removed["byline"] += 1
                continue
        rule = strict_rule(text, position)
        position += 1
        if rule is None:
            kept.append(line)
            continue
        removed[rule] += 1
        if rule == "byline" and _BYLINE[1].match(text):
            bio_of = re.split(r"\s+[·•|]", text, maxsplit=1)[0] + " "
    return kept, removed


def clean_text(text: str, level: CleanLevel = "basic") -> CleanResult:
    """Clean an article's plain text for a corpus.

    Args:
        text: the article's text (``Article.text`` / the index's ``text`` column).
        level: ``basic`` normalises Unicode and whitespace; ``strict`` also removes boilerplate lines
            (see the module docstring for the rules).

    Returns:
        The cleaned text and the number of lines each strict rule removed.
    """
    cleaned = _basic(text)
    if level == "basic" or not cleaned:
        return CleanResult(text=cleaned)
    kept, removed = _strict_lines(cleaned.split("\n"), lambda line: line)
    return CleanResult(text=_join(kept), removed=removed)


_MD_MARKUP: Final = re.compile(
    r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|[*_`]+|^\s*(?:>\s*)*(?:#+|[-+]|\d+[.)])?\s+"
)


def _markdown_line_text(line: str) -> str | None:
    """A Markdown line's visible text, roughly: enough for the strict rules to judge it."""
    return " ".join(_MD_MARKUP.sub(lambda m: m.group(1) or " ", line).split())


def clean_markdown(markdown: str, level: CleanLevel = "basic") -> str:
    """The Markdown body cleaned like :func:`clean_text`; lines in fenced code blocks are never removed."""
    markdown = unicodedata.normalize("NFC", markdown.replace("\r\n", "\n")).translate(_INVISIBLE)
    lines = [line.rstrip() for line in markdown.split("\n")]
    in_code: list[bool] = []
    fence = ""
    for line in lines:
        stripped = line.lstrip()
        opens = not fence and stripped.startswith(("```", "~~~"))
        in_code.append(bool(fence) or opens)
        if opens:
            fence = stripped[:3]
        elif fence and stripped.startswith(fence):
            fence = ""
    keep = list(range(len(lines)))
    if level == "strict":
        texts = [
            None if code else _markdown_line_text(line) for line, code in zip(lines, in_code, strict=True)
        ]
        keep, _ = _strict_lines(keep, texts.__getitem__)
    out: list[str] = []
    for i in keep:
        # blank runs outside code collapse to one blank line; inside code they are content
        if lines[i] or in_code[i] or (out and out[-1]):
            out.append(lines[i])
    return "\n".join(out).strip("\n")
