"""The hub's records (issue #27): every vehicle a camera followed (`sightings`), plates on named lists
(`hotlist`), and what a control room acts on (`alerts`).

- `sightings`: one row per track, unique on (site, track, first_seen) like `events`; rows may be
  deleted (a retention purges the sightings of the innocent), so no trigger guards them.
- `hotlist`: never deleted (removal sets removed_at); a plate is on a list once at a time (a unique
  index over the entries not removed).
- `alerts`: append-only, never changed or deleted; unique on (kind, site, track, first_seen, plate).

New tables only: nothing existing is rebuilt, so 0004's triggers stay as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        sa.Column("plate_text", sa.String(16), nullable=False),
        sa.Column("plate_year", sa.String(4), nullable=True),
        sa.Column("plate_confidence", sa.Float(), nullable=False),
        sa.Column("plate_candidates", sa.JSON(), nullable=False),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("colour", sa.String(20), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _time("recorded_at"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "track_id", "first_seen", name="uq_sightings_track"),
    )
    op.create_index("ix_sightings_site_id", "sightings", ["site_id"])
    op.create_index("ix_sightings_first_seen", "sightings", ["first_seen"])
    op.create_index("ix_sightings_plate_seen", "sightings", ["plate_text", "first_seen"])

    op.create_table(
        "hotlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("list_name", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
        _time("added_at"),
        sa.Column("removed_by", sa.String(100), nullable=True),
        _time("removed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hotlist_plate", "hotlist", ["plate"])
    op.create_index(
        "uq_hotlist_listed",
        "hotlist",
        ["plate", "list_name"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("read_text", sa.String(16), nullable=False),
        sa.Column("match_kind", sa.String(8), nullable=True),
        sa.Column("list_name", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        _time("first_seen"),
        _time("seen_at"),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _time("raised_at"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "site_id", "track_id", "first_seen", "plate", name="uq_alerts_sighting"),
    )
    op.create_index("ix_alerts_kind", "alerts", ["kind"])
    op.create_index("ix_alerts_plate", "alerts", ["plate"])
    op.create_index("ix_alerts_site_id", "alerts", ["site_id"])
    op.create_index("ix_alerts_seen_at", "alerts", ["seen_at"])
    _guard()


def _guard() -> None:
    """Alerts are never changed or deleted; hotlist entries are never deleted (0001's guards)."""
    if op.get_bind().dialect.name == "postgresql":  # anpr_refuse_change() is 0001's
        for table, ops in (("alerts", "UPDATE OR DELETE"), ("hotlist", "DELETE")):
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE {ops} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION anpr_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION anpr_refuse_change()"
            )
        return
    for table in ("alerts", "hotlist"):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'DELETE on {table} refused: records are never deleted'); END"
        )
    op.execute(
        "CREATE TRIGGER alerts_no_update BEFORE UPDATE ON alerts "
        "BEGIN SELECT RAISE(ABORT, 'UPDATE on alerts refused: the table is append-only'); END"
    )


def downgrade() -> None:
    op.drop_table("alerts")  # its triggers and indexes go with it
    op.drop_table("hotlist")
    op.drop_table("sightings")
