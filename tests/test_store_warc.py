"""WARC store: round trips, rotation, random access, crash recovery, foreign WARC/ARC files, validity."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from thresher.errors import InputError
from thresher.store.warc import (
    ORIGINAL_CONTENT_ENCODING,
    ORIGINAL_CONTENT_LENGTH,
    EncodedResponse,
    RawResponse,
    WarcRef,
    WarcStore,
    encode_response,
    iter_warc_file,
)

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
T = TypeVar("T")
NAME = re.compile(r"thresher-[0-9]{14}-([0-9]{5})\.warc\.gz")


def response(n: int = 0, body: bytes = b"<html><body>hello</body></html>", **changes: object) -> RawResponse:
    fields: dict[str, object] = {
        "url": f"https://blog.example.test/post-{n}/?ref=x",
        "status": 200,
        "headers": [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")],
        "body": body,
        "fetched_at": WHEN + timedelta(seconds=n),
        "ip": "93.184.216.34",
    }
    fields.update(changes)
    return RawResponse(**fields)  # type: ignore[arg-type]


def warc_records(path: Path) -> list[tuple[str, object, object]]:
    """(type, WARC headers, HTTP headers) of every record, as warcio reads them."""
    with path.open("rb") as fh:
        return [(r.rec_type, r.rec_headers, r.http_headers) for r in ArchiveIterator(fh)]


def until_error(items: Iterator[T]) -> tuple[list[T], InputError | None]:
    """What an iterator yields before it raises InputError, and that error."""
    seen = []
    try:
        for item in items:
            seen.append(item)
    except InputError as exc:
        return seen, exc
    return seen, None


def chop(path: Path, size: int) -> None:
    with path.open("r+b") as fh:
        fh.truncate(size)


# ---- round trips -------------------------------------------------------------------------------


def test_round_trip_write_read_iterate(tmp_path: Path) -> None:
    store = WarcStore(tmp_path / "warc")
    samples = [
        response(0, "<p>Café naïve — ½</p>".encode("cp1252", errors="replace") + b"\xff\xfe\x00\x81"),
        response(1, os.urandom(5 * 1024 * 1024), headers=[("Content-Type", "application/octet-stream")]),
        response(2, b"", status=204, headers=[], ip=None),
        response(
            3,
            headers=[
                ("Content-Type", "text/html"),
                ("X-Title", "Café — 東京 😀"),
                ("Content-Disposition", 'inline; filename="résumé.html"'),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ],
        ),
        response(
            4, status=404, fetched_at=datetime(2024, 5, 6, 9, 0, 0, tzinfo=timezone(timedelta(hours=2)))
        ),
        response(5, status=599),  # no standard reason phrase
    ]
    refs = [store.write(sample) for sample in samples]

    assert [store.read(ref) for ref in refs] == samples
    assert list(store) == list(zip(refs, samples, strict=True))
    # A fresh instance (another process, later) reads the same.
    assert list(WarcStore(tmp_path / "warc")) == list(zip(refs, samples, strict=True))
    assert samples[4].fetched_at == datetime(2024, 5, 6, 7, 0, 0, tzinfo=UTC)
    # The generic reader agrees on offsets and content.
    (path,) = store.files()
    assert list(iter_warc_file(path, max_body_bytes=None)) == [
        (r.offset, s) for r, s in zip(refs, samples, strict=True)
    ]


def test_response_and_request_records(tmp_path: Path) -> None:
    store = WarcStore(tmp_path)
    ref = store.write(
        response(7), request_headers=[("Host", "blog.example.test"), ("User-Agent", "thresher")]
    )
    (path,) = store.files()
    assert NAME.fullmatch(path.name) and ref.file == path.name

    (info_type, info, _), (resp_type, resp, http), (req_type, req, req_http) = warc_records(path)
    assert (info_type, resp_type, req_type) == ("warcinfo", "response", "request")
    assert info.get_header("WARC-Filename") == path.name  # type: ignore[attr-defined]
    assert resp.protocol == "WARC/1.1"  # type: ignore[attr-defined]
    assert resp.get_header("WARC-Target-URI") == "https://blog.example.test/post-7/?ref=x"  # type: ignore[attr-defined]
    assert resp.get_header("WARC-Date") == "2024-05-06T07:08:16.123456Z"  # type: ignore[attr-defined]
    assert resp.get_header("WARC-IP-Address") == "93.184.216.34"  # type: ignore[attr-defined]
    assert resp.get_header("WARC-Payload-Digest").startswith("sha1:")  # type: ignore[attr-defined]
    assert resp.get_header("WARC-Block-Digest").startswith("sha1:")  # type: ignore[attr-defined]
    assert http.protocol == "HTTP/1.1" and http.statusline == "200 OK"  # type: ignore[attr-defined]
    assert req.get_header("WARC-Concurrent-To") == resp.get_header("WARC-Record-ID")  # type: ignore[attr-defined]
    assert (req_http.protocol, req_http.statusline) == ("GET", "/post-7/?ref=x HTTP/1.1")  # type: ignore[attr-defined]
    assert req_http.get_header("User-Agent") == "thresher"  # type: ignore[attr-defined]
    assert list(store) == [(ref, response(7))]  # the request record is not a response


def test_an_encoded_response_is_appended_as_it_is(tmp_path: Path) -> None:
    """What encode_response made (in a crawl's worker process) reads back as the response it was."""
    store = WarcStore(tmp_path)
    first = store.write(response(1))
    encoded = encode_response(response(2), request_headers=[("User-Agent", "thresher")])
    assert isinstance(encoded, EncodedResponse) and encoded.length < len(encoded.data)  # + the request
    second = store.write(encoded)
    assert second == WarcRef(first.file, first.offset + first.length, encoded.length)
    assert list(store) == [(first, response(1)), (second, response(2))]
    assert store.read(second) == response(2)
    types = [t for t, _, _ in warc_records(store.files()[0])]
    assert types == ["warcinfo", "response", "response", "request"]
    with pytest.raises(ValueError, match="request record"):
        store.write(encoded, request_headers=[("User-Agent", "thresher")])
    with pytest.raises(ValueError, match="status"):
        encode_response(response(3, status=42))


def test_stored_headers_say_the_body_is_decoded(tmp_path: Path) -> None:
    store = WarcStore(tmp_path)
    body = b"<html>decoded</html>"
    sent = response(
        body=body,
        headers=[
            ("Content-Type", "text/html"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "1234"),
        ],
    )
    back = store.read(store.write(sent))
    assert back.body == body
    assert back.headers == [
        ("Content-Type", "text/html"),
        (ORIGINAL_CONTENT_ENCODING, "gzip"),
        (ORIGINAL_CONTENT_LENGTH, "1234"),
    ]
    # A matching Content-Length and an identity coding still describe the stored body: kept.
    fine = response(body=body, headers=[("Content-Length", str(len(body))), ("Content-Encoding", "identity")])
    assert store.read(store.write(fine)) == fine


def test_content_type_and_charset() -> None:
    page = response(headers=[("content-type", 'Text/HTML; Charset="UTF-8"; boundary=x')])
    assert (page.content_type, page.charset) == ("text/html", "utf-8")
    assert response(headers=[("Content-Type", "text/html")]).charset is None
    assert (response(headers=[]).content_type, response(headers=[]).charset) == (None, None)
    repeated = response(
        headers=[("Content-Type", "text/plain"), ("Content-Type", "text/html; charset=latin1")]
    )
    assert (repeated.content_type, repeated.charset) == ("text/html", "latin1")


def test_invalid_responses_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        response(fetched_at=datetime(2024, 1, 1))
    store = WarcStore(tmp_path)
    for bad in (
        response(url="https://example.test/a b"),
        response(url="ftp://example.test/"),
        response(status=42),
        response(headers=[("X-Evil", "a\r\nWARC-Type: metadata")]),
        response(headers=[("Bad Name", "x")]),
        response(ip="not-an-ip"),
    ):
        with pytest.raises(ValueError):  # noqa: PT011
            store.write(bad)
    with pytest.raises(ValueError):  # noqa: PT011
        store.write(response(), request_headers=[("Host", "a\nb")])
    assert store.files() == []  # nothing was written
    with pytest.raises(ValueError):  # noqa: PT011
        WarcStore(tmp_path, prefix="../x")


# ---- rotation and random access ----------------------------------------------------------------


def test_rotation_by_size(tmp_path: Path) -> None:
    limit = 8000
    store = WarcStore(tmp_path, max_file_bytes=limit)
    samples = [response(n, os.urandom(3000)) for n in range(10)]  # random: ~3 KB compressed each
    refs = [store.write(sample) for sample in samples]

    files = store.files()
    assert len(files) >= 3
    assert [int(NAME.fullmatch(f.name)[1]) for f in files] == list(range(1, len(files) + 1))  # type: ignore[index]
    for path in files:
        records = warc_records(path)
        assert records[0][0] == "warcinfo" and {t for t, _, _ in records[1:]} == {"response"}
    for path in files[:-1]:
        # Full files reached the limit, and by at most one write.
        assert limit <= path.stat().st_size < limit + 4000
    assert list(store) == list(zip(refs, samples, strict=True))
    assert {ref.file for ref in refs} == {f.name for f in files}
    # A new instance appends to the newest file while it has room, and never to older ones.
    newest = files[-1].stat().st_size
    ref = WarcStore(tmp_path, max_file_bytes=limit).write(response(99))
    assert ref.file == files[-1].name if newest < limit else ref.file not in {f.name for f in files}


def test_random_access_by_ref(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, max_file_bytes=20_000)
    samples = [response(n, os.urandom(random.randrange(0, 4000))) for n in range(25)]
    refs = [store.write(sample) for sample in samples]
    order = list(range(len(refs)))
    random.Random(5).shuffle(order)
    reopened = WarcStore(tmp_path)
    for i in order:
        assert reopened.read(refs[i]) == samples[i]
    # A reference can be stored anywhere (index.db) as plain values and rebuilt.
    assert reopened.read(WarcRef(refs[3].file, refs[3].offset, refs[3].length)) == samples[3]


@pytest.mark.parametrize(
    ("name", "offset", "length", "message"),
    [
        ("../escape.warc.gz", 0, 10, "not a WARC file name"),
        ("missing.warc.gz", 0, 10, "cannot read"),
        (None, 0, None, "not a response record"),  # the warcinfo record
        (None, 5, None, "WARC"),  # inside a gzip member
        (None, None, 1 << 20, "ends before"),
    ],
)
def test_bad_refs(
    tmp_path: Path, name: str | None, offset: int | None, length: int | None, message: str
) -> None:
    store = WarcStore(tmp_path)
    ref = store.write(response())
    bad = WarcRef(name or ref.file, ref.offset if offset is None else offset, length or ref.length)
    with pytest.raises(InputError, match=message):
        store.read(bad)


# ---- crash safety ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["middle", "gzip-trailer", "after-header", "nul-tail"])
def test_recovery_from_a_torn_tail(tmp_path: Path, where: str) -> None:
    store = WarcStore(tmp_path)
    samples = [response(n, os.urandom(2000)) for n in range(3)]
    refs = [store.write(sample) for sample in samples]
    (path,) = store.files()
    third = refs[2]
    assert path.stat().st_size == third.offset + third.length
    if where == "middle":
        chop(path, third.offset + third.length // 2)
    elif where == "gzip-trailer":  # everything inflates, but the member's CRC and size are missing
        chop(path, third.offset + third.length - 3)
    elif where == "after-header":
        chop(path, third.offset + 5)
    else:  # a power loss after the file grew but before its data reached the disk
        with path.open("r+b") as fh:
            fh.seek(third.offset)
            fh.write(b"\0" * third.length)

    # Reading never repairs (a reader could be racing the writer), and stops quietly at the tear.
    size = path.stat().st_size
    reader = WarcStore(tmp_path)
    assert [reader.read(ref) for ref in refs[:2]] == samples[:2]
    assert list(reader) == list(zip(refs[:2], samples[:2], strict=True))
    assert path.stat().st_size == size
    with pytest.raises(InputError):
        reader.read(third)

    writer = WarcStore(tmp_path)
    new = response(3)
    ref = writer.write(new)
    assert ref == WarcRef(path.name, third.offset, ref.length)  # the tear was cut, then appended to
    assert list(WarcStore(tmp_path)) == [*zip(refs[:2], samples[:2], strict=True), (ref, new)]
    assert len(list(iter_warc_file(path))) == 3
    assert store.files() == [path]


def test_recovery_of_a_torn_request_keeps_its_response(tmp_path: Path) -> None:
    store = WarcStore(tmp_path)
    first = store.write(response(0))
    second = store.write(response(1), request_headers=[("Host", "blog.example.test")])
    (path,) = store.files()
    chop(path, path.stat().st_size - 40)  # inside the request record
    writer = WarcStore(tmp_path)
    third = writer.write(response(2))
    assert third.offset == second.offset + second.length
    assert [ref for ref, _ in writer] == [first, second, third]


def test_an_empty_file_left_by_a_crash_is_reused(tmp_path: Path) -> None:
    (tmp_path / "thresher-20240101000000-00001.warc.gz").touch()
    store = WarcStore(tmp_path)
    assert list(store) == []
    ref = store.write(response())
    assert ref.file == "thresher-20240101000000-00001.warc.gz" and ref.offset > 0
    assert warc_records(tmp_path / ref.file)[0][0] == "warcinfo"


def test_damage_that_is_not_a_tear_is_left_alone(tmp_path: Path) -> None:
    store = WarcStore(tmp_path)
    refs = [store.write(response(n, os.urandom(2000))) for n in range(3)]
    (path,) = store.files()
    data = bytearray(path.read_bytes())
    data[refs[1].offset + refs[1].length // 2] ^= 0xFF  # bit rot in the middle record
    path.write_bytes(bytes(data))

    writer = WarcStore(tmp_path)
    ref = writer.write(response(9))
    assert ref.file != path.name  # a new file; the damaged one is kept as it is
    assert path.read_bytes() == bytes(data)
    seen, error = until_error(iter(writer))
    assert [item for item, _ in seen] == [refs[0], ref]  # all that is readable, the later file included
    assert error is not None and "damaged" in str(error) and path.name in str(error)


def test_a_failed_write_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = WarcStore(tmp_path)
    first = store.write(response(0))
    (path,) = store.files()
    size = path.stat().st_size
    real_write = os.write

    def half_then_full(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(InputError, match="No space left"):
        store.write(response(1))
    monkeypatch.undo()
    assert path.stat().st_size == size
    second = store.write(response(2))
    assert [ref for ref, _ in store] == [first, second]


# ---- other tools' files ------------------------------------------------------------------------


def chunked(data: bytes, size: int = 100) -> bytes:
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


HTML = "<!doctype html><title>Test</title><p>Grüße aus Köln — 東京</p>".encode() * 40


def warcio_file(path: Path, *, compress: bool) -> None:
    """A WARC as warcio's own writer makes it, with the record types seen in the wild."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcio"}))
        raw = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
            b"Transfer-Encoding: chunked\r\nVary: Accept-Encoding\r\n\r\n" + chunked(gzip.compress(HTML))
        )
        writer.write_record(
            writer.create_warc_record(
                "https://shop.example.test/p?id=1",
                "response",
                payload=io.BytesIO(raw),
                length=len(raw),
                warc_headers_dict={"WARC-IP-Address": "10.0.0.1"},
            )
        )
        req = b"GET /p?id=1 HTTP/1.1\r\nHost: shop.example.test\r\n\r\n"
        writer.write_record(
            writer.create_warc_record(
                "https://shop.example.test/p?id=1", "request", payload=io.BytesIO(req), length=len(req)
            )
        )
        writer.write_record(
            writer.create_revisit_record(
                "https://shop.example.test/p?id=1",
                "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "https://shop.example.test/p?id=1",
                "2024-01-01T00:00:00Z",
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
            )
        )
        meta = b"outlinks: https://shop.example.test/\r\n"
        writer.write_record(
            writer.create_warc_record(
                "https://shop.example.test/p?id=1",
                "metadata",
                payload=io.BytesIO(meta),
                length=len(meta),
                warc_content_type="application/warc-fields",
            )
        )
        for uri in ("https://shop.example.test/robots.txt", "urn:test:not-http"):
            writer.write_record(
                writer.create_warc_record(
                    uri,
                    "resource",
                    payload=io.BytesIO(b"User-agent: *\n"),
                    length=14,
                    warc_content_type="text/plain",
                )
            )
        dns = b"20240101000000\nshop.example.test. 300 IN A 10.0.0.1\n"
        writer.write_record(
            writer.create_warc_record(
                "dns:shop.example.test",
                "response",
                payload=io.BytesIO(dns),
                length=len(dns),
                warc_content_type="text/dns",
            )
        )


@pytest.mark.parametrize("compress", [True, False], ids=["warc.gz", "warc"])
def test_reading_a_warcio_written_file(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("other.warc.gz" if compress else "other.warc")
    warcio_file(path, compress=compress)
    found = list(iter_warc_file(path))

    assert [r.url for _, r in found] == [
        "https://shop.example.test/p?id=1",
        "https://shop.example.test/robots.txt",
    ]
    (_, page), (_, robots) = found
    assert page.status == 200 and page.body == HTML and page.ip == "10.0.0.1"
    assert page.headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        (ORIGINAL_CONTENT_ENCODING, "gzip"),
        ("Vary", "Accept-Encoding"),
    ]
    assert (page.content_type, page.charset) == ("text/html", "utf-8")
    assert page.fetched_at.tzinfo is UTC
    assert (robots.status, robots.headers, robots.body) == (
        200,
        [("Content-Type", "text/plain")],
        b"User-agent: *\n",
    )
    # Offsets are random-access points, compressed or not.
    for offset, found_response in found:
        with path.open("rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == found_response.url
    # What was read from elsewhere can be kept in the store as it is.
    store = WarcStore(tmp_path / "store")
    assert store.read(store.write(page)) == page


def test_reading_an_arc_file(tmp_path: Path) -> None:
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>arc</html>"
    version = b"1 0 thresher-test\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [
        b"filedesc://old.arc 0.0.0.0 20010203040506 text/plain %d\n%s\n" % (len(version), version),
        b"http://old.example.test/ 192.0.2.1 20010203040507 text/html %d\n%s\n" % (len(http), http),
    ]
    for name, data in (("old.arc", b"".join(records)), ("old.arc.gz", b"".join(map(gzip.compress, records)))):
        path = tmp_path / name
        path.write_bytes(data)
        ((offset, page),) = list(iter_warc_file(path))
        assert offset == (len(records[0]) if name == "old.arc" else len(gzip.compress(records[0])))
        assert page.url == "http://old.example.test/" and page.body == b"<html>arc</html>"
        assert page.fetched_at == datetime(2001, 2, 3, 4, 5, 7, tzinfo=UTC) and page.ip == "192.0.2.1"


def test_damage_midway_raises_after_the_readable_records(tmp_path: Path) -> None:
    store = WarcStore(tmp_path)
    refs = [store.write(response(n, os.urandom(1000))) for n in range(3)]
    (path,) = store.files()
    original = path.read_bytes()
    data = bytearray(original)
    data[refs[2].offset : refs[2].offset + 4] = b"JUNK"
    path.write_bytes(bytes(data))
    seen, error = until_error(iter_warc_file(path))
    assert [offset for offset, _ in seen] == [refs[0].offset, refs[1].offset]
    assert error is not None and path.name in str(error)

    for cut in (1, 5, 100, refs[2].length // 2, refs[2].length - 3):
        path.write_bytes(original[: refs[2].offset + cut])
        seen, error = until_error(iter_warc_file(path))
        assert [offset for offset, _ in seen] == [refs[0].offset, refs[1].offset]
        assert error is not None and path.name in str(error)


def test_a_compression_bomb_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in (
            ("https://x.test/bomb", gzip.compress(b"\0" * (4 << 20))),
            ("https://x.test/ok", None),
        ):
            raw = (
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" if body else b"HTTP/1.1 200 OK\r\n\r\nok"
            )
            raw += body or b""
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(raw), length=len(raw))
            )
    assert [r.url for _, r in iter_warc_file(path, max_body_bytes=1 << 20)] == ["https://x.test/ok"]
    assert len(list(iter_warc_file(path, max_body_bytes=None))) == 2


@pytest.mark.parametrize(
    "content",
    [
        b"<!doctype html><html><body>not a warc</body></html>\n",
        b"hello world this is text\nand more of it\n",  # five words: looks like an ARC header line
        bytes(random.Random(1).randrange(256) for _ in range(5000)),
        gzip.compress(b"just some gzipped text\n" * 100),
        b"",
        gzip.compress(b""),
    ],
    ids=["html", "text", "random", "gzip-text", "empty", "gzip-empty"],
)
def test_not_a_warc(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a WARC"):
        list(iter_warc_file(path))


def test_missing_path_or_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        iter_warc_file(tmp_path / "missing.warc.gz")
    with pytest.raises(InputError, match="directory"):
        iter_warc_file(tmp_path)


# ---- validity for other tools ------------------------------------------------------------------


def warcio_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "warcio.cli", *args], capture_output=True, check=False)


def test_other_tools_read_our_files(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, max_file_bytes=6000)
    samples = [response(n, os.urandom(2000), headers=[("X-Name", "Zoë 東京")]) for n in range(5)] + [
        response(9, b"")
    ]
    refs = [store.write(s, request_headers=[("Host", "blog.example.test")]) for s in samples]
    files = [str(p) for p in store.files()]

    index = warcio_cli("index", "-f", "offset,length,warc-type,warc-target-uri,http:status", *files)
    assert index.returncode == 0 and index.stderr == b""
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    responses = [(int(x["offset"]), int(x["length"])) for x in lines if x["warc-type"] == "response"]
    assert responses == [(ref.offset, ref.length) for ref in refs]
    assert {x["warc-type"] for x in lines} == {"warcinfo", "response", "request"}

    check = warcio_cli("check", "-v", *files)
    assert check.returncode == 0 and check.stderr == b"" and b"digest pass" in check.stdout

    extract = warcio_cli("extract", "--payload", str(tmp_path / refs[2].file), str(refs[2].offset))
    assert extract.returncode == 0 and extract.stdout == samples[2].body

    for path in store.files():
        with path.open("rb") as fh:
            archive = ArchiveIterator(fh, check_digests=True)
            for record in archive:
                record.content_stream().read()
                assert record.digest_checker.passed is not False
            assert archive.err_count == 0
        with gzip.open(path) as whole:  # plain gzip tools see one valid multi-member stream
            assert whole.read().startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
