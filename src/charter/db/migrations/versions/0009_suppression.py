"""suppression list, ledger tombstones and sealed correction records

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 14:45:00

Tombstones need no table: a tombstoned ledger event keeps its row, with the
kind ``ledger.tombstone`` and its payload removed (charter.ledger.tombstones).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppression_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lookup_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("request", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=32), nullable=True),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression_list")),
        sa.UniqueConstraint("kind", "lookup_hash", name=op.f("uq_suppression_list_kind")),
    )
    with op.batch_alter_table("suppression_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suppression_list_person"), ["person"], unique=False)
    op.create_table(
        "correction_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=80), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_correction_records_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_records")),
        sa.UniqueConstraint("request_id", "step_id", name=op.f("uq_correction_records_request_id")),
    )
    with op.batch_alter_table("correction_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_records_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("correction_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_records_request_id"))
    op.drop_table("correction_records")
    with op.batch_alter_table("suppression_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppression_list_person"))
    op.drop_table("suppression_list")
