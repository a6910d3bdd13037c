"""Initial schema: sites, cameras, vehicle registry, events, violations, evidence, challans, payments,
audit log; triggers that refuse deleting records and changing append-only rows.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

STATUSES = ("pending", "approved", "issued", "paid", "contested", "upheld", "cancelled", "rejected")
# Mirrors challan.models (migrations must not import the models: they change, revisions do not).
APPEND_ONLY_TABLES = ("audit_log", "evidence", "payments")
NO_DELETE_TABLES = ("sites", "cameras", "vehicles", "events", "violations", "challans")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "vehicles",
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("registration_year", sa.String(4), nullable=True),
        sa.Column("vehicle_class", sa.String(40), nullable=False),
        sa.Column("make", sa.String(80), nullable=True),
        sa.Column("colour", sa.String(40), nullable=True),
        sa.Column("owner_name", sa.String(200), nullable=False),
        sa.Column("owner_address", sa.String(400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_cnic", sa.String(15), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicles_owner_cnic"), ["owner_cnic"], unique=False)
        batch_op.create_index(batch_op.f("ix_vehicles_plate"), ["plate"], unique=True)

    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("description", sa.String(300), nullable=True),
        sa.Column("serial", sa.String(100), nullable=True),
        sa.Column("calibrated_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_site_id"), ["site_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate_text", sa.String(16), nullable=False),
        sa.Column("plate_confidence", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "track_id", "first_seen", name="uq_events_track"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_site_id"), ["site_id"], unique=False)

    op.create_table(
        "violations",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("plate_text", sa.String(16), nullable=False),
        sa.Column("plate_year", sa.String(4), nullable=True),
        sa.Column("plate_confidence", sa.Float(), nullable=False),
        sa.Column("plate_candidates", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("corrected_plate", sa.String(16), nullable=True),
        sa.Column("reviewed_by", sa.String(100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "code", name="uq_violations_offence"),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="ck_violations_status"),
    )
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_violations_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_corrected_plate"), ["corrected_plate"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_plate_text"), ["plate_text"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_violations_status"), ["status"], unique=False)

    op.create_table(
        "challans",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("psid", sa.String(24), nullable=False),
        sa.Column("fine_pkr", sa.Integer(), nullable=False),
        sa.Column("fine_schedule", sa.String(64), nullable=False),
        sa.Column("fine_class", sa.String(40), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("officer", sa.String(100), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contest_reason", sa.String(1000), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("violation_id"),
    )
    with op.batch_alter_table("challans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_challans_number"), ["number"], unique=True)
        batch_op.create_index(batch_op.f("ix_challans_plate"), ["plate"], unique=False)
        batch_op.create_index(batch_op.f("ix_challans_psid"), ["psid"], unique=True)

    op.create_table(
        "evidence",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("violation_id", "kind", "sha256", name="uq_evidence_file"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_violation_id"), ["violation_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challan_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("amount_pkr", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["challan_id"],
            ["challans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_challan_id"), ["challan_id"], unique=False)

    create_guards()


def create_guards() -> None:
    """Nothing is ever deleted; audit entries, evidence rows and payments are never changed either."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION anpr_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% on % refused: records are never deleted, append-only rows never changed', "
            "TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY_TABLES + NO_DELETE_TABLES:
            ops = "UPDATE OR DELETE" if table in APPEND_ONLY_TABLES else "DELETE"
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE {ops} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION anpr_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION anpr_refuse_change()"
            )
        return
    for table in APPEND_ONLY_TABLES + NO_DELETE_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'DELETE on {table} refused: records are never deleted'); END"
        )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'UPDATE on {table} refused: the table is append-only'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_challan_id"))

    op.drop_table("payments")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_violation_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("challans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challans_psid"))
        batch_op.drop_index(batch_op.f("ix_challans_plate"))
        batch_op.drop_index(batch_op.f("ix_challans_number"))

    op.drop_table("challans")
    with op.batch_alter_table("violations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_violations_status"))
        batch_op.drop_index(batch_op.f("ix_violations_site_id"))
        batch_op.drop_index(batch_op.f("ix_violations_plate_text"))
        batch_op.drop_index(batch_op.f("ix_violations_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_violations_event_id"))
        batch_op.drop_index(batch_op.f("ix_violations_corrected_plate"))
        batch_op.drop_index(batch_op.f("ix_violations_code"))

    op.drop_table("violations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_site_id"))

    op.drop_table("events")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_site_id"))

    op.drop_table("cameras")
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicles_plate"))
        batch_op.drop_index(batch_op.f("ix_vehicles_owner_cnic"))

    op.drop_table("vehicles")
    op.drop_table("sites")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION anpr_refuse_change()")
