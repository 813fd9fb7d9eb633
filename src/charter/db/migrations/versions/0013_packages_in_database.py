"""access packages kept in Charter's database

``execution_packages``: the sealed package of a completed access/portability
run, inserted in the transaction that completes it (before, a file under
``CHARTER_HOME/packages`` written beside the commit: a crash could keep
"completed" and lose the file, and a worker on another machine wrote it where
the web server could not read it). Files written before this revision are still
read and removed where they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import charter.db.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_packages",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", charter.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["execution_runs.id"], name=op.f("fk_execution_packages_run_id_execution_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_execution_packages")),
    )


def downgrade() -> None:
    op.drop_table("execution_packages")
