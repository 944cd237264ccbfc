"""The event IDs one ingest has seen: replays dropped before they reach the store.

A replayed event (a client's retry, a file sent twice, a generator's late copies)
carries an ``event_id`` the ingest saw earlier, and every event it saw went to the
store (a batch that cannot be written stops the ingest). The newest ``recent`` IDs
are kept exactly; older ones as 128-bit BLAKE2b digests (16 bytes each, up to
``older`` of them; two IDs sharing one is as likely as two random UUIDs being equal).
A replay of either is a duplicate, dropped while the batch is built — without this,
a replay older than the exact IDs was found only by the store, which made it look
up or refuse and rebuild every batch holding one (118 of 172 batches of a
12,000-person generated file).

The digests are kept in a sorted NumPy array, the newest in a set until it holds an
eighth as many, then merged in (each merge O(n): amortised O(1) an ID).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from hashlib import blake2b

import numpy as np

__all__ = ["SeenEventIds"]

#: NumPy's type of a digest (fixed-size bytes, compared as such)
DIGEST = np.dtype("S16")


class SeenEventIds:
    """The newest ``recent`` event IDs of one ingest exactly, up to ``older`` before
    them as digests."""

    def __init__(self, recent: int, older: int) -> None:
        self.recent = recent
        self.older = older
        self._ids: set[str] = set()
        self._order: deque[str] = deque()
        self._digests = np.empty(0, dtype=DIGEST)  #: sorted
        self._newest: set[bytes] = set()  #: digests not merged into ``_digests`` yet

    def __contains__(self, event_id: object) -> bool:
        """Whether ``event_id`` is among the newest IDs (surely seen)."""
        return event_id in self._ids

    def add(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            if event_id not in self._ids:
                self._ids.add(event_id)
                self._order.append(event_id)
        while len(self._order) > self.recent:
            oldest = self._order.popleft()
            self._ids.discard(oldest)
            if len(self._digests) + len(self._newest) < self.older:
                self._newest.add(_digest(oldest))
        if len(self._newest) > max(4096, len(self._digests) // 8):
            self._merge()

    def older_among(self, event_ids: Sequence[str]) -> list[str]:
        """The IDs of ``event_ids`` seen before the newest ones (replays of older
        events)."""
        if not event_ids or (not len(self._digests) and not self._newest):
            return []
        digests = [_digest(i) for i in event_ids]
        found = [False] * len(digests)
        if len(self._digests):
            asked = np.array(digests, dtype=DIGEST)
            at = np.minimum(np.searchsorted(self._digests, asked), len(self._digests) - 1)
            found = (self._digests[at] == asked).tolist()
        return [
            event_id
            for event_id, digest, hit in zip(event_ids, digests, found, strict=True)
            if (hit or digest in self._newest) and event_id not in self._ids
        ]

    def _merge(self) -> None:
        newest = np.array(sorted(self._newest), dtype=DIGEST)
        # two sorted runs: the stable sort merges them in one pass
        self._digests = np.concatenate([self._digests, newest])
        self._digests.sort(kind="stable")
        self._newest.clear()


def _digest(event_id: str) -> bytes:
    return blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()
