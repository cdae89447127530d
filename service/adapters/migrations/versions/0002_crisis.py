"""Crisis mode: complaint signals, alerts, incidents; drafts know their kind and incident.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="reply"))
        batch.add_column(sa.Column("incident_id", sa.String(40), nullable=True))
        batch.create_index("ix_drafts_incident_id", ["incident_id"])
    op.create_table(
        "signals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("issue_type", sa.String(64), nullable=False, index=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("reach", sa.Integer, nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("embedding", sa.JSON, nullable=False),
        sa.Column("draft_id", sa.String(40), nullable=True, index=True),
        sa.Column("incident_id", sa.String(40), nullable=True, index=True),
        sa.Column("link_score", sa.Float, nullable=True),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("incident_id", sa.String(40), nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("incidents", "alerts", "signals"):
        op.drop_table(table)
    with op.batch_alter_table("drafts") as batch:
        batch.drop_index("ix_drafts_incident_id")
        batch.drop_column("incident_id")
        batch.drop_column("kind")
