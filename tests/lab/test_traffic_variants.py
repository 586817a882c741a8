"""Traffic variants: each family has the promised shape in the generated flows; the default
world is unchanged; a variant is deterministic per seed; held-out variants differ from tuning."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from iotscope.errors import ConfigError
from iotscope.lab.traffic import (
    VARIANTS,
    Scenario,
    Variant,
    build_scenario,
    generate,
    get_variant,
    load_variant,
    scenario_for,
    site_flows,
)
from iotscope.lab.traffic._benign import family_base
from iotscope.lab.traffic._blocks import REJ, S0, SF, UDP, Block
from iotscope.lab.traffic._families import FAMILIES, SLOT, NatGateway, Poller
from iotscope.lab.traffic._flowgen import site_connections
from iotscope.lab.traffic._scenario import DAY_MS
from iotscope.lab.traffic._truth import site_truth
from iotscope.lab.traffic._zeek import ACTIVE_TIMEOUT_MS
from iotscope.lab.traffic.cli import traffic

HOUR = 3_600_000
ORIGINAL_COLUMNS = ("start", "dur", "src", "dst", "sport", "dport", "proto", "opk", "oby",
                    "rpk", "rby", "state")  # fmt: skip


def _flows(sc: Scenario) -> dict[str, Block]:
    return {s.name: site_connections(sc, s.name) for s in sc.sites}


@pytest.fixture(scope="module")
def lookalike() -> tuple[Scenario, dict[str, Block]]:
    sc = build_scenario(11, 2.0, 0.3, variant="lookalike")
    return sc, _flows(sc)


def _benign_index(sc: Scenario, family: str) -> int:
    return next(i for i, f in enumerate(sc.benign) if getattr(f, "family", "") == family)


def _to_family(sc: Scenario, flows: Block, family: str) -> np.ndarray:
    """The rows of the family's clients to its addresses (bots' SYN scans also hit them)."""
    lo = family_base(_benign_index(sc, family))
    bots = np.concatenate([*sc.bots.values(), np.zeros(0, np.uint32)])
    return (flows["dst"] >= lo) & (flows["dst"] < lo + SLOT) & ~np.isin(flows["src"], bots)


def _lineage(sc: Scenario, family: str) -> str:
    return next(x.name for x in sc.lineages if x.family.name == family)


def test_default_variant_is_the_original_world_byte_for_byte() -> None:
    """The connections of the default world hash as they did before variants existed (numpy's
    generators are stable across platforms; a numpy change of a distribution shows here)."""
    sc = build_scenario(5, 0.25, 0.2)
    assert sc.variant == "default" and not sc.benign
    h = hashlib.sha256()
    for s in sc.sites:
        block = site_connections(sc, s.name)
        assert not block["rev"].any()
        for c in ORIGINAL_COLUMNS:
            h.update(np.ascontiguousarray(block[c]).tobytes())
    assert h.hexdigest() == "922acd14bb7cdb4f6ddbf088bd6a74080370d944ea8e5ed818041ad19d7f8d02"


def test_variant_is_deterministic_per_seed() -> None:
    a, b, c = (build_scenario(s, 0.5, 0.2, variant="ho-night") for s in (4, 4, 5))
    site = a.sites[0].name
    fa, fb, fc = (site_connections(x, site) for x in (a, b, c))
    assert all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert len(fa["start"]) != len(fc["start"]) or not np.array_equal(fa["dst"], fc["dst"])


def test_variants_table() -> None:
    tuning = [v for v in VARIANTS.values() if not v.held_out]
    held = [v for v in VARIANTS.values() if v.held_out]
    assert len(tuning) >= 3 and len(held) >= 3 and "default" in VARIANTS
    assert all(v.description for v in VARIANTS.values())
    with pytest.raises(ConfigError):
        get_variant("no-such-world")


def test_held_out_variants_differ_from_tuning_ones() -> None:
    """No held-out family (benign or new malicious) has the parameters of a tuning one."""
    original = set(FAMILIES.values())
    tuning = [v for v in VARIANTS.values() if not v.held_out]
    seen_b = {b for v in tuning for b in v.benign}
    seen_m = {f for v in tuning for _, f in v.lineages} - original
    for v in (x for x in VARIANTS.values() if x.held_out):
        assert not set(v.benign) & seen_b, v.name
        assert not {f for _, f in v.lineages} & seen_m, v.name
        assert {f for _, f in v.lineages} - original, v.name


def test_day_poller_polls_only_inside_its_window(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    spec = sc.benign[_benign_index(sc, "day-poller")]
    assert isinstance(spec, Poller) and spec.hours == (8.0, 20.0) and spec.port == 443
    for block in flows.values():
        mine = _to_family(sc, block, "day-poller")
        hours = (block["start"][mine] % DAY_MS) / HOUR
        assert mine.sum() > 100
        assert hours.min() >= 8 and hours.max() < 20
        assert len(np.unique(block["src"][mine])) == spec.clients
        gaps = np.diff(block["start"][mine]) / 1000
        assert 250 < np.median(gaps) < 350


def test_window_across_midnight_and_days_off() -> None:
    v = Variant(
        "t-night",
        "test",
        False,
        (),
        (Poller("night", 443, 600.0, 6, hours=(20.0, 4.0), days_on=0.5),),
    )
    sc = build_scenario(3, 4.0, 0.1, variant=v)
    block = site_connections(sc, sc.sites[0].name)
    mine = _to_family(sc, block, "night")
    hours = (block["start"][mine] % DAY_MS) / HOUR
    assert np.all((hours >= 20) | (hours < 4))
    days = (block["start"][mine] - sc.start_ms) // DAY_MS
    pairs = set(zip(block["src"][mine].tolist(), days.tolist(), strict=True))
    assert 0 < len(pairs) < 6 * 5  # some client-days run, some are off


def test_hub_poller_two_clients_all_day(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    for block in flows.values():
        mine = _to_family(sc, block, "hub-poller")
        assert len(np.unique(block["src"][mine])) == 2
        assert set(block["dport"][mine].tolist()) == {8443}
        hours = np.unique((block["start"][mine] % DAY_MS) // HOUR)
        assert len(hours) == 24


def test_rotating_cdn_clients_move_together(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    spec = sc.benign[_benign_index(sc, "rotating-cdn")]
    assert isinstance(spec, Poller) and spec.rotate_h == 6.0
    for block in flows.values():
        mine = _to_family(sc, block, "rotating-cdn")
        dst, src, t = block["dst"][mine], block["src"][mine], block["start"][mine]
        clients = set(src.tolist())
        addrs = np.unique(dst)
        assert len(addrs) >= 7  # 2 days / 6 h
        for a in addrs:
            on = dst == a
            assert t[on].max() - t[on].min() < 6 * HOUR + 120_000  # one period per address
            if a != addrs[0] and a != addrs[-1]:
                assert set(src[on].tolist()) == clients  # every client moved to it
        for a in addrs[1:]:
            on = dst == a
            firsts = [t[on & (src == c)].min() for c in np.unique(src[on])]
            assert max(firsts) - min(firsts) < 1.5 * spec.period_s * 1000 + 60_000


def test_power_cycle_gaps_and_reconnect_bursts(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    bursts = gaps = 0
    for block in flows.values():
        mine = _to_family(sc, block, "power-cycle")
        for c in np.unique(block["src"][mine]):
            one = mine & (block["src"] == c)
            t, state = block["start"][one], block["state"][one]
            d = np.diff(t)
            gaps += int((d > 0.4 * HOUR).sum())
            quick = np.flatnonzero(d < 11_000)
            bursts += int(len(quick) > 0)
            assert (state == S0).any() == (len(quick) > 0)
    assert gaps >= 2 and bursts >= 2


def test_firmware_checks_download_large_files(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    block = np.concatenate([b["rby"][_to_family(sc, b, "firmware-check")] for b in flows.values()])
    assert (block > 1_000_000).any() and (block < 1_000).any()


def test_odd_port_ntp_is_udp(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    for block in flows.values():
        mine = _to_family(sc, block, "odd-port-ntp")
        assert mine.any()
        assert set(block["dport"][mine].tolist()) == {1123}
        assert np.all(block["proto"][mine] == UDP) and np.all(block["oby"][mine] == 48)


def test_nat_gateway_has_many_periodic_pairs(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    spec = sc.benign[_benign_index(sc, "nat-gateway")]
    assert isinstance(spec, NatGateway)
    for block in flows.values():
        mine = _to_family(sc, block, "nat-gateway")
        assert len(np.unique(block["src"][mine])) == spec.gateways
        pairs = np.unique(np.stack([block["dst"][mine], block["dport"][mine]], 1), axis=0)
        assert len(pairs) >= 4
        assert len(np.unique(block["dport"][mine])) >= 2


def test_reconnecting_bot_fails_half_its_attempts(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "mirai-reconnect"))
    ips = [a.ip for a in lin.addrs]
    for site in lin.sites:
        block = flows[site]
        mine = np.isin(block["dst"], ips)
        state = block["state"][mine]
        assert 0.4 < np.mean(state != SF) < 0.6
        assert (state == S0).any() and (state == REJ).any()
        ok = mine & (block["state"] == SF)
        assert set(block["oby"][ok].tolist()) == {52} and set(block["rby"][ok].tolist()) == {124}
        bot = block["src"][mine][0]
        t = block["start"][mine & (block["src"] == bot)]
        assert 3 < np.median(np.diff(t)) / 1000 < 7


def test_jittered_beacon_has_large_jitter(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "jitter-beacon"))
    block = flows[lin.sites[0]]
    mine = np.isin(block["dst"], [a.ip for a in lin.addrs])
    bot = block["src"][mine][0]
    gaps = np.diff(block["start"][mine & (block["src"] == bot)]).astype(float)
    gaps = gaps[gaps < 2 * lin.family.period_s * 1000]  # within one epoch
    assert np.std(gaps) / np.mean(gaps) > 0.25


def test_static_443_c2_never_scans(lookalike: tuple[Scenario, dict]) -> None:
    """One address on 443 for the whole span; its bots talk to it and never probe anyone, so
    the telescope (and thus any infected list) never names them."""
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "static-443"))
    c2 = lin.addrs[0]
    assert len(lin.addrs) == 1 and c2.port == 443
    assert (c2.start_ms, c2.end_ms) == (sc.start_ms, sc.end_ms)
    bots = np.concatenate([sc.bots[(lin.name, s)] for s in lin.sites])
    assert not np.isin(bots, sc.darknet_bots).any()
    for site, block in flows.items():
        theirs = np.isin(block["src"], bots)
        assert not (theirs & (block["state"] != SF)).any()
        if site in lin.sites:
            assert (theirs & (block["dst"] == c2.ip)).any()


def test_rotating_c2_moves_every_few_hours(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "rotating-c2"))
    assert len(lin.addrs) >= 2 * 24 / 4 - 1
    lives = [(a.end_ms - a.start_ms) / HOUR for a in lin.addrs[:-1]]
    assert min(lives) >= 2 and max(lives) <= 4
    site = lin.sites[0]
    truth = site_truth(sc, site, flows[site])
    mine = [c for c in truth["c2"] if c["lineage"] == lin.name]
    assert len(mine) == len({c["ip"] for c in mine}) >= len(lin.addrs) - 1


def test_long_sessions_last_hours(lookalike: tuple[Scenario, dict]) -> None:
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "long-session"))
    block = flows[lin.sites[0]]
    mine = np.isin(block["dst"], [a.ip for a in lin.addrs])
    assert np.median(block["dur"][mine]) > HOUR
    assert 0 < block["rev"][mine].mean() < 1
    assert not block["rev"][~mine].any()


def test_every_truth_c2_has_flows_and_benign_names_families(
    lookalike: tuple[Scenario, dict],
) -> None:
    sc, flows = lookalike
    families = set()
    for site, block in flows.items():
        truth = site_truth(sc, site, block)
        contacted = set(zip(block["dst"].tolist(), block["dport"].tolist(), strict=True))
        for c in truth["c2"]:
            assert (int(ipaddress.IPv4Address(c["ip"])), c["port"]) in contacted
        c2_ips = {c["ip"] for c in truth["c2"]}
        assert not c2_ips & {b["ip"] for b in truth["benign"]}
        families |= {b["family"] for b in truth["benign"]}
        families |= {c["family"] for c in truth["c2"]}
    assert {f.family for f in sc.benign} <= families
    assert {x.family.name for x in sc.lineages} <= families


def test_variant_needs_few_families() -> None:
    many = tuple(replace(Poller("p", 443, 60.0, 1), port=1000 + i) for i in range(11))
    with pytest.raises(ConfigError):
        Variant("too-many", "test", False, (), many)


@pytest.fixture(scope="module")
def lookalike_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("variant")
    generate(out, seed=3, days=0.5, scale=0.3, variant="lookalike")
    return out


def _conn_rows(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    fields = next(x for x in lines if x.startswith("#fields")).split("\t")[1:]
    return [dict(zip(fields, x.split("\t"), strict=True)) for x in lines if not x.startswith("#")]


def test_zeek_logs_some_long_sessions_with_roles_reversed(lookalike_dir: Path) -> None:
    """The C2 appears as originator (OTH, no handshake) in some conn.log rows, as responder in
    others; truth lists it once per site; NetFlow keeps the bot as the source."""
    truth = json.loads((lookalike_dir / "truth.json").read_text())
    long = [c for c in truth["c2"] if c["family"] == "long-session"]
    assert long
    flipped = straight = 0
    for c2 in long:
        rows = _conn_rows(lookalike_dir / "sites" / c2["site"] / "conn.log")
        rev = [r for r in rows if r["id.orig_h"] == c2["ip"]]
        fwd = [r for r in rows if r["id.resp_h"] == c2["ip"]]
        assert all(r["conn_state"] == "OTH" and r["id.orig_p"] == str(c2["port"]) for r in rev)
        assert all(r["local_orig"] == "F" and r["local_resp"] == "T" for r in rev)
        flipped, straight = flipped + len(rev), straight + len(fwd)
        sc = scenario_for(3, 0.5, 0.3, variant="lookalike")
        flows = site_flows(sc, c2["site"])
        assert c2["ip"] not in set(flows.column("src").to_pylist())
    assert flipped and straight
    assert len({(c["ip"], c["site"]) for c in long}) == len(long)


def test_truth_names_the_variant_and_benign_families(lookalike_dir: Path) -> None:
    truth = json.loads((lookalike_dir / "truth.json").read_text())
    assert truth["variant"] == "lookalike" and truth["held_out"] is False
    assert {"ip", "port", "proto", "family", "site"} <= set(truth["benign"][0])
    families = {b["family"] for b in truth["benign"]}
    assert {"vendor-cloud", "day-poller", "rotating-cdn", "nat-gateway", "odd-port-ntp"} <= families
    spans = [
        (r["family"], ipaddress.IPv4Address(r["first"]), ipaddress.IPv4Address(r["last"]))
        for r in truth["benign_ranges"]
    ]
    assert families | {"long-tail"} <= {f for f, _, _ in spans}
    for b in truth["benign"]:
        ip = ipaddress.IPv4Address(b["ip"])
        assert any(f == b["family"] and lo <= ip <= hi for f, lo, hi in spans)
    scanners = {s["src"] for s in truth["scanners"]}
    static = {c["ip"] for c in truth["c2"] if c["family"] == "static-443"}
    assert static and all(c["port"] == 443 for c in truth["c2"] if c["family"] == "static-443")
    sc = scenario_for(3, 0.5, 0.3, variant="lookalike")
    lin = next(x for x in sc.lineages if x.family.name == "static-443")
    quiet = {str(ipaddress.IPv4Address(int(b))) for s in lin.sites for b in sc.bots[(lin.name, s)]}
    assert quiet and not quiet & scanners


def test_command_takes_a_variant(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(traffic)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    args = ["traffic", "--out", str(tmp_path / "t"), "--days", "0.1", "--scale", "0.1"]
    result = runner.invoke(app, [*args, "--variant", "ho-night"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "t" / "truth.json").read_text())["variant"] == "ho-night"
    listed = runner.invoke(app, ["traffic", "--list-variants"])
    assert listed.exit_code == 0 and all(name in listed.output for name in VARIANTS)
    bad = runner.invoke(app, [*args, "--variant", "nope"])
    assert isinstance(bad.exception, ConfigError)


SCENARIO_TOML = """
name = "file-world"
description = "one office poller, a NAT and a reconnecting Mirai"
held_out = true

[[lineage]]
name = "m1"
family = "mirai-reconnect"
period_s = 4.0
ports = [2323]

[[benign]]
kind = "poller"
family = "day-poller"
port = 8443
period_s = 300.0
clients = 1
hours = [9.0, 17.0]

[[benign]]
kind = "nat"
gateways = 1
devices = [5, 6]
"""


def test_scenario_file_defines_a_variant(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text(SCENARIO_TOML)
    v = load_variant(path)
    assert (v.name, v.held_out) == ("file-world", True)
    assert v.lineages[0][1].ports == (2323,) and v.lineages[0][1].fail_share == 0.5
    assert isinstance(v.benign[1], NatGateway) and v.benign[1].devices == (5, 6)
    sc = build_scenario(2, 0.5, 0.2, variant=v)
    block = site_connections(sc, sc.lineages[0].sites[0])
    hours = (block["start"][_to_family(sc, block, "day-poller")] % DAY_MS) / HOUR
    assert len(hours) and hours.min() >= 9 and hours.max() < 17
    assert (block["dport"] == 2323).any()


@pytest.mark.parametrize(
    "text",
    [
        SCENARIO_TOML + "\ncolour = 'red'\n",  # unknown top-level key
        SCENARIO_TOML.replace("period_s = 4.0", "period_s = 4.0\nspeed = 1"),  # unknown field
        SCENARIO_TOML.replace('family = "mirai-reconnect"', 'family = "nope"'),
        SCENARIO_TOML.replace("clients = 1", "clients = 'one'"),  # wrong type
        SCENARIO_TOML.replace("hours = [9.0, 17.0]", "hours = [9.0, 30.0]"),  # out of range
        SCENARIO_TOML.replace('kind = "nat"', 'kind = "vpn"'),
        "name = [",  # not TOML
    ],
)
def test_bad_scenario_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_variant(path)


def test_netflow_cuts_long_sessions_at_the_active_timeout(
    lookalike: tuple[Scenario, dict],
) -> None:
    """An hours-long session is exported every 30 minutes, packets and bytes conserved."""
    sc, flows = lookalike
    lin = sc.lineage(_lineage(sc, "long-session"))
    site = lin.sites[0]
    ips = [str(ipaddress.IPv4Address(a.ip)) for a in lin.addrs]
    table = site_flows(sc, site)
    mine = np.isin(np.array(table.column("dst").to_pylist()), ips)
    block = flows[site]
    sessions = np.isin(block["dst"], [a.ip for a in lin.addrs])
    ms = [table.column(c).cast("int64").to_numpy() for c in ("start", "end")]
    dur = (ms[1] - ms[0])[mine]
    assert dur.max() <= ACTIVE_TIMEOUT_MS and mine.sum() > 2 * sessions.sum()
    assert table.column("packets").to_numpy()[mine].sum() == block["opk"][sessions].sum()
    assert table.num_rows - mine.sum() == len(block["start"]) - sessions.sum()
