from __future__ import annotations

import codecs

import pytest

from thresher.errors import NotHTML, ThresherError
from thresher.extract.decode import decode_html, ensure_html, to_utf8

PAGE = "<html><head>{meta}</head><body><p>Café, naïve façade — 東京</p></body></html>"


def test_bom_wins_over_meta() -> None:
    html = PAGE.format(meta='<meta charset="iso-8859-1">')
    assert "東京" in decode_html(codecs.BOM_UTF8 + html.encode("utf-8"))
    assert "東京" in decode_html(codecs.BOM_UTF16_LE + html.encode("utf-16-le"))


def test_meta_charset_is_used() -> None:
    html = PAGE.format(meta='<meta charset="windows-1252">').replace(" — 東京", "")
    assert "Café, naïve façade" in decode_html(html.encode("cp1252"))
    html = PAGE.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">')
    assert "東京" in decode_html(html.encode("shift_jis", errors="ignore"))


def test_lying_single_byte_charset_on_utf8_bytes() -> None:
    html = PAGE.format(meta='<meta charset="iso-8859-1">')
    assert "Café, naïve façade — 東京" in decode_html(html.encode("utf-8"))


def test_undeclared_legacy_bytes_are_detected() -> None:
    prose = (
        "<p>Le système démarre très lentement après la mise à jour : voici comment réparer le problème "
        "étape par étape, sans perdre vos données, même si l'ordinateur refuse de redémarrer.</p>"
    )
    html = "<html><head><title>Réparer</title></head><body>" + prose * 10 + "</body></html>"
    text = decode_html(html.encode("cp1252"))
    assert "Le système démarre très lentement" in text


def test_invalid_utf8_never_raises() -> None:
    html = PAGE.format(meta='<meta charset="utf-8">').encode("utf-8") + b"\xff\xfe\xfa broken"
    assert "<p>" in decode_html(html)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x1f\x8b\x08\x00rest", "gzip"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x89PNG\r\n\x1a\n....", "PNG"),
        (bytes(range(256)) * 4, "binary"),
        (b"just some words, no markup at all", "no markup"),
    ],
)
def test_not_html(data: bytes, message: str) -> None:
    with pytest.raises(NotHTML, match=message) as info:
        ensure_html(to_utf8(data))
    assert isinstance(info.value, ThresherError)


def test_broken_html_is_still_html() -> None:
    ensure_html(b"<p>unclosed <b>tags <div")
    ensure_html(b"text before <br> a tag")
