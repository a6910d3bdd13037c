"""The officers' cameras page shows each live camera's health as anpr watch wrote it, a camera
whose health has gone stale as silent, and nothing to a visitor who is not signed in."""

from datetime import UTC, datetime, timedelta

import pytest

from anpr.jobs.health import Health, read_health
from tests.challan.web.conftest import OFFICER, login


@pytest.fixture
def watched(settings, tmp_path):
    state = tmp_path / "watch-state"
    running = Health(
        "REGAL-CAM",
        site_id="LHR-REGAL-01",
        status="running",
        frames=1200,
        fps=12.5,
        lag_s=0.31,
        dropped=40,
        vehicles=17,
        violations=2,
        last_frame_at=datetime.now(UTC).isoformat(),
    )
    running.write(state)
    broken = Health(
        "CANAL-CAM",
        site_id="LHR-CANAL-02",
        status="reconnecting",
        reconnects=3,
        error="rtsp://10.0.0.7/stream: cannot open stream",
    )
    broken.write(state)
    return settings.model_copy(update={"watch_state": state})


def test_an_edge_cameras_outbox_is_shown_and_a_backlog_needs_a_look(watched, seed):
    """anpr watch --hub cameras write their outbox to their health: queued, since when, sent, the
    hub's refusal. A backlog over a minute, or a hub error, counts the camera as needing a look."""
    from fastapi.testclient import TestClient

    from challan.web.app import create_app

    waiting = Health(
        "EDGE-CAM",
        site_id="LHR-REGAL-01",
        status="running",
        fps=9.0,
        last_frame_at=datetime.now(UTC).isoformat(),
        queued=12,
        queued_since=(datetime.now(UTC) - timedelta(seconds=300)).isoformat(),
        sent=503,
        hub_error="unreachable: connection refused",
    )
    waiting.write(watched.watch_state)
    with TestClient(create_app(watched), base_url="http://testserver") as client:
        login(client, *OFFICER)
        text = client.get("/officer/cameras").text
    assert "To the hub" in text
    assert "12 queued, oldest 30" in text and "503 sent" in text  # 300 s, and a second or two more
    assert "hub: unreachable: connection refused" in text
    assert "2 need a look" in text  # the reconnecting one and the edge camera
    assert "records here" in text  # the cameras that record to a database say so


def test_officers_see_each_camera_and_visitors_nothing(watched, seed):
    from fastapi.testclient import TestClient

    from challan.web.app import create_app

    with TestClient(create_app(watched), base_url="http://testserver") as client:
        _check(client)


def _check(client) -> None:
    assert (
        client.get("/officer/cameras", follow_redirects=False).headers["location"]
        == "/login?next=/officer/cameras"
    )
    login(client, *OFFICER)
    page = client.get("/officer/cameras")
    assert page.status_code == 200
    text = page.text
    assert "REGAL-CAM" in text and "Mall Road / Regal Chowk, Lahore" in text
    assert "12.5" in text and "0.31" in text and ">40<" in text
    assert "CANAL-CAM" in text and "reconnecting" in text and "cannot open stream" in text
    assert "1 need a look" in text
    assert '<a href="/officer/cameras">Cameras</a>' in text


def test_a_camera_whose_health_is_stale_is_silent_and_a_stopped_one_is_not(tmp_path):
    Health("A", status="running").write(tmp_path)
    Health("B", status="stopped").write(tmp_path)
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert {r["camera"]: r["status"] for r in read_health(tmp_path, now=later)} == {
        "A": "silent",
        "B": "stopped",
    }
    assert {r["camera"]: r["status"] for r in read_health(tmp_path)} == {"A": "running", "B": "stopped"}
