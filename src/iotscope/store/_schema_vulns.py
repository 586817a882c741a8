"""Tables for CVEs, CPE applicability, KEV and the CVEs found on surveyed devices (issue 8).

Created by migration 0005; ``_schema.py`` imports this module so that ``metadata`` holds them.

- ``vuln_cves``: one row per CVE (NVD CVE API 2.0), its preferred CVSS metric and its
  ``configurations`` as NVD gave them (JSON); ``last_modified`` decides whether a re-import
  replaces it (incremental import).
- ``vuln_cpe_matches``: every cpeMatch entry, normalised (vendor and product unquoted and
  lower-cased, ``*`` for ANY), indexed by (vendor, product): which CVEs could concern a CPE.
- ``vuln_kev``: CISA's Known Exploited Vulnerabilities catalog.
- ``vuln_finding_cves``: per surveyed service and CVE, the evidence (``inferred`` from the
  version, or ``verified`` by a safe check) and what the check read.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from iotscope.store._schema import metadata

vuln_cves = Table(
    "vuln_cves",
    metadata,
    Column("cve", String(32), primary_key=True),
    Column("published", DateTime(timezone=True)),
    Column("last_modified", DateTime(timezone=True), nullable=False),
    Column("status", String(32)),
    Column("description", Text),
    Column("cvss", Float),
    Column("cvss_version", String(8)),
    Column("cvss_vector", String(200)),
    Column("severity", String(16)),
    Column("configurations", JSON, nullable=False),
    Column("source", String(500), nullable=False),  # the file it was last imported from
)

vuln_cpe_matches = Table(
    "vuln_cpe_matches",
    metadata,
    Column("cve", String(32), nullable=False),
    Column("config", Integer, nullable=False),
    Column("node", Integer, nullable=False),
    Column("entry", Integer, nullable=False),
    Column("part", String(1), nullable=False),
    Column("vendor", String(200), nullable=False),
    Column("product", String(200), nullable=False),
    Column("criteria", String(1000), nullable=False),
    Column("vulnerable", Boolean, nullable=False),
    Column("start_incl", String(100)),
    Column("start_excl", String(100)),
    Column("end_incl", String(100)),
    Column("end_excl", String(100)),
    PrimaryKeyConstraint("cve", "config", "node", "entry", name="pk_vuln_cpe_matches"),
    Index("ix_vuln_cpe_matches_vp", "vendor", "product"),
)

vuln_kev = Table(
    "vuln_kev",
    metadata,
    Column("cve", String(32), primary_key=True),
    Column("vendor", String(200)),
    Column("product", String(200)),
    Column("name", String(500)),
    Column("date_added", String(10)),
    Column("due_date", String(10)),
    Column("ransomware", String(16)),
    Column("catalog_version", String(32)),
)

vuln_finding_cves = Table(
    "vuln_finding_cves",
    metadata,
    Column("survey_id", String(64), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("transport", String(3), nullable=False),
    Column("cve", String(32), nullable=False),
    Column("evidence", String(8), nullable=False),  # inferred | verified
    Column("device_cpes", JSON, nullable=False),
    Column("vuln_cpe", String(1000)),
    Column("check_id", String(100)),
    Column("check_detail", String(500)),
    Column("checked", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint(
        "survey_id", "ip", "port", "transport", "cve", name="pk_vuln_finding_cves"
    ),
    Index("ix_vuln_finding_cves_cve", "cve"),
)
