"""facts matching for high-risk requests and expiry of unverified requests

``request_facts``: the outcome of matching the facts a requester gave against
what the data stores hold (counts and per-kind outcomes only, never a value).
Expiry needs no column: an expired request is the status ``expired`` with
its sealed identity and details dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_request_facts_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_facts")),
        sa.UniqueConstraint("request_id", name=op.f("uq_request_facts_request_id")),
    )


def downgrade() -> None:
    op.drop_table("request_facts")
