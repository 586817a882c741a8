"""The detection SQL on DuckDB over hand-made flows: what is a C2 and what is not."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.c2 import EVIDENCE, Params, Window, detect, detection_sql, infected_from_file
from iotscope.errors import ConfigError
from iotscope.flows import write_parquet
from iotscope.records import C2Candidate
from tests.c2.flowkit import MIN, SYN, T0, Kit, subscribers

HOUR = 60 * MIN
C2, VICTIM, CDN, CLOUD, DNS, NTP = (
    "203.0.113.9",
    "198.51.100.7",
    "198.18.1.1",
    "198.18.2.2",
    "198.18.0.53",
    "198.18.0.123",
)


def _by_ip(found: list[C2Candidate]) -> dict[str, C2Candidate]:
    return {str(c.ip): c for c in found}


def _world(scan: bool = True) -> tuple[Kit, list[str]]:
    """Bots beaconing to a C2 and flooding a victim (and scanning, unless ``scan`` is false),
    among benign subscribers."""
    kit = Kit()
    subs = subscribers(120)
    bots = subs[:5]
    for b in bots:
        kit.beacon(b, C2, 23, T0, T0 + 2 * HOUR, 60)
        for k in range(60):  # a SYN flood burst: a flow every 2 s
            kit.add(T0 + HOUR + k * 2000, b, VICTIM, 80, packets=50, nbytes=2000, flags=SYN)
        for k in range(30 if scan else 0):  # scanning: each target once, no answer
            kit.add(T0 + k * 7000, b, f"198.18.9.{k + 1}", 23, packets=1, nbytes=40, flags=SYN)
    for s in subs:
        kit.poisson(s, CDN, 443, T0, T0 + 2 * HOUR, 6)
        kit.poisson(s, DNS, 53, T0, T0 + 2 * HOUR, 10, proto="udp")
    for s in subs[:60]:  # vendor cloud keepalive: periodic but popular
        kit.beacon(s, CLOUD, 8883, T0, T0 + 2 * HOUR, 300)
    for s in subs[:10]:
        kit.beacon(s, NTP, 123, T0, T0 + 2 * HOUR, 64, proto="udp")
    return kit, bots


def test_c2_found_from_its_scanning_bots_without_list_and_confounders_suppressed() -> None:
    kit, _ = _world()
    found = _by_ip(detect(kit.table()))
    assert set(found) == {C2}
    c2 = found[C2]
    assert c2.port == 23 and c2.proto == "tcp" and c2.clients == 5 and c2.site == "isp-t"
    assert c2.score >= 0.5
    assert any("periodic" in r for r in c2.reasons)
    assert any("5 scanning 20+ hosts" in r for r in c2.reasons)


def test_infected_list_gives_the_c2_of_quiet_bots_and_victim_stays_out() -> None:
    kit, bots = _world(scan=False)
    assert C2 not in _by_ip(detect(kit.table()))  # a periodic endpoint alone is not a C2
    found = _by_ip(detect(kit.table(), infected=bots))
    assert set(found) == {C2} and found[C2].infected_clients == 5
    low = dataclasses.replace(Params(), threshold=0.0)
    assert VICTIM not in _by_ip(detect(kit.table(), infected=bots, params=low))


def test_single_infected_host_gives_its_c2() -> None:
    kit = Kit()
    kit.beacon("100.64.1.1", C2, 23, T0, T0 + HOUR, 60)
    for s in subscribers(30):
        kit.poisson(s, CDN, 443, T0, T0 + HOUR, 5)
    assert set(_by_ip(detect(kit.table(), infected=["100.64.1.1"]))) == {C2}
    assert detect(kit.table()) == []


def test_scan_target_is_not_a_c2() -> None:
    kit = Kit()
    infected = subscribers(4)
    for i, s in enumerate(infected):
        kit.add(T0 + i * 1000, s, "198.18.5.5", 23, packets=1, nbytes=40, flags=SYN)
    low = dataclasses.replace(Params(), threshold=0.0)
    assert "198.18.5.5" not in _by_ip(detect(kit.table(), infected=infected, params=low))


def test_migrated_c2_flagged_within_ten_minutes() -> None:
    kit = Kit()
    bots = subscribers(4)
    move = T0 + 2 * HOUR
    for i, b in enumerate(bots):
        kit.beacon(b, C2, 23, T0, move, 60)
        kit.beacon(b, "203.0.113.77", 23, move + i * 20_000, move + HOUR, 60)
    table = kit.table()
    window = Window(since=_dt(move - 6 * HOUR), until=_dt(move + 5 * MIN))
    found = _by_ip(detect(table, window=window, infected=bots))
    assert "203.0.113.77" in found
    assert any("moved here" in r for r in found["203.0.113.77"].reasons)


def test_window_and_site_filters() -> None:
    kit, _ = _world()
    other = Kit(site="isp-u")
    other.rows = list(kit.rows)
    table = kit.table()
    both = _concat(table, other.table())
    assert {c.site for c in detect(both)} == {"isp-t", "isp-u"}
    assert {c.site for c in detect(both, window=Window(site="isp-u"))} == {"isp-u"}
    early = detect(both, window=Window(until=_dt(T0 + 2 * MIN)))
    assert early == []


def test_parquet_root_gives_the_same_answer(tmp_path: Path) -> None:
    kit, bots = _world()
    table = kit.table()
    write_parquet(table, tmp_path, source_key="t")
    assert detect(tmp_path, infected=bots) == detect(table, infected=bots)
    with pytest.raises(ConfigError):
        detect(tmp_path / "missing")


def test_sql_is_one_text_without_engine_specific_functions() -> None:
    sql = detection_sql().lower()
    for dialect_only in ("epoch_ms", "unix_millis", "list(", "struct_pack", "::", "qualify"):
        assert dialect_only not in sql
    with pytest.raises(ConfigError):
        Window(site="x'; drop table flows; --").where()


def test_infected_file(tmp_path: Path) -> None:
    path = tmp_path / "infected.txt"
    path.write_text("# bots\n100.64.1.1\n\n100.64.1.2  # second\n")
    assert infected_from_file(path) == {"100.64.1.1", "100.64.1.2"}
    path.write_text("100.64.1.1\nnot-an-ip\n")
    with pytest.raises(ConfigError):
        infected_from_file(path)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _concat(a: pa.Table, b: pa.Table) -> pa.Table:
    return pa.concat_tables([a, b])


def test_long_lived_cloud_of_few_clients_is_not_a_c2() -> None:
    """A vendor cloud of a small site: a handful of clients (some infected) poll it all day,
    too few to be popular; stability and the infected base rate keep it out."""
    kit = Kit()
    subs = subscribers(40)
    bots, devices = subs[:4], subs[2:14]  # two bots also poll the vendor's cloud
    day = 24 * HOUR
    for s in devices:
        kit.beacon(s, CLOUD, 443, T0 + int(kit.rng.integers(0, 15 * MIN)), T0 + day, 900)
    for b in bots:
        kit.beacon(b, C2, 23, T0 + 10 * HOUR, T0 + day, 60)
    for s in subs:
        kit.poisson(s, CDN, 443, T0, T0 + day, 20)
    assert set(_by_ip(detect(kit.table(), infected=bots))) == {C2}
    assert detect(kit.table()) == []
    low = dataclasses.replace(Params(), threshold=0.0)
    cloud = _by_ip(detect(kit.table(), infected=bots, params=low))[CLOUD]
    assert cloud.infected_clients == 2 and cloud.score < 0.5
    assert any("start to its end" in r for r in cloud.reasons)


def test_reasons_and_score_come_from_the_same_evidence_table_and_params() -> None:
    """Each reason is rendered from EVIDENCE with the Params the SQL ran with: its leading
    figure is the term's signed contribution (they add up to the score), and a changed
    limit or weight changes the SQL text, the score and the reason text alike."""
    kit, bots = _world()
    for e in EVIDENCE:
        assert hasattr(Params(), e.weight) and f"AS e_{e.name}" in detection_sql()
    base = _by_ip(detect(kit.table(), infected=bots))[C2]
    points = [float(r.split(" ", 1)[0]) for r in base.reasons]
    assert sum(points) == pytest.approx(base.score, abs=0.01 * len(points))
    assert any("gaps' CV <= 0.5" in r for r in base.reasons)
    assert any("scanning 20+ hosts" in r for r in base.reasons)
    changed = dataclasses.replace(Params(), periodic_cv=0.4, scan_targets=15, w_channel=0.2)
    sql = detection_sql(changed)
    assert "<= 0.4 * g.mean_gap" in sql and ">= 15" in sql and "+ 0.2 * e_channel" in sql
    other = _by_ip(detect(kit.table(), infected=bots, params=changed))[C2]
    assert other.score == pytest.approx(base.score - 0.05, abs=1e-6)
    assert any(r.startswith("+0.20 kept channel") and "gaps' CV <= 0.4" in r
               for r in other.reasons)  # fmt: skip
    assert any("scanning 15+ hosts" in r for r in other.reasons)
    assert not any("gaps' CV <= 0.5" in r or "scanning 20+" in r for r in other.reasons)


def test_channel_shape_and_handover_alone_never_reach_the_threshold() -> None:
    """Every positive term but the infected lift and the tiered hand-over (group evidence, see
    test_tiers.py) adds up to less than the threshold: a clean poller, a hub, a rotating vendor
    cloud (clients moving together) are never reported."""
    p = Params()
    bot_terms = ("infected", "tier")
    shape = sum(getattr(p, e.weight) for e in EVIDENCE if e.sign > 0 and e.name not in bot_terms)
    assert shape < p.threshold
