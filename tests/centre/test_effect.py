"""Effect designs on synthetic C2 contacts with a known injected effect."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from iotscope.centre._columns import columns, handovers, lineage_of
from iotscope.centre._effect import (
    design,
    estimate,
    estimate_all,
    placebo_fits,
    successors,
    target_endpoints,
)
from iotscope.store.centre import Intervention
from iotscope.tenancy import CENTRE, Principal

D0 = date(2026, 10, 1)
T0 = datetime(2026, 10, 1, tzinfo=UTC)
Row = tuple[str, str, int, str, date, int]


def _iv(kind: str, isp: str | None, target: str, day: int, id_: str = "iv") -> Intervention:
    return Intervention(id_, kind, isp, "c2" if ":" in target else "devices", target,
                        T0 + timedelta(days=day), None, "test")  # fmt: skip


def _isp_world(seed: int, effect: float, start: int = 15) -> list[Row]:
    """Four ISPs whose bots follow one common trend; ISP A's bots are cut by ``effect`` from
    ``start`` on. Each bot contacts one C2 a day."""
    rng = np.random.default_rng(seed)
    trend = np.exp(np.cumsum(rng.normal(0, 0.04, 30)))
    rows: list[Row] = []
    for isp, base in (("A", 80), ("B", 120), ("C", 60), ("D", 90)):
        for d in range(30):
            mult = 1 + effect if isp == "A" and d >= start else 1.0
            n = rng.poisson(base * trend[d] * mult)
            rows += [(isp, "127.200.0.1", 23, f"{isp}{j}", D0 + timedelta(days=d), 3)
                     for j in range(n)]  # fmt: skip
    return rows


def _lineage_world(seed: int, orphan: float) -> list[Row]:
    """Lineage X (C2 x1 until a takedown on day 15, then x2), lineage Y (y1 hands over to
    y2 on day 10), lineage Z (z1 all month). ``orphan`` of X's bots are lost at the takedown."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = []

    def contacts(bots: list[str], c2: str, days: range) -> None:
        for d in days:
            for b in bots:
                if rng.random() < 0.9:
                    rows.append(("AB"[int(b[1:]) % 2], c2, 23, b, D0 + timedelta(days=d), 2))

    x = [f"x{i}" for i in range(120)]
    kept = [b for b in x if rng.random() >= orphan]
    contacts(x, "127.200.0.1", range(0, 15))
    contacts(kept, "127.200.0.2", range(15, 30))
    y = [f"y{i}" for i in range(90)]
    contacts(y, "127.200.1.1", range(0, 10))
    contacts(y, "127.200.1.2", range(10, 30))
    contacts([f"z{i}" for i in range(70)], "127.200.2.1", range(0, 30))
    return rows


def test_isp_campaign_effect_covered() -> None:
    covered = 0
    for seed in range(6):
        cols = columns(_isp_world(seed, -0.4))
        e = estimate(cols, _iv("notice_campaign", "A", "weak", 15), [], CENTRE)
        assert e.fit is not None and e.design is not None
        assert e.design.comparison.startswith("other ISPs (B, C, D)")
        covered += e.fit.covers(-0.4)
        assert e.drift is not None and e.calibrated is not None  # B, C, D as placebos
        assert e.calibrated.low <= e.fit.low and e.calibrated.high >= e.fit.high
    assert covered >= 5


def test_other_treated_isps_do_not_compare() -> None:
    cols = columns(_isp_world(1, -0.4))
    ivs = [_iv("notice_campaign", "A", "weak", 15, "a"), _iv("blocklist", "B", "1.2.3.4", 10, "b")]
    d = design(cols, ivs[0], ivs)
    assert "B" not in d.comparison and "C, D" in d.comparison
    assert len(d.placebos) == 2 and len(placebo_fits(cols, d, trend=False)) == 2


def test_isp_caller_needs_two_pooled_isps() -> None:
    cols = columns([r for r in _isp_world(2, -0.3) if r[0] in ("A", "B")])
    iv = _iv("notice_campaign", "A", "weak", 15)
    mine = estimate(cols, iv, [iv], Principal("isp", "A"))
    assert mine.comparison is None and mine.design is not None
    assert any("alone" in n for n in mine.design.notes)
    assert estimate(cols, iv, [iv], CENTRE).comparison is not None


def test_handovers_follow_a_lineage_through_a_takedown() -> None:
    cols = columns(_lineage_world(3, 0.6))
    links = handovers(cols)
    named = {(cols.endpoints[a], cols.endpoints[b]) for a, b in links}
    assert ("127.200.0.1:23", "127.200.0.2:23") in named
    assert ("127.200.1.1:23", "127.200.1.2:23") in named
    x = lineage_of(cols, target_endpoints(cols, "127.200.0.1:23"), links)
    assert {cols.endpoints[i] for i in x} == {"127.200.0.1:23", "127.200.0.2:23"}


def test_takedown_effect_on_the_lineage() -> None:
    cols = columns(_lineage_world(4, 0.5))
    iv = _iv("c2_takedown", None, "127.200.0.1:23", 15)
    (e,) = estimate_all(cols, [iv], CENTRE)
    assert e.fit is not None and e.design is not None
    assert e.design.unit.startswith("lineage of 127.200.0.1:23 (2 C2s)")
    true = sum(e.treated[15:]) / (sum(e.treated[:15]) / 15 * 15) - 1  # level was flat
    assert e.fit.low <= true <= e.fit.high
    assert -0.65 < e.fit.effect < -0.35


def test_unknown_target_is_not_estimable() -> None:
    cols = columns(_lineage_world(5, 0.5))
    e = estimate(cols, _iv("c2_takedown", None, "10.9.9.9:1", 15), [], CENTRE)
    assert e.fit is None and "no ISP reported" in e.reason


def test_block_on_short_lived_targets_falls_back_to_all_contacts() -> None:
    rows = _isp_world(6, 0.0)
    rows += [("A", "127.200.9.9", 80, f"A{j}", D0 + timedelta(days=d), 1)
             for d in (14, 15) for j in range(5)]  # fmt: skip
    cols = columns(rows)
    d = design(cols, _iv("blocklist", "A", "127.200.9.9/32", 15), [])
    assert d.measure == "contacts" and any("all the ISP" in n for n in d.notes)
    long_lived = design(cols, _iv("blocklist", "A", "127.200.0.1:23", 15), [])
    assert not long_lived.notes and long_lived.first == 0


def test_target_endpoints_match_addresses_networks_and_endpoints() -> None:
    cols = columns(_lineage_world(7, 0.2))
    assert len(target_endpoints(cols, "127.200.0.0/24")) == 2
    assert len(target_endpoints(cols, "127.200.1.1, c2.example")) == 1
    assert len(target_endpoints(cols, "127.200.2.1:23")) == 1


def test_midday_start_leaves_its_day_out() -> None:
    cols = columns(_isp_world(8, -0.3))
    start, end = T0 + timedelta(days=15, hours=9), T0 + timedelta(days=25)
    iv = Intervention("m", "notice_campaign", "A", "devices", "weak", start, end, "test")
    d = design(cols, iv, [])
    assert (d.pre_end, d.post_start, d.last) == (15, 16, 24)
    e = estimate(cols, iv, [], CENTRE)
    assert e.fit is not None and e.fit.n_post == 9


@pytest.mark.parametrize("measure", ["bots", "contacts"])
def test_measures(measure: str) -> None:
    cols = columns(_isp_world(9, -0.5))
    e = estimate(cols, _iv("notice_campaign", "A", "weak", 15), [], CENTRE, measure)
    assert e.design is not None and e.design.measure == measure
    assert e.fit is not None and e.fit.effect < -0.3


def test_a_successor_detected_days_later_joins_the_lineage() -> None:
    """The takedown's bots move to x2 at once, but no ISP reports x2 before day 20: the
    handover graph cannot link x1 and x2 (five days apart), :func:`successors` can (x2's
    first bots were x1's), so the lineage's bots after day 20 are not read as gone."""
    rows = [r for r in _lineage_world(9, 0.4) if not (r[1] == "127.200.0.2" and r[4] < D0 +
                                                         timedelta(days=20))]  # fmt: skip
    cols = columns(rows)
    seeds = target_endpoints(cols, "127.200.0.1:23")
    assert len(lineage_of(cols, seeds)) == 1  # the handover graph alone misses x2
    found = successors(cols, seeds, 15)
    assert [cols.endpoints[i] for i in found] == ["127.200.0.2:23"]
    (e,) = estimate_all(cols, [_iv("c2_takedown", None, "127.200.0.1:23", 15)], CENTRE)
    assert e.design is not None and e.design.unit.endswith("(2 C2s)")


def test_lineage_placebos_scale_and_isp_placebos_add() -> None:
    cols = columns(_lineage_world(4, 0.5))
    (td,) = estimate_all(cols, [_iv("c2_takedown", None, "127.200.0.1:23", 15)], CENTRE)
    assert td.design is not None and td.design.placebos_vary
    isp = estimate(
        columns(_isp_world(3, -0.4)), _iv("notice_campaign", "A", "weak", 15), [], CENTRE
    )
    assert isp.design is not None and not isp.design.placebos_vary
    assert isp.calibrated is not None and isp.drift is not None and isp.fit is not None
    assert isp.calibrated.se == pytest.approx((isp.fit.se**2 + isp.drift**2) ** 0.5)
