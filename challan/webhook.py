"""Alerts POSTed to a webhook (ANPR_ALERT_WEBHOOK), off the pipeline's thread: `send` only hands the
alert over, and one delivery thread posts them in order as JSON. A refused connection, a timeout, 429
or a 5xx is retried with exponential back-off by urllib3's Retry (at once, then 1, 2, 4, 8 s); one that
still fails is logged and left in the records, where `anpr alerts list` and the officer page have it.
At the end of a run, `close` gives the deliveries still due a bounded time, never more."""

from __future__ import annotations

import json
import logging
import queue
import threading
from urllib.parse import urlsplit

import urllib3
from urllib3.util import Retry

from anpr.errors import ConfigError

log = logging.getLogger("challan.webhook")
RETRIES = 5
BACKOFF_S = 0.5  # the first retry at once, then 1, 2, 4, 8 s
TIMEOUT = urllib3.Timeout(connect=2.0, read=5.0)
GRACE_S = 10.0  # how long the end of a run waits for deliveries still due
RETRY_STATUSES = (408, 425, 429, 500, 502, 503, 504)


def checked_url(url: str, variable: str = "ANPR_ALERT_WEBHOOK") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{variable}: '{url}' is not an http:// or https:// URL")
    return url


class Webhook:
    def __init__(self, url: str, *, retries: int = RETRIES, backoff_s: float = BACKOFF_S):
        self.url = checked_url(url)
        retry = Retry(
            total=retries,
            backoff_factor=backoff_s,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,  # POST too: the receiver keys alerts by id, so a repeat is harmless
            raise_on_status=False,
            respect_retry_after_header=False,  # our back-off, not a receiver's hour-long Retry-After
        )
        self._http = urllib3.PoolManager(retries=retry, timeout=TIMEOUT)
        self._due: queue.Queue[dict | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.delivered: list[int] = []  # alert ids, in the order they were delivered
        self.failed: list[int] = []

    def send(self, alert: dict) -> None:
        """Hand an alert (challan.alerts.alert_json) over for delivery; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._deliver, name="alert-webhook", daemon=True)
            self._thread.start()
        self._due.put(alert)

    def close(self, wait_s: float = GRACE_S) -> int:
        """Let the deliveries due finish within `wait_s`; returns how many did not (they are logged)."""
        if self._thread is None:
            return 0
        self._due.put(None)
        self._thread.join(wait_s)
        if not self._thread.is_alive():
            return 0
        left = self._due.qsize()  # the stop mark among them, and one alert in flight besides
        log.warning(
            "%d alert(s) not delivered to the webhook %s in time; they are in the records", left, self.url
        )
        return left

    def _deliver(self) -> None:
        while (alert := self._due.get()) is not None:
            try:
                response = self._http.request(
                    "POST",
                    self.url,
                    body=json.dumps(alert, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json"},
                )
                ok = 200 <= response.status < 300
                problem = f"HTTP {response.status}"
            except urllib3.exceptions.HTTPError as exc:  # retries used up
                ok, problem = False, str(exc.__cause__ or exc)
            (self.delivered if ok else self.failed).append(alert.get("id", 0))
            if not ok:
                log.warning("alert %s not delivered to %s: %s", alert.get("id"), self.url, problem)
