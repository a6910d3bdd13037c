"""The records fixtures of tests/challan for the commands that work on records (`anpr challan`,
`anpr registry`, `anpr officer`, `anpr serve`): one database per test, SQLite and PostgreSQL."""

from tests.challan.conftest import db_url, images, session, settings  # noqa: F401
