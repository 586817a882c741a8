"""The order targets are visited in: a keyed pseudo-random permutation of ``0..size-1``.

ZMap visits IPv4 in the order of a random cyclic group so that no network sees a burst and
memory stays constant. We do the same with a balanced Feistel network (four rounds of keyed
BLAKE2b, a pseudo-random permutation of ``0..2^bits-1``) and cycle walking (re-apply until
the value falls inside ``0..size-1``; still a bijection, fewer than four steps on average
because ``2^bits < 4 * size``). ``Permutation(size, seed)[i]`` is the ``i``-th index to
visit: O(1) memory whatever the scope, and a run is resumable from ``(seed, position)``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

__all__ = ["ROUNDS", "Permutation", "new_seed"]

ROUNDS = 4


def new_seed() -> int:
    """A fresh run seed (63 bits: it fits a signed 64-bit database column)."""
    return secrets.randbits(63)


class Permutation:
    """A bijection of ``0..size-1`` keyed by ``seed``; index it or iterate it."""

    def __init__(self, size: int, seed: int) -> None:
        if size < 1:
            raise ValueError("a permutation needs at least one element")
        self.size, self.seed = size, seed
        bits = max(2, (size - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = (1 << self._half) - 1
        self._width = (self._half + 7) // 8
        self._keys = [
            hashlib.blake2b(f"iotscope-order:{seed}:{r}".encode(), digest_size=16).digest()
            for r in range(ROUNDS)
        ]

    def _round(self, r: int, value: int) -> int:
        data = value.to_bytes(self._width, "big")
        digest = hashlib.blake2b(data, key=self._keys[r], digest_size=8).digest()
        return int.from_bytes(digest, "big") & self._mask

    def _encrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for r in range(ROUNDS):
            left, right = right, left ^ self._round(r, right)
        return (left << self._half) | right

    def __getitem__(self, position: int) -> int:
        if not 0 <= position < self.size:
            raise IndexError(position)
        value = self._encrypt(position)
        while value >= self.size:  # cycle walking
            value = self._encrypt(value)
        return value

    def __len__(self) -> int:
        return self.size

    def iter_from(self, start: int = 0) -> Iterator[tuple[int, int]]:
        """``(position, index)`` pairs from ``start`` on."""
        for position in range(start, self.size):
            yield position, self[position]
