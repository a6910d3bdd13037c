"""Server-side officer sessions, failed sign-ins for the per-account back-off, and one payment
reference whatever its letter case.

- `officer_sessions`: a signed-in browser; the cookie holds a random id, the table its SHA-256, so
  signing out (revoked_at) ends the session for every copy of the cookie.
- `login_failures`: failed sign-ins by the name tried, for the back-off.
- `uq_payments_reference_nocase`: a unique index on upper(reference). Payments are append-only, so
  rows recorded before this revision keep their case; should two of them differ only in case the
  upgrade stops and names them, for someone to decide which payment stands.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("password_stamp", sa.String(16), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("officer_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officer_sessions_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_officer_sessions_officer_id"), ["officer_id"], unique=False)

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"], unique=False)

    _refuse_case_duplicates()
    op.create_index("uq_payments_reference_nocase", "payments", [sa.text("upper(reference)")], unique=True)


def _refuse_case_duplicates() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT upper(reference), count(*) FROM payments GROUP BY upper(reference) HAVING count(*) > 1"
        )
    )
    duplicates = sorted(reference for reference, _count in rows)
    if duplicates:
        raise RuntimeError(
            "payments recorded twice under one reference in different letter case: "
            + ", ".join(duplicates[:10])
            + "; decide which payment stands before upgrading (payments are never changed or deleted)"
        )


def downgrade() -> None:
    op.drop_index("uq_payments_reference_nocase", table_name="payments")
    op.drop_index("ix_login_failures_username_at", table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("officer_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_sessions_officer_id"))
        batch_op.drop_index(batch_op.f("ix_officer_sessions_token_hash"))
    op.drop_table("officer_sessions")
