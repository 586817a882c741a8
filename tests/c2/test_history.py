"""Detection history: runs kept in the store, first/last seen from the flows, `c2 history`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotscope.c2 import Window, run_duckdb
from iotscope.c2._history import check_run_id, endpoint_history, run_sites
from iotscope.c2.cli import app
from iotscope.errors import ConfigError
from iotscope.flows import flows_root, write_parquet
from iotscope.records import Finding, Login, Sighting, Survey
from iotscope.store import open_store
from tests.c2.flowkit import MIN, T0, Kit, subscribers

C2 = "203.0.113.9"
runner = CliRunner()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _world(site: str = "isp-t") -> tuple[list[str], Kit]:
    """Three bots polling C2 from minute 10 to 110 (IRC port), forty subscribers on a CDN."""
    kit = Kit(site=site)
    bots = subscribers(3)
    for b in bots:
        kit.beacon(b, C2, 6667, T0 + 10 * MIN, T0 + 110 * MIN, 90)
        for k in range(60):  # the bots scan all along (bot evidence in the flows themselves)
            kit.add(T0 + k * 120_000, b, f"198.18.9.{k + 1}", 23, packets=1, nbytes=40, flags=0x02)
    for s in subscribers(40, "100.64.2."):
        kit.poisson(s, "198.18.1.1", 443, T0, T0 + 120 * MIN, 4)
    write_parquet(kit.table(), flows_root(), source_key=f"t-{site}")
    return bots, kit


def _detect(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["detect", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]


def test_first_and_last_seen_come_from_the_flows_not_the_window() -> None:
    _, kit = _world()
    c2_flows = [r for r in kit.rows if r[2] == C2]
    first = min(r[0] for r in c2_flows)
    last_end = max(r[0] for r in c2_flows) + 500  # flowkit flows last 500 ms
    (row,) = _detect("--since", _iso(T0 - 60 * MIN), "--until", _iso(T0 + 240 * MIN))
    assert row["first_seen"] == _iso(first) and row["last_seen"] == _iso(last_end)
    (stored,) = open_store().c2_candidates("isp-t")
    assert stored.first_seen == datetime.fromtimestamp(first / 1000, UTC)


def test_each_run_is_kept_with_window_params_and_counts() -> None:
    _world()
    _detect("--run-id", "early", "--until", _iso(T0 + 60 * MIN))
    _detect("--run-id", "late", "--since", _iso(T0 + 60 * MIN), "--threshold", "0.45")
    store = open_store()
    runs = {r.id: r for r in store.c2_runs("isp-t")}
    assert runs.keys() == {"early", "late"}
    assert runs["early"].since is None and runs["early"].until is not None
    assert runs["late"].params["threshold"] == 0.45 and runs["late"].engine == "duckdb"
    assert runs["early"].counts["candidates"] == 1
    early, late = (store.c2_run_candidates(rid, "isp-t")[0] for rid in ("early", "late"))
    assert early.last_seen < late.first_seen  # each run's own flows
    _detect("--run-id", "late", "--since", _iso(T0 + 60 * MIN), "--threshold", "0.45")
    assert len(store.c2_runs(None)) == 2 and len(store.c2_run_candidates("late", None)) == 1


def test_a_run_over_every_site_is_stored_per_site() -> None:
    _world("isp-a")
    kit = Kit(site="isp-b")
    kit.poisson("100.64.9.1", "198.18.1.1", 443, T0, T0 + 60 * MIN, 4)
    write_parquet(kit.table(), flows_root(), source_key="t-b")
    assert run_sites(flows_root(), Window()) == ["isp-a", "isp-b"]
    _detect("--run-id", "all")
    store = open_store()
    assert {(r.site, r.counts["candidates"]) for r in store.c2_runs(None)} == {
        ("isp-a", 1),
        ("isp-b", 0),
    }
    assert store.c2_candidates("isp-b") == [] and len(store.c2_candidates("isp-a")) == 1


def test_history_command_lists_runs_and_summary(tmp_path: Path) -> None:
    _world()
    for i, (a, b) in enumerate([(0, 60), (60, 120), (120, 180)]):
        _detect("--run-id", f"r{i}", "--since", _iso(T0 + a * MIN), "--until", _iso(T0 + b * MIN))
    out = tmp_path / "h.jsonl"
    result = runner.invoke(app, ["history", C2, "--port", "6667", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    runs = [r for r in rows if r["kind"] == "run"]
    (summary,) = [r for r in rows if r["kind"] == "summary"]
    assert [r["run_id"] for r in runs] == ["r0", "r1"]
    assert all(r["reasons"] and r["score"] >= 0.5 for r in runs)
    assert summary["first_seen"] == runs[0]["first_seen"]
    assert summary["last_seen"] == runs[1]["last_seen"]
    assert (summary["runs_flagged"], summary["runs_total"]) == (2, 3)
    piped = runner.invoke(app, ["history", C2, "--site", "elsewhere"])
    assert piped.exit_code == 0 and piped.stdout.strip() == ""
    assert runner.invoke(app, ["history", "not-an-ip"]).exit_code != 0


def test_history_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import iotscope._output

    _world()
    _detect("--run-id", "r0")
    monkeypatch.setattr(iotscope._output, "stdout_is_terminal", lambda: True)
    result = runner.invoke(app, ["history", C2])
    assert result.exit_code == 0, result.output
    assert "over time" in result.output and "1/1" in result.output


def test_weak_logins_are_not_infected_unless_asked(tmp_path: Path) -> None:
    bots, _ = _world()
    store = open_store()
    t = datetime.fromtimestamp(T0 / 1000, UTC)
    store.save_survey(Survey(id="s1", started=t, scope=("100.64.0.0/16",)))
    store.save_findings(
        Finding(ip=ip, port=23, service="telnet", time=t, survey_id="s1",
                login=Login(protocol="telnet", outcome="accepted"))
        for ip in bots[:2])  # fmt: skip
    store.save_sightings([Sighting(src=bots[2], first_seen=t, last_seen=t, packets=9, targets=9,
                                   ports={23: 9}, mirai_fingerprint=1.0,
                                   classification="mirai")])  # fmt: skip
    (plain,) = _detect("--no-store")
    (weak,) = _detect("--no-store", "--weak-login-as-infected")
    assert (plain["infected_clients"], weak["infected_clients"]) == (1, 3)
    listed = tmp_path / "bots.txt"
    listed.write_text(f"{bots[0]}\n")
    (with_file,) = _detect("--infected", str(listed), "--run-id", "f")
    assert with_file["infected_clients"] == 2
    (run,) = store.c2_runs("isp-t")
    assert run.counts["known_infected"] == 2 and run.counts["known_weak_login"] == 2


def test_known_hosts_view_has_kinds_and_infected_counts_only_asked_kinds() -> None:
    bots, kit = _world()
    known: list[str | tuple[str, str]] = [(bots[0], "infected"), (bots[1], "weak_login"), bots[2]]
    only = run_duckdb(kit.table(), known, Window(), None)
    both = run_duckdb(kit.table(), known, Window(), None, infected_kinds=("infected", "weak_login"))
    assert [r["infected_clients"] for r in only if r["ip"] == C2] == [2]
    assert [r["infected_clients"] for r in both if r["ip"] == C2] == [3]
    with pytest.raises(ConfigError):
        run_duckdb(kit.table(), known, Window(), None, infected_kinds=("x'; DROP",))
    with pytest.raises(ConfigError):
        run_duckdb(kit.table(), [(bots[0], "rumour")], Window(), None)


def test_clients_of_a_known_c2_are_infected_by_c2_contact() -> None:
    import duckdb

    bots, kit = _world()
    con = duckdb.connect()
    rows = run_duckdb(kit.table(), [], Window(), None, con=con, known_c2=[(C2, 6667, "tcp")])
    # a known C2 is no evidence for itself: its clients count by contact with another one
    assert [r["infected_clients"] for r in rows if r["ip"] == C2] == [0]
    kinds = con.execute("SELECT ip, kind FROM known_hosts ORDER BY ip").fetchall()
    assert kinds == [(b, "c2_contact") for b in bots]
    rows = run_duckdb(kit.table(), [], Window(), None, known_c2=[(C2, 6668, "tcp")])
    assert [r["infected_clients"] for r in rows if r["ip"] == C2] == [0]


def test_run_ids_and_addresses_are_checked() -> None:
    assert check_run_id("c2-2026.11.01_a:b") == "c2-2026.11.01_a:b"
    for bad in ("", "a" * 65, "a b", "ü"):
        with pytest.raises(ConfigError):
            check_run_id(bad)
    with pytest.raises(ConfigError):
        endpoint_history(open_store(), "300.1.1.1")
    assert runner.invoke(app, ["detect", "--run-id", "a b"]).exit_code != 0
