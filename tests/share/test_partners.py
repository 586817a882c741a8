"""Partners' feeds into STIX: MISP events and feeds, STIX bundles, Feodo Tracker-style
blocklists; bad items counted, skipped and named; fuzzed with Hypothesis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent

from iotscope.errors import ConfigError
from iotscope.share import agreement, misp, partners, stix
from tests.share.stixcheck import validate
from tests.share.test_agreement import NOW, A, B, C, feed

FEODO_CSV = """################################################################
# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #
################################################################
#
# "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
"2026-10-30 10:00:00","192.0.2.200","23","online","2026-10-31","Mirai"
"2026-10-29 09:00:00","198.51.100.77","8080","offline","2026-10-30","Heodo"
"2026-10-29 09:00:00","not-an-ip","443","online","2026-10-30","Dridex"
"2026-10-29 09:00:00","198.51.100.78","99999","online","2026-10-30","Dridex"
# "number of entries": 4
"""

FEODO_JSON = [
    {"ip_address": "192.0.2.200", "port": 23, "status": "online", "hostname": None,
     "as_number": 64500, "as_name": "EXAMPLE", "country": "JP",
     "first_seen": "2026-10-30 10:00:00", "last_online": "2026-10-31", "malware": "Mirai"},
    {"ip_address": "203.0.113.5", "port": 447, "status": "offline",
     "first_seen": "2026-10-01 00:00:00", "last_online": "2026-10-02", "malware": "TrickBot"},
    "garbage",
    {"ip_address": "203.0.113.6"},
]  # fmt: skip


def test_our_misp_feed_reads_back_as_partner_indicators(tmp_path: Path) -> None:
    objs = feed()
    misp.write_feed(tmp_path / "feed", misp.feed_events(objs, NOW))
    res = partners.read_path(tmp_path / "feed", "partner-cert", "misp", NOW)
    assert res.skipped == 0 and res.items == 3 and res.problems == []
    validate(res.objects)
    inds = [o for o in res.objects if o["type"] == "indicator"]
    assert {stix.pattern_endpoint(o["pattern"]) for o in inds} == {
        (A, 23, "tcp"), (B, 23, "tcp"), (C, 23, "tcp")
    }  # fmt: skip
    assert all(o["created_by_ref"] == stix.identity_id("partner-cert") for o in inds)
    assert all(o["id"] != stix.indicator_id(*stix.pattern_endpoint(o["pattern"])) for o in inds)
    names = {o["name"] for o in res.objects if o["type"] == "malware"}
    assert names == {"Mirai", "Emotet"}
    # a partner listing C (seen by one ISP only) confirms it: method ``partner``
    view = agreement.views(objs + res.objects)[(C, 23, "tcp")]
    assert view.confirmed and set(view.methods) == {"flows", "partner"}


def test_pymisp_made_event_with_bad_attributes_named() -> None:
    ev = MISPEvent()
    ev.info = "partner C2s"
    ev.add_tag("tlp:green")
    ev.add_attribute("ip-dst|port", "203.0.113.10|6667", to_ids=True)
    ev.add_attribute("ip-dst", "203.0.113.11", to_ids=True)
    ev.add_attribute("ip-dst", "203.0.113.12", to_ids=False)  # not for detection: ignored
    ev.add_attribute("domain", "c2.example", to_ids=True)  # not an address: ignored
    ev.add_attribute("ip-dst|port", "203.0.113.13|0", to_ids=True)  # bad port
    data = json.dumps([json.loads(ev.to_json()), {"nope": 1}]).encode()
    res = partners.parse(data, "isac", "misp", NOW, name="events.json")
    assert res.items == 6 and res.skipped == 2  # 5 attributes and one bad event
    assert [w for w, _ in res.problems] == [
        "events.json event 0 attribute 4",
        "events.json event 1",
    ]
    validate(res.objects)
    pats = sorted(o["pattern"] for o in res.objects if o["type"] == "indicator")
    assert pats == sorted(
        [stix.pattern("203.0.113.10", 6667, "tcp"), "[ipv4-addr:value = '203.0.113.11']"]
    )
    assert {stix.tlp_of(o) for o in res.objects if o["type"] == "indicator"} == {"green"}


def test_feodo_csv_and_json() -> None:
    res = partners.parse(FEODO_CSV.encode(), "feodo", "feodo-csv", NOW, name="ipblocklist.csv")
    assert res.items == 4 and res.skipped == 2
    assert [w for w, _ in res.problems] == ["line 8", "line 9"]
    validate(res.objects)
    inds = {stix.pattern_endpoint(o["pattern"]): o for o in res.objects if o["type"] == "indicator"}
    assert inds[("192.0.2.200", 23, "tcp")]["confidence"] == 80  # online
    assert inds[("198.51.100.77", 8080, "tcp")]["confidence"] == 50  # offline
    assert {o["name"] for o in res.objects if o["type"] == "malware"} == {"Mirai", "Emotet"}
    js = partners.parse(json.dumps(FEODO_JSON).encode(), "feodo", "feodo-json", NOW)
    assert (
        js.items == 4 and js.skipped == 2 and [w for w, _ in js.problems] == ["entry 2", "entry 3"]
    )
    validate(js.objects)
    assert {o["name"] for o in js.objects if o["type"] == "malware"} == {"Mirai", "TrickBot"}


def test_stix_bundle_keeps_good_objects_and_names_bad_ones() -> None:
    good = stix.c2_bundle_objects([], "isp-a", NOW)
    ind = agreement.newest(feed())[stix.indicator_id(A, 23, "tcp")]
    bad_pattern = {**ind, "id": stix.stix_id("indicator", "x"), "pattern": "[nonsense"}
    doc = stix.bundle([*good, ind, bad_pattern])
    doc["objects"].append({"type": "indicator", "spec_version": "2.0"})
    res = partners.parse(json.dumps(doc).encode(), "opencti", "stix", NOW)
    assert res.items == len(good) + 3 and res.skipped == 2
    assert res.problems[0][0] == f"object {len(good) + 1} ({bad_pattern['id']})"
    assert ind in res.objects


def test_whole_file_problems_and_unknown_kind(tmp_path: Path) -> None:
    assert partners.parse(b"\xff\xfe{", "p", "misp", NOW).problems[0][1].startswith("not JSON")
    assert partners.parse(b"[]", "p", "stix", NOW).problems == [("file", "not a STIX bundle")]
    assert partners.parse(b"a,b\n1,2\n", "p", "feodo-csv", NOW).problems[0][0] == "file"
    with pytest.raises(ConfigError):
        partners.parse(b"", "p", "csv", NOW)
    with pytest.raises(ConfigError):
        partners.read_path(tmp_path / "missing.json", "p", "misp", NOW)
    with pytest.raises(ConfigError):
        partners.read_path(tmp_path, "p", "misp", NOW)  # a directory without manifest.json


def test_same_bytes_same_digest_and_objects() -> None:
    a = partners.parse(FEODO_CSV.encode(), "feodo", "feodo-csv", NOW)
    b = partners.parse(FEODO_CSV.encode(), "feodo", "feodo-csv", NOW)
    assert a.digest == b.digest and a.objects == b.objects
    assert partners.parse(FEODO_CSV.encode(), "other", "feodo-csv", NOW).digest != a.digest


# --- fuzz: partner bytes never crash a reader; what comes out is well-formed -------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
attr_values = st.one_of(
    st.text(max_size=40),
    st.tuples(st.ip_addresses(), st.integers(-5, 70000)).map(lambda t: f"{t[0]}|{t[1]}"),
    st.ip_addresses().map(str),
)
attributes = st.fixed_dictionaries(
    {"type": st.sampled_from([*partners.MISP_TYPES, "domain", ""]), "value": attr_values},
    optional={
        "to_ids": st.sampled_from([True, False, 0, 1, "0", "1", None]),
        "first_seen": st.one_of(st.text(max_size=25), st.integers(-(2**40), 2**40)),
        "Tag": st.lists(st.fixed_dictionaries({"name": st.text(max_size=30)}), max_size=3),
        "deleted": json_values,
    },
)
events = st.fixed_dictionaries(
    {"Event": st.fixed_dictionaries({"Attribute": st.lists(attributes, max_size=5)},
                                    optional={"Tag": json_values, "Object": json_values})}
)  # fmt: skip


def _well_formed(res: partners.ImportResult) -> None:
    assert res.skipped <= max(res.items, 1) and len(res.problems) <= partners.MAX_PROBLEMS
    for o in res.objects:
        assert isinstance(o["id"], str) and o["id"].startswith(o["type"] + "--")
    for where, why in res.problems:
        assert where and why


@pytest.mark.parametrize("kind", partners.KINDS)
@FUZZ
@given(data=st.binary(max_size=400))
def test_fuzz_any_bytes(kind: str, data: bytes) -> None:
    _well_formed(partners.parse(data, "fuzz", kind, NOW))


@FUZZ
@given(doc=st.one_of(json_values, st.lists(events, max_size=3), events))
def test_fuzz_misp_structures(doc: object) -> None:
    res = partners.parse(json.dumps(doc).encode(), "fuzz", "misp", NOW)
    _well_formed(res)


@settings(max_examples=25, deadline=None)
@given(evs=st.lists(events, min_size=1, max_size=2))
def test_fuzz_misp_output_validates(evs: list) -> None:
    res = partners.parse(json.dumps(evs).encode(), "fuzz", "misp", NOW)
    if res.objects:
        validate(res.objects)


@FUZZ
@given(
    rows=st.lists(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "ip_address": st.one_of(st.ip_addresses().map(str), st.text(max_size=10)),
                    "port": st.one_of(st.integers(-1, 70000), st.text(max_size=5)),
                },
                optional={
                    "first_seen": st.text(max_size=20),
                    "malware": st.text(max_size=20),
                    "last_online": st.text(max_size=20),
                    "status": st.text(max_size=8),
                },
            ),
        ),
        max_size=6,
    )
)
def test_fuzz_feodo_json(rows: list) -> None:  # fmt: skip
    res = partners.parse(json.dumps(rows).encode(), "fuzz", "feodo-json", NOW)
    _well_formed(res)
    assert res.items == len(rows)


def test_time_parsing() -> None:
    assert partners._time("2026-10-30 10:00:00") == datetime(2026, 10, 30, 10, tzinfo=UTC)
    assert partners._time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert partners._time("bogus") is None and partners._time(10**20) is None
    assert partners._time("0702-10-28T10:48:30Z") is None
    assert partners._time("2026-10-30") == datetime(2026, 10, 30, tzinfo=UTC)
    assert timedelta(0) < stix.DEFAULT_TTL


stix_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "malware", "relationship", "identity", "x-thing"]),
     "spec_version": st.sampled_from(["2.1", "2.0"]),
     "id": st.one_of(st.text(max_size=20), st.uuids().map(lambda u: f"indicator--{u}"))},
    optional={"created": st.text(max_size=30), "modified": st.text(max_size=30),
              "pattern": st.text(max_size=40), "pattern_type": st.text(max_size=8),
              "valid_from": st.text(max_size=30), "name": json_values, "labels": json_values},
)  # fmt: skip


@FUZZ
@given(objs=st.lists(st.one_of(stix_like, json_values), max_size=5))
def test_fuzz_stix_bundles(objs: list) -> None:
    doc = {"type": "bundle", "id": "bundle--0b0b4b0f-7b7b-4b7b-8b7b-0b0b4b0f7b7b", "objects": objs}
    res = partners.parse(json.dumps(doc).encode(), "fuzz", "stix", NOW)
    _well_formed(res)
    assert res.items == len(objs) and len(res.objects) + res.skipped == len(objs)
