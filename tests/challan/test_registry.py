import pytest
from sqlmodel import select

from challan.audit import audit_trail
from challan.errors import RegistryImportError
from challan.models import Vehicle
from challan.registry import import_csv
from tests.challan.conftest import snapshot

HEADER = "plate,owner_name,cnic,address,vehicle_class,make,colour,registration_year\n"
GOOD = (
    HEADER
    + 'leh 5789,Muhammad Ali Khan,3520212345671,"House 12, Gulberg III, Lahore",car,Toyota Corolla,White,07\n'
    + "AMD-868,Ayesha Siddiqui,61101-7654321-2,,Motorcycle,Honda CD70,Red,\n"
    + "\n"
    + "RIA3210,محمد اسلم,37405-1111111-3,Rawalpindi,large-over-2000cc,,,2019\n"
)


def write(tmp_path, text, name="registry.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_adds_normalised_entries(session, settings, tmp_path):
    result = import_csv(session, path=write(tmp_path, GOOD), settings=settings)
    session.commit()
    assert result.to_json() == {"created": 3, "updated": 0, "unchanged": 0}
    vehicles = {v.plate: v for v in session.exec(select(Vehicle))}
    assert sorted(vehicles) == ["AMD868", "LEH5789", "RIA3210"]
    leh = vehicles["LEH5789"]
    assert (leh.owner_cnic, leh.owner_address, leh.registration_year) == (
        "35202-1234567-1",
        "House 12, Gulberg III, Lahore",
        "07",
    )
    assert (vehicles["AMD868"].vehicle_class, vehicles["AMD868"].owner_address) == ("motorcycle", None)
    assert vehicles["RIA3210"].owner_name == "محمد اسلم"
    assert [e.action for e in audit_trail(session, entity="vehicles")] == ["create"] * 3


def test_reimport_updates_in_place_and_logs_the_old_value(session, settings, tmp_path):
    import_csv(session, path=write(tmp_path, GOOD), settings=settings)
    changed = GOOD.replace("House 12, Gulberg III, Lahore", "Flat 3, DHA Phase 5, Lahore")
    result = import_csv(session, path=write(tmp_path, changed, "v2.csv"), settings=settings)
    session.commit()
    assert result.to_json() == {"created": 0, "updated": 1, "unchanged": 2}
    update = audit_trail(session, entity="vehicles")[-1]
    assert update.action == "update"
    assert update.changes == {
        "owner_address": ["House 12, Gulberg III, Lahore", "Flat 3, DHA Phase 5, Lahore"]
    }
    assert "v2.csv" in update.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("3520212345671", "35202-12345"), "line 2: CNIC '35202-12345' is not 13 digits"),
        (GOOD.replace("Motorcycle", "tractor"), "line 3: vehicle_class 'tractor' is not one of"),
        (GOOD.replace("Ayesha Siddiqui", ""), "line 3: owner_name is empty"),
        (GOOD + "LEH-5789,Someone,35202-1234567-9,,car,,,\n", "line 6: plate LEH5789 repeats line 2"),
        (GOOD.replace("AMD-868", "AM#868"), "line 3: plate 'AM#868' is not"),
        (GOOD.replace(",2019", ",19-A"), "line 5: registration_year '19-A'"),
        (GOOD.replace(",07\n", ",07,extra\n"), "line 2: expected 8 fields"),
        (GOOD.replace(",Red,\n", "\n"), "line 3: expected 8 fields"),
        (GOOD.replace("owner_name,", ""), "line 1: missing column(s) owner_name"),
        (GOOD.replace("colour", "color"), "line 1: unknown column(s) color"),
    ],
)
def test_a_malformed_row_stops_the_import_with_its_line(session, settings, tmp_path, text, expected):
    before = snapshot(session)
    with pytest.raises(RegistryImportError) as caught:
        import_csv(session, path=write(tmp_path, text), settings=settings)
    session.rollback()
    assert expected in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "registry.csv"))
    assert "\n" not in str(caught.value)
    assert snapshot(session) == before


def test_unreadable_file(session, settings, tmp_path):
    with pytest.raises(RegistryImportError, match="cannot read"):
        import_csv(session, path=tmp_path / "missing.csv", settings=settings)
    (tmp_path / "latin.csv").write_bytes(
        HEADER.encode() + "LEH1,Jos\xe9,35202-1234567-1,,car,,,\n".encode("latin-1")
    )
    with pytest.raises(RegistryImportError, match="not UTF-8"):
        import_csv(session, path=tmp_path / "latin.csv", settings=settings)
