"""Alerts POSTed to a real HTTP server on loopback: in order, as the JSON `anpr alerts list` prints;
a receiver that fails is retried with back-off; handing an alert over never waits for the receiver,
and the end of a run waits for it only a bounded time."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from anpr.errors import ConfigError
from challan.webhook import Webhook

ALERT = {
    "id": 1,
    "kind": "stolen",
    "plate": "QDM5026",
    "read": "QDM5026",
    "match": "exact",
    "list": "stolen",
    "reason": "stolen 19 Nov, FIR 123/26",
    "site_id": "LHR-REGAL-01",
    "seen_at": "2026-11-20T03:00:01.400000Z",
    "track_id": 2,
    "evidence": [],
}


class Receiver:
    """A webhook receiver answering with `statuses` in turn (then 200), after `delay_s` each."""

    def __init__(self, statuses: list[int] | None = None, delay_s: float = 0.0):
        self.statuses, self.delay_s = list(statuses or []), delay_s
        self.requests: list[tuple[float, str, str, dict]] = []  # time, path, content type, body
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    (time.monotonic(), self.path, self.headers["Content-Type"], json.loads(body))
                )
                time.sleep(receiver.delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [r[3] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    made: list[Receiver] = []

    def make(statuses=None, delay_s=0.0) -> Receiver:
        made.append(Receiver(statuses, delay_s))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_alerts_arrive_in_order_as_json(receiver):
    server = receiver()
    hook = Webhook(server.url)
    alerts = [ALERT | {"id": i} for i in range(1, 6)]
    for alert in alerts:
        hook.send(alert)

    assert hook.close(wait_s=10) == 0
    assert server.bodies() == alerts
    assert {(path, kind) for _, path, kind, _ in server.requests} == {("/hooks/alerts", "application/json")}
    assert hook.delivered == [1, 2, 3, 4, 5] and hook.failed == []


def test_a_failing_receiver_is_retried_with_back_off(receiver):
    server = receiver(statuses=[503, 503, 503])
    hook = Webhook(server.url, retries=5, backoff_s=0.2)
    hook.send(ALERT)

    assert hook.close(wait_s=10) == 0
    assert server.bodies() == [ALERT] * 4 and hook.delivered == [1]
    times = [r[0] for r in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # urllib3's back-off: the first retry at once, then 0.2 x 2^(n-1) s: 0.4, 0.8
    assert gaps[0] < 0.3 and 0.35 < gaps[1] < 0.8 and 0.75 < gaps[2] < 1.5, gaps


def test_an_alert_the_receiver_keeps_refusing_is_logged_and_the_next_goes_on(receiver, caplog):
    server = receiver(statuses=[500, 500, 500])
    hook = Webhook(server.url, retries=2, backoff_s=0.01)
    hook.send(ALERT)
    hook.send(ALERT | {"id": 2})

    assert hook.close(wait_s=10) == 0
    assert hook.failed == [1] and hook.delivered == [2]
    assert f"alert 1 not delivered to {server.url}: HTTP 500" in caplog.text


def test_handing_over_never_waits_for_the_receiver_and_the_end_waits_a_bounded_time(receiver):
    server = receiver(delay_s=2.0)
    hook = Webhook(server.url)
    started = time.monotonic()
    for i in range(3):
        hook.send(ALERT | {"id": i + 1})
    handed_over = time.monotonic() - started
    left = hook.close(wait_s=0.5)
    closed = time.monotonic() - started

    assert handed_over < 0.05
    assert 0.5 <= closed < 1.0 and left >= 2  # the stop mark and at least one alert still due


def test_an_unreachable_receiver_costs_the_caller_nothing(caplog):
    hook = Webhook("http://127.0.0.1:9/alerts", retries=1, backoff_s=0.01)  # discard port: refused
    started = time.monotonic()
    hook.send(ALERT)
    assert time.monotonic() - started < 0.05
    assert hook.close(wait_s=10) == 0
    assert hook.failed == [1] and "alert 1 not delivered to http://127.0.0.1:9/alerts" in caplog.text


@pytest.mark.parametrize("url", ["ftp://example.org/x", "127.0.0.1:8000/alerts", "http://"])
def test_a_webhook_url_that_is_no_http_url_is_one_line(url):
    with pytest.raises(ConfigError, match=f"^ANPR_ALERT_WEBHOOK: '{url}' is not an http:// or https:// URL$"):
        Webhook(url)
