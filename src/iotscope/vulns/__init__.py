"""Vulnerability knowledge from real formats, and the CVEs of surveyed devices.

- NVD CVE API 2.0 JSON (pages, single CVEs) and CISA KEV, imported into the store
  incrementally (:func:`import_file`; ``iotscope vulns import``).
- CPE 2.3 formatted strings and NISTIR 7696 name matching (:func:`parse_cpe`), versions
  ordered by numeric and text runs (:func:`compare_versions`).
- NVD applicability over a device's set of CPEs (:func:`match`; ``iotscope vulns match``).
- Survey findings enriched with the CVEs that apply, ``inferred`` or ``verified`` by safe
  data-driven checks (:func:`enrich`, :func:`device_vulns`), and "firmware not latest"
  against a vendor table of current releases (:func:`firmware_status`).

This replaces the old exact-version table (``iotscope.knowledge.cves_for``) wherever a
finding has a CPE; the table stays only as the fallback for an identity with no CPE.
"""

from iotscope.vulns._checks import Check, Reading, default_checks, load_checks, run_check
from iotscope.vulns._cpe import Cpe, CpeError, Value, name_match, parse_cpe
from iotscope.vulns._db import ImportReport, import_file, load_db, read_document
from iotscope.vulns._enrich import (
    DeviceVuln,
    FirmwareStatus,
    device_cpes,
    device_vulns,
    enrich,
    firmware_status,
)
from iotscope.vulns._match import CveMatch, VulnDb, device_cpe, entry_matches, match
from iotscope.vulns._nvd import CveRecord, KevEntry, RecordError, parse_cve, parse_kev
from iotscope.vulns._releases import Releases, default_releases, load_releases
from iotscope.vulns._version import compare_versions, in_range, version_key

__all__ = [
    "Check",
    "Cpe",
    "CpeError",
    "CveMatch",
    "CveRecord",
    "DeviceVuln",
    "FirmwareStatus",
    "ImportReport",
    "KevEntry",
    "Reading",
    "RecordError",
    "Releases",
    "Value",
    "VulnDb",
    "compare_versions",
    "default_checks",
    "default_releases",
    "device_cpe",
    "device_cpes",
    "device_vulns",
    "enrich",
    "entry_matches",
    "firmware_status",
    "import_file",
    "in_range",
    "load_checks",
    "load_db",
    "load_releases",
    "match",
    "name_match",
    "parse_cpe",
    "parse_cve",
    "parse_kev",
    "read_document",
    "run_check",
    "version_key",
]
