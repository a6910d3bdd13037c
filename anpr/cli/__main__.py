"""`python -m anpr.cli ...` runs the `anpr` command (where the entry point script is not on PATH,
or to run a checkout's code with PYTHONPATH)."""

from anpr.cli import app

app()
