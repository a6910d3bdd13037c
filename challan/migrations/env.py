"""Alembic environment: runs on the connection challan.db.init_db() hands over, or on its own engine
when called from the alembic command line."""

from alembic import context
from sqlmodel import SQLModel

# Every module that declares a table, so that autogenerate compares the whole schema (without
# challan.audit it would propose dropping audit_chain).
from challan import audit, models  # noqa: F401  (registers the tables on SQLModel.metadata)
from challan.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    with get_engine(config.get_main_option("sqlalchemy.url") or None).connect() as connection:
        run_migrations(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
