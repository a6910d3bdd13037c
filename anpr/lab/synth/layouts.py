"""The registry of plate styles, the region each belongs to, and how often each is drawn by default."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from anpr.lab.synth import foreign, pakistan, us
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
# Issue #28's US designs (anpr.lab.synth.us), rendered 60-130 px wide: style -> (layout, share among
# them). They are out of the default mix and come in only when asked for (`us_designs`, the share of
# the mix they take), so that every stream drawn before them stays the same, seed for seed.
US_DESIGNS: dict[str, tuple[Layout, float]] = {
    "us-state": (us.state_plate, 0.5),
    "us-vanity": (us.vanity_plate, 0.3),
    "us-stacked": (us.stacked_plate, 0.2),
}
DESIGN_STYLES: tuple[str, ...] = tuple(US_DESIGNS)


def layout(style: str) -> Layout:
    if style in LAYOUTS:
        return LAYOUTS[style][0]
    if style in US_DESIGNS:
        return US_DESIGNS[style][0]
    known = ", ".join((*LAYOUTS, *US_DESIGNS))
    raise ValueError(f"unknown plate style {style!r}; known: {known}")


def region_of(style: str) -> str:
    return style.split("-", 1)[0]


def style_weights(
    regions: Sequence[str] | None = None, us_designs: float = 0.0
) -> tuple[tuple[str, ...], np.ndarray]:
    """Styles of the given regions (all by default) and their normalised default shares; with
    `us_designs` > 0 (and US among the regions) the US designs take that share of the mix."""
    if regions is not None:
        unknown = sorted(set(regions) - set(REGIONS))
        if unknown or not regions:
            raise ValueError(f"regions must be among {', '.join(REGIONS)}; got {list(regions)}")
    if not 0.0 <= us_designs <= 1.0:
        raise ValueError(f"us_designs is a share, 0 to 1; got {us_designs}")
    chosen = tuple(s for s in STYLES if regions is None or region_of(s) in regions)
    weights = np.array([LAYOUTS[s][1] for s in chosen])
    weights = weights / weights.sum()
    if us_designs == 0.0 or (regions is not None and "us" not in regions):
        return chosen, weights
    extra = np.array([share for _, share in US_DESIGNS.values()])
    mixed = np.concatenate([weights * (1 - us_designs), extra / extra.sum() * us_designs])
    return chosen + DESIGN_STYLES, mixed
