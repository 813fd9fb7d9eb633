"""a failed run the office can retry or give up on

``execution_runs.retries``: how many times the office retried the failed run;
``given_up_at``, ``given_up_by``, ``given_up_reason``: the office closed the
request as failed, with the reason the requester was sent.
``execution_steps.digest``: the SHA-256 of the step as planned (action, inputs,
strategy), so a retry keeps a done step only when the new plan holds the same
step, not just the same id. No column for the request's new state
``given_up``: ``privacy_requests.status`` is a string.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("execution_runs") as batch:
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("given_up_at", charter.db.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("given_up_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("given_up_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("execution_steps") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("execution_steps") as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("execution_runs") as batch:
        batch.drop_column("given_up_reason")
        batch.drop_column("given_up_by")
        batch.drop_column("given_up_at")
        batch.drop_column("retries")
