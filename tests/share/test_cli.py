"""``iotscope share`` content commands over a store holding two ISPs' detections: STIX out,
versions, agreement, confirmation, MISP feed and back, calibration, revocation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from iotscope.cli import app
from iotscope.records import C2Candidate, Sighting
from iotscope.share import stix
from iotscope.store import _share, open_store
from tests.share.stixcheck import validate
from tests.share.test_agreement import _reference

A, B = "198.51.100.7", "203.0.113.9"
SEEN = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
run = CliRunner().invoke


def _seed() -> None:
    store = open_store()

    def c(ip: str, site: str, score: float) -> C2Candidate:
        return C2Candidate(ip=ip, port=23, proto="tcp", score=score, clients=4,
                           infected_clients=4, first_seen=SEEN,
                           last_seen=SEEN + timedelta(hours=3), site=site)  # fmt: skip

    store.save_c2_candidates([c(A, "isp-a", 0.6), c(B, "isp-a", 0.55)], run_id="r1")
    store.save_c2_candidates([c(A, "isp-b", 0.7)], run_id="r2")
    # B also scans the darknet: a second, independent method
    store.save_sightings(
        [Sighting(src=B, first_seen=SEEN, last_seen=SEEN, packets=50, targets=40,
                  mirai_fingerprint=1.0, classification="mirai")]
    )  # fmt: skip


def _truth(tmp_path: Path) -> Path:
    p = tmp_path / "truth.json"
    p.write_text(json.dumps({"c2": [{"ip": A, "port": 23, "proto": "tcp", "family": "mirai"}]}))
    return p


def test_stix_then_changed_then_revoke(tmp_path: Path) -> None:
    _seed()
    out = tmp_path / "a.json"
    r = run(
        app,
        [
            "share",
            "stix",
            "--site",
            "isp-a",
            "--families",
            str(_truth(tmp_path)),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    objs = json.loads(out.read_text())["objects"]
    validate(objs)
    assert {o["name"] for o in objs if o["type"] == "malware"} == {"Mirai"}
    assert "100.64" not in out.read_text()
    r = run(
        app,
        [
            "share",
            "stix",
            "--site",
            "isp-a",
            "--families",
            str(_truth(tmp_path)),
            "--changed",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0 and json.loads(out.read_text())["objects"] == []
    r = run(
        app,
        [
            "share",
            "revoke",
            "--isp",
            "isp-a",
            "--ip",
            B,
            "--port",
            "23",
            "--reason",
            "benign",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    (gone,) = json.loads(out.read_text())["objects"]
    assert gone["revoked"] is True and gone["id"] == stix.indicator_id(B, 23, "tcp")
    assert _share.published(open_store(), "isp-a")[gone["id"]]["revoked"] is True
    r = run(app, ["share", "revoke", "--isp", "isp-b", "--ip", B, "--port", "23", "--reason", "x"])
    assert r.exit_code != 0


def test_agreement_confirm_and_misp_round_trip(tmp_path: Path) -> None:
    _seed()
    out = tmp_path / "agree.jsonl"
    r = run(app, ["share", "agreement", "--isp", "isp-a", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = {row["ip"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert rows[A]["status"] == "confirmed" and rows[A]["isps"] == ["isp-a", "isp-b"]
    assert rows[B]["status"] == "confirmed" and rows[B]["methods"] == ["darknet", "flows"]
    bundle = tmp_path / "confirm.json"
    assert run(app, ["share", "confirm", "--out", str(bundle)]).exit_code == 0
    new = json.loads(bundle.read_text())["objects"]
    assert {o["id"] for o in new} == {
        stix.indicator_id(A, 23, "tcp"),
        stix.indicator_id(B, 23, "tcp"),
    }
    assert all(o["labels"] == ["confirmed"] for o in new)
    feed = tmp_path / "feed"
    r = run(app, ["share", "misp-feed", "--out", str(feed), "--families", str(_truth(tmp_path))])
    assert r.exit_code == 0, r.output
    assert (feed / "manifest.json").is_file() and (feed / "hashes.csv").is_file()
    back = tmp_path / "back.json"
    r = run(
        app,
        ["share", "import", str(feed), "--source", "peer", "--kind", "misp", "--out", str(back)],
    )
    assert r.exit_code == 0 and "2 item(s), 0 skipped" in r.output
    validate(json.loads(back.read_text())["objects"])
    r = run(app, ["share", "import", str(feed), "--source", "peer", "--kind", "misp"])
    assert "imported before" in r.output
    assert len(_share.imports(open_store(), "peer")) == 1


def test_calibrate_and_compare(tmp_path: Path) -> None:
    root = _reference(tmp_path)
    for isp, extra in (("isp-a", []), ("isp-b", []), ("isp-c", ["--threshold", "0.99"])):
        r = run(app, ["share", "calibrate", "--window", str(root), "--isp", isp,
                      "--out", str(tmp_path / f"{isp}.json"), *extra])  # fmt: skip
        assert r.exit_code == 0, r.output
    out = tmp_path / "cmp.json"
    files = [str(tmp_path / f"isp-{x}.json") for x in "abc"]
    assert run(app, ["share", "compare", *files, "--out", str(out)]).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["precision"] == {"isp-a": 1.0, "isp-b": 1.0, "isp-c": None}
    assert doc["recall"]["isp-c"] == 0.0 and doc["c2"][0]["found_by"] == ["isp-a", "isp-b"]
    window = json.loads((tmp_path / "isp-a.json").read_text())["window"]
    r = run(app, ["share", "compare", "--window-id", window, "--out", str(out)])
    assert r.exit_code == 0 and json.loads(out.read_text())["isps"] == ["isp-a", "isp-b", "isp-c"]


def test_demo_step(tmp_path: Path) -> None:
    from iotscope.demo._share_content import share_content_picture

    _seed()
    (tmp_path / "traffic").mkdir()
    _truth(tmp_path).rename(tmp_path / "traffic" / "truth.json")
    got = share_content_picture(open_store(), tmp_path)
    assert got["confirmed"] == 2 and got["misp_events"] == 1
    assert [r[0] for r in got["isps"]] == ["isp-a", "isp-b"]
    validate(json.loads((tmp_path / "shared-c2.json").read_text())["objects"])


def test_hub_wiring_partner_import_confirm_publish_and_feed(tmp_path: Path) -> None:
    from iotscope.share import SHARED_COLLECTION_ID, source_collection_id
    from iotscope.share._sources import hub_objects, publish

    _seed()
    store = open_store()
    # isp-a's detection as it would be published to the hub (by ``share publish``)
    r = run(app, ["share", "stix", "--site", "isp-a", "--out", str(tmp_path / "a.json")])
    assert r.exit_code == 0, r.output
    st = publish(
        store, SHARED_COLLECTION_ID, json.loads((tmp_path / "a.json").read_text())["objects"]
    )
    assert st["failure_count"] == 0
    # a partner lists B: stored read-only in its own collection
    csv_ = tmp_path / "ipblocklist.csv"
    header = '# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
    csv_.write_text(header + f'"2026-10-30 10:00:00","{B}","23","online","2026-10-31","Mirai"\n')
    r = run(app, ["share", "import", str(csv_), "--source", "feodo", "--kind", "feodo-csv"])
    assert r.exit_code == 0 and "stored in the partner collection" in r.output, r.output
    partner = hub_objects(store, shared=False)
    assert partner and all(
        o["created_by_ref"] == stix.identity_id("feodo")
        for o in partner
        if o["type"] == "indicator"
    )
    assert source_collection_id("feodo") != SHARED_COLLECTION_ID
    # the hub's feed (isp-a only) + the partner: B is confirmed by flows + partner
    out = tmp_path / "confirm.json"
    r = run(app, ["share", "confirm", "--publish", "--out", str(out)])
    assert r.exit_code == 0, r.output
    (new,) = json.loads(out.read_text())["objects"]
    assert new["id"] == stix.indicator_id(B, 23, "tcp") and new["labels"] == ["confirmed"]
    shared = hub_objects(store, partners=False)
    assert any(o["id"] == new["id"] and o.get("labels") == ["confirmed"] for o in shared)
    feed = tmp_path / "feed"
    assert run(app, ["share", "misp-feed", "--out", str(feed)]).exit_code == 0
    text = "".join(p.read_text() for p in feed.glob("*.json"))
    assert 'information-credibility=\\"1\\"' in text and f"{B}|23" in text
