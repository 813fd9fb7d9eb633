"""mail links: one-click unsubscribe and open-pixel tokens (hashed), and the opens they recorded

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unsubscribe_hash", sa.String(length=64), nullable=False),
        sa.Column("open_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=80), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", charter.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_mail_links_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_links")),
        sa.UniqueConstraint("open_hash", name=op.f("uq_mail_links_open_hash")),
        sa.UniqueConstraint("unsubscribe_hash", name=op.f("uq_mail_links_unsubscribe_hash")),
    )
    with op.batch_alter_table("mail_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_links_person_id"), ["person_id"], unique=False)

    op.create_table(
        "mail_opens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["mail_links.id"], name=op.f("fk_mail_opens_link_id_mail_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_opens")),
    )
    with op.batch_alter_table("mail_opens", schema=None) as batch_op:
        batch_op.create_index("ix_mail_opens_link_at", ["link_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_opens", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_opens_link_at")
    op.drop_table("mail_opens")
    with op.batch_alter_table("mail_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_links_person_id"))
    op.drop_table("mail_links")
