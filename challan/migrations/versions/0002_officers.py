"""Officer accounts under Alembic: the `officers` table, never deleted from.

Before this revision the portal created the table itself at start-up, so a database made by 0001 may
already have it, with accounts in it. That table has exactly this shape (the same model through
`create_all`) and is adopted as it is; only the guard against deleting is added.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("officers"):
        op.create_table(
            "officers",
            sa.Column("username", sa.String(40), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("password_hash", sa.String(200), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("officers", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_officers_username"), ["username"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        # anpr_refuse_change() comes from 0001.
        op.execute(
            "CREATE TRIGGER officers_guard BEFORE DELETE ON officers "
            "FOR EACH ROW EXECUTE FUNCTION anpr_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER officers_no_truncate BEFORE TRUNCATE ON officers "
            "FOR EACH STATEMENT EXECUTE FUNCTION anpr_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER officers_no_delete BEFORE DELETE ON officers "
            "BEGIN SELECT RAISE(ABORT, 'DELETE on officers refused: records are never deleted'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officers_username"))
    op.drop_table("officers")
