"""What keeps the portal safe: API tokens, CSRF tokens for every form, signed evidence links, and
security headers on every response (officer sessions: challan.web.sessions; rate limits:
challan.web.ratelimit).

API tokens are stateless (itsdangerous, signed with the settings' secret key) and carry the
officer's id and a stamp of the password hash, so changing a password or disabling an account ends
them. CSRF uses signed double-submit: a random value in an HttpOnly SameSite=Strict cookie, and the
value signed with the secret key in each form; for a logged-in officer the value must also be the one
bound into the session at login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from starlette.types import Receive, Scope, Send

from challan.models import Officer
from challan.web.settings import PortalSettings

SESSION_COOKIE = "anpr_session"
CSRF_COOKIE = "anpr_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 64 * 1024  # forms and JSON bodies are small; nothing is uploaded to the portal
# except cameras' events with their evidence files, which challan.web.routes.ingest bounds part by part
INGEST_PATH = "/api/v1/ingest/"
MAX_INGEST_BODY = 136 << 20
CSRF_VALUE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


# --- API tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    officer_id: int
    stamp: str

    def matches(self, officer: Officer | None) -> bool:
        return (
            officer is not None and officer.active and hmac.compare_digest(officer.password_stamp, self.stamp)
        )


class Tokens:
    """Signs and reads bearer tokens, CSRF tokens and evidence links (each its own salt or key)."""

    def __init__(self, settings: PortalSettings):
        self.max_age = int(settings.session_hours * 3600)
        self._api = URLSafeTimedSerializer(settings.secret_key, salt="anpr-api-token")
        self._csrf = Signer(settings.secret_key, salt="anpr-csrf")

    def api_token(self, officer: Officer) -> str:
        return self._api.dumps({"o": officer.id, "p": officer.password_stamp})

    def read_api_token(self, value: str | None) -> Credentials | None:
        if not value or len(value) > 1000:
            return None
        try:
            data = self._api.loads(value, max_age=self.max_age)
            return Credentials(officer_id=int(data["o"]), stamp=str(data["p"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    # --- CSRF -------------------------------------------------------------------------------------

    def csrf_form_token(self, cookie_value: str) -> str:
        return self._csrf.sign(cookie_value).decode()

    def csrf_valid(self, *, cookie_value: str | None, submitted: str | None, bound: str | None) -> bool:
        """`bound` is the value in the officer's session (None for citizens)."""
        if not cookie_value or not submitted or len(submitted) > 200:
            return False
        try:
            value = self._csrf.unsign(submitted).decode()
        except BadSignature:
            return False
        if not hmac.compare_digest(value, cookie_value):
            return False
        return bound is None or hmac.compare_digest(bound, cookie_value)


# --- evidence links --------------------------------------------------------------------------------


def evidence_mac(secret_key: str, number: str, evidence_id: int) -> str:
    """What a public evidence link carries besides the challan's number and the file's id: 128 bits
    of HMAC-SHA256 over both under the secret key, so that a link can be copied from the challan's
    page but not guessed from a number."""
    key = hashlib.sha256(b"anpr-evidence-link:" + secret_key.encode()).digest()
    digest = hmac.new(key, f"{number}/{evidence_id}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def evidence_mac_valid(secret_key: str, number: str, evidence_id: int, mac: str) -> bool:
    if len(mac) > 64:
        return False
    return hmac.compare_digest(evidence_mac(secret_key, number, evidence_id).encode(), mac.encode())


def same_origin(origin: str | None, host: str | None) -> bool:
    """A browser's Origin header, when it sends one, must name this site."""
    if not origin:
        return True
    return origin != "null" and urlsplit(origin).netloc == (host or "")


def new_csrf_value() -> str:
    return secrets.token_urlsafe(24)


# --- headers and the CSRF cookie: one pure ASGI middleware (cheap on the hot look-up path) ----------


class SecurityMiddleware:
    """Adds the security headers to every response, `Cache-Control: no-store` to all but static files,
    and hands a browser without a CSRF cookie a new one (on page requests, not on the JSON API)."""

    def __init__(self, app, *, secure_cookies: bool = False):
        self.app = app
        self.secure = secure_cookies
        self.headers = list(SECURITY_HEADERS)
        if secure_cookies:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith("/static/")
        new_cookie = None
        limit = MAX_INGEST_BODY if path.startswith(INGEST_PATH) else MAX_BODY
        if _declared_length(scope, limit) > limit:
            await _too_large(send, self.headers)
            return
        receive = _bounded(receive, limit)
        if not static and not path.startswith("/api/"):
            current = _cookie(scope, CSRF_COOKIE)
            if current is None:
                new_cookie = current = new_csrf_value()
            scope.setdefault("state", {})["csrf_cookie"] = current

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in self.headers if h[0] not in names]
                if not static and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if new_cookie is not None and not _sets_cookie(headers, CSRF_COOKIE):
                    headers.append((b"set-cookie", csrf_cookie_header(new_cookie, self.secure)))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _declared_length(scope, limit: int) -> int:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            return int(value) if value.isdigit() else limit + 1
    return 0


def _bounded(receive, limit: int):
    """Stop reading a body (sent without a length) once it passes `limit`."""
    seen = 0

    async def bounded_receive():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return bounded_receive


async def _too_large(send, headers) -> None:
    body = b'{"detail":"Request body too large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                *headers,
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def csrf_cookie_header(value: str, secure: bool) -> bytes:
    flags = "; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{CSRF_COOKIE}={value}{flags}".encode()


def _cookie(scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is treated as no cookie
                return None
            morsel = jar.get(name)
            if morsel is not None and CSRF_VALUE.match(morsel.value):
                return morsel.value
    return None


def _sets_cookie(headers, name: str) -> bool:
    prefix = f"{name}=".encode()
    return any(k.lower() == b"set-cookie" and v.startswith(prefix) for k, v in headers)
