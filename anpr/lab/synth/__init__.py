"""Synthetic number plates for training the plate recognizer (and later the plate detector).

    from anpr.lab.synth import generate
    for plate in generate(1000, seed=1):
        plate.image, plate.text, plate.lines, plate.line_boxes

Pakistani styles are about 60 % of the default mix; see `STYLES` and anpr.lab.synth.layouts.LAYOUTS.
The US designs of issue #28 (`DESIGN_STYLES`, anpr.lab.synth.us) come in only when asked for:
`generate(n, seed, us_designs=0.15)` gives them that share of the mix.
Fonts come from Debian packages under /usr/share/fonts (no font files ship with the project).
"""

from anpr.lab.synth.layouts import DESIGN_STYLES, REGIONS, STYLES
from anpr.lab.synth.render import SyntheticPlate, generate, render_plate

__all__ = ["DESIGN_STYLES", "REGIONS", "STYLES", "SyntheticPlate", "generate", "render_plate"]
