"""Hypothesis: garbage never crashes the CPE and NVD parsers; CPE strings round-trip."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.vulns import CpeError, RecordError, VulnDb, match, parse_cpe, parse_cve, parse_kev
from iotscope.vulns._nvd import document_kind, items

PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=8)
QUOTED = st.sampled_from([r"\:", r"\/", r"\.", r"\(", r"\)", r"\*", r"\?", r"\\", r"\ ", r"\+"])
VALUE = st.one_of(
    st.just("*"),
    st.just("-"),
    st.tuples(
        st.sampled_from(["", "*", "?", "??"]),
        st.lists(st.one_of(PLAIN, QUOTED), min_size=1, max_size=4).map("".join),
        st.sampled_from(["", "*", "?"]),
    ).map("".join),
)
CPE = st.tuples(
    st.sampled_from(["a", "o", "h", "*"]), st.lists(VALUE, min_size=10, max_size=10)
).map(lambda t: "cpe:2.3:" + ":".join([t[0], *t[1]]))


@settings(deadline=None)
@given(st.text(max_size=300))
def test_garbage_cpe_never_crashes(text: str) -> None:
    for lenient in (False, True):
        try:
            c = parse_cpe(text, lenient)
        except CpeError:
            continue
        assert parse_cpe(c.to_fs()) == c


@settings(deadline=None)
@given(CPE)
def test_formatted_strings_round_trip(text: str) -> None:
    try:
        c = parse_cpe(text)
    except CpeError:
        return  # e.g. a lone "-" next to a wildcard: allowed to refuse, never to crash
    assert parse_cpe(c.to_fs()) == c
    assert parse_cpe(c.to_fs()).to_fs() == c.to_fs()


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "id",
        "lastModified",
        "published",
        "configurations",
        "nodes",
        "cpeMatch",
        "criteria",
        "vulnerable",
        "operator",
        "negate",
        "metrics",
        "cvssMetricV31",
        "cvssData",
        "baseScore",
        "versionEndExcluding",
        "cve",
    ]
)


@st.composite
def nvd_like(draw: st.DrawFn) -> Any:
    """Records near the real shape: real keys, random values, sometimes valid pieces."""
    entry = {"vulnerable": draw(st.booleans() | JSON), "criteria": draw(CPE | JSON)}
    if draw(st.booleans()):
        entry[draw(st.sampled_from(["versionEndExcluding", "versionStartIncluding"]))] = draw(
            st.text(max_size=10) | JSON
        )
    node = {
        "operator": draw(st.sampled_from(["AND", "OR", "XOR"]) | JSON),
        "cpeMatch": draw(st.just([entry]) | JSON),
        "negate": draw(st.booleans() | JSON),
    }
    rec: dict[str, Any] = {
        "id": draw(st.just("CVE-2020-1234") | JSON),
        "lastModified": draw(st.just("2020-01-01T00:00:00.000") | JSON),
        "configurations": draw(st.just([{"nodes": [node]}]) | JSON),
        "metrics": draw(
            st.just(
                {
                    "cvssMetricV31": [
                        {"type": "Primary", "cvssData": {"baseScore": draw(JSON), "version": "3.1"}}
                    ]
                }
            )
            | JSON
        ),
    }
    for k in draw(st.lists(KEYS, max_size=3)):
        rec[k] = draw(JSON)
    return draw(st.just(rec) | st.just({"cve": rec}) | JSON)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(nvd_like())
def test_nvd_record_parser_never_crashes(raw: Any) -> None:
    try:
        rec = parse_cve(raw)
    except RecordError:
        return
    match(["cpe:2.3:o:acme:box:1.0:*:*:*:*:*:*:*"], VulnDb.build([rec]))


@settings(deadline=None)
@given(JSON)
def test_kev_parser_and_document_reader_never_crash(raw: Any) -> None:
    with contextlib.suppress(RecordError):
        parse_kev(raw)
    text = json.dumps(raw)
    kind = document_kind(raw)
    assert kind in ("nvd-page", "nvd-cve", "kev", "unknown")
    assert len(list(items(text, raw))) >= 1
