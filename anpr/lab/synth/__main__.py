"""Contact sheet of synthetic plates: python -m anpr.lab.synth --n 48 --out /tmp/synth.png"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from anpr.lab.synth import generate

TILE_H, TILE_W = 96, 300


def contact_sheet(plates, columns: int = 4, boxes: bool = False) -> np.ndarray:
    tiles = []
    for plate in plates:
        image = plate.image.copy()
        if boxes:
            for x1, y1, x2, y2 in plate.line_boxes:
                cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), 1)
        k = min(TILE_H / image.shape[0], TILE_W / image.shape[1])
        image = cv2.resize(image, (round(image.shape[1] * k), round(image.shape[0] * k)))
        tile = np.full((TILE_H + 20, TILE_W, 3), 255, np.uint8)
        tile[: image.shape[0], : image.shape[1]] = image
        label = " / ".join(plate.lines) + f"  [{plate.style}]"
        cv2.putText(tile, label, (2, TILE_H + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(cv2.copyMakeBorder(tile, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/synth.png")
    parser.add_argument("--region", action="append", help="pk, us, eu or br (repeatable)")
    parser.add_argument("--clean", action="store_true", help="no degradations")
    parser.add_argument("--boxes", action="store_true", help="draw line boxes")
    args = parser.parse_args()
    plates = list(generate(args.n, args.seed, args.region, degrade=not args.clean))
    cv2.imwrite(args.out, contact_sheet(plates, boxes=args.boxes))
    print(f"wrote {args.out} ({len(plates)} plates)")


if __name__ == "__main__":
    main()
