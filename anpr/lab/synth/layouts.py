"""The registry of plate styles, the region each belongs to, and how often each is drawn by default."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from anpr.lab.synth import foreign, pakistan
from anpr.lab.synth.paint import Drawn

Layout = Callable[[np.random.Generator], Drawn]

# style -> (layout, default share). Pakistani styles are 60 % of the default mix, two-line ones 24 %.
LAYOUTS: dict[str, tuple[Layout, float]] = {
    "pk-punjab-legacy-2line": (pakistan.punjab_legacy_2line, 0.17),
    "pk-punjab-legacy-1line": (pakistan.punjab_legacy_1line, 0.04),
    "pk-punjab-universal": (pakistan.punjab_universal, 0.06),
    "pk-ict": (pakistan.ict, 0.05),
    "pk-sindh-yellow": (pakistan.sindh_yellow, 0.11),
    "pk-sindh-white": (pakistan.sindh_white, 0.03),
    "pk-kpk": (pakistan.kpk, 0.04),
    "pk-balochistan": (pakistan.balochistan, 0.03),
    "pk-motorcycle": (pakistan.motorcycle, 0.07),
    "us": (foreign.us, 0.15),
    "eu": (foreign.eu, 0.13),
    "br-old": (foreign.br_old, 0.07),
    "br-mercosur": (foreign.br_mercosur, 0.05),
}
STYLES: tuple[str, ...] = tuple(LAYOUTS)
REGIONS: tuple[str, ...] = ("pk", "us", "eu", "br")


def region_of(style: str) -> str:
    return style.split("-", 1)[0]


def style_weights(regions: Sequence[str] | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """Styles of the given regions (all by default) and their normalised default shares."""
    if regions is not None:
        unknown = sorted(set(regions) - set(REGIONS))
        if unknown or not regions:
            raise ValueError(f"regions must be among {', '.join(REGIONS)}; got {list(regions)}")
    chosen = tuple(s for s in STYLES if regions is None or region_of(s) in regions)
    weights = np.array([LAYOUTS[s][1] for s in chosen])
    return chosen, weights / weights.sum()
