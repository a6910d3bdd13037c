"""The notice names a real officer, and says what is due after the due date.

- `officers`: full_name, rank and badge_number (unique where given). Accounts made before keep nulls
  until `anpr officer edit` fills them in.
- `challans`: late_fine_pkr (the amount due after the due date, where the schedule in force on the
  offence day sets one), and the issuing officer's name, rank and badge as they were on the day of
  issue (a later promotion does not rewrite a notice already served).
- 0004's guard on `challans` is made again with these among the columns that never change.

Columns are added and dropped with plain ALTER TABLE on both databases (SQLite 3.35+ drops a
column in place): Alembic's batch mode would copy the tables and lose 0004's triggers on them.
SQLite refuses to drop a column that a trigger or an index names, so downgrade puts 0004's guard
back and drops the index first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFICER_COLUMNS: tuple[sa.Column, ...] = (
    sa.Column("full_name", sa.String(100), nullable=True),
    sa.Column("rank", sa.String(60), nullable=True),
    sa.Column("badge_number", sa.String(20), nullable=True),
)
CHALLAN_COLUMNS: tuple[sa.Column, ...] = (
    sa.Column("late_fine_pkr", sa.Integer(), nullable=True),
    sa.Column("officer_name", sa.String(100), nullable=True),
    sa.Column("officer_rank", sa.String(60), nullable=True),
    sa.Column("officer_badge", sa.String(20), nullable=True),
)
BADGE_INDEX = "ix_officers_badge_number"

# 0004's guard on challans: its trigger, the columns it fixed, and why (as 0004 wrote it).
GUARD = "challans_fixed_terms"
TERMS_0004 = ("number", "psid", "fine_pkr", "fine_schedule", "fine_class", "plate", "issued_on", "due_on")
TERMS_0006 = (*TERMS_0004, "late_fine_pkr", "officer", "officer_name", "officer_rank", "officer_badge")
WHY_0004 = "the terms of an issued challan (number, PSID, fine, plate, dates) never change"
WHY_0006 = "the terms of an issued challan (number, PSID, fines, plate, dates, issuing officer) never change"


def upgrade() -> None:
    for column in OFFICER_COLUMNS:
        op.add_column("officers", column)
    op.create_index(BADGE_INDEX, "officers", ["badge_number"], unique=True)
    for column in CHALLAN_COLUMNS:
        op.add_column("challans", column)
    _guard(TERMS_0006, WHY_0006)


def downgrade() -> None:
    _guard(TERMS_0004, WHY_0004)
    for column in reversed(CHALLAN_COLUMNS):
        op.execute(f"ALTER TABLE challans DROP COLUMN {column.name}")
    op.drop_index(BADGE_INDEX, table_name="officers")
    for column in reversed(OFFICER_COLUMNS):
        op.execute(f"ALTER TABLE officers DROP COLUMN {column.name}")


def _guard(columns: tuple[str, ...], why: str) -> None:
    """Make challans' guard again over `columns` (anpr_refuse_fixed() on PostgreSQL is 0004's)."""
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(f"DROP TRIGGER {GUARD} ON challans")
        op.execute(
            f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON challans FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION anpr_refuse_fixed('{why}')"
        )
        return
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    op.execute(f"DROP TRIGGER {GUARD}")
    op.execute(
        f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON challans FOR EACH ROW WHEN {changed} "
        f"BEGIN SELECT RAISE(ABORT, 'UPDATE of challans refused: {why}'); END"
    )
