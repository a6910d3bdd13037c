"""A real records database per test, on SQLite (a file in tmp_path) and on PostgreSQL (a fresh schema
dropped afterwards), real evidence files, and a helper that records one violation the way the video
pipeline does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlmodel import Session, SQLModel

from anpr.types import Candidate, PlateRead, VehicleEvent
from challan import crud, evidence
from challan.db import _ready, get_engine, init_db
from challan.findings import Finding
from challan.settings import Settings

OFFENCE_AT = datetime(2026, 3, 14, 12, 42, 9, 400000, tzinfo=UTC)  # 17:42:09.4 in Pakistan
SCENE_SIZE = (640, 360)
VEHICLE_BOX = (180, 90, 460, 330)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        _forget(f"sqlite:///{tmp_path / 'records.db'}")
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"anpr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        _forget(url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _forget(url: str) -> None:
    get_engine(url).dispose()
    get_engine.cache_clear()
    _ready.discard(url)


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(
        database_url=db_url,
        evidence_dir=tmp_path / "evidence",
        public_url="https://echallan.example.pk/",
    )


@pytest.fixture
def session(settings):
    init_db(settings.database_url)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def images(tmp_path) -> dict[str, Path]:
    """A scene with a car-like shape and a plate close-up, written as real JPEG and PNG files."""
    scene = Image.new("RGB", SCENE_SIZE, (70, 72, 75))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 250, 640, 256), fill=(240, 240, 240))  # stop line
    draw.rectangle(VEHICLE_BOX, fill=(30, 60, 140))
    draw.rectangle((270, 280, 370, 310), fill=(255, 255, 255))
    plate = Image.new("RGB", (240, 80), (255, 255, 255))
    ImageDraw.Draw(plate).text((20, 25), "LEH 5789", fill=(0, 0, 0), font_size=32)
    paths = {"scene_at": tmp_path / "scene.jpg", "plate_crop": tmp_path / "plate.png"}
    scene.save(paths["scene_at"], quality=90)
    plate.save(paths["plate_crop"])
    return paths


def record(
    session: Session,
    settings: Settings,
    images: dict[str, Path],
    *,
    plate: str = "LEH5789",
    code: str = "RED_LIGHT",
    vehicle_type: str = "car",
    at: datetime = OFFENCE_AT,
    track_id: int = 1,
    details: dict | None = None,
    site_id: str = "lhr-mall-road-01",
    year: str | None = None,
    confidence: float = 0.91,
    year_candidates: tuple[tuple[str, float], ...] = (),
):
    """Record one violation as the pipeline would and commit; returns the pending Violation."""
    scene = evidence.store_file(images["scene_at"], root=settings.evidence_dir, kind="scene_at")
    crop = evidence.store_file(images["plate_crop"], root=settings.evidence_dir, kind="plate_crop")
    event = VehicleEvent(
        site_id=site_id,
        track_id=track_id,
        vehicle_type=vehicle_type,
        first_seen=at - timedelta(seconds=3),
        last_seen=at + timedelta(seconds=2),
        plate=PlateRead(
            text=plate,
            confidence=confidence,
            # an unread plate (empty text) keeps only its alternatives
            candidates=(Candidate(plate, confidence),) * bool(plate) + (Candidate("LEH5780", 0.4),),
            year=year,
            year_candidates=tuple(Candidate(y, share) for y, share in year_candidates),
            layout="two-line" if year else "one-line",
        ),
        evidence=(crop,),
    )
    if details is None:
        details = {"seconds_into_red": 2.4, "amber_seconds": 3.0, "vehicle_box": list(VEHICLE_BOX)}
    [violation] = crud.record_event(session, event=event, findings=[Finding(code, at, details, (scene,))])
    session.commit()
    return violation


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused operation changed nothing."""
    session.expire_all()
    tables = {}
    for table in SQLModel.metadata.sorted_tables:
        rows = session.connection().execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        tables[table.name] = [tuple(row) for row in rows]
    return tables
