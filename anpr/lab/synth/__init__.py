"""Synthetic number plates for training the plate recognizer (and later the plate detector).

    from anpr.lab.synth import generate
    for plate in generate(1000, seed=1):
        plate.image, plate.text, plate.lines, plate.line_boxes

Pakistani styles are about 60 % of the default mix; see `STYLES` and anpr.lab.synth.layouts.LAYOUTS.
Fonts come from Debian packages under /usr/share/fonts (no font files ship with the project).
"""

from anpr.lab.synth.layouts import REGIONS, STYLES
from anpr.lab.synth.render import SyntheticPlate, generate, render_plate

__all__ = ["REGIONS", "STYLES", "SyntheticPlate", "generate", "render_plate"]
