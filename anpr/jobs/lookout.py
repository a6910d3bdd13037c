"""The hub's eye on a footage job: each vehicle is checked against the hotlists and the other alert
checks (challan.alerts) the moment its read settles (VideoProcessor.on_settled), not when it leaves
the picture; a vehicle whose read never settles is checked as its event closes. An alert is stored,
with images of the vehicle and its plate, before the next frame is looked at, and then handed to
the webhook (ANPR_ALERT_WEBHOOK), which posts it from a thread of its own.

The site's coordinates (site.location in the site file) are stored at the start; each sighting
(anpr.jobs.footage.Recorder) keeps the images written for its vehicle's alerts."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from anpr.evidence import write_evidence
from anpr.site import Site
from anpr.tracks import Track
from anpr.types import Evidence, PlateRead, VehicleEvent
from anpr.vote import vote_plate


class Lookout:
    def __init__(self, url: str | None, site: Site, evidence_dir: Path, webhook=None):
        self.url, self.site, self.evidence_dir, self.webhook = url, site, evidence_dir / "alerts", webhook
        self.processor = None
        self.region = site.config.site.plate_region
        self.settled: set[int] = set()  # tracks checked as their read settled
        self.open: dict[int, Track] = {}  # the processor's open tracks as of the last frame handled
        self.images: dict[int, tuple[Evidence, ...]] = {}  # alert images written, by track
        self.latencies: list[float] = []  # seconds from a settled read to its alerts stored
        self.raised = 0

    def attach(self, processor) -> None:
        """Be told by `processor` (anpr.process.VideoProcessor) when a read settles."""
        self.processor, self.region = processor, processor.region
        processor.on_settled = self.on_settled

    def start(self) -> None:
        """Store where the site is, if its file says."""
        location = self.site.config.site.location
        if location is None:
            return
        from challan.db import session_scope
        from challan.sightings import locate_site

        with session_scope(self.url) as session:
            locate_site(session, site_id=self.site.id, lat=location.lat, lon=location.lon)

    def frame_done(self) -> None:
        """After each frame's events are handled: the tracks still open (a track closing in the next
        frame is looked up here, since the processor has let it go by then)."""
        if self.processor is not None and hasattr(self.processor, "tracks"):
            self.open = dict(self.processor.tracks.open)

    def on_settled(self, track: Track, plate: PlateRead | None, time_s: float) -> None:
        if plate is None or self.processor is None:
            return  # nothing was read: nothing to check
        started = time.perf_counter()
        self.settled.add(track.id)
        event = replace(self.processor.events.provisional(track), plate=plate)
        seen_at = self.site.start_time + timedelta(seconds=time_s)
        self._check(event, seen_at, track)
        self.latencies.append(time.perf_counter() - started)

    def closed(self, session, event: VehicleEvent) -> tuple[list[dict], tuple[Evidence, ...]]:
        """A vehicle's event closing, in the transaction that stores it: its alerts where its read
        never settled (else only the cloned-plate check, against sightings stored since). Returns the
        alerts raised, for `deliver` once committed, and the images written for the vehicle's alerts
        (its sighting keeps them)."""
        from challan import alerts

        track = self.open.pop(event.track_id, None)
        checks = (alerts.CLONED_PLATE,) if event.track_id in self.settled else alerts.CHECKS
        self.settled.discard(event.track_id)
        raised = self._raise(session, event, event.last_seen, track, checks)
        return raised, self.images.pop(event.track_id, ())

    def deliver(self, raised: list[dict]) -> None:
        self.raised += len(raised)
        if self.webhook is not None:
            for alert in raised:
                self.webhook.send(alert)

    def close(self) -> None:
        if self.webhook is not None:
            self.webhook.close()

    def _check(self, event: VehicleEvent, seen_at, track: Track) -> None:
        from challan import alerts
        from challan.db import session_scope

        with session_scope(self.url) as session:
            raised = self._raise(session, event, seen_at, track, alerts.CHECKS)
        self.deliver(raised)

    def _raise(self, session, event: VehicleEvent, seen_at, track: Track | None, checks) -> list[dict]:
        from challan import alerts

        printed = vote_plate(track.reads, "auto") if track is not None else None
        spotted = alerts.Spotted(event, seen_at, self.region, printed)
        found = alerts.check(session, spotted, checks=checks)
        if not found:
            return []
        evidence = self._images(event, track, [r.kind for r in found])
        stored = alerts.store(session, spotted=spotted, raised=found, evidence=evidence)
        return [alerts.alert_json(a) for a in stored]

    def _images(self, event: VehicleEvent, track: Track | None, kinds: list[str]) -> tuple[Evidence, ...]:
        """The vehicle and its plate as seen so far, once per track (the event's own, if it has any)."""
        if event.evidence:
            return event.evidence
        if track is None or self.processor is None:
            return ()
        if track.id not in self.images:
            self.images[track.id] = settled_images(
                self.evidence_dir,
                self.site,
                self.processor.fps,
                event,
                track,
                [f"{kind} alert" for kind in kinds],
            )
        return self.images[track.id]


def settled_images(
    folder: Path, site: Site, fps: float, event: VehicleEvent, track: Track, labels: list[str]
) -> tuple[Evidence, ...]:
    """The vehicle and its plate as seen so far (its key frames, the crop of its read), written as
    evidence is, with `labels` in the data bar: for an alert raised before the vehicle has left."""
    read = event.plate if event.plate and event.plate.text else vote_plate(track.reads, "auto")
    crop = track.crops.get(read.text, (0.0, None))[1] if read and read.text else None
    config = site.config
    return write_evidence(
        folder,
        event,
        track.keyframes,
        crop,
        site.start_time,
        fps,
        config.site.name,
        config.speed.limit_kmh,
        labels,
    )
