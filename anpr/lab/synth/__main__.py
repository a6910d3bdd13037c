"""Contact sheet of synthetic plates: python -m anpr.lab.synth --n 48 --out /tmp/synth.png

The issue #28 US designs alone, at the size they are rendered and enlarged 3x:
    python -m anpr.lab.synth --region us --us-designs 1 --native --out /tmp/us.png
    python -m anpr.lab.synth --region us --us-designs 1 --zoom 3 --out /tmp/us-3x.png"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

import cv2
import numpy as np

from anpr.lab.synth import SyntheticPlate, generate

TILE_H, TILE_W = 96, 300


def contact_sheet(
    plates: Iterable[SyntheticPlate], columns: int = 4, boxes: bool = False, zoom: float | None = None
) -> np.ndarray:
    """A grid of the plates with their label lines and style under each. zoom None fits each crop to
    its tile; a number draws it at that many times its own pixels (1: as the reader gets it)."""
    tiles = []
    for plate in plates:
        image = plate.image.copy()
        if boxes:
            for x1, y1, x2, y2 in plate.line_boxes:
                cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), 1)
        k = zoom or min(TILE_H / image.shape[0], TILE_W / image.shape[1])
        k = min(k, TILE_H / image.shape[0], TILE_W / image.shape[1])  # never past the tile
        size = (round(image.shape[1] * k), round(image.shape[0] * k))
        image = cv2.resize(image, size, interpolation=cv2.INTER_NEAREST if zoom else cv2.INTER_LINEAR)
        tile = np.full((TILE_H + 20, TILE_W, 3), 255, np.uint8)
        tile[: image.shape[0], : image.shape[1]] = image
        label = " / ".join(plate.lines) + f"  [{plate.style}]"
        cv2.putText(tile, label, (2, TILE_H + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(cv2.copyMakeBorder(tile, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/synth.png")
    parser.add_argument("--region", action="append", help="pk, us, eu or br (repeatable)")
    parser.add_argument(
        "--us-designs", type=float, default=0.0, help="share of the mix for the issue #28 US designs (0-1)"
    )
    parser.add_argument("--clean", action="store_true", help="no degradations")
    parser.add_argument("--boxes", action="store_true", help="draw line boxes")
    parser.add_argument("--native", action="store_true", help="crops at their own size (as --zoom 1)")
    parser.add_argument("--zoom", type=float, help="crops at this many times their own size")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    plates = list(generate(args.n, args.seed, args.region, not args.clean, args.us_designs))
    zoom = 1.0 if args.native else args.zoom
    if not cv2.imwrite(args.out, contact_sheet(plates, boxes=args.boxes, zoom=zoom)):
        raise SystemExit(f"error: cannot write {args.out}")
    print(f"wrote {args.out} ({len(plates)} plates)")


if __name__ == "__main__":
    main()
