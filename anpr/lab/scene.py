"""A small 3D drawing of a road junction for the sample clips: a pinhole camera over a flat road,
vehicles as shaded polyhedra with the plate mapped onto the bumper in perspective, a signal head on
a pole. Ground truth is exact by construction: the camera that draws is the camera we calibrate.
(Detail such as windscreen reflections and road texture is there because the COCO detector does not
see flat-shaded boxes as cars.)"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LIGHT = np.array([0.4, -0.6, 0.7]) / np.linalg.norm([0.4, -0.6, 0.7])


@dataclass(frozen=True)
class Camera:
    """World: x across the road, y along it (away from the camera), z up; metres."""

    width: int = 2560
    height: int = 1440
    focal_px: float = 3000.0
    x: float = 3.5
    y: float = -17.0
    z: float = 5.5
    pitch_deg: float = 11.0

    @property
    def rotation(self) -> np.ndarray:
        t = np.radians(self.pitch_deg)
        return np.array([[1, 0, 0], [0, -np.sin(t), -np.cos(t)], [0, np.cos(t), -np.sin(t)]])

    def to_camera(self, points) -> np.ndarray:
        return (np.asarray(points, float) - [self.x, self.y, self.z]) @ self.rotation.T

    def project(self, points) -> np.ndarray:
        c = self.to_camera(points)
        f = self.focal_px
        return np.stack(
            [f * c[..., 0] / c[..., 2] + self.width / 2, f * c[..., 1] / c[..., 2] + self.height / 2], -1
        )

    def ground_to_image(self, xy) -> np.ndarray:
        xy = np.asarray(xy, float).reshape(-1, 2)
        return self.project(np.column_stack([xy, np.zeros(len(xy))]))


def xface(x, y0, y1, z0, z1):
    return [(x, y0, z0), (x, y1, z0), (x, y1, z1), (x, y0, z1)]


def yface(y, x0, x1, z0, z1):
    return [(x0, y, z0), (x1, y, z0), (x1, y, z1), (x0, y, z1)]


def zface(z, x0, x1, y0, y1):
    return [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]


class Painter:
    _textures: dict[tuple[int, int], np.ndarray] = {}

    def __init__(self, camera: Camera):
        self.cam = camera
        self.frame = np.zeros((camera.height, camera.width, 3), np.uint8)
        self.eye = np.array([camera.x, camera.y, camera.z])

    def fill(self, points, colour, normal=None, grad=None) -> None:
        """A flat polygon; with `normal` it is shaded by the light and culled when facing away; with
        `grad` (top, bottom) its brightness runs down the face like a sky reflection."""
        pts3 = np.asarray(points, float)
        if normal is not None:
            n = np.asarray(normal, float) / np.linalg.norm(normal)
            if (self.eye - pts3.mean(0)) @ n <= 0:
                return
            k = 0.45 + 0.55 * max(0.0, float(n @ LIGHT))
            colour = tuple(min(255, int(c * k)) for c in colour)
        if (self.cam.to_camera(pts3)[:, 2] <= 0.1).any():
            return
        pts = self.cam.project(pts3)
        if grad is None:
            cv2.fillPoly(self.frame, [np.round(pts * 8).astype(np.int32)], colour, cv2.LINE_AA, shift=3)
            return
        roi, offset, mask = self._patch(pts)
        if roi is None:
            return
        shade = np.linspace(grad[0], grad[1], roi.shape[0])[:, None, None]
        paint = np.clip(np.array(colour, float)[None, None, :] * shade, 0, 255)
        roi[:] = (roi * (1 - mask) + paint * mask).astype(np.uint8)

    def texture(self, image: np.ndarray, quad_src, corners3) -> None:
        """Map the quad `quad_src` (TL, TR, BR, BL pixels of `image`) onto four world corners."""
        dst = self.cam.project(np.asarray(corners3, float))
        roi, offset, mask = self._patch(dst)
        if roi is None or min(roi.shape[:2]) < 2:
            return
        src = np.asarray(quad_src, np.float32)
        scale = max(1.0, (src[1, 0] - src[0, 0]) / max(1.0, dst[1, 0] - dst[0, 0]) / 1.5)
        if scale > 1:  # shrink with area averaging first: the warp itself would alias the letters
            image = cv2.resize(image, None, fx=1 / scale, fy=1 / scale, interpolation=cv2.INTER_AREA)
            src = src / scale
        warp = cv2.getPerspectiveTransform(src.astype(np.float32), (dst - offset).astype(np.float32))
        patch = cv2.warpPerspective(image, warp, (roi.shape[1], roi.shape[0]), flags=cv2.INTER_LINEAR)
        roi[:] = (roi * (1 - mask) + patch * mask).astype(np.uint8)

    def _patch(self, pts: np.ndarray):
        """The frame region under a polygon, its offset and an anti-aliased coverage mask."""
        x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 1, 0)
        x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 2, [self.cam.width, self.cam.height])
        if x1 <= x0 or y1 <= y0:
            return None, None, None
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round((pts - [x0, y0]) * 8).astype(np.int32)], 255, cv2.LINE_AA, shift=3)
        return self.frame[y0:y1, x0:x1], np.array([x0, y0]), (mask / 255.0)[..., None]

    def shadow(self, x0, x1, y0, y1, strength=0.65) -> None:
        pts = self.cam.ground_to_image([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        roi, _, mask = self._patch(pts)
        if roi is not None:
            soft = cv2.GaussianBlur(mask[..., 0], (0, 0), 3)[..., None]
            roi[:] = (roi * (1 - strength * soft)).astype(np.uint8)

    def finish(self) -> np.ndarray:
        """The frame with a fixed grain (asphalt, grass, paint) and a slight lens blur."""
        key = (self.cam.height, self.cam.width)
        if key not in Painter._textures:
            rng = np.random.default_rng(1)
            grain = np.zeros(key, np.float32)
            for step, amplitude in ((12, 6), (48, 5)):  # coarse only: fine grain costs megabytes
                noise = rng.normal(0, 1, (key[0] // step + 1, key[1] // step + 1)).astype(np.float32)
                grain += amplitude * cv2.resize(noise, key[::-1], interpolation=cv2.INTER_CUBIC)
            Painter._textures[key] = grain[..., None]
        grainy = np.clip(self.frame + Painter._textures[key], 0, 255).astype(np.uint8)
        return cv2.GaussianBlur(grainy, (3, 3), 0)


# --- the junction -------------------------------------------------------------------------------


def draw_road(p: Painter, stop_y: float, road_width: float = 7.0, far: float = 400.0) -> None:
    sky = np.linspace(235, 185, p.cam.height)
    p.frame[:] = np.stack([sky, sky * 0.92, sky * 0.82], -1)[:, None, :].astype(np.uint8)
    near = p.cam.y + 3
    p.fill(zface(0, -40, 47, near, far), (80, 105, 95))
    p.fill(zface(0, -1.2, road_width + 1.2, near, far), (150, 150, 152))
    p.fill(zface(0, 0, road_width, near, far), (92, 92, 96))
    half = road_width / 2
    for y in np.arange(stop_y + 2, far, 6.0):  # lane divider, dashed before the stop line
        p.fill(zface(0, half - 0.07, half + 0.07, y, y + 3), (225, 225, 225))
    p.fill(zface(0, 0.1, road_width - 0.1, stop_y, stop_y + 0.35), (240, 240, 240))
    for x in np.arange(0.3, road_width - 0.3, 0.9):  # zebra crossing beyond the line
        p.fill(zface(0, x, x + 0.5, stop_y - 4.2, stop_y - 1.2), (230, 230, 230))


def draw_signal(p: Painter, state: str | None, x: float, y: float) -> tuple[int, int, int, int]:
    """A pole and a three-lamp head facing the traffic; returns the head's box in the image."""
    p.fill(yface(y, x - 0.08, x + 0.08, 0, 4.0), (60, 60, 60))
    head = yface(y - 0.01, x - 0.25, x + 0.25, 3.0, 4.5)
    p.fill(head, (25, 25, 25))
    lamps = {"red": (4.22, (40, 40, 255)), "amber": (3.75, (0, 190, 255)), "green": (3.28, (90, 230, 40))}
    for name, (z, lit) in lamps.items():
        colour = lit if name == state else tuple(int(c * 0.22) + 20 for c in lit)
        ring = [
            (x + 0.17 * np.cos(a), y - 0.02, z + 0.17 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 17)[:-1]
        ]
        p.fill(ring, colour)
    pts = p.cam.project(np.asarray(head, float))
    (x0, y0), (x1, y1) = np.floor(pts.min(0)).astype(int), np.ceil(pts.max(0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


# --- vehicles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plate:
    image: np.ndarray
    quad: tuple  # TL, TR, BR, BL of the plate inside `image`
    width_m: float = 0.6

    @property
    def height_m(self) -> float:
        q = np.asarray(self.quad, float)
        return self.width_m * (q[3, 1] - q[0, 1]) / max(1.0, q[1, 0] - q[0, 0])


def draw_car(p: Painter, cx: float, y: float, colour, plate: Plate | None, length=4.5, width=1.78) -> None:
    """A saloon facing the camera (driving towards -y); `y` is the front bumper's ground line."""
    roof, belt, b, inset, zb = 1.40, 0.74, 0.18, 0.3, 0.3  # heights, corner bevel, roof inset
    x0, x1 = cx - width / 2, cx + width / 2
    yh, yr0, yr1, yt = y + 1.45, y + 2.45, y + length - 1.1, y + length - 0.2
    p.shadow(x0 - 0.1, x1 + 0.1, y - 0.1, y + length + 0.1)
    for wy in (y + length - 0.95, y + 0.85):  # tyres, a little outside the body
        for wx in (x0 - 0.01, x1 - 0.21):
            p.fill(yface(wy - 0.3, wx, wx + 0.22, 0, 0.5), (18, 18, 20))
            for xs in (wx, wx + 0.22):
                p.fill(xface(xs, wy - 0.32, wy + 0.32, 0.02, 0.5), (30, 30, 32), (np.sign(xs - cx), 0, 0))
    for xs, n in ((x0, (-1, 0, 0)), (x1, (1, 0, 0))):
        side = [
            (xs, y + b, zb + 0.12),
            (xs, y + length - 0.15, zb + 0.12),
            (xs, y + length - 0.05, belt),
            (xs, yh, belt + 0.06),
            (xs, y + b, belt - 0.02),
        ]
        p.fill(side, colour, n, grad=(1.1, 0.7))
        for wy in (y + length - 0.95, y + 0.85):  # wheel arches
            arch = [
                (xs + np.sign(xs - cx) * 0.002, wy + 0.42 * np.cos(a), 0.3 + 0.42 * np.sin(a))
                for a in np.linspace(0, np.pi, 9)
            ]
            p.fill(arch, (15, 15, 17), n)
    for xa, xb, n in ((x0, x0 + b, (-1, -1, 0)), (x1, x1 - b, (1, -1, 0))):  # bevelled front corners
        p.fill(
            [(xa, y + b, zb + 0.12), (xb, y, zb), (xb, y + 0.04, belt - 0.02), (xa, y + b, belt - 0.02)],
            colour,
            n,
            grad=(1.05, 0.7),
        )
    p.fill(
        [(x0 + b, y, zb), (x1 - b, y, zb), (x1 - b, y + 0.04, belt - 0.02), (x0 + b, y + 0.04, belt - 0.02)],
        colour,
        (0, -1, 0),
        grad=(1.05, 0.65),
    )
    p.fill(
        [
            (x0 + b, y + 0.04, belt - 0.02),
            (x1 - b, y + 0.04, belt - 0.02),
            (x1, y + b, belt - 0.02),
            (x1 - 0.04, yh, belt + 0.06),
            (x0 + 0.04, yh, belt + 0.06),
            (x0, y + b, belt - 0.02),
        ],
        colour,
        (0, -0.25, 1),
        grad=(0.85, 1.2),
    )

    def screen(u, v):  # a point on the windscreen: u across, v up, both 0..1
        xl, xr = x0 + 0.12 + (inset - 0.12) * v, x1 - 0.12 - (inset - 0.12) * v
        return xl + (xr - xl) * u, yh + (yr0 - yh) * v - 0.005, belt + 0.06 + (roof - belt - 0.06) * v

    p.fill([screen(0, 0), screen(1, 0), screen(1, 1), screen(0, 1)], (150, 130, 115), grad=(0.45, 0.95))
    p.fill([screen(0.15, 0.05), screen(0.35, 0.05), screen(0.6, 0.95), screen(0.4, 0.95)], (190, 180, 170))
    p.fill([screen(0.45, 0.05), screen(0.52, 0.05), screen(0.77, 0.95), screen(0.7, 0.95)], (170, 160, 150))
    p.fill([screen(0, 0), screen(1, 0), screen(1, 0.06), screen(0, 0.06)], (20, 20, 20))
    for xs, xt, glass_n in ((x0 + 0.06, x0 + inset, (-1, 0, 0.45)), (x1 - 0.06, x1 - inset, (1, 0, 0.45))):
        p.fill(
            [(xs, yh, belt + 0.06), (xs, yt, belt + 0.02), (xt, yr1, roof), (xt, yr0, roof)],
            (70, 62, 58),
            glass_n,
            grad=(0.8, 1.2),
        )
    for xa, xb, s in ((x0 + 0.12, x0 + inset, 0.07), (x1 - 0.12, x1 - inset, -0.07)):  # pillars
        p.fill(
            [(xa, yh, belt + 0.06), (xa + s, yh, belt + 0.06), (xb + s, yr0, roof), (xb, yr0, roof)], colour
        )
    p.fill(zface(roof, x0 + inset, x1 - inset, yr0, yr1), colour, (0, 0, 1), grad=(0.9, 1.2))
    _front(
        p,
        cx,
        x0 + b / 2,
        x1 - b / 2,
        y - 0.01,
        colour,
        plate,
        lamp=(0.56, 0.68),
        grille=(0.5, 0.66),
        bumper=(zb, 0.45),
    )
    for xs, s in ((x0, -1), (x1, 1)):  # mirrors
        p.fill(yface(yh + 0.2, min(xs, xs + s * 0.2), max(xs, xs + s * 0.2), 0.9, 1.05), colour)


def draw_truck(p: Painter, cx: float, y: float, colour, plate: Plate | None, length=7.5, width=2.4) -> None:
    """A light truck: a cab with a tall windscreen and a box body behind it."""
    x0, x1 = cx - width / 2, cx + width / 2
    cab, top, body = 2.3, 3.2, (205, 205, 200)
    p.shadow(x0 - 0.1, x1 + 0.1, y - 0.1, y + length + 0.1)
    for wy in (y + length - 1.3, y + 0.9):
        for xs in (x0 - 0.02, x1 + 0.02):
            p.fill(xface(xs, wy - 0.5, wy + 0.5, 0.02, 0.9), (25, 25, 28), (np.sign(xs - cx), 0, 0))
    for xs, n in ((x0, (-1, 0, 0)), (x1, (1, 0, 0))):
        p.fill(xface(xs, y + 2.1, y + length, 0.9, top), body, n, grad=(1.05, 0.8))
        p.fill([(xs, y, 0.5), (xs, y + 2.0, 0.5), (xs, y + 2.0, cab), (xs, y + 0.3, cab)], colour, n)
    p.fill(yface(y + 2.1, x0, x1, 0.9, top), body, (0, -1, 0), grad=(1.1, 0.85))
    p.fill(zface(top, x0, x1, y + 2.1, y + length), body, (0, 0, 1))
    p.fill(yface(y, x0, x1, 0.5, 1.45), colour, (0, -1, 0), grad=(1.05, 0.7))
    p.fill(
        [(x0 + 0.1, y, 1.45), (x1 - 0.1, y, 1.45), (x1 - 0.1, y + 0.3, cab), (x0 + 0.1, y + 0.3, cab)],
        (150, 130, 115),
        grad=(0.5, 0.9),
    )
    p.fill(zface(cab, x0, x1, y + 0.3, y + 2.0), colour, (0, 0, 1))
    _front(p, cx, x0, x1, y - 0.01, colour, plate, lamp=(0.75, 0.92), grille=(0.8, 1.3), bumper=(0.35, 0.6))


def _front(p: Painter, cx, x0, x1, yf, colour, plate, lamp, grille, bumper) -> None:
    """Bumper, lamps, grille and the plate (or an empty holder when there is none to read)."""
    p.fill(yface(yf, x0 + 0.04, x1 - 0.04, *bumper), tuple(int(c * 0.3) for c in colour))
    for a, b in ((x0 + 0.1, x0 + 0.5), (x1 - 0.5, x1 - 0.1)):
        p.fill(yface(yf, a, b, *lamp), (200, 210, 215))
        p.fill(yface(yf - 0.003, a + 0.06, b - 0.06, lamp[0] + 0.03, lamp[1] - 0.04), (250, 252, 255))
    p.fill(yface(yf, cx - 0.43, cx + 0.43, *grille), (22, 22, 25))
    for z in np.linspace(grille[0] + 0.05, grille[1] - 0.05, 3):
        p.fill(yface(yf - 0.002, cx - 0.42, cx + 0.42, z, z + 0.012), (90, 90, 95))
    z0 = bumper[0] + 0.02
    if plate is None:
        p.fill(yface(yf - 0.004, cx - 0.3, cx + 0.3, z0, z0 + 0.13), (35, 35, 38))
        return
    w, h = plate.width_m / 2, plate.height_m
    corners = [
        (cx - w, yf - 0.005, z0 + h),
        (cx + w, yf - 0.005, z0 + h),
        (cx + w, yf - 0.005, z0),
        (cx - w, yf - 0.005, z0),
    ]
    p.texture(plate.image, plate.quad, corners)
