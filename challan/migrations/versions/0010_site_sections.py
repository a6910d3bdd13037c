"""The section a site the hub runs itself ends (`sites.section`, challan.rules.SectionRules as JSON),
written by its footage jobs from the site file, so that an entry recorded after the site's exits
(footage processed out of order, on several workers at once) still pairs with them
(challan.section.late_exits). Null for every other site; cameras the hub does not run keep their
section in `cameras.rules` (0007).

A column added in place (no batch copy).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sites", sa.Column("section", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE sites DROP COLUMN section")
