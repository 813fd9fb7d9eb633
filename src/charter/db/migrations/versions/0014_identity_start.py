"""requests started from a phone or another identifier the data map declares

``request_secrets``: the SHA-256 of the status secret shown once to a requester
who gave no e-mail address (the request's only way back). ``identity_kind``
of ``privacy_requests`` and ``kind`` of ``suppression_list`` widen to 40
characters: custom kinds a data map declares (``loyalty_id``,
``membership_number``) start requests and are suppressed after an erasure.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_request_secrets_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_secrets")),
        sa.UniqueConstraint("request_id", name=op.f("uq_request_secrets_request_id")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_request_secrets_secret_sha256")),
    )
    with op.batch_alter_table("privacy_requests") as batch:
        batch.alter_column("identity_kind", existing_type=sa.String(length=16), type_=sa.String(length=40))
    with op.batch_alter_table("suppression_list") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=40))


def downgrade() -> None:
    with op.batch_alter_table("suppression_list") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=40), type_=sa.String(length=16))
    with op.batch_alter_table("privacy_requests") as batch:
        batch.alter_column("identity_kind", existing_type=sa.String(length=40), type_=sa.String(length=16))
    op.drop_table("request_secrets")
