"""Property tests of the JSON API: schemathesis generates requests from the OpenAPI schema (valid and
invalid) and checks every answer against it (no server errors, documented status codes, bodies that
match the response schemas); hypothesis drives the plate look-up with arbitrary text."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from markupsafe import escape
from schemathesis import GenerationMode

from challan.web.app import create_app
from challan.web.views import plate_query
from tests.challan.conftest import _forget
from tests.challan.web.conftest import OFFICER, bearer

FAST = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


@pytest.mark.slow
def test_api_answers_as_its_schema_says(settings, seed, client):
    """Every operation, with schema-valid and schema-violating requests, as an officer (a token) so
    that the officer operations are exercised past authentication too."""
    headers = bearer(client, *OFFICER)
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(settings))
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 20  # ... /api/v1/flow, /api/v1/ingest/sightings and the two sign-outs
    # signing out ends the token the others are called with: those go last (401 after, documented)
    operations.sort(key=lambda operation: operation.path.endswith("/sign-out"))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @FAST
            def check(case):
                case.call_and_validate(headers=headers)

            try:
                check()
            except Unsatisfiable:
                # nothing in the schema can be violated (a free-text path parameter and no body)
                assert mode is GenerationMode.NEGATIVE, operation.path
            except Exception as exc:
                exc.add_note(f"{operation.method.upper()} {operation.path} ({mode.value} data)")
                raise


@given(plate=st.text(max_size=30))
@FAST
def test_any_plate_text_is_answered_200_or_422_never_500(client, plate):
    response = client.get("/api/v1/challans", params={"plate": plate})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        wanted = plate_query(plate).plates  # as typed, and without a registration year read in it
        assert all(c["plate"] in wanted for c in response.json())
    page = client.get("/challans", params={"plate": plate}, follow_redirects=False)
    assert page.status_code in (200, 303, 422)
    if page.status_code == 422:  # the refused text is shown back, escaped
        assert str(escape(plate[:40])) in page.text


@given(number=st.text(min_size=1, max_size=60).filter(lambda s: s.strip("/")))  # "/" alone: the list
@FAST
def test_any_challan_number_is_answered_200_or_404(client, seed, number):
    response = client.get(f"/api/v1/challans/{quote(number, safe='')}")
    assert response.status_code in (200, 404), response.text
    if response.status_code == 200:
        assert response.json()["number"] == seed.number
