"""The migrations' environment sees every table the code declares: autogenerate, run in a fresh
interpreter the way `alembic revision --autogenerate` runs it, finds nothing to change on a database
at head (without challan.audit imported there, it proposed dropping audit_chain)."""

import subprocess
import sys

CHECK = """
import sys
from alembic import command
from challan.db import alembic_config, init_db
url = sys.argv[1]
init_db(url)
command.check(alembic_config(url))
"""


def test_autogenerate_on_a_database_at_head_proposes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    done = subprocess.run([sys.executable, "-c", CHECK, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No new upgrade operations detected" in done.stdout + done.stderr
