"""What the public sees of an issued challan's evidence: a copy of each image, never the original.
The copy (anpr.redact) loses the data bar burned in at capture and gets one saying what was decided;
bystanders' plates and every face are blurred; it is a WebP under 200 KB at each width of
PUBLIC_WIDTHS. Copies are made once, on first request, and kept in a `public/` folder beside the
original, named by the original's SHA-256 and a digest of everything drawn on them. The original
is checked against its SHA-256 before every answer, so a changed original serves nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from anpr.weights import WeightsError
from challan import evidence as evidence_files
from challan.errors import EvidenceError, NotFoundError
from challan.fines import load_fines
from challan.models import Challan, EvidenceFile, Violation
from challan.pdf import SCENE_KINDS, measurements
from challan.places import load_places
from challan.settings import Settings

# anpr.redact's widths and limit, repeated so that the portal need not load OpenCV to link a page.
PUBLIC_WIDTHS = (640, 1280)
MAX_BYTES = 200_000
PUBLIC_KINDS = (*SCENE_KINDS, "plate_crop")
PUBLIC_SUFFIXES = (".jpg", ".jpeg", ".png")
# Part of every copy's name: changing how copies are made (anpr.redact) means raising it.
RECIPE = "public-1"
LINE_CHARS = 72  # a data bar line at 640 px holds about this many characters
log = logging.getLogger("challan.public_images")


class PublicCopyUnavailable(RuntimeError):
    """A copy cannot be made here (a model file is missing): nothing is served in its place."""


@dataclass(frozen=True)
class PublicImage:
    data: bytes
    media_type: str = "image/webp"


def is_public(item: EvidenceFile) -> bool:
    """Images of the scene and the plate are shown to the public; anything else (a clip) is not."""
    return item.kind in PUBLIC_KINDS and Path(item.path).suffix.lower() in PUBLIC_SUFFIXES


def public_image(challan: Challan, item: EvidenceFile, settings: Settings, width: int) -> PublicImage:
    """The public copy of one evidence image of `challan` at `width` (one of PUBLIC_WIDTHS), made
    now if it was not made before. EvidenceError if the original fails its SHA-256 check."""
    if width not in PUBLIC_WIDTHS or not is_public(item):
        raise NotFoundError("No such evidence file")
    original = evidence_files.read_verified(item, root=settings.evidence_dir)
    lines = bar_lines(challan, item, settings)
    box = recorded_box(challan.violation, item)
    paths = copy_paths(item, settings, lines, box)
    if paths[width].is_file():
        return PublicImage(paths[width].read_bytes())
    stills = _make(original, item, lines, box)
    for w, still in zip(PUBLIC_WIDTHS, stills, strict=True):
        _keep(paths[w], still)
    return PublicImage(stills[PUBLIC_WIDTHS.index(width)])


def copy_paths(item: EvidenceFile, settings: Settings, lines: list[str], box) -> dict[int, Path]:
    """Where each width's copy is kept: public/ beside the original, named by its SHA-256 and a
    digest of the recipe, the bar's lines and the recorded box (the same picture can back two
    records, each copy then says its own challan)."""
    variant = hashlib.sha256(json.dumps([RECIPE, lines, box]).encode()).hexdigest()[:16]
    folder = evidence_files.resolve(item.path, settings.evidence_dir).parent / "public"
    return {w: folder / f"{item.sha256}.{variant}.w{w}.webp" for w in PUBLIC_WIDTHS}


def _make(original: bytes, item: EvidenceFile, lines: list[str], box) -> list[bytes]:
    from anpr.redact import public_stills

    try:
        stills, done = public_stills(
            original,
            lines,
            _redactor(),
            scene=item.kind != "plate_crop",
            vehicle_box=box,
            widths=PUBLIC_WIDTHS,
        )
    except WeightsError as exc:
        log.error("no public copy of evidence %s: %s", item.id, exc)
        raise PublicCopyUnavailable(str(exc)) from None
    except ValueError as exc:
        raise EvidenceError(f"evidence {item.kind} {item.path} cannot be made public: {exc}") from None
    log.info(
        "public copy of evidence %s: bar of %d rows cut, %d plates and %d faces blurred, vehicle box %s",
        item.id,
        done.bar_rows,
        len(done.plates_blurred),
        len(done.faces_blurred),
        done.vehicle_box,
    )
    return [still.data for still in stills]


@lru_cache(maxsize=1)
def _redactor():
    """One set of detectors per process, loaded on the first copy made."""
    from anpr.redact import Redactor

    return Redactor()


def _keep(path: Path, data: bytes) -> None:
    """Written whole or not at all; a folder that cannot be written only costs making it again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as handle:
            handle.write(data)
        os.chmod(handle.name, 0o644)  # as readable as the originals beside it
        os.replace(handle.name, path)
    except OSError as exc:
        log.warning("public copy not kept at %s: %s", path, exc)


def recorded_box(violation: Violation, item: EvidenceFile):
    """The vehicle box the record keeps (details["vehicle_box"]) belongs to the scene the notice
    prints: the first of SCENE_KINDS the violation has. The box drawn on a scene wins over it."""
    box = violation.details.get("vehicle_box")
    scenes = [e for kind in SCENE_KINDS for e in violation.evidence if e.kind == kind]
    if not box or not scenes or scenes[0].id != item.id:
        return None
    return [float(v) for v in box]


def bar_lines(challan: Challan, item: EvidenceFile, settings: Settings) -> list[str]:
    """What the copy's bar says: where and when, the challan, what was measured, and that an
    officer approved it. Never the camera's own wording of the moment ("pending officer review")."""
    violation = challan.violation
    kind = load_fines(settings.fines_path).violations.get(violation.code)
    title = kind.title if kind else violation.code
    decided = f"Issued {challan.issued_on:%d %b %Y} after an officer's review."
    if item.kind == "plate_crop":
        return [f"Challan {challan.number}  plate {challan.plate}", decided]
    site = load_places().site_name(violation.site_id, violation.site.name if violation.site else None)
    moment = violation.occurred_at.astimezone(ZoneInfo(settings.timezone))
    frame = {"scene_before": "  (frame before)", "scene_after": "  (frame after)"}.get(item.kind, "")
    lines = [
        f"{site}  {moment:%d %b %Y %H:%M:%S} {moment.tzname()}{frame}",
        f"Challan {challan.number}  {title}  plate {challan.plate}",
    ]
    measured = "; ".join(f"{label} {value}" for label, value in measurements(violation))
    lines += textwrap.wrap(measured, LINE_CHARS)
    lines.append(decided + " Other plates and faces blurred.")
    return [_ascii(line) for line in lines]


def _ascii(text: str) -> str:
    """The bar is drawn with OpenCV's Hershey fonts, which have Latin letters only."""
    return text.encode("ascii", "replace").decode()
