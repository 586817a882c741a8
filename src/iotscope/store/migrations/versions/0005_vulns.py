"""CVEs, CPE applicability, KEV, the CVEs found on surveyed devices (issue 8).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vuln_cves",
        sa.Column("cve", sa.String(32), primary_key=True),
        sa.Column("published", sa.DateTime(timezone=True)),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32)),
        sa.Column("description", sa.Text),
        sa.Column("cvss", sa.Float),
        sa.Column("cvss_version", sa.String(8)),
        sa.Column("cvss_vector", sa.String(200)),
        sa.Column("severity", sa.String(16)),
        sa.Column("configurations", sa.JSON, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
    )
    op.create_table(
        "vuln_cpe_matches",
        sa.Column("cve", sa.String(32), nullable=False),
        sa.Column("config", sa.Integer, nullable=False),
        sa.Column("node", sa.Integer, nullable=False),
        sa.Column("entry", sa.Integer, nullable=False),
        sa.Column("part", sa.String(1), nullable=False),
        sa.Column("vendor", sa.String(200), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("criteria", sa.String(1000), nullable=False),
        sa.Column("vulnerable", sa.Boolean, nullable=False),
        sa.Column("start_incl", sa.String(100)),
        sa.Column("start_excl", sa.String(100)),
        sa.Column("end_incl", sa.String(100)),
        sa.Column("end_excl", sa.String(100)),
        sa.PrimaryKeyConstraint("cve", "config", "node", "entry", name="pk_vuln_cpe_matches"),
    )
    op.create_index("ix_vuln_cpe_matches_vp", "vuln_cpe_matches", ["vendor", "product"])
    op.create_table(
        "vuln_kev",
        sa.Column("cve", sa.String(32), primary_key=True),
        sa.Column("vendor", sa.String(200)),
        sa.Column("product", sa.String(200)),
        sa.Column("name", sa.String(500)),
        sa.Column("date_added", sa.String(10)),
        sa.Column("due_date", sa.String(10)),
        sa.Column("ransomware", sa.String(16)),
        sa.Column("catalog_version", sa.String(32)),
    )
    op.create_table(
        "vuln_finding_cves",
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("transport", sa.String(3), nullable=False),
        sa.Column("cve", sa.String(32), nullable=False),
        sa.Column("evidence", sa.String(8), nullable=False),
        sa.Column("device_cpes", sa.JSON, nullable=False),
        sa.Column("vuln_cpe", sa.String(1000)),
        sa.Column("check_id", sa.String(100)),
        sa.Column("check_detail", sa.String(500)),
        sa.Column("checked", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "survey_id", "ip", "port", "transport", "cve", name="pk_vuln_finding_cves"
        ),
    )
    op.create_index("ix_vuln_finding_cves_cve", "vuln_finding_cves", ["cve"])


def downgrade() -> None:
    op.drop_index("ix_vuln_finding_cves_cve", "vuln_finding_cves")
    op.drop_table("vuln_finding_cves")
    op.drop_table("vuln_kev")
    op.drop_index("ix_vuln_cpe_matches_vp", "vuln_cpe_matches")
    op.drop_table("vuln_cpe_matches")
    op.drop_table("vuln_cves")
