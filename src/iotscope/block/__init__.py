"""Action at the source: an ISP's blocklists (plain, nftables, DNS RPZ) and BGP blackhole
routes (RFC 7999) from the shared C2 indicators and the ISP's own policy; every change is
recorded with its time.

Input boundary: STIX 2.1 objects (dicts) from a bundle, the hub over TAXII 2.1, or the store.
"""

from __future__ import annotations

from iotscope.block._bgp_session import Session, SessionConfig
from iotscope.block._bgp_speaker import SpeakerOptions, run_speaker
from iotscope.block._export import ExportResult, blocklist, export
from iotscope.block._formats import FORMATS, render_nftables, render_plain, render_rpz
from iotscope.block._pattern import PatternError, Target, parse_pattern
from iotscope.block._policy import Policy, load_policy, policy_from_toml
from iotscope.block._select import Entry, Selection, select
from iotscope.block._sources import BlockError, bundle_objects, taxii_objects

__all__ = [
    "FORMATS",
    "BlockError",
    "Entry",
    "ExportResult",
    "PatternError",
    "Policy",
    "Selection",
    "Session",
    "SessionConfig",
    "SpeakerOptions",
    "Target",
    "blocklist",
    "bundle_objects",
    "export",
    "load_policy",
    "parse_pattern",
    "policy_from_toml",
    "render_nftables",
    "render_plain",
    "render_rpz",
    "run_speaker",
    "select",
    "taxii_objects",
]
