"""Evidence files are content-addressed: the SHA-256 of their bytes is stored with the record, and
every use (officer approval, the PDF) re-reads the file and checks it, so a changed, truncated or
missing file is caught before it can support a challan."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from anpr.types import Evidence
from challan.errors import EvidenceError

CHUNK = 1 << 20


class EvidenceLike(Protocol):
    kind: str
    path: str
    sha256: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def resolve(path: str, root: Path | str = ".") -> Path:
    """Absolute paths stand; relative ones are under the evidence folder (ANPR_EVIDENCE_DIR)."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(root) / candidate


def store_file(source: Path | str, *, root: Path | str, kind: str) -> Evidence:
    """Copy a file into the content-addressed store, root/ab/abcdef....ext, and describe it. Storing
    the same bytes twice writes nothing new; the returned path is relative to root."""
    source = Path(source)
    sha = sha256_file(source)
    relative = Path(sha[:2]) / f"{sha}{source.suffix.lower()}"
    target = Path(root) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return Evidence(kind=kind, path=relative.as_posix(), sha256=sha)


def read_verified(item: EvidenceLike, *, root: Path | str = ".") -> bytes:
    """The file's bytes, after checking them against the recorded SHA-256 (EvidenceError if not)."""
    path = resolve(item.path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"evidence {item.kind} {path} cannot be read ({exc.strerror or exc})") from None
    actual = sha256_bytes(data)
    if actual != item.sha256:
        raise EvidenceError(
            f"evidence {item.kind} {path} has changed: SHA-256 {actual[:16]}... "
            f"does not match the recorded {item.sha256[:16]}..."
        )
    return data


@dataclass(frozen=True)
class EvidenceCheck:
    kind: str
    path: str
    sha256: str
    status: str  # "ok" | "changed" | "missing"

    def to_json(self) -> dict:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "status": self.status}


def check(items: Iterable[EvidenceLike], *, root: Path | str = ".") -> list[EvidenceCheck]:
    """Each file's state without raising: for `show` and the portal's integrity badge."""
    checks = []
    for item in items:
        path = resolve(item.path, root)
        status = "missing" if not path.is_file() else "ok" if sha256_file(path) == item.sha256 else "changed"
        checks.append(EvidenceCheck(item.kind, item.path, item.sha256, status))
    return checks


def require_intact(items: Iterable[EvidenceLike], *, root: Path | str = ".") -> list[bytes]:
    """Every file's verified bytes, in order; EvidenceError on the first bad one."""
    return [read_verified(item, root=root) for item in items]
