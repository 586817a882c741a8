"""STIX 2.1 content from C2 candidates: valid (OASIS validator, stix2), deterministic,
versioned, revocable, and free of any client address."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from iotscope.errors import ConfigError
from iotscope.records import C2Candidate
from iotscope.share import stix
from tests.share.stixcheck import validate

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
T0 = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)


def cand(
    ip: str = "198.51.100.7", port: int = 23, score: float = 0.62, **kw: object
) -> C2Candidate:
    base = dict(
        ip=ip, port=port, proto="tcp", score=score, clients=5, infected_clients=4,
        first_seen=T0, last_seen=T0 + timedelta(hours=6),
        reasons=("+0.25 kept channel from 5/5 clients",), site="isp-a",
    )  # fmt: skip
    base.update(kw)
    return C2Candidate.model_validate(base)


def by_type(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["type"] == kind]


def test_bundle_objects_pass_the_oasis_validator_and_stix2() -> None:
    cands = [cand(), cand("203.0.113.9", 443, 0.7), cand("2001:db8::5", 6667, 0.55)]
    fams = {("198.51.100.7", 23, "tcp"): "mirai-okiru", ("203.0.113.9", 443, "tcp"): "emotet"}
    objs = stix.c2_bundle_objects(cands, "isp-a", NOW, families=fams, counts={})
    validate(objs)
    kinds = {o["type"] for o in objs}
    assert kinds == {
        "marking-definition", "identity", "malware", "indicator", "infrastructure",
        "ipv4-addr", "ipv6-addr", "relationship", "sighting",
    }  # fmt: skip
    assert {m["name"] for m in by_type(objs, "malware")} == {"Mirai", "Emotet"}
    assert all(m["is_family"] for m in by_type(objs, "malware"))


@pytest.mark.parametrize("level", sorted(stix.TLP2_IDS))
def test_every_tlp2_level_validates_and_marks_the_objects(level: str) -> None:
    objs = stix.c2_bundle_objects([cand()], "isp-a", NOW, tlp=level)
    validate(objs)
    marked = [o for o in objs if "object_marking_refs" in o]
    assert marked and {stix.tlp_of(o) for o in marked} == {level}
    (mark,) = by_type(objs, "marking-definition")
    assert mark["id"] == stix.TLP2_IDS[level] and mark["name"] == f"TLP:{level.upper()}"


def test_unknown_tlp_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        stix.c2_bundle_objects([cand()], "isp-a", NOW, tlp="white")


def test_indicator_pattern_validity_and_confidence() -> None:
    objs = stix.c2_bundle_objects([cand(score=0.5)], "isp-a", NOW, ttl=timedelta(days=2))
    (ind,) = by_type(objs, "indicator")
    assert ind["pattern"] == (
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
        "'198.51.100.7' AND network-traffic:dst_port = 23 AND network-traffic:protocols[*] = 'tcp']"
    )
    assert stix.pattern_endpoint(ind["pattern"]) == ("198.51.100.7", 23, "tcp")
    assert ind["valid_from"] == "2026-10-31T12:00:00.000Z"
    assert ind["valid_until"] == "2026-11-02T18:00:00.000Z"  # last seen + TTL
    assert ind["confidence"] == 60  # the threshold 0.5 is "Medium" 60, whatever the top score
    assert ind["indicator_types"] == ["malicious-activity"]
    top = stix.score_max()
    assert stix.confidence(top) == 100 and stix.confidence(2 * top) == 100
    assert stix.confidence(-1) == 0 and stix.confidence(0.25) == 30
    assert stix.confidence(0.5 + (top - 0.5) / 2) == 80  # halfway from threshold to top


def test_pattern_is_accepted_by_the_stix2_pattern_validator() -> None:
    from stix2patterns.validator import run_validator

    for ip in ("198.51.100.7", "2001:db8::1"):
        assert run_validator(stix.pattern(ip, 48101, "tcp"), stix_version="2.1") == []


def test_relationships_follow_the_spec_tables() -> None:
    objs = stix.c2_bundle_objects(
        [cand()], "isp-a", NOW, families={("198.51.100.7", 23, "tcp"): "mirai"}
    )
    ids = {o["id"]: o["type"] for o in objs}
    triples = {
        (ids[r["source_ref"]], r["relationship_type"], ids[r["target_ref"]])
        for r in by_type(objs, "relationship")
    }
    assert triples == {
        ("indicator", "indicates", "infrastructure"),
        ("indicator", "indicates", "malware"),
        ("infrastructure", "controls", "malware"),
        ("infrastructure", "consists-of", "ipv4-addr"),
    }


def test_ids_are_deterministic_across_runs_and_isps() -> None:
    a = stix.c2_bundle_objects([cand()], "isp-a", NOW)
    b = stix.c2_bundle_objects([cand(site="isp-b", score=0.7)], "isp-b", NOW + timedelta(hours=1))
    ind_a, ind_b = by_type(a, "indicator")[0], by_type(b, "indicator")[0]
    assert ind_a["id"] == ind_b["id"] and ind_a["created_by_ref"] == ind_b["created_by_ref"]
    sa, sb = by_type(a, "sighting")[0], by_type(b, "sighting")[0]
    assert sa["id"] != sb["id"] and sa["sighting_of_ref"] == sb["sighting_of_ref"] == ind_a["id"]
    assert sa["where_sighted_refs"] == [stix.identity_id("isp-a")]
    assert stix.c2_bundle_objects([cand()], "isp-a", NOW) == a


def test_sco_id_follows_the_spec_namespace() -> None:
    # STIX 2.1 section 2.9 and the stix2 library compute the same deterministic id.
    import stix2

    assert stix.address("198.51.100.7")["id"] == stix2.IPv4Address(value="198.51.100.7").id


def test_no_client_address_or_subscriber_data_in_any_object() -> None:
    clients = ["192.0.2.10", "192.0.2.11", "10.1.2.3"]
    c = cand(reasons=("kept by 192.0.2.10",))  # even if a reason named one, it is not shared
    text = json.dumps(stix.c2_bundle_objects([c], "isp-a", NOW))
    for ip in clients:
        assert ip not in text
    assert "kept by" not in text and "subscriber" not in text


def test_new_version_only_when_evidence_grows() -> None:
    first = stix.c2_bundle_objects([cand()], "isp-a", NOW)
    prev = {o["id"]: o for o in first}
    later = NOW + timedelta(minutes=5)
    assert stix.c2_bundle_objects([cand()], "isp-a", later, previous=prev) == []
    grown = cand(last_seen=T0 + timedelta(hours=9))
    second = stix.c2_bundle_objects(
        [grown], "isp-a", later, previous=prev, counts={("198.51.100.7", 23, "tcp"): 2}
    )
    changed = {o["type"] for o in second}
    assert changed == {"indicator", "infrastructure", "sighting"}
    for o in second:
        assert o["created"] == prev[o["id"]]["created"]
        assert stix.parse_ts(o["modified"]) > stix.parse_ts(prev[o["id"]]["modified"])
    validate(first + second, enforce_refs=False)


def test_modified_always_moves_forward() -> None:
    prev = {o["id"]: o for o in stix.c2_bundle_objects([cand()], "isp-a", NOW)}
    # a clock behind the last version still yields a later ``modified``
    objs = stix.c2_bundle_objects(
        [cand(score=0.8)], "isp-a", NOW - timedelta(hours=1), previous=prev
    )
    (ind,) = by_type(objs, "indicator")
    assert ind["modified"] == "2026-11-01T03:00:00.001Z"


def test_revocation_is_a_new_version_and_sticks() -> None:
    first = stix.c2_bundle_objects([cand()], "isp-a", NOW)
    (ind,) = by_type(first, "indicator")
    gone = stix.revoke(ind, NOW + timedelta(hours=1), "vendor cloud, not a C2")
    assert (
        gone["revoked"] is True and gone["id"] == ind["id"] and gone["modified"] > ind["modified"]
    )
    validate([gone, *(o for o in first if o["id"] != ind["id"])])
    prev = {o["id"]: o for o in first} | {gone["id"]: gone}
    again = stix.c2_bundle_objects(
        [cand(score=0.8)], "isp-a", NOW + timedelta(hours=2), previous=prev
    )
    assert again == []
    with pytest.raises(ConfigError):
        stix.revoke(stix.address("198.51.100.7"), NOW)


def test_confirmed_evidence_raises_confidence_and_labels() -> None:
    c = cand(score=0.5)
    ep = stix.endpoint_of(c)
    ev = stix.Evidence(*ep, first_seen=T0, last_seen=T0, score=0.5,
                       isps=frozenset({"isp-a", "isp-b"}), confidences=(60, 60))  # fmt: skip
    objs = stix.c2_bundle_objects([c], "isp-a", NOW, evidence={ep: ev})
    (ind,) = by_type(objs, "indicator")
    assert ind["confidence"] == 84 and ind["labels"] == ["confirmed"]
    validate(objs)
    assert stix.combined_confidence([]) == 0 and stix.combined_confidence([100, 5]) == 100


def test_family_names() -> None:
    assert stix.family("mirai-satori").name == "Mirai"
    assert stix.family("gafgyt-irc").malpedia == "Bashlite"
    assert stix.family("Emotet").name == "Emotet"
    assert stix.family("unknown") is None and stix.family(None) is None


def test_timestamps_need_a_zone() -> None:
    with pytest.raises(ConfigError):
        stix.ts(datetime(2026, 1, 1))
    assert stix.ts(datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)) == "2026-01-01T00:00:00.123Z"


@pytest.mark.parametrize(
    "change",
    [
        {"relationship_type": "befriends"},  # not in the spec's relationship table
        {"indicator_types": ["Malicious Activity"]},  # open vocabulary format
        {"pattern": "[network-traffic:dst_port = ]"},  # not a pattern
    ],
)
def test_the_validator_check_has_teeth(change: dict) -> None:
    objs = stix.c2_bundle_objects([cand()], "isp-a", NOW)
    kind = "relationship" if "relationship_type" in change else "indicator"
    bad = [({**o, **change} if o["type"] == kind else o) for o in objs]
    with pytest.raises(Exception):  # noqa: B017 - the validator's or stix2's error
        validate(bad)


def test_timestamps_keep_four_digit_years() -> None:
    assert stix.ts(datetime(702, 10, 28, 10, 48, 30, tzinfo=UTC)) == "0702-10-28T10:48:30.000Z"
