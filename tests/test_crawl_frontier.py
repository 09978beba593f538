"""The crawl frontier on real SQLite files: ordering, retries, crash recovery, scale, refusal of bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from thresher.crawl.frontier import STATES, Frontier, HostState, NewURL
from thresher.errors import ArchiveBusy, IndexCorrupt
from thresher.sqlite import sqlite3
from thresher.store.index import open_index

ROOT = Path(__file__).resolve().parent.parent


def _url(host: str, n: int) -> str:
    return f"https://{host}/post/{n}"


def _add(f: Frontier, host: str, n: int, **kw: object) -> bool:
    params: dict[str, object] = {"site": "s", "depth": 1, "source": "link"} | kw
    return f.add(_url(host, n), host=host, **params)  # type: ignore[arg-type]


def _run(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_child_env(),
    )


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


# ---------------------------------------------------------------------- adding and claiming


def test_add_is_idempotent_and_claim_orders_by_priority_depth_then_discovery(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        assert _add(f, "a.example", 1, depth=2)
        assert _add(f, "a.example", 2, depth=1)
        assert _add(f, "a.example", 3, depth=3, priority=5)
        assert _add(f, "a.example", 4, depth=1)
        assert not _add(f, "a.example", 2, depth=0, priority=9)  # known: state, depth, priority kept
        got = f.claim(now=0, limit=10, per_host=10)
        assert [e.url for e in got] == [_url("a.example", n) for n in (3, 2, 4, 1)]
        assert all(e.state == "in_flight" for e in got)
        assert got[1].depth == 1 and got[1].priority == 0 and got[1].site == "s"
        assert f.claim(now=0, limit=10, per_host=10) == []  # in flight: never handed out twice
        assert not _add(f, "a.example", 1)  # and not re-queued by being found again
        assert f.counts()["in_flight"] == 4


def test_claim_takes_per_host_limit_and_skips_excluded_hosts(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        n = f.add_many(NewURL(_url(h, i), h, "s", 1, "link") for i in range(5) for h in ("a", "b", "c"))
        assert n == 15
        got = f.claim(now=0, limit=10, per_host=2)
        assert Counter(e.host for e in got) == {"a": 2, "b": 2, "c": 2}
        assert [e.url for e in got if e.host == "a"] == [_url("a", 0), _url("a", 1)]
        got = f.claim(now=0, exclude_hosts={"a", "b"}, limit=10, per_host=1)
        assert [e.url for e in got] == [_url("c", 2)]
        got = f.claim(now=0, limit=2, per_host=5)
        assert len(got) == 2  # limit caps the total
        assert f.claim(now=0, limit=0) == []
        assert f.pending() == 15 - 6 - 1 - 2


def test_complete_queues_the_pages_links_in_the_same_transaction(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        _add(f, "a", 1)
        (entry,) = f.claim(now=0)
        links = [NewURL(_url("a", n), "a", "s", 2, "link") for n in (1, 2, 3, 2)]
        # the page itself and a repeated link are known already: two new URLs
        assert f.complete(entry.url, "archived", http_status=200, discovered=links) == 2
        assert f.counts()["queued"] == 2 and f.counts()["archived"] == 1
        got = f.get(_url("a", 3))
        assert got is not None and (got.depth, got.source, got.state) == (2, "link", "queued")
        # a URL the frontier does not know: nothing is recorded, not even the links
        with pytest.raises(KeyError):
            f.complete(_url("a", 9), "done", discovered=[NewURL(_url("a", 4), "a", "s", 1, "link")])
        assert f.get(_url("a", 4)) is None
        assert f.complete(_url("a", 2), "done") == 0


def test_links_known_to_be_queued_are_not_inserted_again(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        statements: list[str] = []
        f._conn.set_trace_callback(statements.append)
        _add(f, "a", 1)
        (entry,) = f.claim(now=0)
        links = [NewURL(_url("a", n), "a", "s", 2, "link") for n in (1, 2, 3)]
        assert f.complete(entry.url, "done", discovered=links) == 2
        statements.clear()
        # the same links from the next page: known, so no insert at all (nor the seq counter's update)
        assert f.add_many(links) == 0
        assert not [s for s in statements if "INSERT" in s or "meta" in s]
        # a newer sitemap lastmod still reaches a known URL
        f.complete(_url("a", 2), "done", fetched_at=100.0)
        assert f.add_many([NewURL(_url("a", 2), "a", "s", 1, "sitemap", 200.0)]) == 0
        assert f.counts()["queued"] == 2


def test_urls_of_a_rolled_back_add_are_not_taken_as_known(tmp_path: Path) -> None:
    def offered() -> Iterator[NewURL]:
        yield from (NewURL(_url("a", n), "a", "s", 1, "link") for n in range(5_000))  # one chunk, inserted
        raise RuntimeError("the source fails before the transaction commits")

    with Frontier(tmp_path / "frontier.db") as f:
        with pytest.raises(RuntimeError):
            f.add_many(offered())
        assert f.counts()["queued"] == 0
        assert f.add_many([NewURL(_url("a", 4), "a", "s", 1, "link")]) == 1


def test_complete_records_the_outcome_and_keeps_validators_a_304_does_not_resend(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        _add(f, "a", 1)
        (entry,) = f.claim(now=0)
        f.complete(
            entry.url,
            "archived",
            http_status=200,
            etag='"v1"',
            last_modified="Wed, 01 Jan 2025 00:00:00 GMT",
            content_hash="h1",
            article_path="a/post-1.md",
            fetched_at=1000.0,
        )
        got = f.get(entry.url)
        assert got is not None
        assert (got.state, got.http_status, got.etag, got.content_hash, got.article_path) == (
            "archived",
            200,
            '"v1"',
            "h1",
            "a/post-1.md",
        )
        assert got.last_fetch_at == 1000.0 and got.attempts == 0
        f.complete(entry.url, "unchanged", http_status=304, fetched_at=2000.0)
        got = f.get(entry.url)
        assert (
            got is not None
            and got.etag == '"v1"'
            and got.last_fetch_at == 2000.0
            and got.state == "unchanged"
        )
        _add(f, "a", 2)
        f.complete(_url("a", 2), "skipped", reason="robots")
        assert f.reasons("skipped") == {"robots": 1}
        assert f.counts() == dict.fromkeys(STATES, 0) | {"unchanged": 1, "skipped": 1}
        with pytest.raises(ValueError, match="queued"):
            f.complete(entry.url, "queued")
        with pytest.raises(KeyError):
            f.complete("https://unknown/", "archived")
        assert f.get("https://unknown/") is None


def test_fail_retries_at_the_given_time_until_max_attempts(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db", max_attempts=3) as f:
        _add(f, "a", 1)
        url = _url("a", 1)
        for attempt in (1, 2):
            (entry,) = f.claim(now=100.0 * attempt)
            assert entry.url == url and entry.attempts == attempt - 1
            assert f.fail(url, "timeout", retry_at=100.0 * attempt + 50) is True
            assert f.get(url).state == "failed"  # type: ignore[union-attr]
            assert f.pending() == 1
            assert f.claim(now=100.0 * attempt + 49.9) == []  # not before its time
        (entry,) = f.claim(now=250.0)
        assert entry.attempts == 2
        assert f.fail(url, "http-503", retry_at=300.0, http_status=503) is False  # third failure: for good
        got = f.get(url)
        assert got is not None and (got.state, got.attempts, got.next_attempt_at) == ("failed", 3, None)
        assert got.http_status == 503
        assert f.claim(now=10_000.0) == []
        assert f.pending() == 0
        assert f.reasons("failed") == {"http-503": 1}


def test_fail_without_retry_time_is_final_and_success_resets_attempts(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        _add(f, "a", 1)
        _add(f, "a", 2)
        f.claim(now=0, per_host=2)
        assert f.fail(_url("a", 1), "http-404", retry_at=None) is False
        assert f.claim(now=1e12) == [] and f.pending() == 0
        f.fail(_url("a", 2), "timeout", retry_at=10.0)
        (entry,) = f.claim(now=10.0)
        f.complete(entry.url, "archived", fetched_at=11.0)
        assert f.get(entry.url).attempts == 0  # type: ignore[union-attr]
        with pytest.raises(KeyError):
            f.fail("https://unknown/", "x", retry_at=None)


def test_defer_waits_without_counting_an_attempt(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db", max_attempts=1) as f:
        _add(f, "a", 1)
        _add(f, "b", 1)
        (a, b) = f.claim(now=0, limit=5)
        f.defer(a.url, 500.0, "robots-unreachable")
        f.defer(b.url, 100.0, "http-429")
        assert f.pending() == 2 and f.counts()["queued"] == 2
        assert f.claim(now=99.0, limit=5) == []
        assert [e.url for e in f.claim(now=100.0, limit=5)] == [b.url]
        (again,) = f.claim(now=500.0, limit=5)
        assert again.url == a.url and again.attempts == 0  # max_attempts=1 and still claimable
        with pytest.raises(KeyError):
            f.defer("https://unknown/", 1.0, "x")


def test_newer_sitemap_lastmod_requeues_a_finished_url_once(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        url = _url("a", 1)
        assert f.add(url, host="a", site="s", depth=1, source="sitemap", lastmod="2025-01-01")
        (entry,) = f.claim(now=0)
        assert entry.lastmod == 1735689600.0
        fetched = 1736000000.0  # 2025-01-04
        f.complete(url, "archived", etag='"e"', fetched_at=fetched)
        # older than the fetch, or already seen: nothing happens
        assert not f.add(url, host="a", site="s", depth=1, source="sitemap", lastmod="2025-01-02T00:00:00Z")
        assert f.get(url).state == "archived"  # type: ignore[union-attr]
        # changed after the fetch: back in the queue, validators kept for a conditional request
        assert not f.add(url, host="a", site="s", depth=1, source="sitemap", lastmod=fetched + 60)
        got = f.get(url)
        assert got is not None and got.state == "queued" and got.etag == '"e"' and got.lastmod == fetched + 60
        (entry,) = f.claim(now=0)
        f.complete(url, "unchanged", fetched_at=fetched - 3600)  # a server clock running behind
        # the same lastmod again does not re-queue it on every run
        assert not f.add(url, host="a", site="s", depth=1, source="sitemap", lastmod=fetched + 60)
        assert f.get(url).state == "unchanged"  # type: ignore[union-attr]
        # a lastmod it cannot read is ignored, not an error
        assert f.add(_url("a", 2), host="a", site="s", depth=1, source="sitemap", lastmod="last tuesday")
        assert f.get(_url("a", 2)).lastmod is None  # type: ignore[union-attr]
        # discovery hands datetimes over; naive ones are taken as UTC
        f.add(
            _url("a", 3),
            host="a",
            site="s",
            depth=1,
            source="sitemap",
            lastmod=datetime(2025, 1, 1, tzinfo=UTC),
        )
        f.add(_url("a", 4), host="a", site="s", depth=1, source="sitemap", lastmod=datetime(2025, 1, 1))
        assert f.get(_url("a", 3)).lastmod == f.get(_url("a", 4)).lastmod == 1735689600.0  # type: ignore[union-attr]


def test_requeue_stale_keeps_validators_for_conditional_requests(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        f.add_many(
            [
                NewURL(_url("a", 1), "a", "one", 1, "link"),
                NewURL(_url("a", 2), "a", "one", 1, "link"),
                NewURL(_url("b", 1), "b", "two", 1, "link"),
                NewURL(_url("a", 3), "a", "one", 0, "sitemap"),
            ]
        )
        f.claim(now=0, limit=10, per_host=10)
        f.complete(_url("a", 1), "archived", etag='"a1"', last_modified="lm", fetched_at=100.0)
        f.complete(_url("a", 2), "archived", etag='"a2"', fetched_at=900.0)
        f.complete(_url("b", 1), "unchanged", etag='"b1"', fetched_at=100.0)
        f.complete(_url("a", 3), "done", fetched_at=100.0)
        assert f.requeue_stale("one", 500.0) == 1
        got = f.get(_url("a", 1))
        assert got is not None and (got.state, got.etag, got.last_modified) == ("queued", '"a1"', "lm")
        assert f.get(_url("a", 2)).state == "archived"  # type: ignore[union-attr]
        assert f.requeue_stale(None, 500.0) == 1  # b: every site
        assert f.requeue_stale(None, 500.0, states=("done",)) == 1  # listing pages and sitemaps
        claimed = f.claim(now=0, limit=10, per_host=10)
        assert {e.url: e.etag for e in claimed} == {
            _url("a", 1): '"a1"',
            _url("b", 1): '"b1"',
            _url("a", 3): None,
        }
        with pytest.raises(ValueError, match="unknown"):
            f.requeue_stale(None, 1.0, states=("bogus",))


def test_host_state_round_trips(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        assert f.host_state("a.example") is None
        state = HostState("a.example", delay=2.0, crawl_delay=5.0, robots_state="ok", robots_retry_at=None)
        f.save_host(state)
        f.save_host(HostState("b.example", robots_state="unreachable", robots_retry_at=99.0, errors=1))
    with Frontier(tmp_path / "frontier.db") as f:
        assert f.host_state("a.example") == state
        later = HostState("a.example", delay=3.0, last_fetch_at=10.0, backoff=4.0, fetched=7, errors=1)
        f.save_host(later)
        assert f.host_state("a.example") == later
        assert f.host_state("b.example") == HostState(
            "b.example", robots_state="unreachable", robots_retry_at=99.0, errors=1
        )


def test_counts_by_site_and_reasons(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        f.add_many([NewURL(_url("a", i), "a", "one" if i < 3 else "two", 1, "link") for i in range(5)])
        f.claim(now=0, limit=10, per_host=10)
        f.complete(_url("a", 0), "skipped", reason="not-html")
        f.complete(_url("a", 1), "skipped", reason="not-html")
        f.complete(_url("a", 3), "skipped", reason="opted-out:noindex")
        assert f.counts("one") == dict.fromkeys(STATES, 0) | {"skipped": 2, "in_flight": 1}
        assert f.counts("two")["skipped"] == 1
        assert f.reasons("skipped") == {"not-html": 2, "opted-out:noindex": 1}
        assert f.reasons("skipped", site="two") == {"opted-out:noindex": 1}


# ---------------------------------------------------------------------- crashes


def test_recover_returns_what_a_dropped_connection_left_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "frontier.db"
    f = Frontier(path)
    f.add_many(NewURL(_url(h, i), h, "s", 1, "link") for i in range(3) for h in ("a", "b"))
    claimed = f.claim(now=0, limit=4, per_host=1)
    assert len(claimed) == 2
    f.close()  # the "process" ends without completing them
    with Frontier(path) as again:
        assert again.counts()["in_flight"] == 2
        assert again.recover() == 2
        assert again.recover() == 0
        assert again.counts()["in_flight"] == 0 and again.pending() == 6
        # they come back first, in the same order, and nothing else was lost
        assert [e.url for e in again.claim(now=0, limit=4)] == [e.url for e in claimed]


def test_recover_after_a_process_exits_mid_crawl(tmp_path: Path) -> None:
    path = tmp_path / "frontier.db"
    with Frontier(path) as f:
        f.add_many(NewURL(_url("a", i), "a", "s", 1, "link") for i in range(10))
    child = _run(
        """
        import os, sys
        from pathlib import Path
        from thresher.crawl.frontier import Frontier
        f = Frontier(Path(sys.argv[1]))
        for e in f.claim(now=0, limit=3, per_host=3):
            pass
        done = f.claim(now=0, limit=2, per_host=2)
        f.complete(done[0].url, "archived", fetched_at=1.0)
        os._exit(0)  # no close, no cleanup: like a crash
        """,
        str(path),
    )
    assert child.returncode == 0, child.stderr
    with Frontier(path) as f:
        assert f.counts()["archived"] == 1
        assert f.recover() == 4
        assert f.pending() == 9


_WORKER = """
import os, sys, time
from pathlib import Path
from thresher.crawl.frontier import Frontier

log = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
def note(line):
    os.write(log, (line + "\\n").encode())

with Frontier(Path(sys.argv[1])) as f:
    note(f"R {f.recover()}")
    while True:
        batch = f.claim(now=time.time(), limit=8, per_host=2)
        if not batch:
            break
        for e in batch:
            note(f"C {e.url}")
        for e in batch:
            f.complete(e.url, "archived", http_status=200, content_hash="h", fetched_at=time.time())
            note(f"A {e.url}")
note("END")
"""


def _log(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(line[0], line[2:]) for line in lines if line]


def test_kill_9_loses_nothing_and_refetches_only_what_was_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "frontier.db"
    log = tmp_path / "log.txt"
    total = 5000
    urls = {_url(f"h{i % 6}.example", i) for i in range(total)}
    with Frontier(path) as f:
        assert f.add_many(NewURL(u, u.split("/")[2], "s", 1, "link") for u in sorted(urls)) == total
    for round_ in range(1, 4):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), str(log)], env=_child_env(), stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while sum(kind == "A" for kind, _ in _log(log)) < 400 * round_ and proc.poll() is None:
            assert time.monotonic() < deadline, "the worker makes no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err.decode()
    entries = _log(log)
    assert ("E", "ND") not in entries  # every worker was killed before the end

    # the file is sound and every URL is in exactly one state
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = check.execute("SELECT url, state FROM urls").fetchall()
    check.close()
    assert len(rows) == total and {u for u, _ in rows} == urls
    states = Counter(s for _, s in rows)
    assert set(states) <= {"queued", "in_flight", "archived"}
    archived = {u for u, s in rows if s == "archived"}
    assert {u for kind, u in entries if kind == "A"} <= archived  # what a worker reported stayed done
    assert states["in_flight"] <= 8

    # the next run recovers the in-flight ones and finishes the rest, each URL once
    with Frontier(path) as f:
        assert f.recover() == states["in_flight"]
        recovered = states["in_flight"] + sum(int(u) for kind, u in entries if kind == "R")
        claims = Counter(u for kind, u in entries if kind == "C")
        while batch := f.claim(now=time.time(), limit=50, per_host=10):
            for e in batch:
                claims[e.url] += 1
                f.complete(e.url, "archived", fetched_at=time.time())
        assert f.counts() == dict.fromkeys(STATES, 0) | {"archived": total}
    assert set(claims) == urls
    refetched = sum(n - 1 for n in claims.values())
    assert refetched <= recovered  # only what was in flight at a kill was handed out again


def test_concurrent_claimers_never_share_a_url(tmp_path: Path) -> None:
    path = tmp_path / "frontier.db"
    with Frontier(path) as f:
        f.add_many(NewURL(_url(f"h{i % 4}", i), f"h{i % 4}", "s", 1, "link") for i in range(400))
    seen: list[list[str]] = [[], []]

    def work(k: int) -> None:
        with Frontier(path) as mine:
            while batch := mine.claim(now=0, limit=4, per_host=1):
                for e in batch:
                    seen[k].append(e.url)
                    mine.complete(e.url, "done", fetched_at=1.0)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(seen[0]) & set(seen[1])
    assert len(seen[0]) + len(seen[1]) == 400


# ---------------------------------------------------------------------- scale


def test_add_many_of_100000_urls(tmp_path: Path) -> None:
    with Frontier(tmp_path / "frontier.db") as f:
        items = (
            NewURL(_url(f"h{i % 20}.example", i), f"h{i % 20}.example", "s", (i // 20) % 4, "link")
            for i in range(100_000)
        )
        assert f.add_many(items) == 100_000
        assert f.pending() == 100_000
        # again, with duplicates inside the batch: nothing new, nothing re-queued
        again = (
            NewURL(_url(f"h{i % 20}.example", i % 50_000), f"h{i % 20}.example", "s", 0, "x")
            for i in range(100_000)
        )
        assert f.add_many(again) == 0
        got = f.claim(now=0, limit=40, per_host=2)
        assert len(got) == 40 and {e.depth for e in got} == {0}
        assert Counter(e.host for e in got) == {f"h{i}.example": 2 for i in range(20)}
        assert f.counts()["queued"] == 100_000 - 40


def test_rss_stays_small_with_100000_urls(tmp_path: Path) -> None:
    child = _run(
        """
        import json, resource, sys, time
        from pathlib import Path
        from thresher.crawl.frontier import Frontier, NewURL

        def peak_kb():
            # ru_maxrss survives execve, so a child of a large pytest process would report the
            # parent's peak; VmHWM belongs to this process's own memory map
            try:
                with open("/proc/self/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1])
            except OSError:
                pass
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        base = peak_kb()
        with Frontier(Path(sys.argv[1])) as f:
            t = time.perf_counter()
            n = f.add_many(
                NewURL(f"https://h{i % 10}.example/articles/{i}/a-fairly-long-slug-like-real-sites-use",
                       f"h{i % 10}.example", "s", 1, "sitemap")
                for i in range(100_000)
            )
            added = time.perf_counter() - t
            t = time.perf_counter()
            claimed = 0
            while batch := f.claim(now=0, limit=2000, per_host=200):
                claimed += len(batch)
            claim_time = time.perf_counter() - t
            counts = f.counts()
        print(json.dumps({"added": n, "claimed": claimed, "counts": counts, "add_seconds": added,
                          "claim_seconds": claim_time, "base_kb": base, "peak_kb": peak_kb(),
                          "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
        """,
        str(tmp_path / "frontier.db"),
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    print(report)  # the measured numbers, for -s runs
    assert report["added"] == report["claimed"] == 100_000
    assert report["counts"]["in_flight"] == 100_000
    assert report["peak_kb"] < 200 * 1024  # KiB


# ---------------------------------------------------------------------- refusing bad files and busy writers


def test_corrupt_or_foreign_file_is_refused_and_never_overwritten(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(IndexCorrupt, match="not an SQLite database"):
        Frontier(junk)
    assert junk.read_bytes() == b"this is not sqlite at all" * 100

    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("create table customers (id integer)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(IndexCorrupt, match="not a thresher frontier"):
        Frontier(foreign)
    assert foreign.read_bytes() == before

    # the archive's own index.db is not a frontier either
    open_index(tmp_path / "archive").close()
    index = tmp_path / "archive" / "index.db"
    with pytest.raises(IndexCorrupt, match="not a thresher frontier"):
        Frontier(index)
    conn = sqlite3.connect(index)
    assert "urls" not in {r[0] for r in conn.execute("select name from sqlite_master")}
    conn.close()


def test_damaged_frontier_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "frontier.db"
    with Frontier(path) as f:
        f.add_many(NewURL(_url("a", i), "a", "s", 1, "link") for i in range(3000))
    assert not path.with_name("frontier.db-wal").exists()  # checkpointed on close
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data), 2 * page):  # scribble over every other page after the first
        data[offset + 8 : offset + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt):
        Frontier(path)
    assert path.read_bytes() == bytes(data)


def test_second_writer_waits_then_gets_archive_busy(tmp_path: Path) -> None:
    path = tmp_path / "frontier.db"
    with Frontier(path) as f:
        _add(f, "a", 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Frontier(path, busy_timeout=0.2) as f:
            assert f.counts()["queued"] == 1  # readers are never blocked
            assert f.get(_url("a", 1)) is not None
            start = time.monotonic()
            with pytest.raises(ArchiveBusy, match="locked"):
                _add(f, "a", 2)
            assert time.monotonic() - start >= 0.15  # it waited before giving up
            with pytest.raises(ArchiveBusy):
                f.claim(now=0)
        # a new file that still needs its tables cannot be created under someone else's lock either
        fresh = tmp_path / "fresh.db"
        other = sqlite3.connect(fresh, isolation_level=None)
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(ArchiveBusy):
                Frontier(fresh, busy_timeout=0.1)
        finally:
            other.execute("ROLLBACK")
            other.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Frontier(path) as f:
        assert _add(f, "a", 2)
        assert f.pending() == 2
