"""`anpr serve` warns before it serves citizens a portal set up for one machine: QR codes that point
at 127.0.0.1:8000, and session cookies without the Secure flag on an address others can reach. The
real command, started on a free port and stopped once it says where it listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from anpr.cli.serve import deployment_warnings

ANPR = Path(sys.executable).with_name("anpr")
PUBLIC_URL = (
    "warning: ANPR_PUBLIC_URL is not set: the QR codes on the notices point at"
    " http://127.0.0.1:8000/verify/..., which no citizen can open; set it to the portal's public address"
)


def cookies(host: str) -> str:
    return (
        f"warning: ANPR_SECURE_COOKIES is off while listening on {host}: officers' session cookies go"
        " without the Secure flag and no HSTS is sent; serve over HTTPS and set ANPR_SECURE_COOKIES=1"
    )


@pytest.mark.parametrize(
    ("host", "public_url", "secure", "expected"),
    [
        ("127.0.0.1", None, False, [PUBLIC_URL]),
        ("127.0.0.1", "https://echallan.example.pk", False, []),
        ("localhost", "https://echallan.example.pk", False, []),
        ("::1", "https://echallan.example.pk", False, []),
        ("0.0.0.0", "https://echallan.example.pk", False, [cookies("0.0.0.0")]),
        ("10.1.2.3", None, False, [PUBLIC_URL, cookies("10.1.2.3")]),
        ("echallan.example.pk", "https://echallan.example.pk", False, [cookies("echallan.example.pk")]),
        ("0.0.0.0", "https://echallan.example.pk", True, []),
    ],
)
def test_deployment_warnings(host, public_url, secure, expected):
    assert [
        f"warning: {w}" for w in deployment_warnings(host, public_url=public_url, secure_cookies=secure)
    ] == (expected)


def serve_stderr(tmp_path: Path, host: str, **variables: str) -> list[str]:
    """What `anpr serve --host HOST` prints on stderr up to the line saying where it listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("ANPR_PUBLIC_URL", "ANPR_SECURE_COOKIES")}
    env |= {"ANPR_SECRET_KEY": "k" * 32, **variables}
    command = [
        str(ANPR),
        "serve",
        "--db",
        f"sqlite:///{tmp_path / 'r.db'}",
        "--host",
        host,
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    try:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("portal on "):
                break
    finally:
        server.terminate()
        server.wait(timeout=15)
    return lines


@pytest.mark.skipif(not ANPR.exists(), reason="the anpr command is not installed in this environment")
def test_serve_warns_on_an_open_address_without_public_url_or_secure_cookies(tmp_path):
    lines = serve_stderr(tmp_path, "0.0.0.0")
    assert lines[:-1] == [PUBLIC_URL, cookies("0.0.0.0")]
    assert lines[-1].startswith("portal on http://0.0.0.0:")


@pytest.mark.skipif(not ANPR.exists(), reason="the anpr command is not installed in this environment")
def test_serve_set_up_for_citizens_says_nothing_more(tmp_path):
    lines = serve_stderr(
        tmp_path, "0.0.0.0", ANPR_PUBLIC_URL="https://echallan.example.pk", ANPR_SECURE_COOKIES="1"
    )
    assert len(lines) == 1 and lines[0].startswith("portal on http://0.0.0.0:")
