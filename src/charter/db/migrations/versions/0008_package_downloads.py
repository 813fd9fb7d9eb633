"""one-time package downloads and third-party deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "package_downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_package_downloads_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_downloads")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_package_downloads_token_hash")),
    )
    with op.batch_alter_table("package_downloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_downloads_request_id"), ["request_id"], unique=False)
    op.create_table(
        "package_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("recipient_host", sa.String(length=260), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_package_deliveries_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_deliveries")),
        sa.UniqueConstraint("public_id", name=op.f("uq_package_deliveries_public_id")),
    )
    with op.batch_alter_table("package_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_deliveries_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("package_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_deliveries_request_id"))
    op.drop_table("package_deliveries")
    with op.batch_alter_table("package_downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_downloads_request_id"))
    op.drop_table("package_downloads")
