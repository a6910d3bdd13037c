"""Look-ups a citizen types: a Punjab plate with its registration year (LEH-07 5789) finds the
challans of LEH5789, and the registered owner sees every challan of the vehicles under their CNIC,
after the same CNIC check and under the same rate limit as the owner's details."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from challan import crud, lifecycle
from challan.web.app import create_app
from tests.challan.conftest import record
from tests.challan.web.conftest import OWNER, csrf_token

SECOND = OWNER.model_copy(update={"plate": "LEA1234", "vehicle_class": "motorcycle", "make": "Honda CD 70"})
STRANGER = OWNER.model_copy(
    update={"plate": "RIK4400", "owner_cnic": "37405-1111111-1", "owner_name": "Someone"}
)


@pytest.fixture
def fleet(seed, session, settings, images) -> dict[str, str]:
    """Besides the seed's two challans of LEH5789: one of the owner's motorcycle LEA1234, and one of
    another owner's RIK4400."""
    numbers = {}
    for vehicle, track in ((SECOND, 50), (STRANGER, 51)):
        crud.save_vehicle(session, data=vehicle, actor="test")
        violation = record(session, settings, images, plate=vehicle.plate, track_id=track, vehicle_type="car")
        challan = lifecycle.approve_violation(
            session, violation_id=violation.id, officer="insp.sana", settings=settings
        )
        numbers[vehicle.plate] = challan.number
    session.commit()
    return numbers


@pytest.mark.parametrize("typed", ["LEH-07 5789", "LEH 07 5789", "leh-07-5789", "LEH075789"])
def test_a_plate_typed_with_its_year_finds_the_registration(client, seed, typed):
    page = client.get("/challans", params={"plate": typed})
    assert page.status_code == 200
    assert seed.number in page.text and seed.old_number in page.text
    assert 'Challans for <span class="plate">LEH5789</span>' in page.text
    assert "the registration year 07 is not part of the number" in page.text
    found = client.get("/api/v1/challans", params={"plate": typed}).json()
    assert {c["number"] for c in found} == {seed.number, seed.old_number}


def owner_lookup(client: TestClient, *, plate: str, cnic: str):
    return client.post(
        "/owner/challans", data={"plate": plate, "cnic": cnic, "csrf_token": csrf_token(client)}
    )


def test_the_owner_sees_every_challan_of_their_vehicles_by_cnic(client, seed, fleet):
    page = owner_lookup(client, plate="LEH-07 5789", cnic="3520276543218")  # dashes optional
    assert page.status_code == 200
    for number in (seed.number, seed.old_number, fleet["LEA1234"]):
        assert number in page.text
    assert fleet["RIK4400"] not in page.text
    assert '<span class="plate">LEA1234</span>' in page.text and "35202-7654321-8" in page.text
    found = client.get(
        "/api/v1/owner/challans", params={"plate": "LEA1234"}, headers={"X-Owner-CNIC": OWNER.owner_cnic}
    )
    assert found.status_code == 200
    assert {(c["number"], c["plate"]) for c in found.json()} == {
        (seed.number, "LEH5789"),
        (seed.old_number, "LEH5789"),
        (fleet["LEA1234"], "LEA1234"),
    }


@pytest.mark.parametrize(
    ("plate", "cnic"),
    [
        ("LEH5789", STRANGER.owner_cnic),  # somebody else's CNIC
        ("RIK4400", OWNER.owner_cnic),  # a plate the CNIC does not own
        ("LEH5780", OWNER.owner_cnic),  # a plate not in the registry
        ("LEH5789", "not a cnic"),
    ],
)
def test_a_cnic_that_does_not_own_the_plate_sees_nothing(client, seed, fleet, plate, cnic):
    page = owner_lookup(client, plate=plate, cnic=cnic)
    assert page.status_code == 403
    assert "does not match the registered owner" in page.text
    assert not any(n in page.text for n in (seed.number, *fleet.values()))
    assert f'value="{plate}"' in page.text  # the plate typed stays in the form
    api = client.get("/api/v1/owner/challans", params={"plate": plate}, headers={"X-Owner-CNIC": cnic})
    assert api.status_code == 403 and api.json() == {
        "detail": "The CNIC does not match the registered owner of this vehicle"
    }


def test_the_cnic_look_up_needs_its_form_token_and_the_cnic(client, seed):
    refused = client.post("/owner/challans", data={"plate": "LEH5789", "cnic": OWNER.owner_cnic})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert client.get("/api/v1/owner/challans", params={"plate": "LEH5789"}).status_code == 422


def test_the_cnic_look_up_is_rate_limited_like_the_owners_details(settings, seed):
    limited = settings.model_copy(update={"lookups_per_minute": 3})
    with TestClient(create_app(limited), base_url="http://testserver") as client:
        token = csrf_token(client)  # the home page is not limited; this is the only token needed
        codes = [
            client.post(
                "/owner/challans", data={"plate": "LEH5789", "cnic": OWNER.owner_cnic, "csrf_token": token}
            ).status_code
            for _ in range(3)
        ]
        api = client.get("/api/v1/owner/challans", params={"plate": "LEH5789"}, headers={"X-Owner-CNIC": "x"})
    assert codes == [200, 200, 200] and api.status_code == 429
