"""Duplicate removal for export: exact (same text) and near (MinHash over word shingles, banded LSH).

Both are streaming and keep the first copy they see; the export feeds articles earliest published first,
so the earliest copy of a reposted article is the one kept.

**Near duplicates.** An article's text is lower-cased and split into words (``\\w+``); each run of
``SHINGLE`` (5) words is a shingle. Shingles are hashed with numpy (each word as its first 24 characters'
code points, combined by a fixed polynomial), and the 32-bit shingle hashes go through datasketch's
``MinHash`` (``affine32`` scheme, ``NUM_PERM`` = 128 permutations, fixed seed) to a signature. Candidates
come from LSH banding with datasketch's optimal (bands, rows) for the threshold, weighted 0.1 for false
positives and 0.9 for false negatives, since every candidate is checked anyway: a candidate is a duplicate
when its estimated Jaccard similarity (the share of equal signature slots) is at least the threshold.
For 0.8 that is 14 bands of 9 rows: a pair at J = 0.8 becomes a candidate with probability 0.87, at 0.85
with 0.975, at 0.9 with 0.999 (datasketch's default weights, 9 x 13, give 0.40 / 0.69 / 0.93). With 128
permutations the estimate's standard error is at most 0.044 (0.035 at J = 0.8).

datasketch's own ``MinHashLSH`` keeps a Python set per bucket: 434 MB for 100,000 articles at 9 bands, more
at 14, and a dict per band was still 190 MB. Here the bands are open-addressing tables in numpy arrays
(``_BandTable``, 14 x 12 bytes x 2 slots per article) and the kept signatures one uint32 array: about
0.85 KB per kept article in all.
"""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = ["Cluster", "ExactDeduper", "NearDeduper", "signature"]

NUM_PERM: Final = 128
SEED: Final = 1
SHINGLE: Final = 5
_WORD_CHARS: Final = 24
# Punctuation becomes a space before splitting: str.translate + split is ~5x faster than re.findall(r"\w+").
_PUNCT: Final = str.maketrans(
    dict.fromkeys(
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u3001\u3002",
        " ",
    )
)
# Fixed odd multipliers: deterministic hashing across processes (Python's hash() is salted per process).
_RNG = np.random.default_rng(0x7468726573686572)
_CHAR_MULT: Final = (
    _RNG.integers(1, 2**63, _WORD_CHARS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
).astype(np.uint64)
_SHINGLE_MULT: Final = (
    _RNG.integers(1, 2**63, SHINGLE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
).astype(np.uint64)
_BAND_MULT_SEED: Final = 0x6C7368
_WEIGHTS: Final = (0.1, 0.9)


@dataclass(slots=True, kw_only=True)
class Cluster:
    """A kept article and the duplicates of it that were dropped (by url)."""

    kept: str
    duplicates: list[str] = field(default_factory=list)
    kind: str = "exact"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the manifest."""
        return {"kind": self.kind, "kept": self.kept, "duplicates": self.duplicates}


class ExactDeduper:
    """Drops a text seen before (an 8-byte BLAKE2b digest of the cleaned text is kept per text)."""

    def __init__(self) -> None:
        self._seen: dict[bytes, Cluster] = {}

    def check(self, text: str, url: str) -> Cluster | None:
        """The earlier copy's cluster when ``text`` was seen before (``url`` added to it), else None."""
        # the text is already cleaned (whitespace canonical), so it is hashed as it is
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        cluster = self._seen.get(key)
        if cluster is None:
            self._seen[key] = Cluster(kept=url, kind="exact")
            return None
        cluster.duplicates.append(url)
        return cluster

    def clusters(self) -> list[Cluster]:
        """The clusters that have duplicates."""
        return [c for c in self._seen.values() if c.duplicates]


def _identity(value: int) -> int:
    return value


_TEMPLATE: MinHash | None = None


def _template() -> MinHash:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, scheme="affine32")
    return _TEMPLATE


def shingle_hashes(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """The 32-bit hashes of the text's word shingles (a text shorter than a shingle is one shingle)."""
    words = text.lower().translate(_PUNCT).split()
    if not words:
        return np.zeros(0, dtype=np.uint32)
    # numpy truncates each word to _WORD_CHARS characters; zero padding hashes as nothing
    codes = np.array(words, dtype=f"<U{_WORD_CHARS}").view(np.uint32).reshape(len(words), _WORD_CHARS)
    word_hash = (codes.astype(np.uint64) * _CHAR_MULT).sum(axis=1, dtype=np.uint64)
    k = min(SHINGLE, len(words))
    n = len(words) - k + 1
    combined = np.zeros(n, dtype=np.uint64)
    for offset in range(k):
        combined += word_hash[offset : offset + n] * _SHINGLE_MULT[offset]
    return ((combined >> np.uint64(32)) ^ combined).astype(np.uint32)


def _fmix32(values: np.ndarray[Any, np.dtype[np.uint32]]) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """MurmurHash3's 32-bit finalizer, the pre-mix datasketch's ``affine32`` scheme applies to each hash."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signature(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """The MinHash signature (``NUM_PERM`` uint32 values) of ``text``'s word shingles.

    The same values as datasketch's ``MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")`` updated
    with the shingle hashes (a test checks it), computed in one numpy expression: ``update_batch`` calls
    the hash function once per shingle in Python, which took twice as long.
    """
    template = _template()
    hashes = shingle_hashes(text)
    if not len(hashes):
        return np.asarray(template.hashvalues, dtype=np.uint32)
    a, b = template.permutations
    permuted = _fmix32(hashes).reshape(-1, 1) * a
    permuted += b  # in place: a second temporary of this size cost 6x the arithmetic
    return np.asarray(permuted.min(axis=0), dtype=np.uint32)


class _BandTable:
    """One open-addressing hash table per LSH band, in two flat arrays: band key -> kept article index.

    A band key held by several kept articles takes several slots; a lookup collects them all. Kept at most
    half full, so probe sequences are short; 12 bytes a slot. ``array`` rather than numpy: a probe is a
    handful of scalar reads, which numpy makes ten times slower.
    """

    def __init__(self, bands: int, capacity: int) -> None:
        self.size = 1 << max(10, (2 * max(1, capacity) - 1).bit_length())
        self.mask = self.size - 1
        self.keys = array("Q", [0]) * (bands * self.size)
        self.values = array("i", [-1]) * (bands * self.size)
        self.count = 0

    def find(self, keys: list[int]) -> set[int]:
        """The indexes of the kept articles sharing at least one band key with ``keys``."""
        found: set[int] = set()
        table_keys, values, mask = self.keys, self.values, self.mask
        for base, key in zip(range(0, len(keys) * self.size, self.size), keys, strict=True):
            slot = (key ^ (key >> 31)) & mask
            while (value := values[base + slot]) >= 0:
                if table_keys[base + slot] == key:
                    found.add(value)
                slot = (slot + 1) & mask
        return found

    def insert(self, keys: list[int], index: int) -> None:
        """Record that kept article ``index`` has these band keys (the table must have room)."""
        table_keys, values, mask = self.keys, self.values, self.mask
        for base, key in zip(range(0, len(keys) * self.size, self.size), keys, strict=True):
            slot = (key ^ (key >> 31)) & mask
            while values[base + slot] >= 0:
                slot = (slot + 1) & mask
            table_keys[base + slot] = key
            values[base + slot] = index
        self.count += 1

    def full(self) -> bool:
        """Whether one more insert would make the table more than half full."""
        return 2 * (self.count + 1) > self.size


class NearDeduper:
    """Drops a text whose estimated Jaccard similarity with an earlier kept text is >= ``threshold``.

    Args:
        threshold: the Jaccard similarity from which two texts are duplicates (0 < threshold <= 1).
        capacity: how many texts to expect (the tables grow past it, at the cost of a rebuild).
    """

    def __init__(self, threshold: float = 0.8, *, capacity: int = 1024) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        # only for its optimal (b, r): recall weighted over precision, candidates are verified below
        params = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=_WEIGHTS)
        self.bands, self.rows = params.b, params.r
        self._band_mult = np.random.default_rng(_BAND_MULT_SEED).integers(
            1, 2**63, self.rows, dtype=np.uint64
        ) * np.uint64(2) + np.uint64(1)
        self._table = _BandTable(self.bands, capacity)
        self._sigs = np.zeros((max(16, capacity), NUM_PERM), dtype=np.uint32)
        self._urls: list[str] = []
        self._clusters: dict[int, Cluster] = {}

    def _band_keys(self, sig: np.ndarray[Any, np.dtype[np.uint32]]) -> list[int]:
        banded = sig[: self.bands * self.rows].reshape(self.bands, self.rows).astype(np.uint64)
        keys: list[int] = (banded * self._band_mult).sum(axis=1, dtype=np.uint64).tolist()
        return keys

    def _grow(self) -> None:
        """Twice the room: rebuild the band table from the kept signatures."""
        kept = len(self._urls)
        self._table = _BandTable(self.bands, 2 * kept)
        for index in range(kept):
            self._table.insert(self._band_keys(self._sigs[index]), index)
        if kept >= len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.zeros_like(self._sigs)])

    def check(self, text: str, url: str) -> Cluster | None:
        """The cluster of the earlier kept copy when ``text`` is a near duplicate (url added), else None."""
        sig = signature(text)
        keys = self._band_keys(sig)
        best, best_score = -1, -1.0
        for index in sorted(self._table.find(keys)):
            score = float(np.count_nonzero(self._sigs[index] == sig)) / NUM_PERM
            if score >= self.threshold and score > best_score:
                best, best_score = index, score
        if best >= 0:
            cluster = self._clusters.get(best)
            if cluster is None:
                cluster = self._clusters[best] = Cluster(kept=self._urls[best], kind="near")
            cluster.duplicates.append(url)
            return cluster
        index = len(self._urls)
        if self._table.full() or index >= len(self._sigs):
            self._grow()
        self._sigs[index] = sig
        self._urls.append(url)
        self._table.insert(keys, index)
        return None

    def clusters(self) -> list[Cluster]:
        """The clusters that have duplicates, in the order their kept article was seen."""
        return [self._clusters[i] for i in sorted(self._clusters)]
