"""decision log: a sampled record of the decisions given, for audit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decided_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_for", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("statement_version", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_log")),
    )
    op.create_index(op.f("ix_decision_log_decided_at"), "decision_log", ["decided_at"], unique=False)
    op.create_index(op.f("ix_decision_log_person"), "decision_log", ["person"], unique=False)
    op.create_index(op.f("ix_decision_log_purpose"), "decision_log", ["purpose"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_log_purpose"), table_name="decision_log")
    op.drop_index(op.f("ix_decision_log_person"), table_name="decision_log")
    op.drop_index(op.f("ix_decision_log_decided_at"), table_name="decision_log")
    op.drop_table("decision_log")
