"""Known C2 endpoints: where they come from, and how their clients lead to a quiet botnet's
other and next addresses (C2 contact, then further passes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from iotscope.c2 import Params, detect
from iotscope.c2._knownc2 import endpoints_from_file, from_indicators, known_c2, parse_endpoint
from iotscope.c2.cli import app
from iotscope.errors import ConfigError
from iotscope.flows import flows_root, write_parquet
from iotscope.share.stix import pattern
from iotscope.store import open_store
from tests.c2.flowkit import MIN, T0, Kit, subscribers

OLD, NEW, OTHER = "203.0.113.10", "203.0.113.11", "203.0.113.12"
NAT, VENDOR = "100.64.9.1", "198.18.7.1"
runner = CliRunner()


@pytest.fixture(scope="module")
def quiet() -> pa.Table:
    """A quiet botnet (no scanning, no list): three bots on OLD for an hour, then on NEW; a
    fourth on OTHER (the same tier), then on NEW too; the first bot also polls its vendor's
    cloud all along. A NAT address (many devices) polls OLD for an hour, then twelve clouds;
    twenty clean devices each poll a cloud of their own, forty browse a CDN."""
    kit = Kit()
    bots = subscribers(4)
    for b in bots[:3]:
        kit.beacon(b, OLD, 7080, T0, T0 + 60 * MIN, 150, nbytes=1200)
    kit.beacon(bots[3], OTHER, 7080, T0, T0 + 60 * MIN, 150, nbytes=1200)
    for b in bots:
        kit.beacon(b, NEW, 7080, T0 + 61 * MIN, T0 + 150 * MIN, 150, nbytes=1200)
    for i, s in enumerate(subscribers(20, "100.64.3.")):
        kit.beacon(s, f"198.18.5.{i + 1}", 443, T0, T0 + 150 * MIN, 300)
    kit.beacon(bots[0], VENDOR, 443, T0, T0 + 150 * MIN, 300)
    kit.beacon(NAT, OLD, 7080, T0, T0 + 60 * MIN, 150)
    for i in range(12):
        kit.beacon(NAT, f"198.18.6.{i + 1}", 8883, T0 + 61 * MIN, T0 + 150 * MIN, 240)
    for s in subscribers(40, "100.64.2."):
        kit.poisson(s, "198.18.1.1", 443, T0, T0 + 150 * MIN, 4)
    return kit.table()


def _found(
    table: pa.Table, known: list[tuple[str, int, str]], passes: int = 2, nat: int = 10
) -> set[str]:
    params = dataclasses.replace(Params(), contact_passes=passes, contact_max_kept=nat)
    return {str(c.ip) for c in detect(table, known_c2=known, params=params)}


def test_a_quiet_botnet_is_found_only_from_a_known_c2(quiet: pa.Table) -> None:
    assert _found(quiet, []) == set()  # its channels look like the clean pollers'
    # OLD's bots lead to NEW; OLD is no evidence for itself (a false entry never confirms itself)
    assert _found(quiet, [(OLD, 7080, "tcp")], passes=0) == {NEW}
    # a further pass: NEW's fourth bot leads to OTHER, the tier's address no one listed
    assert _found(quiet, [(OLD, 7080, "tcp")]) == {NEW, OTHER}
    assert _found(quiet, [(OLD, 7081, "tcp")]) == set()  # another port is another endpoint


def test_a_bots_other_channels_are_not_c2_by_contact(quiet: pa.Table) -> None:
    clouds = {f"198.18.6.{i + 1}" for i in range(12)}
    assert not _found(quiet, [(OLD, 7080, "tcp")]) & clouds  # 13 kept channels: a NAT
    assert _found(quiet, [(OLD, 7080, "tcp")], nat=20) & clouds  # what the limit prevents
    # the bot's vendor cloud ran alongside OLD: no migration, no contact evidence
    assert VENDOR not in _found(quiet, [(OLD, 7080, "tcp")], nat=20)


def test_the_reason_names_the_contacts(quiet: pa.Table) -> None:
    (new,) = [c for c in detect(quiet, known_c2=[(OLD, 7080, "tcp")]) if str(c.ip) == NEW]
    assert new.infected_clients == 3  # as the first pass found it: OLD's three bots
    assert any("3 bots (3 known-infected, 3 of them by contact with a known C2" in r
               for r in new.reasons)  # fmt: skip
    assert not detect(quiet, known_c2=[(OLD, 7080, "tcp")], infected_kinds=("infected",))


def test_endpoints_are_parsed_or_refused(tmp_path: Path) -> None:
    assert parse_endpoint("203.0.113.9:443") == ("203.0.113.9", 443, "tcp")
    assert parse_endpoint("203.0.113.9:53/UDP") == ("203.0.113.9", 53, "udp")
    assert parse_endpoint("[2001:db8::1]:8443") == ("2001:db8::1", 8443, "tcp")
    assert parse_endpoint("203.0.113.9 7080 tcp") == ("203.0.113.9", 7080, "tcp")
    for bad in ("host:80", "203.0.113.9:0", "203.0.113.9:80/icmp", "203.0.113.9"):
        with pytest.raises(ConfigError):
            parse_endpoint(bad)
    good = tmp_path / "c2.txt"
    good.write_text("# feed\n203.0.113.9:443\n\n198.51.100.7 8080  # partner\n")
    assert endpoints_from_file(good) == {("203.0.113.9", 443, "tcp"), ("198.51.100.7", 8080, "tcp")}
    bad = tmp_path / "bad.txt"
    bad.write_text("203.0.113.9:443\nnot an endpoint\n")
    with pytest.raises(ConfigError) as err:
        endpoints_from_file(bad)
    assert err.value.data["line"] == 2
    with pytest.raises(ConfigError):
        known_c2(open_store(), [str(tmp_path / "absent.txt")])


def test_indicators_give_their_endpoints_revoked_ones_not() -> None:
    objs = [
        {"type": "indicator", "pattern": pattern("203.0.113.9", 443, "tcp")},
        {"type": "indicator", "pattern": pattern("203.0.113.8", 80, "tcp"), "revoked": True},
        {"type": "indicator", "pattern": "[domain-name:value = 'c2.example']"},
        {"type": "malware", "pattern": pattern("203.0.113.7", 80, "tcp")},
    ]
    assert from_indicators(objs) == {("203.0.113.9", 443, "tcp")}


def test_cli_reads_a_file_then_the_history(quiet: pa.Table, tmp_path: Path) -> None:
    write_parquet(quiet, flows_root(), source_key="t-quiet")
    feed = tmp_path / "feed.txt"
    feed.write_text(f"{OLD}:7080\n")
    res = runner.invoke(app, ["detect", "--known-c2", str(feed), "--run-id", "r1"])
    assert res.exit_code == 0, res.output
    store = open_store()
    (run,) = store.c2_runs("isp-t")
    assert run.counts["known_c2"] == 1 and run.counts["candidates"] == 2
    res = runner.invoke(app, ["detect", "--known-c2", "history", "--run-id", "r2"])
    assert res.exit_code == 0, res.output
    newest = store.c2_runs("isp-t")[0]
    assert newest.id == "r2" and newest.counts["known_c2"] == 2
    # NEW's bots lead back to OLD; the known ones are not reported from their own listing
    assert {str(c.ip) for c in store.c2_run_candidates("r2", "isp-t")} == {OLD}
    res = runner.invoke(app, ["detect", "--known-c2", "nowhere", "--no-store"])
    assert res.exit_code != 0
