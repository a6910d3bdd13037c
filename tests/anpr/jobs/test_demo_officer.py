"""The demo's challan is issued by an officer account like any other, and its notice names them."""

import shutil
import subprocess

import pytest
from argon2 import PasswordHasher

from anpr.jobs.demo import DEMO_OFFICER, issue_demo_challan
from challan import users
from challan.settings import get_settings
from tests.challan.conftest import db_url, images, record, session, settings  # noqa: F401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_demo_officer_is_a_named_account(session, settings, images, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setenv("ANPR_EVIDENCE_DIR", str(settings.evidence_dir))
    get_settings.cache_clear()
    record(session, settings, images)
    try:
        issued = issue_demo_challan(settings.database_url, tmp_path)
        again = issue_demo_challan(settings.database_url, tmp_path)  # a re-run makes no second account
    finally:
        get_settings.cache_clear()
    assert issued is not None and issued.approved_now and not again.approved_now
    demo = users.get_officer(session, username=DEMO_OFFICER)
    assert (demo.rank, demo.full_name, demo.badge_number) == ("Inspector", "Demo Officer", "ETC-000")
    assert users.authenticate(session, username=DEMO_OFFICER, password="") is None
    text = subprocess.run(["pdftotext", str(issued.pdf), "-"], capture_output=True, text=True).stdout
    assert "approved by Inspector Demo Officer, badge ETC-000" in " ".join(text.split())
