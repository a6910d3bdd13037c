"""The officers' cameras page: each live camera's health as `anpr watch` last wrote it (last frame,
frames a second, lag, frames dropped, reconnects, vehicles, violations, last error), refreshed every
few seconds. The health files are read from PortalSettings.watch_state (ANPR_WATCH_STATE)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from anpr.jobs.health import SILENT_AFTER_S, read_health
from challan.places import load_places
from challan.web import views
from challan.web.deps import PageOfficer, SettingsDep

router = APIRouter(prefix="/officer", include_in_schema=False)

REFRESH_S = 5


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
        "troubled": sum(c["status"] in ("silent", "reconnecting") for c in cameras),
    }
    return views.render(request, "cameras.html", context)
