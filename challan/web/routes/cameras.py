"""The officers' cameras page: each live camera's health as `anpr watch` last wrote it (last frame,
frames a second, lag, frames dropped, reconnects, vehicles, violations, last error; for an edge
camera sending to the hub, its outbox), refreshed every few seconds. The health files are read from
PortalSettings.watch_state (ANPR_WATCH_STATE)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from anpr.jobs.health import SILENT_AFTER_S, read_health
from challan.places import load_places
from challan.web import views
from challan.web.deps import PageOfficer, SettingsDep

router = APIRouter(prefix="/officer", include_in_schema=False)

REFRESH_S = 5
BACKLOG_S = 60.0  # an edge camera whose oldest unsent event is older than this needs a look


def troubled(camera: dict) -> bool:
    """Silent, reconnecting, or (an edge camera) with events waiting over a minute for the hub or
    the hub refusing them."""
    waited = camera.get("queued_age_s")
    return (
        camera["status"] in ("silent", "reconnecting")
        or bool(camera.get("hub_error"))
        or bool(camera.get("queued") and waited is not None and waited > BACKLOG_S)
    )


@router.get("/cameras")
def cameras_page(request: Request, settings: SettingsDep, officer: PageOfficer) -> Response:
    places = load_places()
    cameras = [
        {**record, "site_name": places.site_name(record.get("site_id") or "", None)}
        for record in read_health(settings.watch_state)
    ]
    context = {
        "officer": officer,
        "cameras": cameras,
        "refresh_s": REFRESH_S,
        "silent_after_s": SILENT_AFTER_S,
        "troubled": sum(troubled(c) for c in cameras),
        # anpr watch --hub cameras: their outbox (events queued for the hub, sent, why not sent)
        "to_hub": any(c.get("queued") is not None for c in cameras),
    }
    return views.render(request, "cameras.html", context)
