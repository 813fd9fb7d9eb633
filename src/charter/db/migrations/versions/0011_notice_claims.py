"""a claim on a request notice while it is being sent

``request_notices.claimed_at``: when a deliverer took the notice to send it.
Another deliverer skips a notice claimed less than a few minutes ago, so two
processes delivering at once (two servers sweeping, ``charter requests
notify`` beside a worker) never e-mail the requester twice; a claim whose
process died lapses and the notice is sent by the next delivery.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_notices") as batch:
        batch.add_column(sa.Column("claimed_at", charter.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_notices") as batch:
        batch.drop_column("claimed_at")
