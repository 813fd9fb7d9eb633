"""privacy requests, their sealed documents and queued e-mails, legal holds; a purpose on e-mail challenges

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("system", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("released_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_legal_holds_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
        sa.UniqueConstraint("public_id", name=op.f("uq_legal_holds_public_id")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_holds_system"), ["system"], unique=False)

    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=80), nullable=False),
        sa.Column("statement_version", sa.String(length=64), nullable=False),
        sa.Column("verification", sa.String(length=32), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("received_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("original_due_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extended_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("identity_kind", sa.String(length=16), nullable=False),
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_identity", sa.LargeBinary(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("challenge_id", sa.String(length=32), nullable=True),
        sa.Column("sealed_details", sa.LargeBinary(), nullable=True),
        sa.Column("by_agent", sa.Boolean(), nullable=False),
        sa.Column("verified_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_via", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.String(length=32), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("decided_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_privacy_requests_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
        sa.UniqueConstraint("challenge_id", name=op.f("uq_privacy_requests_challenge_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_privacy_requests_public_id")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_requests_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_requests_identity_hash"), ["identity_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_requests_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_privacy_requests_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "request_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_request_documents_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_documents")),
    )
    with op.batch_alter_table("request_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_documents_request_id"), ["request_id"], unique=False)

    op.create_table(
        "request_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["privacy_requests.id"], name=op.f("fk_request_notices_request_id_privacy_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_notices")),
    )
    with op.batch_alter_table("request_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_notices_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_request_notices_sent_at"), ["sent_at"], unique=False)

    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=32), server_default="preferences", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.drop_column("purpose")

    with op.batch_alter_table("request_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_notices_sent_at"))
        batch_op.drop_index(batch_op.f("ix_request_notices_request_id"))

    op.drop_table("request_notices")
    with op.batch_alter_table("request_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_documents_request_id"))

    op.drop_table("request_documents")
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_privacy_requests_status_due")
        batch_op.drop_index(batch_op.f("ix_privacy_requests_person_id"))
        batch_op.drop_index(batch_op.f("ix_privacy_requests_identity_hash"))
        batch_op.drop_index(batch_op.f("ix_privacy_requests_due_at"))

    op.drop_table("privacy_requests")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_system"))
        batch_op.drop_index(batch_op.f("ix_legal_holds_person_id"))

    op.drop_table("legal_holds")
