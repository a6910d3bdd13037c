"""`anpr officer ...` in-process through the same guard as the installed command, and `anpr serve`
started for real as a subprocess on a free loopback port."""

from __future__ import annotations

import functools
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from sqlmodel import Session

from anpr.cli import cli
from anpr.cli.common import run_guarded
from challan import users
from challan.db import get_engine
from tests.challan.conftest import _forget

ANPR = Path(sys.executable).with_name("anpr")


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


@pytest.fixture
def anpr(db_url, monkeypatch, capsys):
    """Run `anpr ARGS... --db URL` with `stdin` as standard input: (exit code, stdout, stderr)."""
    command = typer.main.get_command(cli)

    def run(*args: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = run_guarded(functools.partial(command.main, args=[*args, "--db", db_url], prog_name="anpr"))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return run


PERSON = ("--full-name", "Sana Khalid", "--rank", "Inspector", "--badge", "etc-1042")


def test_officer_add_reads_the_password_from_stdin_and_stores_an_argon2_hash(anpr, db_url):
    assert anpr("officer", "add", "Sana.K", *PERSON, "--role", "admin", stdin="a long passphrase\n") == (
        0,
        ["officer sana.k added (role admin): Inspector Sana Khalid, badge ETC-1042"],
        [],
    )
    with Session(get_engine(db_url)) as session:
        officer = users.get_officer(session, username="sana.k")
        assert officer.password_hash.startswith("$argon2id$") and "passphrase" not in officer.password_hash
        assert users.authenticate(session, username="sana.k", password="a long passphrase") is not None
        assert users.authenticate(session, username="sana.k", password="a long passphrasE") is None
    assert anpr("officer", "list") == (
        0,
        ["sana.k                   admin    active   ETC-1042     Inspector Sana Khalid"],
        [],
    )


def test_officer_add_refuses_bad_input_with_one_line(anpr):
    assert anpr("officer", "add", "sana", *PERSON, stdin="a long passphrase\n")[0] == 0
    assert anpr("officer", "add", "sana", *PERSON, stdin="another passphrase\n") == (
        2,
        [],
        ["error: officer 'sana' already exists"],
    )
    bilal = ("--full-name", "Bilal Ahmed", "--rank", "Traffic Warden", "--badge", "TW-77")
    assert anpr("officer", "add", "bilal", *bilal, stdin="short\n") == (
        2,
        [],
        ["error: password must be 10 to 256 characters long"],
    )
    assert anpr("officer", "add", "bilal", *bilal, "--role", "root", stdin="a long passphrase\n") == (
        2,
        [],
        ["error: role 'root' is not one of officer, admin"],
    )
    assert anpr("officer", "add", "../etc", *bilal, stdin="a long passphrase\n")[0] == 2
    assert anpr("officer", "disable", "sana") == (0, ["officer sana disabled"], [])
    assert anpr("officer", "list")[1] == [
        "sana                     officer  disabled ETC-1042     Inspector Sana Khalid"
    ]
    assert anpr("officer", "disable", "nobody") == (3, [], ["error: no officer named 'nobody'"])


@pytest.mark.skipif(not ANPR.exists(), reason="the anpr command is not installed in this environment")
@pytest.mark.parametrize("workers", [1, 2])
def test_anpr_serve_starts_the_portal(db_url, workers):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(ANPR),
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                schema = httpx.get(f"{base}/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert schema.status_code == 200 and "/api/v1/challans" in schema.json()["paths"]
        assert httpx.get(f"{base}/api/v1/challans", params={"plate": "LEH5789"}).json() == []
        assert httpx.get(f"{base}/api/v1/officers/me").status_code == 401
        assert "server" not in schema.headers  # uvicorn's banner is off
    finally:
        server.terminate()
        _, err = server.communicate(timeout=15)
    assert f"portal on http://127.0.0.1:{port}/" in err


def test_the_portal_never_imports_numpy_or_cv2(db_url):
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from challan.web.app import create_app\n"
        "from challan.web.settings import PortalSettings\n"
        f"with TestClient(create_app(PortalSettings(database_url={db_url!r}))) as client:\n"
        "    assert client.get('/api/v1/challans', params={'plate': 'LEH5789'}).status_code == 200\n"
        "    assert client.get('/').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'cv2', 'torch')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
