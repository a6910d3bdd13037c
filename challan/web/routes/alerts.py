"""The officers' alerts page: the latest alerts, and new ones as the cameras raise them, without a
reload. The page follows /officer/alerts/stream, a server-sent event stream (EventSource) that
looks for alerts newer than the last one sent about once a second; each stream ends after STREAM_S
and the browser reconnects from the last id it had, so a signed-out session stops getting alerts
within that time. Evidence images are served after their SHA-256 check; paths never leave."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from challan import alerts
from challan import evidence as evidence_files
from challan.models import Alert
from challan.places import load_places
from challan.web import views
from challan.web.deps import MaybePageOfficer, PageOfficer, RecordId, SessionDep, SettingsDep
from challan.web.settings import PortalSettings

router = APIRouter(prefix="/officer", include_in_schema=False)

SHOWN = 50  # alerts on the page when it opens
POLL_S = 1.0  # how often a stream looks for new alerts
STREAM_S = 60.0  # a stream's life; the browser reconnects (its session is checked again then)
RETRY_MS = 1000  # how soon the browser reconnects


def card(alert: Alert, settings: PortalSettings) -> dict:
    """What the page shows of an alert (and each stream event carries): no file paths."""
    record = alerts.alert_json(alert)
    record["evidence"] = [
        {"kind": e["kind"], "url": f"/officer/alerts/{alert.id}/evidence/{i}"}
        for i, e in enumerate(alert.evidence)
    ]
    record["seen_local"] = views.local_time(alert.seen_at, ZoneInfo(settings.timezone))
    record["site_name"] = load_places().site_name(alert.site_id, None)
    return record


@dataclass
class _Stored:
    """An alert's evidence file as recorded (challan.evidence.EvidenceLike)."""

    kind: str
    path: str
    sha256: str


@router.get("/alerts")
def alerts_page(
    request: Request, session: SessionDep, settings: SettingsDep, officer: PageOfficer
) -> Response:
    latest = alerts.latest_alerts(session, limit=SHOWN)
    context = {
        "officer": officer,
        "alerts": [card(a, settings) for a in latest],
        "last_id": max((a.id or 0 for a in latest), default=0),
    }
    return views.render(request, "alerts.html", context)


@router.get("/alerts/stream")
async def alerts_stream(
    request: Request,
    settings: SettingsDep,
    officer: MaybePageOfficer,
    after: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=12)] = None,
) -> Response:
    """text/event-stream of the alerts after `after` (or the Last-Event-ID a reconnecting browser
    sends): `id` the alert's id, `event: alert`, `data` its card as JSON."""
    if officer is None:  # an EventSource cannot follow a redirect to the sign-in page
        raise HTTPException(status_code=401, detail="Sign in to follow alerts")
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    engine = request.app.state.engine

    def newer(since: int) -> list[dict]:
        with Session(engine) as session:
            return [card(a, settings) for a in alerts.list_alerts(session, after_id=since, limit=100)]

    async def events() -> AsyncIterator[str]:
        since, ends = after, time.monotonic() + STREAM_S
        yield f"retry: {RETRY_MS}\n\n"
        while time.monotonic() < ends and not await request.is_disconnected():
            found = await run_in_threadpool(newer, since)
            for item in found:
                since = item["id"]
                yield f"id: {since}\nevent: alert\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
            if not found:
                yield ": waiting\n\n"  # keeps proxies from closing an idle stream
            await asyncio.sleep(POLL_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/alerts/{alert_id}/evidence/{index}")
def alert_evidence(
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    alert_id: RecordId,
    index: Annotated[int, PathParam(ge=0, le=99)],
) -> Response:
    alert = session.get(Alert, alert_id)
    if alert is None or index >= len(alert.evidence):
        raise HTTPException(status_code=404, detail="No such evidence file")
    item = alert.evidence[index]
    data = evidence_files.read_verified(
        _Stored(item["kind"], item["path"], item["sha256"]), root=settings.evidence_dir
    )
    media = views.IMAGE_TYPES.get(Path(item["path"]).suffix.lower(), "application/octet-stream")
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=3600"})
