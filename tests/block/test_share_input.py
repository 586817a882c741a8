"""The real input: what iotscope.share.stix publishes for detected C2s, selected and exported."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from iotscope.block import Policy, select
from iotscope.cli import app
from iotscope.records import C2Candidate
from iotscope.share.stix import bundle, c2_bundle_objects, revoke


def _candidates(now):
    def c2(ip: str, port: int, score: float) -> C2Candidate:
        return C2Candidate(
            ip=ip,
            port=port,
            proto="tcp",
            score=score,
            clients=40,
            infected_clients=30,
            first_seen=now - timedelta(hours=2),
            last_seen=now - timedelta(minutes=5),
            reasons=("fan-in",),
            site="isp-b",
        )

    return [
        c2("198.51.100.7", 23, 0.95),
        c2("203.0.113.50", 6667, 0.55),
        c2("2001:db8::7", 23, 0.9),
    ]


def test_published_c2s_become_entries(fixed_now) -> None:
    objs = c2_bundle_objects(_candidates(fixed_now), "isp-b", fixed_now, tlp="amber")
    sel = select(objs, Policy("isp-a", min_confidence=0, max_tlp="amber"), fixed_now)
    got = {(e.target.value, e.target.port, e.target.proto) for e in sel.entries}
    assert got == {("198.51.100.7/32", 23, "tcp"), ("203.0.113.50/32", 6667, "tcp"),
                   ("2001:db8::7/128", 23, "tcp")}  # fmt: skip
    assert sel.skipped == {} and sel.errors == ()
    assert all(e.tlp == "amber" for e in sel.entries)
    # a stricter ISP does not act on amber, and a revoked one disappears
    assert select(objs, Policy("isp-c", max_tlp="green"), fixed_now).entries == ()
    ind = next(o for o in objs if o["type"] == "indicator" and "198.51.100.7" in o["pattern"])
    later = fixed_now + timedelta(minutes=1)
    sel2 = select([*objs, revoke(ind, later)], Policy("isp-a", min_confidence=0), later)
    assert "198.51.100.7/32" not in {e.target.value for e in sel2.entries}


def test_cli_export_from_a_bundle(fixed_now, tmp_path: Path) -> None:
    objs = c2_bundle_objects(_candidates(fixed_now), "isp-b", fixed_now, tlp="amber")
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(bundle(objs)))
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[default]\nmin_confidence = 0\n[isp.isp-a]\nallowlist = ["203.0.113.0/24"]\n'
    )
    runner = CliRunner()
    now = (fixed_now + timedelta(minutes=1)).isoformat()
    for fmt in ("plain", "nftables", "rpz"):
        out = tmp_path / f"list.{fmt}"
        res = runner.invoke(
            app,
            [
                "block",
                "export",
                "--isp",
                "isp-a",
                "--format",
                fmt,
                "--out",
                str(out),
                "--bundle",
                str(path),
                "--policy",
                str(policy),
                "--now",
                now,
            ],
        )
        assert res.exit_code == 0, res.output
        assert ("198.51.100.7" in out.read_text()) or ("7.100.51.198" in out.read_text())
        assert "203.0.113.50" not in out.read_text()
    log = runner.invoke(app, ["block", "log", "--isp", "isp-a"])
    rows = [json.loads(line) for line in log.stdout.splitlines()]
    assert {(r["channel"], r["target"], r["action"]) for r in rows} == {
        (fmt, target, "added")
        for fmt in ("plain", "nftables", "rpz")
        for target in ("198.51.100.7/32", "2001:db8::7/128")
    }
    bad = runner.invoke(
        app,
        [
            "block",
            "export",
            "--isp",
            "isp-a",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "x"),
            "--bundle",
            str(path),
        ],
    )
    assert bad.exit_code != 0
