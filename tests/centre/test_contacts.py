"""Contacts fold into one span per bot and C2; a contact that ends before it starts is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from iotscope.centre._contacts import Contact, tenures

T = datetime(2026, 10, 1, 6, tzinfo=UTC)


def _c(bot: str, c2: str, day: int, family: str | None = "mirai", flows: int = 3) -> Contact:
    t = T + timedelta(days=day)
    return Contact("A", c2, 23, family, bot, date(2026, 10, 1 + day), t, t + timedelta(hours=1),
                   flows)  # fmt: skip


def test_fold_per_bot_and_c2() -> None:
    rows = [_c("b1", "192.0.2.1", 0, None), _c("b1", "192.0.2.1", 2), _c("b1", "192.0.2.2", 3)]
    rows.append(_c("b2", "192.0.2.1", 1, flows=7))
    spans = tenures(rows)
    assert [(s.bot, s.c2[0], s.days, s.flows) for s in spans] == [
        ("b1", "192.0.2.1", 2, 6),
        ("b1", "192.0.2.2", 1, 3),
        ("b2", "192.0.2.1", 1, 7),
    ]
    first = spans[0]
    assert first.family == "mirai"  # the detector named it on one of the days
    assert (first.first, first.last) == (T, T + timedelta(days=2, hours=1))
    assert first.who == ("A", "b1")


def test_contact_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="last_seen"):
        Contact("A", "192.0.2.1", 23, None, "b", date(2026, 10, 1), T, T - timedelta(seconds=1))
