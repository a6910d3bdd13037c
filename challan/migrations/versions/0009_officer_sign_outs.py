"""Signing an account out everywhere (challan.users.sign_out): `officers.sign_outs`, a count that
is part of the account's stamp, so that its bearer tokens and sessions issued before stop working
with the password kept. Before it, a token could only be stopped by disabling the account or
changing its password. Accounts never signed out keep the stamps they had: the column starts at 0.

A column added in place (no batch copy: 0004's triggers stay as they are).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("officers", sa.Column("sign_outs", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.execute("ALTER TABLE officers DROP COLUMN sign_outs")
