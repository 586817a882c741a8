"""Agreement between ISPs: confirmation by 2+ ISPs or 2+ methods, per-ISP views, and the
calibration on a shared reference window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from iotscope.errors import ConfigError
from iotscope.records import C2Candidate
from iotscope.share import agreement, stix
from tests.c2.flowkit import MIN, T0, Kit, subscribers
from tests.share.stixcheck import validate

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
HOUR = 60 * MIN
SEEN = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
A, B, C = "198.51.100.7", "203.0.113.9", "192.0.2.200"


def cand(ip: str, site: str, score: float = 0.5, port: int = 23) -> C2Candidate:
    return C2Candidate(
        ip=ip, port=port, proto="tcp", score=score, clients=3, infected_clients=3,
        first_seen=SEEN, last_seen=SEEN + timedelta(hours=2), site=site,
    )  # fmt: skip


def feed() -> list[dict]:
    """isp-a sees A (mirai) and B (emotet); isp-b sees A; isp-c sees C (mirai)."""
    fams = {(A, 23, "tcp"): "mirai", (B, 23, "tcp"): "emotet", (C, 23, "tcp"): "mirai"}
    objs = stix.c2_bundle_objects([cand(A, "isp-a"), cand(B, "isp-a")], "isp-a", NOW, families=fams)
    later = NOW + timedelta(minutes=3)
    objs += stix.c2_bundle_objects([cand(A, "isp-b", 0.6)], "isp-b", later, families=fams)
    objs += stix.c2_bundle_objects([cand(C, "isp-c")], "isp-c", later, families=fams)
    return objs


def test_two_isps_confirm_and_the_new_version_validates() -> None:
    objs = feed()
    v = agreement.views(objs)
    assert v[(A, 23, "tcp")].confirmed and v[(A, 23, "tcp")].isps == {"isp-a", "isp-b"}
    assert not v[(B, 23, "tcp")].confirmed and v[(B, 23, "tcp")].family == "Emotet"
    new = agreement.confirmation_objects(objs, NOW + timedelta(hours=1))
    (ind,) = new
    assert ind["id"] == stix.indicator_id(A, 23, "tcp") and ind["labels"] == ["confirmed"]
    assert ind["confidence"] == stix.combined_confidence([60, stix.confidence(0.6)]) == 87
    assert ind["modified"] > agreement.newest(objs)[ind["id"]]["modified"]
    validate(list(agreement.newest(objs + new).values()))
    # nothing new when run again over the feed that now holds the confirmation
    assert agreement.confirmation_objects(objs + new, NOW + timedelta(hours=2)) == []


def test_two_methods_confirm_one_isp_detection() -> None:
    objs = feed()
    extra = {(B, 23, "tcp"): {"darknet": 50}}
    v = agreement.views(objs, extra)
    assert v[(B, 23, "tcp")].confirmed
    (ind,) = [o for o in agreement.confirmation_objects(objs, NOW, extra) if B in o["pattern"]]
    assert ind["confidence"] == stix.combined_confidence([60, 50]) == 80


def test_partner_indicator_is_a_method_and_revocation_removes_endpoint() -> None:
    objs = feed()
    partner = {**agreement.newest(objs)[stix.indicator_id(C, 23, "tcp")]}
    partner.update(id=stix.stix_id("indicator", "partner", C), created_by_ref=stix.identity_id("p"))
    assert agreement.views([*objs, partner])[(C, 23, "tcp")].methods.keys() == {"flows", "partner"}
    gone = stix.revoke(
        agreement.newest(objs)[stix.indicator_id(A, 23, "tcp")], NOW + timedelta(hours=1)
    )
    assert (A, 23, "tcp") not in agreement.views([*objs, gone])


def test_isp_view_of_confirmed_and_lone_detections_and_families() -> None:
    v = agreement.views(feed())
    a = agreement.isp_agreement(v, "isp-a")
    assert [d.ip for d in a.confirmed] == [A] and a.confirmed[0].isps == ("isp-a", "isp-b")
    assert [d.ip for d in a.alone] == [B]
    assert a.families_alone == ("Emotet",) and a.families_shared == ("Mirai",)
    c = agreement.isp_agreement(v, "isp-c")
    assert c.confirmed == () and [d.ip for d in c.alone] == [C] and c.families_alone == ()
    assert agreement.isp_agreement(v, "nobody").alone == ()


def _reference(tmp_path: Path) -> Path:
    """A reference window: bots beaconing to a C2, a cloud polled by everyone."""
    kit = Kit(site="anything")
    bots = subscribers(6)
    for b in bots:
        kit.beacon(b, "203.0.113.50", 23, T0, T0 + 2 * HOUR, 60)
    for s in subscribers(30, "100.64.2."):
        kit.beacon(s, "198.18.0.10", 443, T0, T0 + 2 * HOUR, 300)
    root = tmp_path / "window"
    root.mkdir()
    pq.write_table(kit.table(), root / "flows.parquet")
    (root / "infected.txt").write_text("\n".join(bots) + "\n")
    return root


def test_calibrate_and_compare(tmp_path: Path) -> None:
    root = _reference(tmp_path)
    a = agreement.calibrate(root, "isp-a", NOW)
    assert [(c["ip"], c["port"]) for c in a["candidates"]] == [("203.0.113.50", 23)]
    assert "100.64" not in json.dumps(a)  # no client address in an answer
    b = agreement.calibrate(root, "isp-b", NOW, threshold=0.99)  # a stricter detector
    assert b["window"] == a["window"] and b["candidates"] == []
    c = {
        **a,
        "isp": "isp-c",
        "candidates": [
            *a["candidates"],
            {"ip": "192.0.2.1", "port": 80, "proto": "tcp", "score": 0.5},
        ],
    }
    cmp = agreement.compare([a, b, c])
    assert cmp.majority == {("203.0.113.50", 23, "tcp")}
    assert cmp.precision == {"isp-a": 1.0, "isp-b": None, "isp-c": 0.5}
    assert cmp.recall == {"isp-a": 1.0, "isp-b": 0.0, "isp-c": 1.0}
    assert cmp.jaccard[("isp-a", "isp-c")] == 0.5 and cmp.jaccard[("isp-a", "isp-b")] == 0.0
    with pytest.raises(ConfigError):
        agreement.compare([a, {**b, "window": "other"}])


def test_window_errors_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        agreement.window_files(tmp_path / "missing")
    with pytest.raises(ConfigError):
        agreement.window_files(tmp_path)
    bad = tmp_path / "a.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match="not an answer file"):
        agreement.load_answer(bad)
