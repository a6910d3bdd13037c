"""Dependencies as `Annotated` aliases, as in full-stack-fastapi-template: the settings, a database
session, the officer behind a bearer token (API) or a session cookie (pages, challan.web.sessions),
CSRF checks on forms and the rate limits on public look-ups and logins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from challan.models import Officer, Role
from challan.web import sessions
from challan.web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Tokens, same_origin
from challan.web.settings import PortalSettings

TOKEN_URL = "/api/v1/login/access-token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


# Cheap dependencies are `async def` so that FastAPI calls them in the event loop instead of handing
# each to the thread pool (a hop per dependency shows up in the look-up latency).


async def get_settings(request: Request) -> PortalSettings:
    return request.app.state.settings


async def get_tokens(request: Request) -> Tokens:
    return request.app.state.tokens


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; the route (run in the thread pool) does the I/O and commits. Closing
    hands the connection back to the pool (a rollback on loopback: negligible in the event loop)."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[PortalSettings, Depends(get_settings)]
TokensDep = Annotated[Tokens, Depends(get_tokens)]
SessionDep = Annotated[Session, Depends(get_session)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _load(session: Session, credentials) -> Officer | None:
    if credentials is None:
        return None
    officer = session.get(Officer, credentials.officer_id)
    return officer if credentials.matches(officer) else None


def session_officer(request: Request, session: SessionDep, settings: SettingsDep) -> Officer | None:
    """The officer signed in on this browser, if any (pages)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None  # a citizen: no database round trip
    signed_in = sessions.resume(session, cookie, settings)
    if signed_in is None:
        return None
    request.state.session_csrf = signed_in.csrf
    return signed_in.officer


def api_officer(session: SessionDep, tokens: TokensDep, token: TokenDep) -> Officer:
    officer = _load(session, tokens.read_api_token(token))
    if officer is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated" if not token else "Invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return officer


def api_admin(officer: Annotated[Officer, Depends(api_officer)]) -> Officer:
    return _require_admin(officer)


def page_officer(request: Request, officer: Annotated[Officer | None, Depends(session_officer)]) -> Officer:
    if officer is None:
        raise LoginRequired(request.url.path)
    return officer


def page_admin(officer: Annotated[Officer, Depends(page_officer)]) -> Officer:
    return _require_admin(officer)


def _require_admin(officer: Officer) -> Officer:
    if officer.role != Role.ADMIN:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admin role required")
    return officer


def viewer_officer(
    session: SessionDep,
    tokens: TokensDep,
    token: TokenDep,
    page: Annotated[Officer | None, Depends(session_officer)],
) -> Officer | None:
    """An officer by token or cookie on a public route (who may see personal data), else None."""
    return page or _load(session, tokens.read_api_token(token))


CurrentOfficer = Annotated[Officer, Depends(api_officer)]
AdminOfficer = Annotated[Officer, Depends(api_admin)]
PageOfficer = Annotated[Officer, Depends(page_officer)]
PageAdmin = Annotated[Officer, Depends(page_admin)]
MaybeOfficer = Annotated[Officer | None, Depends(viewer_officer)]
MaybePageOfficer = Annotated[Officer | None, Depends(session_officer)]


async def check_csrf(request: Request, tokens: TokensDep, officer: MaybePageOfficer) -> None:
    """Every form POST carries the token the page was rendered with (field or X-CSRF-Token header);
    with an officer logged in, the token must also be the one bound into the session at login."""
    if not same_origin(request.headers.get("origin"), request.headers.get("host")):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Cross-origin form refused")
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    bound = request.state.session_csrf if officer is not None else None
    if not tokens.csrf_valid(cookie_value=request.cookies.get(CSRF_COOKIE), submitted=submitted, bound=bound):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="CSRF token missing or invalid")


async def _limit(request: Request, limiter_name: str) -> None:
    limiter = getattr(request.app.state, limiter_name)
    client = request.client.host if request.client else "unknown"
    wait = await limiter.check(client)
    if wait is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many requests from your address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


async def limit_lookups(request: Request) -> None:
    await _limit(request, "lookup_limiter")


async def limit_logins(request: Request) -> None:
    await _limit(request, "login_limiter")


CsrfChecked = Depends(check_csrf)
LookupLimited = Depends(limit_lookups)
LoginLimited = Depends(limit_logins)

# Record ids are 32-bit integers in the database; larger numbers are refused before a query is built.
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647)]
