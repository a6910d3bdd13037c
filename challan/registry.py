"""The vehicle registry (owner, CNIC, address, class, make, colour by plate), imported from CSV.
The whole file is checked before anything is written: one bad row is a one-line error naming its
line, and the registry stays as it was. Re-importing updates entries in place; the audit log keeps
the old values."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from anpr.errors import AnprError
from challan.crud import normalize_cnic, normalize_plate, save_vehicle
from challan.errors import RegistryImportError
from challan.fines import load_fines
from challan.models import VehicleCreate
from challan.settings import Settings, get_settings

REQUIRED_COLUMNS = ("plate", "owner_name", "cnic", "vehicle_class")
OPTIONAL_COLUMNS = ("address", "make", "colour", "registration_year")
YEAR_PATTERN = re.compile(r"^(\d{2}|\d{4})$")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    def to_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def read_csv(path: Path | str, *, classes: Sequence[str]) -> list[VehicleCreate]:
    """Parse and validate every row (RegistryImportError '<file> line N: ...' on the first bad one)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryImportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RegistryImportError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problem = (
            f"missing column(s) {', '.join(missing)}"
            if missing
            else f"unknown column(s) {', '.join(unknown)}"
        )
        raise RegistryImportError(
            f"{path} line 1: {problem} (columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        )
    reader.fieldnames = columns
    vehicles: list[VehicleCreate] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise RegistryImportError(f"{path} line {line}: expected {len(columns)} fields")
        if not any(v.strip() for v in row.values()):
            continue
        try:
            vehicle = _vehicle(row, classes)
        except AnprError as exc:
            raise RegistryImportError(f"{path} line {line}: {exc}") from None
        if vehicle.plate in first_line:
            raise RegistryImportError(
                f"{path} line {line}: plate {vehicle.plate} repeats line {first_line[vehicle.plate]}"
            )
        first_line[vehicle.plate] = line
        vehicles.append(vehicle)
    return vehicles


def _vehicle(row: dict[str, str], classes: Sequence[str]) -> VehicleCreate:
    values = {k: v.strip() for k, v in row.items()}
    owner = values["owner_name"]
    if not owner:
        raise RegistryImportError("owner_name is empty")
    vehicle_class = values["vehicle_class"].lower()
    if vehicle_class not in classes:
        raise RegistryImportError(
            f"vehicle_class '{values['vehicle_class']}' is not one of {', '.join(classes)}"
        )
    year = values.get("registration_year") or None
    if year and not YEAR_PATTERN.match(year):
        raise RegistryImportError(f"registration_year '{year}' is not 2 or 4 digits")
    return VehicleCreate(
        plate=normalize_plate(values["plate"]),
        owner_name=owner,
        owner_cnic=normalize_cnic(values["cnic"]),
        owner_address=values.get("address") or None,
        vehicle_class=vehicle_class,
        make=values.get("make") or None,
        colour=values.get("colour") or None,
        registration_year=year,
    )


def import_csv(
    session: Session, *, path: Path | str, actor: str = "registry-import", settings: Settings | None = None
) -> ImportResult:
    """Validate the whole file, then add or update each vehicle (flushed, not committed)."""
    settings = settings or get_settings()
    classes = list(load_fines(settings.fines_path).classes)
    vehicles = read_csv(path, classes=classes)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for vehicle in vehicles:
        counts[
            save_vehicle(session, data=vehicle, actor=actor, reason=f"registry import {Path(path).name}")
        ] += 1
    return ImportResult(**counts)
