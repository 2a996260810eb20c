"""Face parts as anti-aliased rasters: face skin, eyebrows, sclera, iris, lips, teeth.

Polygons of the face mesh (engine/masks/people/face_topology.py) are filled with exact pixel
coverage (supersampled fillPoly) inside each face's box, then feathered in proportion
to the face size.  engine/masks/people/analysis.py picks the person and places the result.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from maskroom.engine.masks.people import face_topology as topo
from maskroom.engine.masks.people import occluders
from maskroom.engine.masks.people.faces import Face

if TYPE_CHECKING:
    from maskroom.engine.masks.people import PeopleAnalysis

SHIFT = 4  # fillPoly subpixel bits
FACE_RASTER = 320
# Glasses frames in face skin (FaceParts._frames): zone = eye hull grown by
# FRAME_REACH of the face; lines up to FRAME_WIDTH of the face wide and
# FRAME_CONTRAST L-units (0..100) darker than around them.
FRAME_REACH = 0.2
FRAME_WIDTH = 0.05
FRAME_CONTRAST = 8.0


def _roi(face: Face, shape, pad: float = 0.35) -> tuple[int, int, int, int]:
    h, w = shape
    x0, y0, x1, y1 = face.box
    p = pad * face.size
    return (max(0, int(x0 - p)), max(0, int(y0 - p)), min(w, int(np.ceil(x1 + p))), min(h, int(np.ceil(y1 + p))))


SUPERSAMPLE = 4


def _supersampled(canvas_shape, lo: np.ndarray, hi: np.ndarray, draw) -> np.ndarray:
    """Coverage (0..1) of a shape drawn by ``draw(canvas, scale, offset)`` at
    SUPERSAMPLE x resolution inside its bounding box, area-averaged back down.

    OpenCV's LINE_AA fill grows shapes by about half a pixel on every side (a 20 px
    square covers 455 px²); supersampling gives the true area, which matters for a
    3 px iris."""
    h, w = canvas_shape
    out = np.zeros((h, w), np.float32)
    x0, y0 = max(0, int(np.floor(lo[0])) - 1), max(0, int(np.floor(lo[1])) - 1)
    x1, y1 = min(w, int(np.ceil(hi[0])) + 2), min(h, int(np.ceil(hi[1])) + 2)
    if x1 <= x0 or y1 <= y0:
        return out
    k = SUPERSAMPLE
    big = np.zeros(((y1 - y0) * k, (x1 - x0) * k), np.uint8)
    draw(big, k, np.array([x0, y0], np.float64))
    out[y0:y1, x0:x1] = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return out


def fill_polygon(canvas_shape, pts: np.ndarray, origin=(0, 0), value: float = 1.0) -> np.ndarray:
    """Anti-aliased filled polygon (float 0..1, exact pixel coverage) at subpixel positions.

    Pixel (i, j) covers [j, j+1) x [i, i+1): a vertex at x = 10.0 lies on a pixel edge."""
    p = np.asarray(pts, np.float64)[:, :2] - np.asarray(origin, np.float64)

    def draw(big, k, off):
        q = np.round((p - off) * k * (1 << SHIFT)).astype(np.int32)
        # fillPoly fills pixel centres: shift by half a (fine) pixel so edges land on borders.
        q -= (1 << SHIFT) // 2
        cv2.fillPoly(big, [q], 255, lineType=cv2.LINE_8, shift=SHIFT)

    out = _supersampled(canvas_shape, p.min(0), p.max(0), draw)
    return out * value if value != 1.0 else out


def fill_circle(canvas_shape, centre, radius: float, origin=(0, 0)) -> np.ndarray:
    c = np.asarray(centre, np.float64)[:2] - np.asarray(origin, np.float64)

    def draw(big, k, off):
        cc = np.round((c - off) * k * (1 << SHIFT) - (1 << SHIFT) // 2).astype(int)
        cv2.circle(big, (int(cc[0]), int(cc[1])), int(round(radius * k * (1 << SHIFT))), 255, -1,
                   lineType=cv2.LINE_8, shift=SHIFT)

    return _supersampled(canvas_shape, c - radius, c + radius, draw)


def grow(m: np.ndarray, px: float) -> np.ndarray:
    r = int(round(px))
    if r <= 0:
        return m
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(m, k)


def _feather(m: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return m
    return cv2.GaussianBlur(m, (0, 0), sigma)


class FaceParts:
    """Rasterised regions of one face, inside its ROI.

    Parts are drawn at a scale where the face is at most FACE_RASTER pixels (then
    upsampled bilinearly): the polygons are anti-aliased and feathered anyway, and a
    face filling a 6000 px export would otherwise cost seconds of dilations.
    """

    def __init__(self, a: PeopleAnalysis, face: Face):
        self.a, self.face = a, face
        self.x0, self.y0, self.x1, self.y1 = _roi(face, a.shape)
        self.roi_shape = (self.y1 - self.y0, self.x1 - self.x0)
        self.k = min(1.0, FACE_RASTER / max(face.size, 1.0))
        self.shape = (max(1, round(self.roi_shape[0] * self.k)), max(1, round(self.roi_shape[1] * self.k)))
        self.origin = (self.x0, self.y0)
        self.fs = face.size * self.k  # face size in raster pixels: feathering scales with it
        self._px = None
        self._polys: dict[str, np.ndarray] = {}
        self._occlusion: occluders.Occlusion | None = None

    def occlusion(self) -> occluders.Occlusion:
        """Sunglasses and face masks on this face (engine/masks/people/occluders.py)."""
        if self._occlusion is None:
            self._occlusion = occluders.find(self)
        return self._occlusion

    def lenses(self) -> np.ndarray:
        """0..1 raster of opaque lens pixels (zeros without sunglasses)."""
        lens = self.occlusion().lenses
        return np.zeros(self.shape, np.float32) if lens is None else lens

    def to_full(self, m: np.ndarray) -> np.ndarray:
        if m.shape == self.roi_shape:
            return m
        return cv2.resize(m, (self.roi_shape[1], self.roi_shape[0]), interpolation=cv2.INTER_LINEAR)

    def pts(self, pts: np.ndarray) -> np.ndarray:
        # Landmarks are pixel-centre coordinates; the raster's are pixel edges (+0.5).
        return (pts[:, :2] - np.asarray(self.origin, np.float32) + 0.5) * self.k

    def poly(self, region: str) -> np.ndarray:
        if region not in self._polys:
            self._polys[region] = self._poly(region)
        return self._polys[region]

    def _poly(self, region: str) -> np.ndarray:
        pts = self.pts(self.face.polygon(region))
        if region == "face_oval":
            # On a turned face the far side of the outline folds behind the nose and
            # the ring crosses itself (a crescent when filled): a face is convex.
            pts = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
        return fill_polygon(self.shape, pts)

    def eyes(self) -> np.ndarray:
        return np.maximum(self.poly("right_eye"), self.poly("left_eye"))

    def brows(self) -> np.ndarray:
        return np.maximum(self.poly("right_eyebrow"), self.poly("left_eyebrow"))

    def visible_eyes(self) -> np.ndarray:
        """The eyes not behind opaque lenses (sclera and iris are drawn only there)."""
        hidden = self.occlusion().hidden_eyes
        out = np.zeros(self.shape, np.float32)
        for name in ("right", "left"):
            if name not in hidden:
                out = np.maximum(out, self.poly(f"{name}_eye"))
        return out

    def iris_discs(self) -> np.ndarray:
        out = np.zeros(self.shape, np.float32)
        hidden = self.occlusion().hidden_eyes
        for name, eye in (("right", "right_eye"), ("left", "left_eye")):
            ir = self.face.irises.get(name)
            if ir is None or name in hidden:
                continue
            disc = fill_circle(self.shape, self.pts(ir.centre[None])[0], ir.radius * self.k)
            out = np.maximum(out, disc * grow(self.poly(eye), 0.004 * self.fs))
        return out

    def roi_pixels(self) -> np.ndarray:
        if self._px is None:
            px = self.a.image[self.y0:self.y1, self.x0:self.x1].astype(np.float32)
            if self.k < 1:
                px = cv2.resize(px, (self.shape[1], self.shape[0]), interpolation=cv2.INTER_AREA)
            self._px = px
        return self._px

    def part(self, kind: str) -> np.ndarray:
        fs = self.fs
        if kind == "face-skin":
            oval = self.poly("face_oval")
            holes = np.maximum.reduce([
                grow(self.eyes(), 0.015 * fs),
                grow(self.brows(), 0.01 * fs),
                grow(self.poly("lips_outer"), 0.008 * fs),
            ])
            m = np.clip(oval - holes, 0, 1)
            # Hair over the forehead, beards and glasses frames are not skin: keep the
            # pixels whose colour matches this face's cheeks and nose, and drop thin
            # dark lines round the eyes (frames in skin-like amber pass the colour test).
            # Opaque lenses are not skin either (their rims reach past the frame zone).
            m = m * self._skin_colour_gate(m) * (1 - self._frames()) * (1 - self.lenses())
            return _feather(m, 0.006 * fs)
        if kind == "eyebrows":
            return _feather(grow(self.brows(), 0.004 * fs), 0.004 * fs)
        if kind == "iris":
            return _feather(self.iris_discs(), 0.002 * fs)
        if kind == "sclera":
            return _feather(np.clip(self.visible_eyes() - grow(self.iris_discs(), 0.002 * fs), 0, 1), 0.002 * fs)
        if kind in ("lips", "teeth") and self.occlusion().mouth_hidden:
            return np.zeros(self.shape, np.float32)  # a mask over the mouth: no lips drawn on the fabric
        if kind == "lips":
            return _feather(np.clip(self.poly("lips_outer") - self.poly("lips_inner"), 0, 1), 0.003 * fs)
        if kind == "teeth":
            return self._teeth()
        raise KeyError(kind)

    def _frames(self) -> np.ndarray:
        """0..1: thin dark lines (glasses frames) in a band round the eyes.

        A morphological black-hat on lightness (closing minus the image, kernel
        FRAME_WIDTH of the face) answers to dark lines narrower than the kernel;
        inside the glasses zone (both eyes and the bridge, grown to the frames'
        reach) a line FRAME_CONTRAST L-units darker than its surroundings is a
        frame.  Wrinkles are shallower; outside the zone nothing is touched."""
        fs = self.fs
        lm = self.face.landmarks
        eyes = np.concatenate([self.pts(lm[list(topo.REGIONS[r])]) for r in ("right_eye", "left_eye")])
        hull = cv2.convexHull(eyes.astype(np.float32)).reshape(-1, 2)
        inside = fill_polygon(self.shape, hull) > 0.5
        if not inside.any():
            return np.zeros(self.shape, np.float32)
        # Grown by a distance transform: a 0.2-face dilation took 0.1 s per face.
        dist = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 3)
        zone = np.clip(FRAME_REACH * fs + 1 - dist, 0, 1)
        light = cv2.cvtColor(self.roi_pixels().astype(np.float32), cv2.COLOR_RGB2LAB)[..., 0]
        k = max(3, int(round(FRAME_WIDTH * fs)) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        blackhat = cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, kernel)
        line = np.clip((blackhat - FRAME_CONTRAST) / FRAME_CONTRAST, 0, 1)
        return (line * np.clip(zone, 0, 1)).astype(np.float32)

    def _skin_colour_gate(self, region: np.ndarray) -> np.ndarray:
        """0..1: how well each ROI pixel's Lab colour fits the cheek/nose skin."""
        lm = self.face.landmarks
        px = self.roi_pixels().astype(np.float32)
        lab = cv2.cvtColor(px, cv2.COLOR_RGB2LAB)
        # Sample band: from the lower eyelids down to the upper lip, inside the region.
        top = (float(np.max(lm[[145, 374], 1])) - self.y0) * self.k
        bottom = (float(lm[0, 1]) - self.y0) * self.k
        yy = np.arange(self.shape[0], dtype=np.float32)[:, None]
        band = (region > 0.9) & (yy > top) & (yy < bottom)
        occ = self.occlusion()
        if occ.mouth_hidden:
            # A mask fills the cheek band: sample round the eyes and on the forehead.
            band = occ.skin_sample & (region > 0.5)
        elif occ.skin_sample is not None:
            band &= occ.skin_sample  # lenses reaching into the band are not skin
        samples = lab[band]
        if len(samples) < 30:
            return np.ones(self.shape, np.float32)
        mean = np.median(samples, 0)
        spread = np.percentile(np.abs(samples - mean), 80, axis=0)
        # Lightness varies with shading far more than chroma: weight it down.
        scale = np.maximum(spread, [6.0, 3.0, 3.0]) * np.array([2.2, 1.0, 1.0])
        d = np.sqrt((((lab - mean) / scale) ** 2).sum(-1))
        return np.clip((5.5 - d) / 2.0, 0, 1).astype(np.float32)

    def _teeth(self) -> np.ndarray:
        lm = self.face.landmarks
        # A closed mouth (inner lip centres 13 and 14 together) shows no teeth; its
        # thin inner ring would otherwise pick up lip highlights.
        opening = float(np.hypot(*(lm[14, :2] - lm[13, :2])))
        inner = self.poly("lips_inner")
        if opening < 0.04 * self.face.size or (inner > 0.5).sum() < 4:
            return np.zeros(self.shape, np.float32)
        ys, xs = np.nonzero(inner > 0)
        ya, yb, xa, xb = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        inner = inner[ya:yb, xa:xb]
        px = self.roi_pixels()[ya:yb, xa:xb].astype(np.float32)
        hsv = cv2.cvtColor(px, cv2.COLOR_RGB2HSV)
        s, v = hsv[..., 1], hsv[..., 2]
        inside = inner > 0.5
        # Teeth are the bright, low-saturation part of the mouth opening (relative to
        # this mouth: exposure varies, dark mouth interiors and the tongue are not).
        v_ref = float(np.percentile(v[inside], 90))
        bright = np.clip((v - 0.55 * v_ref) / max(0.25 * v_ref, 1e-3), 0, 1)
        pale = np.clip((0.55 - s) / 0.2, 0, 1)
        m = inner * bright * pale
        if v_ref < 0.15:  # a dark, open mouth with nothing bright in it
            m[:] = 0
        out = np.zeros(self.shape, np.float32)
        out[ya:yb, xa:xb] = m
        return _feather(out, 0.002 * self.fs)
