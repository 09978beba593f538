"""Exact and near deduplication: datasketch-equal signatures, near copies found, distinct texts kept."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from export_helpers import fixture_articles, mutate
from thresher.export import ExactDeduper, NearDeduper
from thresher.export.dedupe import NUM_PERM, SEED, shingle_hashes, signature


def _identity(value: int) -> int:
    return value


def test_signature_is_datasketchs_minhash_of_the_shingles() -> None:
    for article in fixture_articles()[:4]:
        expected = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, scheme="affine32")
        expected.update_batch(shingle_hashes(article.text).tolist())
        assert np.array_equal(signature(article.text), expected.hashvalues)


def test_shingles_ignore_case_and_punctuation_and_are_deterministic() -> None:
    a = shingle_hashes("Open the Settings app, then click Storage.")
    b = shingle_hashes("open the settings app then click storage")
    assert np.array_equal(a, b) and len(a) == 3
    assert len(shingle_hashes("two words")) == 1 and len(shingle_hashes("")) == 0


def test_exact_keeps_the_first_and_clusters_the_rest() -> None:
    dedupe = ExactDeduper()
    assert dedupe.check("Same text\nhere", "u1") is None
    assert dedupe.check("Other text", "u2") is None
    cluster = dedupe.check("Same text\nhere", "u3")
    assert cluster is not None and cluster.kept == "u1" and cluster.duplicates == ["u3"]
    assert [c.to_dict() for c in dedupe.clusters()] == [{"kind": "exact", "kept": "u1", "duplicates": ["u3"]}]


def test_near_finds_light_edits_and_keeps_distinct_articles() -> None:
    articles = [a for a in fixture_articles() if a.kind == "article"]
    dedupe = NearDeduper(0.8, capacity=4)  # grows past its capacity
    for article in articles:
        assert dedupe.check(article.text, article.url) is None, article.url
    for i, article in enumerate(articles):
        copy = mutate(article.text, every=150)  # Jaccard about 0.94
        assert copy != article.text
        cluster = dedupe.check(copy, f"https://copy{i}.test/")
        assert cluster is not None and cluster.kept == article.url and cluster.kind == "near"
    assert len(dedupe.clusters()) == len(articles)


def test_near_threshold_decides() -> None:
    article = next(a for a in fixture_articles() if "disk-cleanup" in a.url)
    heavy = mutate(article.text, every=15)  # Jaccard about 0.5
    strict, loose = NearDeduper(0.9), NearDeduper(0.3)
    for dedupe in (strict, loose):
        dedupe.check(article.text, "original")
    assert strict.check(heavy, "edited") is None
    assert loose.check(heavy, "edited") is not None


def test_near_rejects_a_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        NearDeduper(0.0)


def test_near_keeps_working_past_its_capacity() -> None:
    import random

    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(5000)]
    texts = [" ".join(rng.choices(vocab, k=120)) for _ in range(700)]  # > the 512 a minimal table holds
    dedupe = NearDeduper(0.8, capacity=1)
    assert all(dedupe.check(text, f"u{i}") is None for i, text in enumerate(texts))
    for i in (0, 300, 699):
        cluster = dedupe.check(texts[i] + " one more word", f"copy{i}")
        assert cluster is not None and cluster.kept == f"u{i}"


def test_batch_signatures_equal_one_at_a_time() -> None:
    from thresher.export.dedupe import signatures

    texts = [a.text for a in fixture_articles()[:6]]
    texts[1:1] = ["", "two words", "!!! ---", "東京 タワー", "exactly five words right here"]
    batch = signatures(texts)
    assert batch.shape == (len(texts), NUM_PERM)
    for row, text in zip(batch, texts, strict=True):
        assert np.array_equal(row, signature(text))
    assert np.array_equal(batch[1], batch[3])  # no words: the empty signature
    assert not np.array_equal(batch[2], batch[1])
