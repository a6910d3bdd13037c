"""The application factory: `create_app(settings)` wires the routers, the security middleware, the
templates and static files, and turns the records' errors into status codes (JSON under /api/, a
page elsewhere; a page that needs a login redirects to it)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from anpr.errors import AnprError
from challan.crud import RecordsBusyError
from challan.db import check_ready, get_engine
from challan.retention import PurgeTimer
from challan.web import views
from challan.web.deps import LoginRequired
from challan.web.ratelimit import build_limiter
from challan.web.routes import (
    alerts,
    api_challans,
    api_review,
    auth,
    cameras,
    challans,
    contests,
    dashboard,
    flow,
    ingest,
    review,
)
from challan.web.security import SecurityMiddleware, Tokens
from challan.web.settings import PortalSettings

STATIC_DIR = Path(__file__).resolve().parent / "static"
log = logging.getLogger("challan.web")
CONFLICT = "This conflicts with a change made at the same time; nothing was changed. Reload and try again."
BUSY = "The records are busy or unavailable; nothing was changed. Try again in a moment."


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Migrates where this role may; a role that may not (challan.grants) facing a database behind
        # the code gets one line naming the revision and who must migrate, not a driver's traceback.
        check_ready(settings.database_url)
        # The hub purges what the retention lets go (challan.retention), hourly, in a thread.
        purging = PurgeTimer(app.state.engine, settings).start()
        yield
        await run_in_threadpool(purging.stop)
        await app.state.lookup_limiter.aclose()
        await app.state.login_limiter.aclose()

    app = FastAPI(
        title="E-challan portal",
        summary="Look up, verify and contest traffic challans; officers review camera-recorded violations.",
        version="1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN; the portal runs offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = get_engine(settings.database_url)
    app.state.tokens = Tokens(settings)
    app.state.templates = views.build_templates(settings)
    app.state.lookup_limiter = build_limiter(settings, name="lookups", per_minute=settings.lookups_per_minute)
    app.state.login_limiter = build_limiter(settings, name="logins", per_minute=settings.logins_per_minute)

    for router in (
        api_challans.router,
        api_review.violations,
        api_review.contests,
        api_review.stats,
        auth.api,
        auth.router,
        challans.router,
        review.router,
        contests.router,
        dashboard.router,
        flow.router,
        flow.api,
        alerts.router,
        cameras.router,
        ingest.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.secure_cookies)
    _add_error_handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status_code: int, detail, headers=None) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    message = detail if isinstance(detail, str) else "The request is not valid"
    response = views.render(request, "error.html", {"status": status_code, "message": message}, status_code)
    response.headers.update(headers or {})
    return response


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnprError)
    async def records_error(request: Request, exc: AnprError):
        retry = {"Retry-After": "1"} if isinstance(exc, RecordsBusyError) else None
        return _error(request, views.http_status(exc), views.error_message(exc), retry)

    # Safety nets: the records' own checks (challan.crud.lock_for_change) make these rare, but a change
    # that loses a race with another, or a database that stays locked, is answered in words.
    @app.exception_handler(sa.exc.IntegrityError)
    async def conflict(request: Request, exc: sa.exc.IntegrityError):
        log.warning("refused a change that conflicts with another made at the same time: %s", exc.orig)
        return _error(request, 409, CONFLICT)

    @app.exception_handler(sa.exc.OperationalError)
    async def busy(request: Request, exc: sa.exc.OperationalError):
        log.warning("records database unavailable: %s", exc.orig)
        return _error(request, 503, BUSY, {"Retry-After": "1"})

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if _is_api(request):
            return await request_validation_exception_handler(request, exc)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid')}")


def app_from_env() -> FastAPI:
    """For `uvicorn --factory challan.web.app:app_from_env` (what `anpr serve` runs)."""
    return create_app(PortalSettings.from_env())
