"""Engines and sessions. The schema is Alembic's (challan/migrations): `init_db(url)` upgrades any
database to the latest revision, `check_ready(url)` does that or says in one line why it cannot, and
`session_scope(url)` checks once per URL before its first session. SQLite gets foreign keys and WAL;
PostgreSQL is used as configured (the portal and the workers as a role that may not migrate:
challan.grants)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from anpr.errors import AnprError
from challan.settings import PACKAGE_DIR, get_settings

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL given, else ANPR_DATABASE_URL, else sqlite:///anpr.db in the working folder."""
    return url or get_settings().database_url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@lru_cache(maxsize=16)
def get_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def init_db(url: str | None = None) -> Engine:
    """Create or upgrade the schema to the latest migration; returns the engine."""
    from alembic import command

    engine = get_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    _ready.add(database_url(url))
    return engine


_ready: set[str] = set()


class DatabaseUnavailable(AnprError):
    """The records database answers but cannot be used: not a database, or behind the code's schema
    and this role may not migrate it. (Unreachable is SQLAlchemy's OperationalError, which the CLI
    reports in one line itself.)"""

    exit_code = 3


def check_ready(url: str | None = None) -> None:
    """Reachable and at the latest revision, upgrading it where this role may; else one line saying
    why (DatabaseUnavailable, or the OperationalError of an unreachable server)."""
    url = database_url(url)
    try:
        init_db(url)
    except sa.exc.OperationalError:
        raise
    except sa.exc.DBAPIError as exc:
        lines = str(exc.orig).strip().splitlines()
        detail = lines[0] if lines else type(exc.orig).__name__
        where = redacted(url)
        revisions = _revisions(url)
        if revisions is not None and revisions[0] != revisions[1]:
            raise DatabaseUnavailable(
                f"the records database {where} is at revision {revisions[0] or 'none'}, this code needs"
                f" {revisions[1]}, and migrating it failed ({detail}): migrations run as the database's"
                " owner ('anpr db upgrade')"
            ) from None
        raise DatabaseUnavailable(f"the records database {where} cannot be used: {detail}") from None


def _revisions(url: str) -> tuple[str | None, str] | None:
    """(the database's revision, the code's head), or None if the database cannot say."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with get_engine(url).connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except sa.exc.DBAPIError:
        return None
    return current, ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""


def redacted(url: str) -> str:
    """The URL without its password, to print."""
    return sa.make_url(url).render_as_string(hide_password=True)


def require_existing(url: str | None = None) -> None:
    """For a command that only works on records already there: a SQLite database file that does not
    exist is a NotFoundError, and nothing is created (no file, no folder). Servers are not checked."""
    from challan.errors import NotFoundError

    parsed = sa.make_url(database_url(url))
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not Path(path).is_file():
        raise NotFoundError(
            f"no records database at {path} (nothing was created): check --db, or record into it first"
            " with 'anpr process' or 'anpr demo'"
        )


@contextmanager
def session_scope(url: str | None = None, *, create: bool = True) -> Iterator[Session]:
    """A session that commits when the block ends and rolls everything back if it raises, so a failed
    command leaves the database as it was. The schema is brought up to date on first use. With
    `create=False` a SQLite database must already exist (require_existing)."""
    url = database_url(url)
    if not create:
        require_existing(url)
    if url not in _ready:
        check_ready(url)
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
