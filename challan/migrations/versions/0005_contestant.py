"""Who contested a challan: `contest_party` (the registered owner, or the driver of a vehicle the
registry does not know), and the CNIC and phone or e-mail they gave, recorded on the contest. Three
nullable columns; the rows already there (contests recorded before, none) keep nulls.

Columns are added and dropped with plain ALTER TABLE on both databases (SQLite 3.35+ drops a
column in place): Alembic's batch mode would copy the table and lose 0004's triggers on it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    sa.Column("contest_party", sa.String(16), nullable=True),
    sa.Column("contest_cnic", sa.String(15), nullable=True),
    sa.Column("contest_contact", sa.String(100), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("challans", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE challans DROP COLUMN {column.name}")
