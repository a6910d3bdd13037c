import hashlib

import pytest

from challan import evidence
from challan.errors import EvidenceError


@pytest.fixture
def stored(tmp_path):
    source = tmp_path / "Scene.JPG"
    source.write_bytes(b"\xff\xd8 not really a jpeg but bytes are bytes \xff\xd9")
    return source, evidence.store_file(source, root=tmp_path / "store", kind="scene_at")


def test_store_is_content_addressed(tmp_path, stored):
    source, item = stored
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert item.sha256 == digest
    assert item.path == f"{digest[:2]}/{digest}.jpg"
    assert (tmp_path / "store" / item.path).read_bytes() == source.read_bytes()
    again = evidence.store_file(source, root=tmp_path / "store", kind="scene_at")
    assert again == item


def test_intact_file_reads_back(tmp_path, stored):
    source, item = stored
    assert evidence.read_verified(item, root=tmp_path / "store") == source.read_bytes()
    assert [c.status for c in evidence.check([item], root=tmp_path / "store")] == ["ok"]


def test_one_changed_byte_is_detected(tmp_path, stored):
    _, item = stored
    path = tmp_path / "store" / item.path
    data = bytearray(path.read_bytes())
    data[5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match="has changed"):
        evidence.read_verified(item, root=tmp_path / "store")
    assert [c.status for c in evidence.check([item], root=tmp_path / "store")] == ["changed"]


def test_missing_file_is_detected(tmp_path, stored):
    _, item = stored
    (tmp_path / "store" / item.path).unlink()
    with pytest.raises(EvidenceError, match="cannot be read"):
        evidence.read_verified(item, root=tmp_path / "store")
    assert [c.status for c in evidence.check([item], root=tmp_path / "store")] == ["missing"]


def test_absolute_paths_ignore_the_root(tmp_path, stored):
    source, _ = stored
    item = evidence.EvidenceCheck("clip", str(source), evidence.sha256_file(source), "ok")
    assert evidence.read_verified(item, root=tmp_path / "elsewhere") == source.read_bytes()
