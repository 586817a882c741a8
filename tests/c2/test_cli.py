"""``iotscope c2 detect``: flows from the home's Parquet, infected from the store, JSON Lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from iotscope.c2.cli import app
from iotscope.flows import flows_root, write_parquet
from iotscope.records import Sighting
from iotscope.store import open_store
from tests.c2.flowkit import MIN, T0, Kit, subscribers

C2 = "203.0.113.9"
CONTRACT = {
    "ip",
    "port",
    "proto",
    "score",
    "clients",
    "infected_clients",
    "first_seen",
    "last_seen",
    "reasons",
    "site",
}


def _flows() -> list[str]:
    kit = Kit()
    bots = subscribers(3)
    for b in bots:
        kit.beacon(b, C2, 6667, T0, T0 + 60 * MIN, 90)
    for s in subscribers(40, "100.64.2."):
        kit.poisson(s, "198.18.1.1", 443, T0, T0 + 60 * MIN, 4)
    write_parquet(kit.table(), flows_root(), source_key="t")
    return bots


def _sighting(ip: str) -> Sighting:
    t = datetime.fromtimestamp(T0 / 1000, UTC)
    return Sighting(
        src=ip,
        first_seen=t,
        last_seen=t,
        packets=10,
        targets=10,
        ports={23: 10},
        mirai_fingerprint=1.0,
        classification="mirai",
    )


def test_detect_writes_jsonl_and_store(tmp_path: Path) -> None:
    bots = _flows()
    store = open_store()
    store.save_sightings([_sighting(bots[0])])
    out = tmp_path / "c2.jsonl"
    result = CliRunner().invoke(app, ["detect", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["ip"] for r in rows] == [C2]
    assert set(rows[0]) >= CONTRACT and rows[0]["infected_clients"] == 1
    assert rows[0]["first_seen"].endswith("Z")
    assert [str(c.ip) for c in store.c2_candidates()] == [C2]


def test_detect_options(tmp_path: Path) -> None:
    _flows()
    infected = tmp_path / "bots.txt"
    infected.write_text("100.64.1.1\n100.64.1.2\n")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "detect",
            "--site",
            "isp-t",
            "--infected",
            str(infected),
            "--threshold",
            "0.55",
            "--until",
            "2026-11-01T00:30:00Z",
            "--no-store",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert rows and all(r["score"] >= 0.55 and r["infected_clients"] == 2 for r in rows)
    assert open_store().c2_candidates() == []
    bad = runner.invoke(app, ["detect", "--engine", "oracle"])
    assert bad.exit_code != 0
    none = runner.invoke(app, ["detect", "--site", "nowhere"])
    assert none.exit_code != 0


def test_known_infected_is_telescope_and_file_weak_logins_only_when_asked(tmp_path: Path) -> None:
    from iotscope.c2 import known_infected
    from iotscope.records import Finding, Login, Survey

    store = open_store()
    t = datetime.fromtimestamp(T0 / 1000, UTC)
    store.save_survey(Survey(id="s1", started=t, scope=("100.64.0.0/16",)))
    login = {"accepted": "100.64.5.1", "no_auth": "100.64.5.2", "rejected": "100.64.5.3"}
    store.save_findings(
        Finding(ip=ip, port=23, service="telnet", time=t, survey_id="s1",
                login=Login(protocol="telnet", outcome=outcome))
        for outcome, ip in login.items())  # fmt: skip
    store.save_sightings([_sighting("100.64.6.1")])
    extra = tmp_path / "more.txt"
    extra.write_text("100.64.7.1\n")
    assert known_infected(store, extra) == {"100.64.6.1", "100.64.7.1"}
    weak = {"100.64.5.1", "100.64.5.2"}  # accepted, no_auth; not the rejected one
    assert known_infected(store, extra, weak_login=True) == weak | {"100.64.6.1", "100.64.7.1"}
