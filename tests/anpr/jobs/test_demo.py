"""The demo officer's choice: a challan already issued is shown again, else the pending, fineable
violation whose plate read is most certain is approved."""

from types import SimpleNamespace

from anpr.jobs.demo import violation_to_approve


def _record(id, status="pending", plate="LEH5789", fine=5000, number=None):
    return SimpleNamespace(id=id, status=status, plate=plate, fine_pkr=fine, number=number)


def test_the_most_certain_pending_fineable_read_is_chosen():
    records = [_record(1), _record(2), _record(3, plate=None), _record(4, fine=None), _record(5, "rejected")]
    confidence = {1: 0.62, 2: 0.91, 3: 0.99, 4: 0.99, 5: 0.99}
    assert violation_to_approve(records, confidence).id == 2


def test_a_rerun_shows_the_challan_already_issued():
    records = [_record(1), _record(2, status="issued", number="PB-2026-000002-K7QX")]
    assert violation_to_approve(records, {1: 0.99, 2: 0.5}).id == 2


def test_nothing_to_approve_without_a_plate_read():
    assert violation_to_approve([_record(1, plate=None)], {1: 0.9}) is None
