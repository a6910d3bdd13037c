"""Cameras the hub does not run post their events to it (POST /api/v1/ingest/events).

- `cameras`: key_hash (the SHA-256 of the camera's API key, unique; the key is shown once and never
  stored), rules (the site's rules as `anpr camera add` read them, JSON), events_per_minute (the
  key's rate limit) and revoked_at. Cameras recorded before keep nulls: they post nothing.
- `ingest_receipts`: one row per event a camera posted, unique on (camera, track, first_seen), so a
  retry finds it and stores nothing again.

Columns are added and dropped with plain ALTER TABLE on both databases (SQLite 3.35+ drops a column
in place): Alembic's batch mode would copy `cameras` and lose 0001's trigger on it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAMERA_COLUMNS: tuple[sa.Column, ...] = (
    sa.Column("key_hash", sa.String(64), nullable=True),
    sa.Column("rules", sa.JSON(), nullable=True),
    sa.Column("events_per_minute", sa.Integer(), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
KEY_INDEX = "ix_cameras_key_hash"


def upgrade() -> None:
    for column in CAMERA_COLUMNS:
        op.add_column("cameras", column)
    op.create_index(KEY_INDEX, "cameras", ["key_hash"], unique=True)
    op.create_table(
        "ingest_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("camera_id", "track_id", "first_seen", name="uq_ingest_receipts_event"),
    )
    op.create_index("ix_ingest_receipts_camera_id", "ingest_receipts", ["camera_id"], unique=False)
    op.create_index("ix_ingest_receipts_event_id", "ingest_receipts", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ingest_receipts_event_id", table_name="ingest_receipts")
    op.drop_index("ix_ingest_receipts_camera_id", table_name="ingest_receipts")
    op.drop_table("ingest_receipts")
    op.drop_index(KEY_INDEX, table_name="cameras")
    for column in reversed(CAMERA_COLUMNS):
        op.execute(f"ALTER TABLE cameras DROP COLUMN {column.name}")
