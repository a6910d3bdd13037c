"""`anpr serve`: the web portal (citizens' look-ups, officers' review) under uvicorn."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from typing import Annotated

import typer

from anpr.cli.common import DbOption


def serve(
    db: DbOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-For from 127.0.0.1 (behind a local reverse proxy).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the portal: plate look-up, challan pages and PDFs, QR verification, contests, and the
    officers' review queue, contests and dashboard; JSON API under /api/v1 (OpenAPI at
    /api/v1/openapi.json). Settings come from ANPR_* variables (ANPR_SECRET_KEY, ANPR_EVIDENCE_DIR,
    ANPR_PUBLIC_URL, ANPR_LOOKUPS_PER_MINUTE, ANPR_SECURE_COOKIES...); with several workers, set
    ANPR_REDIS_URL so that they share one rate limit."""
    import uvicorn

    from anpr.settings import environment, variable
    from challan.db import init_db
    from challan.retention import retention_hours
    from challan.web.settings import PortalSettings
    from challan.webhook import checked_url

    # The portal's workers read their settings from the environment (challan.web.app:app_from_env).
    if db:
        os.environ[variable("database_url")] = db
    if not environment().secret_key:
        # One key for every worker of this run; sessions end when the server restarts.
        os.environ[variable("secret_key")] = secrets.token_urlsafe(32)
        typer.echo("note: ANPR_SECRET_KEY is not set; officer sessions last until the server stops", err=True)
    settings = PortalSettings.from_env()
    retention_hours(settings)  # a bad setting is one line here, not a traceback from a worker
    if settings.alert_webhook:
        checked_url(settings.alert_webhook)
    init_db(settings.database_url)  # once, before the workers start
    if workers > 1 and not settings.redis_url:
        typer.echo(
            f"note: ANPR_REDIS_URL is not set; each of the {workers} workers rate-limits on its own", err=True
        )
    for warning in deployment_warnings(
        host, public_url=environment().public_url, secure_cookies=settings.secure_cookies
    ):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"portal on http://{host}:{port}/ (records: {_redacted(settings.database_url)})", err=True)
    config = uvicorn.Config(
        "challan.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        log_level=log_level,
        server_header=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    # The workers accept on a socket made here, whose `proto` Python leaves at 0, so asyncio does
    # not set TCP_NODELAY on the connections and every keep-alive response stalls ~40 ms (Nagle
    # against delayed ACK). Set on the listening socket, Linux passes it to accepted ones.
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


def deployment_warnings(host: str, *, public_url: str | None, secure_cookies: bool) -> list[str]:
    """What is wrong for a portal citizens reach: the QR codes' address left at its default, and
    session cookies without the Secure flag where the portal listens beyond this machine."""
    from challan.settings import Settings

    warnings = []
    if not public_url:
        default = Settings().public_url
        warnings.append(
            f"ANPR_PUBLIC_URL is not set: the QR codes on the notices point at {default}/verify/...,"
            " which no citizen can open; set it to the portal's public address"
        )
    if not secure_cookies and not _loopback(host):
        warnings.append(
            f"ANPR_SECURE_COOKIES is off while listening on {host}: officers' session cookies go"
            " without the Secure flag and no HSTS is sent; serve over HTTPS and set ANPR_SECURE_COOKIES=1"
        )
    return warnings


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: reached from elsewhere, as far as we can tell


def _redacted(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)
