"""Tamper-evident records: the audit log's hash chain (`audit_chain`, one link per entry, the entries
already written sealed here in id order), and triggers that refuse changing what never changes once
written: a challan's terms, a violation's camera facts, an officer's username and role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from challan.chain import GENESIS, link_digest

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (trigger name, columns that never change after the row is written, why)
FIXED = {
    "challans": (
        "challans_fixed_terms",
        ("number", "psid", "fine_pkr", "fine_schedule", "fine_class", "plate", "issued_on", "due_on"),
        "the terms of an issued challan (number, PSID, fine, plate, dates) never change",
    ),
    "violations": (
        "violations_fixed_facts",
        ("event_id", "site_id", "code", "occurred_at", "vehicle_type", "plate_text", "plate_year"),
        "what the camera recorded (offence, time, place, plate as read) never changes",
    ),
    "officers": (
        "officers_fixed_role",
        ("username", "role"),
        "an account keeps its username and role; add another account and disable this one",
    ),
}


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_digest", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_log.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("entry_id"),
        sa.UniqueConstraint("prev_digest"),
    )
    seal_existing_entries()
    postgres = op.get_bind().dialect.name == "postgresql"
    (create_postgres_guards if postgres else create_sqlite_guards)()


def seal_existing_entries() -> None:
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("changes", sa.JSON()),
    )
    links, prev = [], GENESIS
    for seq, entry in enumerate(op.get_bind().execute(sa.select(log).order_by(log.c.id)), start=1):
        digest = link_digest(
            seq=seq,
            entry_id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            reason=entry.reason,
            changes=entry.changes,
            prev=prev,
        )
        links.append({"seq": seq, "entry_id": entry.id, "prev_digest": prev, "digest": digest})
        prev = digest
    if links:
        chain = sa.table(
            "audit_chain",
            sa.column("seq", sa.Integer()),
            sa.column("entry_id", sa.Integer()),
            sa.column("prev_digest", sa.String()),
            sa.column("digest", sa.String()),
        )
        op.bulk_insert(chain, links)


def create_postgres_guards() -> None:
    # anpr_refuse_change() comes from 0001.
    op.execute(
        "CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain "
        "FOR EACH ROW EXECUTE FUNCTION anpr_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
        "FOR EACH STATEMENT EXECUTE FUNCTION anpr_refuse_change()"
    )
    op.execute(
        "CREATE FUNCTION anpr_refuse_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'UPDATE of % % refused: %', TG_TABLE_NAME, OLD.id, TG_ARGV[0]; END $$"
    )
    for table, (name, columns, why) in FIXED.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION anpr_refuse_fixed('{why}')"
        )


def create_sqlite_guards() -> None:
    op.execute(
        "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain "
        "BEGIN SELECT RAISE(ABORT, 'DELETE on audit_chain refused: records are never deleted'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain "
        "BEGIN SELECT RAISE(ABORT, 'UPDATE on audit_chain refused: the table is append-only'); END"
    )
    for table, (name, columns, why) in FIXED.items():
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, 'UPDATE of {table} refused: {why}'); END"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (name, _columns, _why) in FIXED.items():
        op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION anpr_refuse_fixed()")
    op.drop_table("audit_chain")  # its own triggers go with it
