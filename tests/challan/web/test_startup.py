"""The portal starts through challan.db.check_ready: run as the least-privilege role on a database
behind the code, it stops with the one line that names the revision and who must migrate, not the
driver's error."""

import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from challan import grants
from challan.db import DatabaseUnavailable, get_engine
from challan.web.app import create_app
from challan.web.settings import PortalSettings
from tests.challan.conftest import _forget
from tests.challan.test_audit_migration import migrate

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def app_url(db_url):
    role = f"anpr_app_{uuid.uuid4().hex[:10]}"
    grants.grant_app_role(db_url, role)
    url = sa.make_url(db_url).set(username=role).render_as_string(hide_password=False)
    yield url
    _forget(url)
    with get_engine(db_url).begin() as connection:
        connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
        connection.exec_driver_sql(f'DROP ROLE "{role}"')


def test_the_portal_on_a_database_behind_the_code_stops_with_one_line(app_url, db_url):
    migrate(db_url, "0003", down=True)
    _forget(app_url)
    app = create_app(PortalSettings(database_url=app_url, secret_key="a test secret key, long enough"))
    with pytest.raises(DatabaseUnavailable) as refused, TestClient(app):
        pass
    message = str(refused.value)
    assert " is at revision 0003, this code needs " in message and "\n" not in message
    assert message.endswith("): migrations run as the database's owner ('anpr db upgrade')")
