"""Duplicate removal for export: exact (same text) and near (MinHash over word shingles, banded LSH).

Both are streaming and keep the first copy they see; the export feeds articles earliest published first,
so the earliest copy of a reposted article is the one kept.

**Near duplicates.** An article's text is lower-cased and split into words (``\\w+``); each run of
``SHINGLE`` (5) words is a shingle. Shingles are hashed with numpy, many texts at a time (code points times
fixed odd multipliers, summed), and the 32-bit shingle hashes go through datasketch's
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

import functools
import hashlib
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = ["Cluster", "ExactDeduper", "NearDeduper", "shingle_hashes", "signature", "signatures"]

NUM_PERM: Final = 128
SEED: Final = 1
SHINGLE: Final = 5
_WORD_CHARS: Final = 64  # characters past the 64th share the last multiplier
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


def _separator_table() -> np.ndarray[Any, np.dtype[np.bool_]]:
    """For each BMP code point, whether it separates words (everything but letters, digits, marks, ``_``)."""
    table = np.ones(0x10000, dtype=bool)
    for code in range(0x10000):
        category = unicodedata.category(chr(code))
        if category[0] in "LN" or category in ("Mn", "Mc") or code == 0x5F:
            table[code] = False
    table[0xFFFF] = False  # code points above the BMP are clipped to this one: letters (CJK, ...) mostly
    return table


_SEPARATOR: Final = _separator_table()
_EMPTY: Final = np.zeros(0, dtype=np.uint32)


def _batch_shingles(
    texts: Sequence[str],
) -> tuple[np.ndarray[Any, np.dtype[np.uint32]], np.ndarray[Any, np.dtype[np.intp]]]:
    """The 32-bit hashes of every text's word shingles, and the index of the text each belongs to.

    Words are runs of letters, digits, marks and ``_`` (``\\w+``) of the lower-cased text; a word hashes
    as the sum of its code points times fixed odd multipliers by position, a shingle as the sum of its
    ``SHINGLE`` word hashes times their own. All texts are hashed in one pass of numpy operations: per
    text, the numpy call overhead cost more than the arithmetic.
    """
    lowered = [text.lower() for text in texts]
    codes = np.frombuffer("\n".join(lowered).encode("utf-32-le"), dtype=np.uint32)
    chars = np.flatnonzero(~_SEPARATOR[np.minimum(codes, 0xFFFF)])
    if not len(chars):
        return _EMPTY, np.zeros(0, dtype=np.intp)
    first = np.empty(len(chars), dtype=bool)
    first[0] = True
    np.not_equal(chars[1:], chars[:-1] + 1, out=first[1:])
    starts = np.flatnonzero(first)
    position = np.arange(len(chars)) - starts[np.cumsum(first) - 1]
    weighted = codes[chars].astype(np.uint64) * _CHAR_MULT[np.minimum(position, _WORD_CHARS - 1)]
    word_hash = np.add.reduceat(weighted, starts)
    ends = np.cumsum([len(text) + 1 for text in lowered])
    doc = np.searchsorted(ends, chars[starts], side="right")
    hashes, docs = [], []
    n = len(word_hash)
    if n >= SHINGLE:
        m = n - SHINGLE + 1
        combined = word_hash[:m] * _SHINGLE_MULT[0]
        for offset in range(1, SHINGLE):
            combined += word_hash[offset : offset + m] * _SHINGLE_MULT[offset]
        whole = doc[:m] == doc[SHINGLE - 1 :]  # shingles that do not straddle two texts
        hashes.append(combined[whole])
        docs.append(doc[:m][whole])
    counts = np.bincount(doc, minlength=len(texts))
    for short in np.flatnonzero((counts > 0) & (counts < SHINGLE)).tolist():
        # a text shorter than a shingle is one shingle of all its words
        words = word_hash[doc == short]
        hashes.append((words * _SHINGLE_MULT[: len(words)]).sum(dtype=np.uint64, keepdims=True))
        docs.append(np.array([short], dtype=np.intp))
    if not hashes:
        return _EMPTY, np.zeros(0, dtype=np.intp)
    folded = np.concatenate(hashes)
    owner = np.concatenate(docs)
    order = np.argsort(owner, kind="stable")
    folded, owner = folded[order], owner[order]
    return ((folded >> np.uint64(32)) ^ folded).astype(np.uint32), owner


def shingle_hashes(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """The 32-bit hashes of the text's word shingles (a text shorter than a shingle is one shingle)."""
    return _batch_shingles([text])[0]


def _fmix32(values: np.ndarray[Any, np.dtype[np.uint32]]) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """MurmurHash3's 32-bit finalizer, the pre-mix datasketch's ``affine32`` scheme applies to each hash."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


_GROUP_ROWS: Final = 8192  # shingles permuted at once: 8192 x 128 x 4 bytes = 4 MB of temporaries


def signatures(texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """The MinHash signatures (one row of ``NUM_PERM`` uint32 values per text) of the texts' word shingles.

    The same values as datasketch's ``MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")`` updated
    with :func:`shingle_hashes` (a test checks it), computed for many texts in a few numpy expressions:
    ``update_batch`` calls the hash function once per shingle in Python, which took twice as long.
    """
    template = _template()
    out = np.tile(np.asarray(template.hashvalues, dtype=np.uint32), (len(texts), 1))
    hashes, owner = _batch_shingles(texts)
    if not len(hashes):
        return out
    a, b = template.permutations
    mixed = _fmix32(hashes)
    bounds = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])  # first shingle of each text
    lo = 0
    while lo < len(bounds):
        # whole texts, up to _GROUP_ROWS shingles (a longer text alone)
        start = int(bounds[lo])
        hi = int(np.searchsorted(bounds, start + _GROUP_ROWS, side="right"))
        hi = max(hi, lo + 1)
        stop = int(bounds[hi]) if hi < len(bounds) else len(hashes)
        # permutations x shingles, so each text's minimum is over a contiguous run (9x faster than the
        # transpose); += in place: a second temporary of this size cost 6x the arithmetic
        permuted = a.reshape(-1, 1) * mixed[start:stop]
        permuted += b.reshape(-1, 1)
        out[owner[bounds[lo:hi]]] = np.minimum.reduceat(permuted, bounds[lo:hi] - start, axis=1).T
        lo = hi
    return out


def signature(text: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
    """The MinHash signature of one text (see :func:`signatures`)."""
    row: np.ndarray[Any, np.dtype[np.uint32]] = signatures([text])[0]
    return row


@functools.lru_cache(maxsize=8)
def _bands_and_rows(threshold: float) -> tuple[int, int]:
    """datasketch's optimal (bands, rows) for ``threshold``, weighted for recall (candidates are verified).

    Cached: datasketch integrates the false positive and negative rates for every split (~1 s).
    """
    params = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=_WEIGHTS)
    return int(params.b), int(params.r)


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
        self.bands, self.rows = _bands_and_rows(threshold)
        self._band_mult = np.random.default_rng(_BAND_MULT_SEED).integers(
            1, 2**63, self.rows, dtype=np.uint64
        ) * np.uint64(2) + np.uint64(1)
        self._table = _BandTable(self.bands, capacity)
        self._sigs = np.zeros((max(16, capacity), NUM_PERM), dtype=np.uint32)
        self._urls: list[str] = []
        self._clusters: dict[int, Cluster] = {}

    def _band_keys(self, sig: np.ndarray[Any, np.dtype[np.uint32]]) -> list[int]:
        keys: list[int] = self.band_keys(sig.reshape(1, -1))[0]
        return keys

    def band_keys(self, sigs: np.ndarray[Any, np.dtype[np.uint32]]) -> list[list[int]]:
        """The LSH band keys of each signature row (for :meth:`check`'s ``keys``, many at once)."""
        banded = sigs[:, : self.bands * self.rows].reshape(len(sigs), self.bands, self.rows).astype(np.uint64)
        keys: list[list[int]] = (banded * self._band_mult).sum(axis=2, dtype=np.uint64).tolist()
        return keys

    def _grow(self) -> None:
        """Twice the room: rebuild the band table from the kept signatures."""
        kept = len(self._urls)
        self._table = _BandTable(self.bands, 2 * kept)
        for index in range(kept):
            self._table.insert(self._band_keys(self._sigs[index]), index)
        if kept >= len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.zeros_like(self._sigs)])

    def check(
        self,
        text: str,
        url: str,
        sig: np.ndarray[Any, np.dtype[np.uint32]] | None = None,
        keys: list[int] | None = None,
    ) -> Cluster | None:
        """The cluster of the earlier kept copy when ``text`` is a near duplicate (url added), else None.

        ``sig`` and ``keys`` are the text's signature and band keys when already computed
        (:func:`signatures` and :meth:`band_keys` do many texts at once).
        """
        if sig is None:
            sig = signature(text)
        if keys is None:
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
