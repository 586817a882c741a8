"""The MISP feed: PyMISP loads every event; manifest.json and hashes.csv are what PyMISP (and
so MISP's feed cache) computes from the events; tags and to_ids follow the STIX content."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pymisp import MISPEvent

from iotscope.share import agreement, misp, stix
from tests.share.test_agreement import NOW, A, B, C, feed


def _write(tmp_path: Path, objs: list[dict], now: datetime = NOW) -> Path:
    out = tmp_path / "feed"
    misp.write_feed(out, misp.feed_events(objs, now))
    return out


def test_pymisp_loads_every_event_and_manifest_and_hashes_match(tmp_path: Path) -> None:
    objs = feed()
    objs += agreement.confirmation_objects(objs, NOW + timedelta(hours=1))
    out = _write(tmp_path, objs)
    manifest = json.loads((out / "manifest.json").read_text())
    hashes = list(csv.reader((out / "hashes.csv").open()))
    assert manifest and all(len(row) == 2 for row in hashes)
    want_hashes = set()
    for uid, entry in manifest.items():
        ev = MISPEvent()
        ev.load_file(str(out / f"{uid}.json"))
        assert ev.uuid == uid
        assert ev.to_feed()["Event"]["uuid"] == uid  # PyMISP re-exports it as a feed event
        mine = ev.manifest[uid]
        assert {**mine, "Tag": [t["name"] for t in mine["Tag"]]} == {
            **entry,
            "Tag": [t["name"] for t in entry["Tag"]],
        }
        want_hashes |= {(h, uid) for h in ev.attributes_hashes("md5")}
        for a in ev.attributes:
            assert a.type == "ip-dst|port" and a.category == "Network activity"
    assert {tuple(r) for r in hashes} == want_hashes


def test_attributes_carry_family_tlp_and_credibility(tmp_path: Path) -> None:
    objs = feed()
    objs += agreement.confirmation_objects(objs, NOW + timedelta(hours=1))
    events = misp.feed_events(objs, NOW)
    attrs = {a["value"]: a for e in events for a in e["Event"]["Attribute"]}
    assert set(attrs) == {f"{A}|23", f"{B}|23", f"{C}|23"}
    tags = {v: {t["name"] for t in a["Tag"]} for v, a in attrs.items()}
    assert tags[f"{A}|23"] == {
        "tlp:amber",
        'misp-galaxy:malpedia="Mirai"',
        'admiralty-scale:information-credibility="1"',
    }
    assert 'misp-galaxy:malpedia="Emotet"' in tags[f"{B}|23"]
    assert 'admiralty-scale:information-credibility="3"' in tags[f"{B}|23"]
    assert all(a["to_ids"] for a in attrs.values())
    (ev,) = events
    assert {t["name"] for t in ev["Event"]["Tag"]} >= {"tlp:amber", 'misp-galaxy:malpedia="Mirai"'}


def test_expired_loses_to_ids_and_revoked_is_deleted(tmp_path: Path) -> None:
    objs = feed()
    ind = agreement.newest(objs)[stix.indicator_id(B, 23, "tcp")]
    objs.append(stix.revoke(ind, NOW + timedelta(hours=1), "benign"))
    later = NOW + timedelta(days=10)
    attrs = {a["value"]: a for e in misp.feed_events(objs, later) for a in e["Event"]["Attribute"]}
    assert attrs[f"{B}|23"]["deleted"] is True and attrs[f"{B}|23"]["to_ids"] is False
    assert attrs[f"{A}|23"]["to_ids"] is False  # valid_until passed
    out = _write(tmp_path, objs, later)
    lines = (out / "hashes.csv").read_text()
    import hashlib

    assert hashlib.md5(B.encode()).hexdigest() not in lines
    assert hashlib.md5(A.encode()).hexdigest() in lines


def test_feed_is_deterministic_and_timestamps_follow_versions(tmp_path: Path) -> None:
    objs = feed()
    one = misp.feed_events(objs, NOW)
    assert misp.feed_events(list(reversed(objs)), NOW) == one
    newer = objs + agreement.confirmation_objects(objs, NOW + timedelta(hours=1))
    two = misp.feed_events(newer, NOW)
    assert one[0]["Event"]["uuid"] == two[0]["Event"]["uuid"]
    assert int(two[0]["Event"]["timestamp"]) > int(one[0]["Event"]["timestamp"])


def test_empty_feed_writes_an_empty_manifest(tmp_path: Path) -> None:
    s = misp.write_feed(tmp_path / "f", misp.feed_events([], datetime(2026, 1, 1, tzinfo=UTC)))
    assert s.events == 0 and json.loads((tmp_path / "f" / "manifest.json").read_text()) == {}
