"""`thresher extract` and `thresher clean` on good and bad input: one-line errors, exit 2, no traceback."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from thresher.cli import cli

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Fixing a slow laptop - Gadget Notes</title>
<link rel="canonical" href="https://notes.example/fix-slow-laptop/">
<meta property="og:site_name" content="Gadget Notes">
<meta property="article:published_time" content="2025-02-01T10:00:00Z">
</head><body><nav><a href="/">Home</a> <a href="/about/">About</a></nav>
<article><h1>Fixing a slow laptop</h1>
<p>A laptop that crawls after a year of use usually suffers from three things at once: too many programs
that start with the system, a nearly full disk, and dust in the fan. Each is easy to fix.</p>
<p>Open the startup list first, turn off what you do not need, then restart and time the boot again.
Most machines gain twenty seconds or more from this step alone, which is worth the minute it takes.</p>
<p><ins class="adsbygoogle" data-ad-client="ca-pub-123" data-ad-slot="9"></ins></p>
<p>Next, free some disk space: empty the downloads folder, remove old installers and move videos away.</p>
</article><footer>Copyright Gadget Notes</footer></body></html>"""


def run(*args: str, input: bytes | str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_extract_markdown_and_json(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(PAGE, encoding="utf-8")
    code, out, _ = run("extract", str(page))
    assert code == 0
    assert out.startswith("---\ntitle: Fixing a slow laptop\n")
    assert "url: https://notes.example/fix-slow-laptop/" in out  # URL defaults to the canonical link
    assert "three things at once" in out and "adsbygoogle" not in out and "Copyright" not in out
    code, out, _ = run(
        "extract", str(page), "--format", "json", "--url", "https://notes.example/x?utm_source=a"
    )
    data = json.loads(out)
    assert data["title"] == "Fixing a slow laptop"
    assert data["canonical_url"] == "https://notes.example/fix-slow-laptop/"
    assert data["published"] == "2025-02-01T10:00:00Z"


def test_extract_reads_gzip_and_stdin(tmp_path: Path) -> None:
    gz = tmp_path / "p.html.gz"
    gz.write_bytes(gzip.compress(PAGE.encode()))
    code, out, _ = run("extract", str(gz))
    assert code == 0 and "Fixing a slow laptop" in out
    code, out, _ = run("extract", "-", input=PAGE.encode())
    assert code == 0 and "Fixing a slow laptop" in out


def _bad_inputs(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "text.txt").write_text("only words here, nothing else", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    return {
        "missing": str(tmp_path / "nope.html"),
        "directory": str(tmp_path / "folder"),
        "empty": str(tmp_path / "empty.html"),
        "binary": str(tmp_path / "binary.bin"),
        "image": str(tmp_path / "image.png"),
        "broken gzip": str(tmp_path / "broken.gz"),
        "plain text": str(tmp_path / "text.txt"),
    }


@pytest.mark.parametrize("command", ["extract", "clean"])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    for what, path in _bad_inputs(tmp_path).items():
        if command == "clean" and what == "plain text":
            continue  # plain text is a valid Markdown post
        code, out, err = run(command, path)
        assert code == 2, (what, code, err)
        assert out == "", what
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (what, err)
        assert "Traceback" not in err


def test_hostile_pages_give_best_effort_results(tmp_path: Path) -> None:
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body>" + "<div>" * 10_000 + "<p>deep text here</p>" + "</div>" * 10_000, "utf-8")
    code, out, _ = run("extract", str(deep))
    assert code == 0 and "deep text here" in out

    lying = tmp_path / "lying.html"
    lying.write_bytes('<meta charset="iso-8859-1"><p>Grüße aus Köln — 東京</p>'.encode())
    code, out, _ = run("extract", str(lying))
    assert code == 0 and "Grüße aus Köln — 東京" in out

    invalid = tmp_path / "invalid.html"
    invalid.write_bytes(b"<html><body><p>caf\xe9 ok \xff\xfe end</p></body></html>")
    code, out, _ = run("extract", str(invalid))
    assert code == 0 and "end" in out


def test_huge_page_is_handled(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    para = "<p>" + "word " * 200 + "</p>\n"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("<html><body><article>")
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(para * 100)
        fh.write("</article></body></html>")
    code, _, err = run("extract", str(big), "--format", "json")
    assert (code == 0) or (code == 2 and len(err.strip().splitlines()) == 1)


def test_clean_writes_atomically(tmp_path: Path) -> None:
    post = tmp_path / "post.md"
    post.write_text(
        "---\ntitle: Hello\n---\n\nBody text.\n\n<!-- affiliate ads begin -->\n<a href='https://x.pxf.io/c/1'>ad</a>\n"
        "<!-- affiliate ads end -->\n\nMore text.\n",
        encoding="utf-8",
    )
    out = tmp_path / "clean.md"
    code, _, _ = run("clean", str(post), "-o", str(out))
    assert code == 0
    cleaned = out.read_text(encoding="utf-8")
    assert "pxf.io" not in cleaned and "Body text." in cleaned and "More text." in cleaned
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # invalid front matter: error, and the output file is left as it was
    post.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    code, _, err = run("clean", str(post), "-o", str(out))
    assert code == 2 and "front matter" in err
    assert out.read_text(encoding="utf-8") == cleaned
    # a value YAML cannot construct (30 February): the same one-line error, no traceback
    post.write_text("---\ntitle: Hello\ndate: 2024-02-30T03:04:05Z\n---\nbody\n", encoding="utf-8")
    code, _, err = run("clean", str(post), "-o", str(out))
    assert (
        code == 2 and "front matter" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    )
    assert out.read_text(encoding="utf-8") == cleaned
    assert os.listdir(tmp_path).count("clean.md") == 1


def test_invalid_utf8_post_is_refused(tmp_path: Path) -> None:
    post = tmp_path / "bad.md"
    post.write_bytes(b"---\ntitle: x\n---\n\xff\xfe body")
    code, _, err = run("clean", str(post))
    assert code == 2 and "UTF-8" in err
