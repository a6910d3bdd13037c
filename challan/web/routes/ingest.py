"""POST /api/v1/ingest/events: vehicle events from cameras the hub does not run (challan.ingest).
The camera's API key comes first (401 before the body is read), then its rate limit (429: counted
per key, in Redis when the portal has one, by challan.web.ratelimit), then the body: multipart with
an `event` field (one line of `anpr process --json`) and one `evidence` file per evidence entry, in
the event's order; or the event alone as application/json when it lists no evidence. Every
refusal is one JSON object, {"detail": "the reason"}.

A new event is checked for alerts as `anpr process` checks its own vehicles (challan.alerts: the
hotlists, cloned plates, the registry, non-standard plates), in the transaction that stores it and
with its evidence; once committed they are POSTed to ANPR_ALERT_WEBHOOK, and the officers' page
streams them. A retried post is answered from the records and raises nothing again.

POST /api/v1/ingest/sightings takes a tip-off in the same form: a vehicle's read the moment it
settles at the edge (`anpr watch --hub`), while the vehicle is still in view, with the images so
far. Only its alerts are raised and stored, at once; its event follows when the vehicle leaves and
raises none of them again (so an edge box's alerts reach the control room within seconds of the
read, not after the vehicle has gone)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from anpr.types import Evidence
from challan import alerts, ingest
from challan.cameras import DEFAULT_EVENTS_PER_MINUTE, camera_for_key
from challan.models import Alert, Camera
from challan.web.ratelimit import RateLimiter, build_limiter
from challan.web.schemas import Problem
from challan.web.settings import PortalSettings
from challan.webhook import Webhook

KEY_HEADER = "X-API-Key"
MAX_BODY_BYTES = ingest.MAX_FILES * ingest.MAX_FILE_BYTES + ingest.MAX_EVENT_BYTES + (64 << 10)


class KeyLimits:
    """One rate limiter per events-a-minute figure in use, each counting per camera."""

    def __init__(self, settings: PortalSettings):
        self.settings = settings
        self._limiters: dict[int, RateLimiter] = {}

    async def check(self, camera: Camera) -> int | None:
        rate = camera.events_per_minute or DEFAULT_EVENTS_PER_MINUTE
        limiter = self._limiters.get(rate)
        if limiter is None:
            limiter = self._limiters[rate] = build_limiter(self.settings, name="ingest", per_minute=rate)
        return await limiter.check(camera.id)

    async def aclose(self) -> None:
        for limiter in self._limiters.values():
            await limiter.aclose()


@asynccontextmanager
async def _lifespan(app: FastAPI):
    app.state.ingest_limits = KeyLimits(app.state.settings)
    url = app.state.settings.alert_webhook
    app.state.alert_webhook = Webhook(url) if url else None
    yield
    await app.state.ingest_limits.aclose()
    if app.state.alert_webhook is not None:
        await run_in_threadpool(app.state.alert_webhook.close)


router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"], lifespan=_lifespan)


class Stored(BaseModel):
    kind: str
    path: str
    sha256: str


class Finding(BaseModel):
    id: int
    code: str
    status: str


class IngestAnswer(BaseModel):
    event_id: int
    duplicate: bool
    violations: list[Finding]
    evidence: list[Stored]


PROBLEMS = {
    400: "The body cannot be read (not multipart or JSON, no event field)",
    401: "No API key, an unknown one, or a revoked one",
    403: "The event is from another site than the key's camera",
    409: "The site already has an event with this track and first_seen, from elsewhere",
    411: "No Content-Length",
    413: "The body, the event or a file is too large",
    415: "Not multipart/form-data or application/json, or a file of a kind not taken",
    422: "The event is not valid, or a file does not match its SHA-256",
    429: "The camera's events-a-minute limit is reached (Retry-After)",
}
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event"],
    "properties": {
        "event": {"type": "string", "description": "One line of `anpr process --json`"},
        "evidence": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "One file per entry of the event's `evidence`, in its order",
        },
    },
}


def request_body(bare_json: str) -> dict:
    """The body both routes take: multipart (the event and its files), or the event alone as JSON."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": EVENT_SCHEMA},
                "application/json": {"schema": {"type": "object", "description": bare_json}},
            },
        }
    }


@router.post(
    "/events",
    status_code=201,
    response_model=IngestAnswer,
    responses={
        200: {"model": IngestAnswer, "description": "Posted before: recorded then, nothing stored now"},
        **{code: {"model": Problem, "description": text} for code, text in PROBLEMS.items()},
    },
    openapi_extra=request_body("An event with no evidence"),
)
async def ingest_events(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="The camera's key from `anpr camera add`")] = None,
):
    """Record one vehicle event of a registered camera, judged by its site's rules (violations go
    pending review), with its evidence files checked against their SHA-256. 201 when stored; 200
    with `duplicate` when this camera's event (track_id, first_seen) was posted before."""
    engine: Engine = request.app.state.engine
    settings: PortalSettings = request.app.state.settings
    camera = await _limited_camera(request, x_api_key)
    text, files = await _body(request)
    try:
        event = ingest.parse_event(text)
        result, raised = await run_in_threadpool(
            _record, engine, camera.id, event, files, Path(settings.evidence_dir)
        )
    except ingest.IngestRefused as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    _hand_over(request, raised)
    return JSONResponse(result.to_json(), status_code=200 if result.duplicate else 201)


class TipoffAnswer(BaseModel):
    alerts: list[dict]


@router.post(
    "/sightings",
    status_code=201,
    response_model=TipoffAnswer,
    responses={
        200: {"model": TipoffAnswer, "description": "Nothing new to raise (or raised before)"},
        **{code: {"model": Problem, "description": text} for code, text in PROBLEMS.items() if code != 409},
    },
    openapi_extra=request_body("A read with no images"),
)
async def ingest_sightings(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="The camera's key from `anpr camera add`")] = None,
):
    """A tip-off: a vehicle's read the moment it settles, while the vehicle is still in view (`anpr
    watch --hub` sends one), in the event's JSON with the images written so far. It is checked for
    alerts at once, and they are stored with those images and POSTed to the webhook; nothing else is
    recorded (the event follows when the vehicle leaves, and raises no alert twice). 201 with the
    alerts raised; 200 when none (or none new: a retried tip-off raises nothing again)."""
    engine: Engine = request.app.state.engine
    settings: PortalSettings = request.app.state.settings
    camera = await _limited_camera(request, x_api_key)
    text, files = await _body(request)
    try:
        event = ingest.parse_event(text)
        raised = await run_in_threadpool(
            _tip_off, engine, camera.id, event, files, Path(settings.evidence_dir)
        )
    except ingest.IngestRefused as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    _hand_over(request, raised)
    return JSONResponse({"alerts": raised}, status_code=201 if raised else 200)


async def _limited_camera(request: Request, key: str | None) -> Camera:
    """The key's camera (401 otherwise), within its posts-a-minute limit (429 otherwise)."""
    camera = await run_in_threadpool(_camera, request.app.state.engine, key)
    wait = await request.app.state.ingest_limits.check(camera)
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"camera {camera.id} may post {camera.events_per_minute or DEFAULT_EVENTS_PER_MINUTE}"
            f" events a minute; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return camera


def _hand_over(request: Request, raised: list[dict]) -> None:
    webhook: Webhook | None = request.app.state.alert_webhook
    if webhook is not None:
        for alert in raised:
            webhook.send(alert)  # committed: handed over (a thread of the webhook's own posts them)


def _tip_off(
    engine: Engine, camera_id: str, event: ingest.EventIn, files: list[bytes], root: Path
) -> list[dict]:
    """The alerts a settled read raises, with its images stored as an event's are; committed."""
    with Session(engine, expire_on_commit=False) as session:
        camera = session.get(Camera, camera_id)
        assert camera is not None  # cameras are never deleted
        if event.site_id != camera.site_id:
            raise ingest.IngestRefused(
                403,
                f"this key is camera {camera.id}'s at site {camera.site_id}; the read is from "
                f"{event.site_id}",
            )
        ingest.check_files(event, files)
        evidence = ingest.store_files(event, files, root=root)
        try:
            raised = raise_alerts(session, camera=camera, event=event, evidence=evidence)
            session.commit()
        except IntegrityError:  # the same tip-off, or its event, stored these alerts meanwhile
            session.rollback()
            return []
        return raised


def _camera(engine: Engine, key: str | None) -> Camera:
    if not key:
        raise HTTPException(status_code=401, detail=f"no API key: send the camera's key in {KEY_HEADER}")
    with Session(engine, expire_on_commit=False) as session:
        camera = camera_for_key(session, key.strip())
    if camera is None:
        raise HTTPException(status_code=401, detail="unknown API key")
    if camera.revoked_at is not None:
        revoked = camera.revoked_at.isoformat(timespec="seconds")
        raise HTTPException(status_code=401, detail=f"the key of camera {camera.id} was revoked at {revoked}")
    return camera


async def _body(request: Request) -> tuple[bytes | str, list[bytes]]:
    """The event's text and the files' bytes, in the order sent."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(status_code=411, detail="send a Content-Length")
    if int(length) > MAX_BODY_BYTES:
        raise HTTPException(status_code=413, detail=f"the body is over {MAX_BODY_BYTES >> 20} MiB")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return await request.body(), []
    if kind != "multipart/form-data":
        raise HTTPException(
            status_code=415, detail="send multipart/form-data (event and evidence files) or application/json"
        )
    # Starlette answers 400 itself for a body that is not multipart, or with more parts than these;
    # the files it spooled are closed when the block ends.
    async with request.form(
        max_files=ingest.MAX_FILES, max_fields=1, max_part_size=ingest.MAX_EVENT_BYTES
    ) as form:
        unknown = sorted(set(form.keys()) - {"event", "evidence"})
        if unknown:
            raise HTTPException(
                status_code=400, detail=f"unknown part {unknown[0]!r}: send event and evidence"
            )
        text = form.get("event")
        if not isinstance(text, str):
            raise HTTPException(status_code=400, detail="no event field (the event's JSON, as text)")
        files = []
        for upload in form.getlist("evidence"):
            if not isinstance(upload, UploadFile):
                raise HTTPException(status_code=400, detail="evidence parts must be files")
            if upload.size is not None and upload.size > ingest.MAX_FILE_BYTES:
                raise HTTPException(
                    status_code=413, detail=f"a file is over {ingest.MAX_FILE_BYTES >> 20} MiB"
                )
            files.append(await upload.read())
    return text, files


def _record(
    engine: Engine, camera_id: str, event: ingest.EventIn, files: list[bytes], root: Path
) -> tuple[ingest.IngestResult, list[dict]]:
    """The event recorded once, and the alerts it raised (alert_json), committed together."""
    with Session(engine, expire_on_commit=False) as session:
        camera = session.get(Camera, camera_id)
        assert camera is not None  # cameras are never deleted
        try:
            result = ingest.ingest_event(session, camera=camera, event=event, files=files, evidence_root=root)
            raised = (
                []
                if result.duplicate
                else raise_alerts(session, camera=camera, event=event, evidence=result.evidence)
            )
            session.commit()
            return result, raised
        except IntegrityError:
            # PostgreSQL: the same event posted twice at once; the other post stored it first.
            session.rollback()
            earlier = ingest.already_ingested(session, camera=camera, event=event)
            if earlier is None:
                raise
            return earlier, []


def raise_alerts(
    session: Session, *, camera: Camera, event: ingest.EventIn, evidence: Sequence[Evidence]
) -> list[dict]:
    """The alerts a vehicle raises, stored (flushed, not committed) with its evidence as the hub
    keeps it; seen at the event's last sight (the read settled by then). An alert its tip-off raised
    already (POST /sightings, as the read settled) is not raised again when its event comes."""
    judged = ingest.vehicle_event(event, evidence)
    # The camera's site's plate grammar, where its registration recorded one (non_standard_plate)
    region = str((camera.rules or {}).get("plate_region") or "auto")
    spotted = alerts.Spotted(judged, judged.last_seen, region)
    found = alerts.check(session, spotted)
    if found:
        raised_before = session.exec(
            select(Alert.kind, Alert.plate).where(
                Alert.site_id == judged.site_id,
                Alert.track_id == judged.track_id,
                Alert.first_seen == judged.first_seen,
            )
        ).all()
        found = [r for r in found if (r.kind, r.plate) not in set(raised_before)]
    if not found:
        return []
    stored = alerts.store(session, spotted=spotted, raised=found, evidence=judged.evidence)
    return [alerts.alert_json(alert) for alert in stored]
