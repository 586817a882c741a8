"""The STIX boundary of an ISP's publications: what objects a C2 candidate becomes.

Three functions, and nothing else of :mod:`iotscope.isp` knows STIX content:

- :func:`c2_objects` the objects of some candidates at ``now`` (the share part's
  :func:`~iotscope.share.stix.c2_bundle_objects`: indicator, infrastructure, address,
  relationships, this ISP's sighting, identities, TLP marking), given the last versions sent
  (``previous``: object id -> object): an object whose content did not change is left out, a
  changed one is a new version (same ``id`` and ``created``, later ``modified``: STIX 2.1 3.6);
- :func:`indicator_id` the deterministic id of an endpoint's indicator;
- :func:`expire` a new version of an indicator whose ``valid_until`` is ``now``: the C2 left the
  detection window, so consumers stop acting on it (4.7: an indicator is not valid after
  ``valid_until``). Revocation stays for false positives (``stix.revoke``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from iotscope.records import C2Candidate
from iotscope.share import stix

StixObject = dict[str, Any]

TTL = stix.DEFAULT_TTL
ts = stix.ts
parse_ts = stix.parse_ts
indicator_id = stix.indicator_id


def c2_objects(
    candidates: Sequence[C2Candidate],
    isp: str,
    now: datetime,
    previous: Mapping[str, Mapping[str, Any]],
) -> list[StixObject]:
    """The objects ISP ``isp`` publishes for ``candidates`` at ``now`` (new or new versions)."""
    return stix.c2_bundle_objects(candidates, isp, now, previous=previous)


def indicator_for(c: C2Candidate, isp: str, now: datetime) -> StixObject:
    """The indicator alone, as :func:`c2_objects` would make it for ``c`` (same defaults): a
    cheap first look that tells whether an endpoint's objects need building at all."""
    ev = stix.evidence_of(c, isp, {})
    return stix.indicator(ev, "iotscope centre", "amber", now, TTL)


def expire(previous: Mapping[str, Any], now: datetime) -> StixObject:
    """The next version of indicator ``previous`` with ``valid_until`` = ``now`` (kept after
    ``valid_from``, as 4.7 requires)."""
    modified = max(now, parse_ts(previous["modified"]) + timedelta(milliseconds=1))
    until = max(now, parse_ts(previous["valid_from"]) + timedelta(milliseconds=1))
    return {**previous, "modified": ts(modified), "valid_until": ts(until)}
