"""Officers signing in: the login page (a session kept on the server, challan.web.sessions) and the
API's bearer tokens (OAuth2 password flow, as in full-stack-fastapi-template), and who is signed in.
Both back off per account after failed attempts (challan.users.sign_in) besides the per-address
limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm

from challan import users
from challan.models import OfficerPublic
from challan.web import schemas, sessions, views
from challan.web.deps import (
    AdminOfficer,
    CsrfChecked,
    CurrentOfficer,
    LoginLimited,
    MaybePageOfficer,
    SessionDep,
    SettingsDep,
    TokensDep,
)
from challan.web.security import CSRF_COOKIE, SESSION_COOKIE, csrf_cookie_header, new_csrf_value

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["officers"], responses=schemas.problems(400, 401, 422))

WRONG_LOGIN = "Wrong username or password"


def safe_next(path: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//' or backslash tricks)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 200:
        return "/officer/review"
    return path


@router.get("/login")
def login_page(request: Request, officer: MaybePageOfficer, next: str = "/officer/review") -> Response:
    if officer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return views.render(request, "login.html", {"next": safe_next(next)})


@router.post("/login", dependencies=[LoginLimited, CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tokens: TokensDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    next: Annotated[str, Form(max_length=300)] = "/officer/review",
) -> Response:
    context = {"next": safe_next(next), "username": username[:40]}
    try:
        officer = users.sign_in(session, username=username, password=password)
    except users.LoginBackoff as exc:
        response = views.render(request, "login.html", context | {"error": str(exc)}, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if officer is None:
        session.commit()  # the failure counts towards the account's back-off
        return views.render(request, "login.html", context | {"error": WRONG_LOGIN}, status_code=401)
    # A fresh CSRF value, bound into the session: a value planted before login is worthless after it.
    csrf = new_csrf_value()
    token = sessions.start(session, officer=officer, csrf=csrf)
    session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=tokens.max_age,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    response.raw_headers.append((b"set-cookie", csrf_cookie_header(csrf, settings.secure_cookies)))
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends the session on the server: a copy of the cookie opens nothing afterwards."""
    sessions.revoke(session, request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=settings.secure_cookies)
    response.delete_cookie(CSRF_COOKIE, httponly=True, samesite="strict", secure=settings.secure_cookies)
    return response


@api.post(
    "/login/access-token",
    response_model=schemas.Token,
    dependencies=[LoginLimited],
    responses=schemas.problems(429),
)
def access_token(
    session: SessionDep, tokens: TokensDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> schemas.Token:
    """A bearer token for the officer API (valid for the session length in the settings)."""
    try:
        officer = users.sign_in(session, username=form.username, password=form.password)
    except users.LoginBackoff as exc:
        raise HTTPException(
            status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    session.commit()
    if officer is None:
        raise HTTPException(status_code=401, detail=WRONG_LOGIN, headers={"WWW-Authenticate": "Bearer"})
    return schemas.Token(access_token=tokens.api_token(officer))


@api.get("/officers/me", response_model=OfficerPublic)
def me(officer: CurrentOfficer):
    return officer


@api.post("/officers/me/sign-out", status_code=204)
def sign_out_me(session: SessionDep, officer: CurrentOfficer) -> Response:
    """Sign this account out everywhere: every bearer token (this one too) and every portal session
    stop working at once; the password is kept, and signing in again gives a new token."""
    users.sign_out(
        session,
        username=officer.username,
        actor=f"officer:{officer.username}",
        reason="signed out everywhere",
    )
    session.commit()
    return Response(status_code=204)


@api.post("/officers/{username}/sign-out", status_code=204, responses=schemas.problems(403, 404))
def sign_out_officer(session: SessionDep, admin: AdminOfficer, username: str) -> Response:
    """An admin signs another account out everywhere (a lost phone, a leaked token)."""
    users.sign_out(
        session, username=username, actor=f"officer:{admin.username}", reason="signed out by an admin"
    )
    session.commit()
    return Response(status_code=204)


@api.get("/officers", response_model=list[OfficerPublic], responses=schemas.problems(403))
def list_officers(session: SessionDep, _admin: AdminOfficer):
    return users.list_officers(session)
