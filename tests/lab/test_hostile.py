"""What hostile hosts send (the pure part; sockets are in test_server)."""

from __future__ import annotations

import random

from iotscope.lab._hostile import CHUNK, chunk


def test_endless_banner_has_no_line_end() -> None:
    data = chunk("endless-banner", random.Random(1))
    assert len(data) == CHUNK and b"\n" not in data and b"\r" not in data


def test_iac_flood_is_only_option_offers() -> None:
    data = chunk("iac-flood", random.Random(1))
    assert len(data) >= CHUNK
    triples = [data[i : i + 3] for i in range(0, len(data), 3)]
    assert all(t[0] == 255 and t[1] in (251, 253) for t in triples)


def test_garbage_is_seeded_noise() -> None:
    assert chunk("garbage", random.Random(2)) == chunk("garbage", random.Random(2))
    assert len(set(chunk("garbage", random.Random(2)))) > 200


def test_silent_kinds_send_nothing() -> None:
    assert chunk("tarpit", random.Random(1)) == b"" == chunk("reset", random.Random(1))
