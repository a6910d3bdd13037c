"""The results that leave anpr/: frozen, JSON-serialisable, and free of numpy so that challan/ can
import them. Per-frame work inside anpr/ uses supervision.Detections (see anpr.detect)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the source image


@dataclass(frozen=True)
class Candidate:
    text: str
    confidence: float


# Reads under this confidence are shown to the reviewing officer as uncertain. On the held-back
# halves (README, confidence calibration, 2026-12-04), scored against what the photos show, all 8
# misreads of the labelled boxes and crops sat under 0.8 (the value was read off that table) and 7
# of the 9 end to end; 7 in 8 reads under it were still right. It marks where to look hardest, not
# what to reject, and a read above it still needs the officer's check.
UNCERTAIN_READ = 0.8


# Other years read with a plate are shown beside its year from this share of the years' mass up.
SHOWN_YEAR_SHARE = 0.05


def is_uncertain(text: str | None, confidence: float) -> bool:
    """Whether a read is marked uncertain for the reviewer (an empty read is not a read)."""
    return bool(text) and confidence < UNCERTAIN_READ


@dataclass(frozen=True)
class PlateRead:
    """One plate's reading. `text` is series + number in A-Z0-9 only; a Pakistani registration year
    is in `year`, never in `text`. `candidates` are ranked best first and start with `text`;
    `year_candidates` are the years read with `text`, best first (starting with `year`), each with
    its share of that registration's probability. An unread plate has empty `text` (and no year,
    format or region): nothing legible, or a read too implausible to record (anpr.plates.unread), which keeps
    its `confidence` and those of its `candidates` that fit a plate layout."""

    text: str
    confidence: float
    candidates: tuple[Candidate, ...] = ()
    region: str = "unknown"
    year: str | None = None
    year_candidates: tuple[Candidate, ...] = ()
    layout: str = "one-line"
    format: str | None = None
    box: Box | None = None

    def to_json(self) -> dict:
        out = asdict(self)
        out["box"] = [round(v, 1) for v in self.box] if self.box else None
        out["confidence"] = round(self.confidence, 4)
        out["candidates"] = _rounded(self.candidates)
        out["year_candidates"] = _rounded(self.year_candidates)
        return out


def _rounded(candidates: tuple[Candidate, ...]) -> list[dict]:
    return [{"text": c.text, "confidence": round(c.confidence, 4)} for c in candidates]


@dataclass(frozen=True)
class VehicleSighting:
    """A vehicle found in one image, with the plate read inside it (if any)."""

    box: Box
    vehicle_type: str
    confidence: float
    plate: PlateRead | None = None

    def to_json(self) -> dict:
        return {
            "box": [round(v, 1) for v in self.box],
            "vehicle_type": self.vehicle_type,
            "confidence": round(self.confidence, 4),
            "plate": self.plate.to_json() if self.plate else None,
        }


@dataclass(frozen=True)
class Evidence:
    """A file written as evidence of an event; `sha256` is its content address."""

    kind: str  # "scene_before" | "scene_at" | "scene_after" | "plate_crop" | "clip"
    path: str
    sha256: str


@dataclass(frozen=True)
class VehicleEvent:
    """One vehicle followed through footage: the consensus plate read and what it did.
    Times are timezone-aware wall-clock times derived from the camera's start time."""

    site_id: str
    track_id: int
    vehicle_type: str
    first_seen: datetime
    last_seen: datetime
    plate: PlateRead | None = None
    colour: str | None = None
    speed_kmh: float | None = None
    speed_method: str | None = None  # "calibrated-ground-plane" | "radar" | None
    crossed_stop_line_at: datetime | None = None
    signal_state_at_crossing: str | None = None  # "red" | "amber" | "green" | None
    red_onset_at: datetime | None = None
    amber_seconds: float | None = None
    direction: str | None = None  # "with" | "against" the configured traffic flow
    stopped_past_line_at: datetime | None = None  # came to rest beyond the stop line (on red: STOP_LINE)
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        plate = self.plate
        return {
            "site_id": self.site_id,
            "track_id": self.track_id,
            "plate": {
                "text": plate.text if plate else "",
                "year": plate.year if plate else None,
                "confidence": round(plate.confidence, 4) if plate else 0.0,
                "candidates": _rounded(plate.candidates) if plate else [],
                "year_candidates": _rounded(plate.year_candidates) if plate else [],
            },
            "vehicle_type": self.vehicle_type,
            "colour": self.colour,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "speed_kmh": round(self.speed_kmh, 1) if self.speed_kmh is not None else None,
            "speed_method": self.speed_method,
            "crossed_stop_line_at": iso(self.crossed_stop_line_at),
            "signal_state_at_crossing": self.signal_state_at_crossing,
            "direction": self.direction,
            "stopped_past_line_at": iso(self.stopped_past_line_at),
            "evidence": [asdict(e) for e in self.evidence],
        }
