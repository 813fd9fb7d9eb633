"""email challenges: one-time codes and links proving control of an e-mail address

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_challenges",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_email", sa.LargeBinary(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_challenges")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_email_challenges_link_hash")),
    )
    op.create_index(op.f("ix_email_challenges_email_hash"), "email_challenges", ["email_hash"], unique=False)
    op.create_index(op.f("ix_email_challenges_expires_at"), "email_challenges", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_challenges_expires_at"), table_name="email_challenges")
    op.drop_index(op.f("ix_email_challenges_email_hash"), table_name="email_challenges")
    op.drop_table("email_challenges")
