"""Places: what a site is called and where a contest of its challans is heard, from versioned YAML
(challan/config/places-punjab.yaml) validated by Pydantic. The records key a site by the code its
camera's site file gives; people read its name ("Mall Road / Regal Chowk, Lahore")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError, model_validator

from anpr.errors import ConfigError
from challan.settings import PACKAGE_DIR

DEFAULT_PLACES = PACKAGE_DIR / "config" / "places-punjab.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hearing(_Strict):
    office: str
    address: str
    source: str | None = None

    @property
    def where(self) -> str:
        return f"{self.office}, {self.address}"


class City(_Strict):
    name: str
    hearing: Hearing


class SitePlace(_Strict):
    name: str
    city: str
    address: str | None = None


class Places(_Strict):
    version: PositiveInt
    cities: dict[str, City]
    default_city: str
    sites: dict[str, SitePlace]

    @model_validator(mode="after")
    def _cities_known(self) -> Places:
        if self.default_city not in self.cities:
            raise ValueError(f"default_city '{self.default_city}' is not under cities")
        for code, site in self.sites.items():
            if site.city not in self.cities:
                raise ValueError(f"site {code}: city '{site.city}' is not under cities")
        return self

    def site_name(self, code: str, recorded: str | None = None) -> str:
        """What people call the site: the name on record where someone gave one (the pipeline
        records a new site under its code), else this file's, else the code itself."""
        if recorded and recorded != code:
            return recorded
        site = self.sites.get(code)
        return site.name if site else code

    def site_address(self, code: str, recorded: str | None = None) -> str | None:
        site = self.sites.get(code)
        return recorded or (site.address if site else None)

    def hearing(self, code: str) -> Hearing:
        """Where a contest of a challan from this site is heard: its city's office, else the
        default city's."""
        site = self.sites.get(code)
        return self.cities[site.city if site else self.default_city].hearing


def load_places(path: Path | str = DEFAULT_PLACES) -> Places:
    path = Path(path)
    return _load(str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> Places:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"places file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"places file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return Places.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"places file {path}: {where}: {first['msg']}") from None


__all__ = ["DEFAULT_PLACES", "Hearing", "Places", "load_places"]
