"""The people mask kinds: "person" and the per-person parts.

Kinds: ``person`` (one person or all), ``face-skin``, ``body-skin``, ``eyebrows``,
``sclera``, ``iris``, ``lips``, ``teeth``, ``hair``, ``clothes``.

Component params (core/recipe.py): ``person`` = 0-based index, people ordered
left to right by face (or body) centre; or ``ref`` = [x, y] normalised, a point on
the wanted person (sync uses the last frame's face centre); neither = all people.

One analysis per input (cached by digest in-process, so ten parts of one person run
the models once): person matte (selfie segmentation), faces (BlazeFace + mesh +
iris, engine/masks/people/faces.py), the people split (engine/masks/people/segmentation.py) and, when a
part needs it, the skin/clothes/hair model.  Face parts are anti-aliased polygons of
the mesh (cv2.fillPoly with 4 bits of subpixel shift, LINE_AA), rasterised only
inside the face's box, then feathered in proportion to the face size.  Pixel-level
parts (hair, clothes, body skin, the person) are refined on the photo at full
resolution by engine/masks/refine.py.

"Not found" (no face for a face part, person index past the last person, a closed
mouth for teeth) is ``found=False`` with an empty matte, never an exception.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks import model_store
from maskroom.engine.masks.model_store import ModelError
from maskroom.engine.masks.people import face_topology as topo
from maskroom.engine.masks.people.face_parts import FaceParts, fill_polygon, grow
from maskroom.engine.masks.people.faces import MIN_IRIS_FACE, Face, crop_matrix, find_faces, warp_crop
from maskroom.engine.masks.people.held import HELD_WARN, Held, held_things, pose_bodies, pose_on_frame
from maskroom.engine.masks.people.segmentation import (
    REGION_PRESENCE,
    SEGMENTER,
    SMALL_POSE_PRESENCE,
    SURE_DETECTOR,
    blend_crops,
    body_score,
    crop_segments,
    detect_bodies,
    is_body,
    memberships,
    person_probability,
    pose_presence,
    region_presence,
    split_people,
    work_size,
)
from maskroom.engine.masks.people.statue import photo_colour, stone_face
from maskroom.engine.masks.refine import guided_upsample, refine_alpha
from maskroom.engine.masks.registry import MaskInput, MaskResult, register

# Bump when any people mask changes: cached rasters are keyed by it.
VERSION = "people9"
SCH_MODEL = "skin_clothes_hair"
SCH_SIZE = 512
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)
_CACHE_SIZE = 4
# Mattes are refined on the photo at most at this long edge, then upsampled: at the
# 2048 px preview a 1024 px refined edge is within a pixel of a full-size one and
# four times cheaper (docs/people.md has the timings).
REFINE_LONG_EDGE = 1024
# The person edge is snapped to the photo by a guided filter whose coefficients live
# on a grid of this long edge, with this radius (grid pixels) and eps (fine_matte).
SNAP_COEF_EDGE, SNAP_RADIUS, SNAP_EPS = 512, 2, 1e-2
SMALL_BODY = 0.002  # of the frame: smallest matte blob the pose model is asked about
MAX_SMALL_BODIES = 4
# Doubtful faces need the body detector (PeopleAnalysis._face_has_body): a mesh
# score under WEAK_MESH, or under DOUBTFUL_MESH with no person matte on the face,
# or a meshless face in a frame with no meshed one.
WEAK_MESH = 0.5
DOUBTFUL_MESH = 0.7
FACE_BODY = 0.5
FACE_BODY_OFF_MATTE = 0.3
FACE_FULL_BODY = 0.7
GREY_CHROMA = 2.0  # mean |a|,|b| (Lab) under which a photo is black-and-white
GREY_SKIN_GAIN = 4.0  # skin model answer x this gates the lightness match on grey photos
LARGE_FACE = 0.08  # of the long edge: a meshed face this big off the person matte needs skin/hair
# Degrees of roll (face_roll) past which a face the upright detector found counts as
# turned (_face_has_body).  Real faces found upright on the hard cases read 0-42 (the
# rotated variants: astronaut +45 reads 42, kodim15 +60 reads 31, Hopper -30 reads 27);
# BlazeFace's upright pass is trained for about +-45.
UPRIGHT_ROLL = 55.0
# The person kind takes the pose model's segmentation along the limbs of the bodies the
# held check ran it on (PeopleAnalysis.pose_limbs, people/held.py limb_segmentation)
# where it is more than the person matte, but only where the matte gives the pixel more
# than this: both models then see something of a body there, and the pose model cannot
# draw a limb where the selfie model sees nothing.  HumanSeg (145) 0.8992 -> 0.9014
# (docs/people.md, "Limbs from the pose model").
POSE_GATE = 0.1


@dataclass
class PersonInfo:
    """One person as reported in MaskResult.info (all coordinates normalised 0..1)."""

    index: int
    box: list[float]  # x0, y0, x1, y1 of the person's region
    face_box: list[float] | None
    score: float
    centre: list[float]  # face centre, or the body box centre without a face
    landmarks: list[list[float]] | None = None  # 468 x (x, y, z); z as a fraction of the long edge
    irises: dict[str, list[float]] = field(default_factory=dict)  # eye -> [cx, cy, r]

    def to_dict(self, with_landmarks: bool = True) -> dict:
        d = asdict(self)
        if not with_landmarks:
            d.pop("landmarks")
        return d


@dataclass
class _Person:
    info: PersonInfo
    face: Face | None  # pixel coordinates of the input image
    label: int  # in the working label map


class PeopleAnalysis:
    """Models run once per input; parts derive from this."""

    def __init__(self, image: np.ndarray):
        self.image = image
        h, w = image.shape[:2]
        self.shape = (h, w)
        self.work_wh = work_size(h, w)
        ww, wh = self.work_wh
        self.sx, self.sy = ww / w, wh / h
        # One area-filtered copy at <= REFINE_LONG_EDGE feeds every smaller size
        # (segmentation, detection, working grid) and the edge refinement: resizing
        # the 2048 px preview once instead of five times.
        s = min(1.0, REFINE_LONG_EDGE / max(h, w))
        self._refine_image = None
        half = self._small_image(s)
        self.work_image = cv2.resize(half, (ww, wh), interpolation=cv2.INTER_AREA)
        self.prob = person_probability(half)
        self._lock = threading.Lock()
        self._sch: np.ndarray | None = None
        self._sch_whole: np.ndarray | None = None
        # Faces of stone (statue.py): left out of the people, kept to say why.
        self.statues: list[dict] = []
        # Face detections and person-shaped matte blobs that no mesh, body detector or
        # pose model confirmed (riders in helmets, someone far away): counted so that
        # "no person" says so.
        self.unconfirmed = 0
        self._photo_colour = photo_colour(half)
        self.faces = self._confirmed(find_faces(image, hint=self.prob, detect_image=half))
        face_boxes = [f.box * np.array([self.sx, self.sy, self.sx, self.sy], np.float32) for f in self.faces]
        self.labels, bodies = split_people(self.work_image, self.prob, face_boxes)
        examined = list(bodies)
        if bodies:
            self.labels, bodies = self._confirmed_bodies(len(self.faces), bodies, half)
        if not self.faces and not bodies:
            # Nobody yet: a lone small person (a pedestrian) is thinner than the
            # eroded blobs split_people keeps; any other matte blob the pose model
            # is sure of.
            self.labels, bodies = self._small_bodies(half, examined)
        # The crop answers are kept at their own resolution: all_alpha blends them on
        # the refine grid, not on the 384 px working grid (see all_alpha).
        self._whole_prob = self.prob
        self._crops = crop_segments(half, self.prob, self.labels > 0) if (self.labels > 0).any() else []
        self.prob = blend_crops(self.prob, self._crops, half.shape[:2])
        people: list[_Person] = []
        long_edge = float(max(h, w))
        for k, face in enumerate(self.faces):
            people.append(self._make(k + 1, face, long_edge))
        for j, b in enumerate(bodies):
            people.append(self._make(len(self.faces) + j + 1, None, long_edge, body=b))
        people.sort(key=lambda p: p.info.centre[0])
        for i, p in enumerate(people):
            p.info.index = i
        self.people = people
        self.member = memberships(self.labels, len(people))
        self._all_alpha: np.ndarray | None = None

    def _confirmed(self, faces: list[Face]) -> list[Face]:
        """Faces that are people; the person matte extended under faces it missed.

        The selfie model misses some people (a dark coat against a dark wall, a
        profile).  Where a face was found but the matte is empty, the skin/clothes/
        hair model's union is taken instead inside a body-shaped window under the
        face.  A face without mesh landmarks (profile) counts only when the matte or
        that model's skin+hair agree there is a head."""
        h, w = self.shape
        wh, ww = self.prob.shape
        meshed = [f.box for f in faces if f.landmarks is not None]
        out = []
        for f in faces:
            x0, y0, x1, y1 = f.box * np.array([self.sx, self.sy, self.sx, self.sy])
            xa, ya = max(0, int(x0)), max(0, int(y0))
            xb, yb = min(ww, int(np.ceil(x1)) + 1), min(wh, int(np.ceil(y1)) + 1)
            if xb <= xa or yb <= ya:
                continue
            if f.landmarks is None and _on_someones_body(f.box, meshed):
                continue  # a "face" on a chest (a necklace, a print) is not a person
            if f.landmarks is not None:
                stone = stone_face(self.image, f.landmarks, f.size, self._photo_colour)
                if stone is not None:
                    self.statues.append({"box": [float(v) for v in f.box], **stone})
                    continue
            matte = float(self.prob[ya:yb, xa:xb].mean())
            if not self._face_has_body(f, matte, bool(meshed)):
                self.unconfirmed += 1  # a face no body backs (kodim05's helmets: detector 0.58)
                continue
            on_matte = matte > 0.4
            if on_matte and f.landmarks is not None:  # a mesh face on the matte: a person
                out.append(f)
                continue
            try:
                sch = self.sch_whole()
            except Exception:  # no skin/clothes/hair model: trust the mesh alone
                if f.landmarks is not None:
                    out.append(f)
                continue
            head = float((sch[0, ya:yb, xa:xb] + sch[2, ya:yb, xa:xb]).mean())
            fh = y1 - y0
            ta, tb = min(wh, int(y1 + 0.5 * fh)), min(wh, int(y1 + 3 * fh))
            torso = float(sch[1, ta:tb, xa:xb].mean()) if tb > ta else 0.0
            # Without a mesh, a detection is a person only with a head (skin/hair) on
            # top of clothes: BlazeFace's weak detections land on rocks and leaves.
            if f.landmarks is None and (head < 0.3 or torso < 0.3):
                continue
            # The selfie model mattes anyone whose face is a sizeable part of the
            # frame; a big meshed "face" it does not see, with no skin or hair in it,
            # is a pattern the mesh was fooled by (a 150 px landscape upscaled: a
            # 16 % face on bare rock).  Small faces off the matte stay (crowds,
            # black-and-white group photos: 3-4 %, no skin colour).
            rel = max(x1 - x0, y1 - y0) / max(ww, wh)
            if f.landmarks is not None and rel >= LARGE_FACE and head < 0.3:
                continue
            out.append(f)
            if on_matte:
                continue
            fw, fh = x1 - x0, y1 - y0
            cx = (x0 + x1) / 2
            window = np.zeros((wh, ww), np.float32)
            cv2.ellipse(window, (int(cx), int(y1 + 2.5 * fh)), (int(1.8 * fw), int(4.0 * fh)), 0, 0, 360, 1.0, -1)
            window[ya:yb, xa:xb] = 1.0
            union = np.clip(sch.max(0), 0, 1)
            self.prob = np.maximum(self.prob, union * window)
        return out

    def _face_has_body(self, f: Face, matte: float, someone_meshed: bool) -> bool:
        """Whether the BlazePose detector backs a doubtful face (see WEAK_MESH).

        Measured at the 2048 px preview on the 60 sample photos without people and
        the 13 portraits: false faces that got through had mesh scores 0.39-0.60
        (a cliff, a rocket, a lighthouse railing) or no mesh (a book page, birds, a
        mountain); real faces meshed at 0.59-0.96, the real meshless one is a
        profile beside a meshed face (the Curies).  On a square around the
        expected head and shoulders the detector gave the false ones 0.06-0.35."""
        weak = f.landmarks is not None and f.score < WEAK_MESH
        off_matte = f.landmarks is not None and f.score < DOUBTFUL_MESH and matte < 0.1
        lone_profile = f.landmarks is None and not someone_meshed
        # A face found only on a turned copy of the frame (faces.ROTATIONS) is doubtful
        # whatever its mesh says: the cat and the dogs of the samples mesh at 0.78-0.88
        # there, and the selfie model mattes them.  So is one the upright detector
        # found but whose mesh turns it further than that detector finds faces
        # (UPRIGHT_ROLL): the turned copies stand for such faces, and which copy
        # found it must not decide.  (The cat through the importer's preview: found
        # upright, mesh 0.59 at 70 degrees, confirmed; read from the file: found on
        # the 45-degree copy and rejected.)
        turned = f.turned != 0 or (face_roll(f) or 0.0) > UPRIGHT_ROLL
        if not (weak or off_matte or lone_profile or turned):
            return True
        x0, y0, x1, y1 = f.box
        fs = f.size
        cx = (x0 + x1) / 2
        try:
            det = body_score(self.image, (cx - 1.5 * fs, y0 - 0.3 * fs, cx + 1.5 * fs, y1 + 2.2 * fs))
        except ModelError:
            return True
        if det >= (FACE_BODY_OFF_MATTE if off_matte and not weak else FACE_BODY):
            return True
        # The whole figure (down to the feet) on a taller square: someone walking
        # away (HumanSeg 215, mesh 0.31 on the back of a head) scores 0.80 there;
        # the false faces 0.28-0.61.
        if body_score(self.image, (cx - 2 * fs, y0 - 0.3 * fs, cx + 2 * fs, y1 + 7 * fs)) >= FACE_FULL_BODY:
            return True
        if not weak or turned:
            return False
        # A weak mesh is also someone seen from behind (HumanSeg 215: 0.43 on the
        # back of a head, detector 0.24) when the skin/clothes/hair model sees a
        # head on top of clothes.
        try:
            sch = self.sch_whole()
        except ModelError:
            return False
        return _head_on_clothes(sch, f.box * np.array([self.sx, self.sy, self.sx, self.sy]))

    def _confirmed_bodies(self, n_faces: int, bodies: list, half: np.ndarray) -> tuple[np.ndarray, list]:
        """Faceless "bodies" that are people: the pose model finds a body on the
        blob's crop (persons.pose_presence) and the skin/clothes/hair model sees
        skin, clothes or hair there.  The selfie and skin/clothes/hair models both
        fire on flowers, cacti and mountains (they label pixels); only the pose
        model asks for a skeleton.  Without the pose model the skin/clothes/hair
        check alone decides (as before it existed).

        The pose model sees one person: a blob of several people side by side (a
        group on the grass) often fails it.  Such a blob is not a separate person
        then, but in a frame with someone confirmed its pixels stay in the
        all-people matte (all_alpha); only a frame with nobody confirmed is empty."""
        try:
            union = self.sch_whole().max(0)
        except Exception:
            union = None
        hs = half.shape[1] / self.prob.shape[1]  # working px -> ``half`` px
        labels = self.labels.copy()
        try:
            whole = detect_bodies(half)
        except ModelError:
            whole = []
        kept = []
        for j, b in enumerate(bodies):
            lab = n_faces + j + 1
            region = labels == lab
            if self._statue_body(b):  # the body under a stone face is the statue's
                labels[region] = 0
                continue
            pixels_agree = region.any() and (union is None or float(union[region].mean()) >= 0.35)
            ok = pixels_agree
            if region.any():
                try:
                    ok = is_body(half, np.asarray(b, np.float32) * hs, pixels_agree, whole)
                    ok = ok and region_presence(half, _region_box(region) * hs) >= REGION_PRESENCE
                except ModelError:  # pose models not installed: the pixel check decides
                    pass
            if ok:
                kept.append(b)
                labels[region] = n_faces + len(kept)
            else:
                labels[region] = 0
                self.unconfirmed += 1
        return labels, kept

    def _small_bodies(self, half: np.ndarray, examined: list) -> tuple[np.ndarray, list]:
        """Matte blobs of at least SMALL_BODY of the frame that the pose model is
        sure of (SMALL_POSE_PRESENCE), used only when no face and no big body was
        found.  A blob whose centre lies in an ``examined`` (already rejected) body
        box gets no second try."""
        labels = np.zeros(self.prob.shape, np.int32)
        bodies = []
        fg = (self.prob > 0.5).astype(np.uint8)
        n, cc, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        hs = half.shape[1] / self.prob.shape[1]
        order = sorted(range(1, n), key=lambda c: -stats[c, cv2.CC_STAT_AREA])[:MAX_SMALL_BODIES]
        for c in order:
            if stats[c, cv2.CC_STAT_AREA] < SMALL_BODY * fg.size:
                break
            x, y, bw, bh = stats[c, :4]
            box = np.array([x, y, x + bw, y + bh], np.float32)
            cx, cy = x + bw / 2, y + bh / 2
            if any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in examined) or self._statue_body(box):
                continue
            try:
                ok = (pose_presence(half, box * hs) >= SMALL_POSE_PRESENCE
                      and body_score(half, box * hs) >= SURE_DETECTOR)
            except ModelError:
                ok = False
            if ok:
                bodies.append(box)
                labels[cc == c] = len(bodies)
            else:
                self.unconfirmed += 1
        return labels, bodies

    def _statue_body(self, box) -> bool:
        """Whether a faceless body ``box`` (working pixels) holds a stone face or hangs
        under one (as split_people gives a body under a face to that face)."""
        bx0, by0, bx1, by1 = (float(v) for v in box)
        for st in self.statues:
            x0, y0, x1, y1 = np.asarray(st["box"], np.float32) * np.array([self.sx, self.sy, self.sx, self.sy])
            cx, cy, fh = (x0 + x1) / 2, (y0 + y1) / 2, y1 - y0
            if bx0 <= cx <= bx1 and (by0 <= cy <= by1 or y0 - fh <= by0 <= y1 + 3 * fh):
                return True
        return False

    def sch_whole(self) -> np.ndarray:
        """Skin/clothes/hair over the whole frame (working size), for checks."""
        if self._sch_whole is None:
            # From the <= 1024 px copy: shrinking the 2048 px preview to 512 took
            # 0.15 s of area filtering; the model sees 512 px either way.
            s = min(1.0, REFINE_LONG_EDGE / max(self.shape))
            self._sch_whole = _run_sch(self._small_image(s), self.labels_shape())
        return self._sch_whole

    def labels_shape(self) -> tuple[int, int]:
        return self.prob.shape

    def _make(self, label: int, face: Face | None, long_edge: float, body=None) -> _Person:
        h, w = self.shape
        region = self.labels == label
        if region.any():
            ys, xs = np.nonzero(region)
            box = [xs.min() / self.sx / w, ys.min() / self.sy / h, (xs.max() + 1) / self.sx / w, (ys.max() + 1) / self.sy / h]
        elif face is not None:
            box = [face.box[0] / w, face.box[1] / h, face.box[2] / w, face.box[3] / h]
        else:
            box = [body[0] / self.sx / w, body[1] / self.sy / h, body[2] / self.sx / w, body[3] / self.sy / h]
        box = [float(np.clip(v, 0, 1)) for v in box]
        if face is not None:
            fb = [float(face.box[0] / w), float(face.box[1] / h), float(face.box[2] / w), float(face.box[3] / h)]
            centre = [(fb[0] + fb[2]) / 2, (fb[1] + fb[3]) / 2]
            lm = face.landmarks
            lms = None if lm is None else np.stack([lm[:, 0] / w, lm[:, 1] / h, lm[:, 2] / long_edge], -1).round(5).tolist()
            irises = {k: [float(v.centre[0] / w), float(v.centre[1] / h), float(v.radius / long_edge)]
                      for k, v in face.irises.items()}
            score = face.score
        else:
            fb, lms, irises = None, None, {}
            centre = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]
            score = float(self.prob[self.labels == label].mean()) if (self.labels == label).any() else 0.0
        return _Person(PersonInfo(0, box, fb, float(score), centre, lms, irises), face, label)

    # ------------------------------------------------------------------ mattes
    def all_alpha(self) -> np.ndarray:
        """Refined full-resolution matte of all people."""
        with self._lock:
            if self._all_alpha is None:
                # A matte with nobody confirmed in it (a mountain, a flower) is not a person.
                if self.people and (self.prob > 0.5).any():
                    self._all_alpha = self.fine_matte()
                else:
                    self._all_alpha = np.zeros(self.shape, np.float32)
            return self._all_alpha

    def fine_matte(self) -> np.ndarray:
        """The person matte at full resolution: the whole-frame answer upsampled to
        the <= REFINE_LONG_EDGE grid, the person crops blended in there at their own
        resolution (not on the 384 px working grid), then its soft edge snapped to the
        photo (refine.guided_upsample).

        Why the snap: bilinear upsampling keeps the model grid's artefacts, which show
        as streaks once the background is darkened at the 2048 px preview: a comb of
        fingers above the astronaut's hair (the selfie model's 2x2 transposed
        convolution, seen through a crop), blocks on Marie Curie's (out/halo_zoom.png);
        the snap smooths them onto the hair's edge.  It costs HumanSeg (binary masks
        from a background remover, at ~500 px) 0.9012 -> 0.8986: the
        model's 0.5 contour sits a little nearer that tool's than the photo's colour
        edge does.  Radius 1 instead of 2: 0.8997, artefacts left; eps 1e-1: 0.8990;
        coefficients at 1024 px: 0.8992 for 4x the filter's cost.  ``refine_alpha``
        is not used here: its colour projection eats dark clothes on dark
        backgrounds (0.878).  Crops on the fine grid instead of the working grid:
        0.9009 -> 0.9010 (sharper edges on small people)."""
        h, w = self.shape
        s = min(1.0, REFINE_LONG_EDGE / max(h, w))
        sh, sw = self._small_image(s).shape[:2]
        up = cv2.resize(self._whole_prob.astype(np.float32), (sw, sh), interpolation=cv2.INTER_LINEAR)
        out = np.clip(blend_crops(up, self._crops, (sh, sw)), 0, 1)
        return guided_upsample(self.image, out, radius=SNAP_RADIUS, eps=SNAP_EPS, coef_edge=SNAP_COEF_EDGE)

    def _small_image(self, s: float) -> np.ndarray:
        if s >= 1:
            return self.image.astype(np.float32, copy=False)
        if self._refine_image is None:
            h, w = self.shape
            self._refine_image = cv2.resize(self.image.astype(np.float32, copy=False),
                                            (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        return self._refine_image

    def refine(self, coarse: np.ndarray) -> np.ndarray:
        """Full-resolution matte from a coarse one, refined at <= REFINE_LONG_EDGE."""
        h, w = self.shape
        s = REFINE_LONG_EDGE / max(h, w)
        if s >= 1:
            return refine_alpha(self.image, coarse)
        small = refine_alpha(self._small_image(s), coarse)
        return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)

    def membership(self, person: _Person) -> np.ndarray:
        """This person's share (0..1) of each pixel, full resolution."""
        h, w = self.shape
        m = self.member[person.label - 1]
        return cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)

    def _people_box(self) -> tuple[int, int, int, int]:
        """Working-pixel box around every person (padded), the whole frame without people."""
        wh, ww = self.labels.shape
        m = (self.labels > 0) | (self.prob > 0.3)
        if not m.any():
            return 0, 0, ww, wh
        ys, xs = np.nonzero(m)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        pad = 0.08 * max(x1 - x0, y1 - y0)
        return (max(0, int(x0 - pad)), max(0, int(y0 - pad)), min(ww, int(np.ceil(x1 + pad))),
                min(wh, int(np.ceil(y1 + pad))))

    def skin_clothes_hair(self) -> np.ndarray:
        """Skin/clothes/hair probabilities (3 x work h x work w).

        The model (512x512) runs on the box around the people rather than the whole
        frame, so a person filling a third of the photo is seen at three times the
        resolution (hair strands, collars)."""
        with self._lock:
            if self._sch is None:
                bx0, by0, bx1, by1 = self._people_box()
                h, w = self.shape
                if self._sch_whole is not None and (bx1 - bx0) * (by1 - by0) > 0.8 * self.prob.size:
                    self._sch = self._sch_whole
                    return self._sch
                fx0, fy0 = int(bx0 / self.sx), int(by0 / self.sy)
                fx1, fy1 = min(w, int(np.ceil(bx1 / self.sx))), min(h, int(np.ceil(by1 / self.sy)))
                crop = self.image[fy0:fy1, fx0:fx1]
                sch = np.zeros((3,) + self.labels.shape, np.float32)
                sch[:, by0:by1, bx0:bx1] = _run_sch(crop, (by1 - by0, bx1 - bx0))
                self._sch = sch
            return self._sch

    def face_parts(self, face: Face) -> "FaceParts":
        """One FaceParts per face and analysis: its polygons are rasterised once for
        all six parts (eyes serve face-skin, sclera and iris)."""
        with self._lock:
            cache = self.__dict__.setdefault("_face_parts", {})
            if id(face) not in cache:
                cache[id(face)] = FaceParts(self, face)
            return cache[id(face)]

    def held(self, person: _Person | None = None) -> Held:
        """What of the matte of ``person`` (None: everyone) lies beyond the body's
        pose (people/held.py): cut, and kept but reported.  Nothing when no one can
        be checked or the pose models are missing."""
        key = None if person is None else person.label
        with self._lock:
            small = self._small_image(min(1.0, REFINE_LONG_EDGE / max(self.shape)))
            if not hasattr(self, "_pose_bodies"):
                try:
                    self._whole_bodies = detect_bodies(small)
                    self._pose_bodies = pose_bodies(small, self.labels, len(self.people), self._whole_bodies)
                except ModelError:
                    self._pose_bodies = []
                self._held = {}
            if key not in self._held:
                bodies = [b for b in self._pose_bodies if key is None or b.label == key]
                faces = [q.face.centre * np.array([self.sx, self.sy]) for q in self.people if q.face is not None]
                k = small.shape[1] / self.prob.shape[1]  # working px -> ``small`` px

                def is_person(blob: np.ndarray) -> bool:
                    return is_body(small, _region_box(blob) * k, True, self._whole_bodies)

                self._held[key] = held_things(self.prob > 0.5, self.labels, bodies, faces, is_person)
            return self._held[key]

    def person_prob(self) -> np.ndarray:
        """The person probability (working grid) less what held() cuts for everyone."""
        cut = self.held().cut
        if not cut.any():
            return self.prob
        return self.prob * (1 - cv2.GaussianBlur(cut.astype(np.float32), (0, 0), 1.0))

    def held_cut_full(self) -> np.ndarray | None:
        """held()'s cut as a soft full-resolution map (None when nothing is cut)."""
        cut = self.held().cut
        if not cut.any():
            return None
        h, w = self.shape
        # Grown outwards (never into the person kept): the refined matte's soft rim
        # reaches a few working pixels past the coarse blob, and left a faint outline
        # of the dog (alpha 0.1-0.3) round the cut (out/cli_person_12.png).
        kept = (self.prob > 0.5) & (self.labels > 0) & ~cut  # (matte pixels no label owns may go)
        grown = cv2.dilate(cut.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
        soft = cv2.GaussianBlur((cut | (grown & ~kept)).astype(np.float32), (0, 0), 1.0)
        return np.clip(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)

    def pose_limbs(self) -> list[tuple[int, int, np.ndarray]]:
        """The pose model's segmentation along the limbs of the bodies held() checked, each
        on its own person's share of the frame, at full resolution, as (y0, x0, piece)
        (held.pose_on_frame); none when no body was checked (nobody whole in the frame,
        or the pose models missing)."""
        self.held()
        if not self._pose_bodies:
            return []
        k = self.shape[1] / self._small_image(min(1.0, REFINE_LONG_EDGE / max(self.shape))).shape[1]
        return pose_on_frame(self._pose_bodies, self.shape, k, self.member)

    def sch_channel(self, c: int) -> np.ndarray:
        """One skin/clothes/hair channel at the working size."""
        return self.skin_clothes_hair()[c]


def with_pose(alpha: np.ndarray, pieces: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """A copy of the person matte raised to the pose pieces (y0, x0, map) where the matte
    gives the pixel more than POSE_GATE (both models see something of a body there)."""
    out = alpha.astype(np.float32, copy=True)
    for y0, x0, piece in pieces:
        sub = out[y0:y0 + piece.shape[0], x0:x0 + piece.shape[1]]
        np.copyto(sub, np.maximum(sub, piece), where=sub > POSE_GATE)
    return out


def _region_box(region: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 (pixels of ``region``'s grid) round a non-empty boolean map."""
    ys, xs = np.nonzero(region)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def _head_on_clothes(sch: np.ndarray, box) -> bool:
    """Skin or hair in the face ``box`` (working pixels) and clothes under it."""
    wh, ww = sch.shape[1:]
    x0, y0, x1, y1 = box
    xa, ya = max(0, int(x0)), max(0, int(y0))
    xb, yb = min(ww, int(np.ceil(x1)) + 1), min(wh, int(np.ceil(y1)) + 1)
    if xb <= xa or yb <= ya:
        return False
    fh = y1 - y0
    head = float((sch[0, ya:yb, xa:xb] + sch[2, ya:yb, xa:xb]).mean())
    ta, tb = min(wh, int(y1 + 0.5 * fh)), min(wh, int(y1 + 3 * fh))
    torso = float(sch[1, ta:tb, xa:xb].mean()) if tb > ta else 0.0
    return head >= 0.3 and torso >= 0.3


def _on_someones_body(box: np.ndarray, faces: list[np.ndarray]) -> bool:
    """Whether ``box`` lies under one of ``faces`` (within its shoulders and 5 face heights)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for b in faces:
        fw, fh = b[2] - b[0], b[3] - b[1]
        if b[0] - 0.75 * fw <= cx <= b[2] + 0.75 * fw and b[3] <= cy <= b[3] + 5 * fh:
            return True
    return False


def _run_sch(image: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """The skin/clothes/hair model on ``image`` (stretched to 512x512): 3 x out_shape."""
    small = cv2.resize(image.astype(np.float32), (SCH_SIZE, SCH_SIZE), interpolation=cv2.INTER_AREA)
    x = ((small - _MEAN) / _STD).transpose(2, 0, 1)[None]
    sess = model_store.get_session(SCH_MODEL)
    out = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x, np.float32)})[0]
    out = np.clip(np.asarray(out, np.float32).reshape(3, SCH_SIZE, SCH_SIZE), 0, 1)
    return np.stack([cv2.resize(c, (out_shape[1], out_shape[0]), interpolation=cv2.INTER_LINEAR) for c in out])


_cache: OrderedDict[str, PeopleAnalysis] = OrderedDict()
_cache_lock = threading.Lock()


def _key(inp: MaskInput) -> str:
    if inp.digest:
        return f"{inp.digest}:{inp.shape[0]}x{inp.shape[1]}"
    img = inp.image
    sample = np.ascontiguousarray(img[:: max(1, img.shape[0] // 64), :: max(1, img.shape[1] // 64)])
    return "px:" + hashlib.sha1(sample.tobytes() + str(img.shape).encode()).hexdigest()


def analyse(inp: MaskInput) -> PeopleAnalysis:
    key = _key(inp)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    a = PeopleAnalysis(inp.image)
    with _cache_lock:
        _cache[key] = a
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return a


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def detect_people(inp: MaskInput) -> list[PersonInfo]:
    """The people in ``inp``, left to right (cached per input)."""
    return [p.info for p in analyse(inp).people]


def _info(a: PeopleAnalysis, chosen: int | None) -> dict:
    # The people list (468 landmarks each) is built once per analysis: converting it
    # for each of ten parts cost 5 ms a part.  Each result gets its own list copy.
    if getattr(a, "_people_dicts", None) is None:
        a._people_dicts = [p.info.to_dict() for p in a.people]
    info = {"people": list(a._people_dicts), "person": chosen, "count": len(a.people)}
    if a.statues:
        info["statues"] = [dict(st) for st in a.statues]
    return info


def _empty(a: PeopleAnalysis, kind: str, reason: str, chosen=None) -> MaskResult:
    info = _info(a, chosen)
    # One line a user can act on: what is missing, and for whom (the app counts people
    # from 1, the CLI's --person and the recipe from 0).
    if chosen is not None and "person" not in reason:
        reason = f"{reason} for person {chosen + 1} (index {chosen})"
    if not a.people and a.unconfirmed and kind in ("person",) + PIXEL_PARTS:
        n = a.unconfirmed
        # "candidate shapes", not "possible people": on a flower or a landscape these are
        # the person model's stray blobs, and the line should not suggest people there.
        reason += (f" ({n} candidate shape{'' if n == 1 else 's'} not confirmed by a face mesh, "
                   "body detection or pose)")
    if a.statues:
        n = len(a.statues)
        reason += (f" ({n} face{'s' if n > 1 else ''} without skin colour left out: "
                   f"{'statues' if n > 1 else 'a statue'} or painted?)")
    info["reason"] = reason
    return MaskResult(np.zeros(a.shape, np.float32), found=False, score=0.0, model=_models(kind),
                      model_version=VERSION, info=info)


def _models(kind: str) -> str:
    if kind == "person":
        return SEGMENTER
    if kind in ("hair", "clothes", "body-skin"):
        return f"{SEGMENTER}+{SCH_MODEL}"
    return "face_landmark"


def all_people_alpha(inp: MaskInput) -> MaskResult:
    """Matte of every person in the frame (the subject kind uses it)."""
    a = analyse(inp)
    alpha = a.all_alpha()
    frac = float((alpha > 0.5).mean())
    found = frac > 0 and bool(a.people)  # a matte with nobody in it is a false alarm
    return MaskResult(alpha if found else np.zeros(a.shape, np.float32), found=found, score=frac,
                      model=SEGMENTER, model_version=VERSION, info=_info(a, None))


# Doubts a found person, hair, clothes or body-skin mask carries (info["reason"]).
# The selfie and skin/clothes/hair models were trained on upright people: past this
# roll (degrees, from the mesh's eye line) their edges wander (kodim15 turned 60
# degrees: the person matte took 84 % of the frame, clothes took the face paint).
# Measured on the hard cases at 1024 px: the photos as taken 0-20 (kodim12's tilted
# head 20, solvay's 26 faces 0-12); the rotated variants 25-42 (the mesh reads less
# than the turn on a turned child or a small face: kodim15 +60 reads 31, kodim18 -45
# reads 25; the astronaut +45 reads 42, Hopper -30 reads 27).  A warning only: the
# mask is left as the models give it.
ROLLED = 24.0
# Under this face size (px, the eyebrows' and lips' own limit) a person is too small
# for the skin/clothes/hair model's 512 px view: its hair, clothes and body skin are
# rough or missing (kodim14's rafters at 19-27 px: the raft became clothes; Hopper
# shrunk to 28 px: no clothes at all).
SMALL_PEOPLE_FACE = 32


def face_roll(face: Face) -> float | None:
    """In-plane angle (degrees, 0 = upright, up to 180) of a meshed face's eye line."""
    if face is None or face.landmarks is None:
        return None
    d = face.landmarks[263, :2] - face.landmarks[33, :2]
    return abs(float(np.degrees(np.arctan2(d[1], d[0]))))


def _doubts(a: PeopleAnalysis, kind: str, person: _Person | None) -> list[str]:
    """Why a found pixel-level mask (person, hair, clothes, body-skin) may be wrong."""
    people = [person] if person is not None else a.people
    out = []
    rolls = [r for r in (face_roll(q.face) for q in people) if r is not None and r > ROLLED]
    if rolls:
        out.append(f"a face is turned {max(rolls):.0f} degrees in the frame: the {kind} model expects upright "
                   "people, check the edges")
    if kind == "body-skin" and any(q.face is not None and q.face.landmarks is not None
                                   and a.face_parts(q.face).occlusion().mouth_hidden for q in people):
        out.append("a face is covered (face mask): skin colour is judged from the forehead only, check the result")
    if kind in ("person", "clothes"):
        # Something held or touching them (a hugged dog, a raft): reported, not cut
        # (people/held.py says why).
        share = a.held(person).kept_share
        if share >= HELD_WARN:
            whose = "of it" if kind == "person" else "of the person"
            out.append(f"the {kind} mask may include something held or touching them: {share:.0%} {whose} "
                       "lies beyond the body's pose")
    if kind != "person":
        sizes = [q.face.size for q in people if q.face is not None]
        if sizes and len(sizes) == len(people) and max(sizes) < SMALL_PEOPLE_FACE:
            lo, hi = min(sizes), max(sizes)
            span = f"{lo:.0f} px" if round(lo) == round(hi) else f"{lo:.0f}-{hi:.0f} px"
            out.append(f"people small in the frame (faces {span}): {kind} is rough at this size")
    return out


def choose_person(a: PeopleAnalysis, params: dict) -> tuple[_Person | None, str | None]:
    """The person a component's params name, or (None, reason).  (None, None) = all."""
    if params.get("person") is not None:
        try:
            idx = int(params["person"])
        except (TypeError, ValueError):
            return None, f"person index {params['person']!r} is not a number"
        if 0 <= idx < len(a.people):
            return a.people[idx], None
        return None, f"person index {idx} not found ({len(a.people)} people)"
    ref = params.get("ref")
    if ref is not None:
        if not a.people:
            return None, "no people in this photo"
        x, y = float(ref[0]), float(ref[1])
        # The person whose region holds the point, else the nearest face/body centre.
        ww, wh = a.work_wh
        px, py = int(np.clip(x * ww, 0, ww - 1)), int(np.clip(y * wh, 0, wh - 1))
        lab = int(a.labels[py, px])
        for p in a.people:
            if p.label == lab and lab > 0:
                return p, None
        d = [(p.info.centre[0] - x) ** 2 + (p.info.centre[1] - y) ** 2 for p in a.people]
        return a.people[int(np.argmin(d))], None
    return None, None


# Face-part rasters live in engine/masks/people/face_parts.py.


def _pixel_part(a: PeopleAnalysis, kind: str, person: _Person | None) -> np.ndarray:
    """hair / clothes / body-skin at full resolution, for one person or all."""
    ww, wh = a.work_wh
    fg = a.person_prob()
    if person is not None:
        member = a.member[person.label - 1]
    else:
        member = np.ones((wh, ww), np.float32)
    if kind == "hair":
        p = a.sch_channel(2)
        # Hair sticks out of the person matte (flyaways): allow a margin around it.
        region = cv2.dilate((fg > 0.3).astype(np.float32), np.ones((5, 5), np.uint8))
        p = p * np.maximum(region, fg)
        face_hair = np.zeros_like(p)
        heads = np.zeros_like(p)
        long_hair = np.zeros_like(p)
        faceless = False
        for q in ([person] if person is not None else a.people):
            mp = _face_hair(a, q)
            if mp is not None:
                face_hair = np.maximum(face_hair, mp)
            if q.face is None:
                faceless = True
                continue
            # Hair grows around the head: a window from above the crown to the
            # shoulders stops both models from taking dark collars, a flask or a
            # helmet for hair.  The head-crop hair model gets a wider one
            # (LONG_HAIR_WINDOW): it follows strands, and long hair falls past the
            # shoulders (dog-human's ponytail below the dog's paw: 0.4 there, the
            # whole-body model 0.0 and "clothes" 0.49).  The whole-body model keeps
            # HEAD_WINDOW: widened, it takes dark suits for hair (Solvay's jackets).
            c, fs = q.face.centre * np.array([a.sx, a.sy]), q.face.size * a.sx
            for window, (ax, ay, dy) in ((heads, HEAD_WINDOW), (long_hair, LONG_HAIR_WINDOW)):
                cv2.ellipse(window, (int(c[0]), int(c[1] + dy * fs)), (int(ax * fs), int(ay * fs)), 0, 0, 360, 1.0, -1)
        if heads.any() and not faceless:
            p = p * cv2.GaussianBlur(heads, (0, 0), 2.0)
            face_hair = face_hair * cv2.GaussianBlur(long_hair, (0, 0), 2.0)
        p = np.maximum(p, face_hair)
        # Below the chin and between the jaw corners is neck and collar, not hair
        # (the astronaut's dark suit collar; hair falls beside the neck, not in front).
        necks = np.zeros_like(p)
        for q in ([person] if person is not None else a.people):
            if q.face is None or q.face.landmarks is None:
                continue
            lm = q.face.landmarks[:, :2] * np.array([a.sx, a.sy], np.float32)
            chin, jaw_r, jaw_l = lm[topo.CHIN], lm[172], lm[397]
            half_w = 0.5 * float(np.hypot(*(jaw_l - jaw_r)))
            x0, x1 = int(chin[0] - 0.9 * half_w), int(np.ceil(chin[0] + 0.9 * half_w))
            cv2.rectangle(necks, (x0, int(chin[1])), (x1, necks.shape[0]), 1.0, -1)
        if necks.any():
            p = p * (1 - cv2.GaussianBlur(necks, (0, 0), 1.5))
        p = _not_hair(a, p, [person] if person is not None else a.people)
        p = _hair_on_heads(a, p, [person] if person is not None else a.people)
    elif kind == "clothes":
        p = a.sch_channel(1) * np.clip(fg * 1.5, 0, 1)
    else:  # body-skin
        p = a.sch_channel(0)
        p = _with_face_colour(a, p, person) * np.clip(fg * 1.5, 0, 1)
        # Faces are the face-skin part: cut every face oval out of the body skin.
        faces = np.zeros((wh, ww), np.float32)
        for q in a.people:
            if q.face is not None and q.face.landmarks is not None:
                pts = q.face.polygon("face_oval") * np.array([a.sx, a.sy], np.float32)
                # Convex, as in FaceParts: a turned face's ring folds behind the nose.
                pts = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
                faces = np.maximum(faces, fill_polygon((wh, ww), pts))
            elif q.face is not None:
                # A profile without mesh: its detection box, as an ellipse.
                x0, y0, x1, y1 = q.face.box * np.array([a.sx, a.sy, a.sx, a.sy])
                cv2.ellipse(faces, (int((x0 + x1) / 2), int((y0 + y1) / 2)),
                            (int(0.6 * (x1 - x0)), int(0.65 * (y1 - y0))), 0, 0, 360, 1.0, -1)
        p = p * (1 - faces) * (1 - _lenses_work(a, a.people))
        p = _skin_like_face(a, p, person)
    p = (p * member).astype(np.float32)
    if not (p > 0.5).any():
        return np.zeros(a.shape, np.float32)
    return a.refine(p)


HAIR_MODEL = "hair_segmentation"
# The window hair may lie in (_pixel_part): an ellipse round each face, half-axes
# (across, down) and its centre below the face centre, all in face sizes.
HEAD_WINDOW = (1.3, 1.6, 0.2)
LONG_HAIR_WINDOW = (1.7, 1.9, 0.3)
CROP_FADE = 0.08  # of the hair model's crop: the border band over which its answer fades out
# Above the eyes, what the skin/clothes/hair model calls clothes more than hair is a hat
# or a cap, whatever the selfie hair model says (it takes Grace Hopper's black cap for
# hair: 1.0 there, against clothes 0.6 and hair 0.0 from the other model).
HAT_ABOVE_EYES = 0.15  # of the face size above the eye line: where the hat rule applies
HAT_REACH = 0.12  # of the face size: how far the hat's clothes answer is grown
HAIR_COLOUR_SD = 3.5  # Mahalanobis distance to the crown's hair colour beyond which, off the crown, it is not hair


def _face_raster_to_work(a: PeopleAnalysis, fp: FaceParts, raster: np.ndarray) -> np.ndarray:
    """A FaceParts raster (its ROI at scale fp.k) on the working grid."""
    ww, wh = a.work_wh
    m = np.array([[a.sx / fp.k, 0, fp.x0 * a.sx], [0, a.sy / fp.k, fp.y0 * a.sy]], np.float32)
    return cv2.warpAffine(raster.astype(np.float32), m, (ww, wh), flags=cv2.INTER_LINEAR, borderValue=0)


def _lenses_work(a: PeopleAnalysis, people) -> np.ndarray:
    """Opaque sunglass lenses of ``people`` on the working grid (zeros without any)."""
    ww, wh = a.work_wh
    out = np.zeros((wh, ww), np.float32)
    for q in people:
        if q.face is None or q.face.landmarks is None:
            continue
        fp = a.face_parts(q.face)
        if fp.occlusion().lenses is not None:
            out = np.maximum(out, _face_raster_to_work(a, fp, fp.lenses()))
    return out


def _hair_on_heads(a: PeopleAnalysis, p: np.ndarray, people) -> np.ndarray:
    """Hair that grows from a head: off the crowns only what has the colour of the
    hair on them, and blobs of the hair answer with no pixel above any chin line of
    ``people`` are dropped (kodim15's red-and-green sweater, "hair" 0.4-0.9
    to the skin/clothes/hair model, under the child's chin).  Long hair reaches the
    head, so it stays.  Without a meshed face nothing is dropped."""
    wh, ww = p.shape
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    head_side = np.zeros((wh, ww), bool)  # above a chin line
    crown = np.zeros((wh, ww), bool)  # above an eye line, within a face size of the face centre
    for q in people:
        if q.face is None or q.face.landmarks is None:
            return p
        lm = q.face.landmarks[:, :2] * np.array([a.sx, a.sy], np.float32)
        up = lm[topo.FOREHEAD] - lm[topo.CHIN]
        up = up / max(float(np.hypot(*up)), 1e-6)
        head_side |= ((xx - lm[topo.CHIN][0]) * up[0] + (yy - lm[topo.CHIN][1]) * up[1]) > 0
        eyes = (lm[33] + lm[263]) / 2
        c = q.face.centre * np.array([a.sx, a.sy], np.float32)
        near = np.hypot(xx - c[0], yy - c[1]) < q.face.size * a.sx
        crown |= near & (((xx - eyes[0]) * up[0] + (yy - eyes[1]) * up[1]) > 0)
    # Off the crowns, hair is the colour of the hair on them: a Mahalanobis distance
    # in Lab to the sure hair of the crowns (above the eyes, within a face size of the
    # face centre), soft from HAIR_COLOUR_SD.  A close-up's sweater rises beside the
    # face above the chin line (kodim15: red wool, "hair" to the model).
    lab = cv2.cvtColor(a.work_image.astype(np.float32), cv2.COLOR_RGB2LAB)
    ref = lab[(p > 0.7) & crown]
    if len(ref) >= 30:
        cov = np.cov(ref.T) + np.diag([9.0, 4.0, 4.0])
        d = lab.reshape(-1, 3) - ref.mean(0)
        dist = np.sqrt(np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d)).reshape(wh, ww)
        like = np.clip((HAIR_COLOUR_SD + 1.5 - dist) / 1.5, 0, 1)
        p = np.where(crown, p, p * like).astype(np.float32)
    blobs = (p > 0.4).astype(np.uint8)
    n, labels = cv2.connectedComponents(blobs, connectivity=8)
    if n <= 2:
        return p
    keep = np.zeros(n, bool)
    keep[np.unique(labels[head_side & (blobs > 0)])] = True
    keep[0] = True  # the soft rim below 0.4 stays as it was
    kept = keep[labels]
    # Soft: a dropped blob's rim (under 0.4) goes with it.
    dropped = cv2.dilate((~kept).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(dropped & ~(labels > 0) | ~kept, 0.0, p).astype(np.float32)


def _not_hair(a: PeopleAnalysis, p: np.ndarray, people) -> np.ndarray:
    """The hair answer less what is not hair on the faces of ``people``: sunglass
    lenses (dark and round, both models take them for hair), face skin (the face-skin
    part, colour-gated to this face: a dark cheek beside dark hair), and hats (above
    the eyes, where the skin/clothes/hair model says clothes more than hair)."""
    wh, ww = p.shape
    sch = a.skin_clothes_hair()
    clothes_over = np.clip(2.0 * (sch[1] - sch[2]), 0, 1)
    veto = _lenses_work(a, people)
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    for q in people:
        if q.face is None or q.face.landmarks is None:
            continue
        fp = a.face_parts(q.face)
        veto = np.maximum(veto, _face_raster_to_work(a, fp, np.clip(fp.part("face-skin") * 1.5, 0, 1)))
        lm = q.face.landmarks[:, :2] * np.array([a.sx, a.sy], np.float32)
        up = lm[topo.FOREHEAD] - lm[topo.CHIN]
        up = up / max(float(np.hypot(*up)), 1e-6)
        eyes = (lm[33] + lm[263]) / 2
        fs = q.face.size * a.sx
        height = (xx - eyes[0]) * up[0] + (yy - eyes[1]) * up[1]  # working px above the eye line
        above = np.clip((height - HAT_ABOVE_EYES * fs) / max(0.1 * fs, 1.0), 0, 1)
        # Grown by HAT_REACH: the model hesitates on a hat's lower band (Hopper's black
        # band: clothes 0.0, hair 0.0, the selfie hair model 1.0).
        r = max(1, int(HAT_REACH * fs))
        hat = cv2.dilate(clothes_over, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        veto = np.maximum(veto, above * hat)
    return p * (1 - veto)


def _face_hair(a: PeopleAnalysis, person: _Person) -> np.ndarray | None:
    """MediaPipe's hair model on a square around this person's face (what it was
    trained on: a selfie crop), mapped to the working grid; None without a face or
    without the model.  It follows strands far better than the whole-body model."""
    face = person.face
    if face is None:
        return None
    try:
        sess = model_store.get_session(HAIR_MODEL)
    except Exception:
        return None
    size = 512
    c = face.centre
    m = crop_matrix((float(c[0]), float(c[1] - 0.25 * face.size)), 3.2 * face.size, 0.0, size)
    crop = warp_crop(a.image.astype(np.float32, copy=False), m, size)
    x = np.concatenate([crop, np.zeros((size, size, 1), np.float32)], -1)[None]
    out = np.asarray(sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x)})[0], np.float32)
    logits = out.reshape(size, size, 2)
    prob = 1.0 / (1.0 + np.exp(-np.clip(logits[..., 1] - logits[..., 0], -50, 50)))
    # Fade the answer out towards the crop's border: hair running past the crop (long
    # hair on the shoulders) otherwise ends in a straight cut where the crop ends; the
    # whole-body model's hair takes over there (p = max of the two).
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / (CROP_FADE * size), 0, 1).astype(np.float32)
    prob = prob * np.minimum(ramp[:, None], ramp[None, :])
    to_work = np.diag([a.sx, a.sy]) @ m  # crop pixels -> working pixels
    ww, wh = a.work_wh
    # to_work maps the source (crop) to the destination (working grid): a forward
    # warp.  (It was applied as an inverse map, which put the crop's hair, shrunk,
    # near the top-left: on black-and-white photos, where the other model sees no
    # hair, no hair was found at all.)
    return cv2.warpAffine(prob.astype(np.float32), to_work.astype(np.float32), (ww, wh),
                          flags=cv2.INTER_LINEAR, borderValue=0)


def _face_colour_match(a: PeopleAnalysis, person: _Person | None):
    """(likeness 0..1 of each working pixel's colour to the face skin, the skin's Lab
    mean, its covariance, the Lab image, the faces) for ``person`` or everyone; None
    without a meshed face or with too few skin pixels."""
    faces = [q.face for q in ([person] if person is not None else a.people)
             if q.face is not None and q.face.landmarks is not None]
    if not faces:
        return None
    ww, wh = a.work_wh
    lab = cv2.cvtColor(a.work_image, cv2.COLOR_RGB2LAB)
    samples = []
    for f in faces:
        pts = f.landmarks[:, :2] * np.array([a.sx, a.sy], np.float32)
        oval = fill_polygon((wh, ww), pts[list(topo.FACE_OVAL)]) > 0.5
        holes = np.zeros((wh, ww), np.float32)
        for r in ("right_eye", "left_eye", "right_eyebrow", "left_eyebrow", "lips_outer"):
            holes = np.maximum(holes, fill_polygon((wh, ww), pts[list(topo.REGIONS[r])]))
        sel = oval & (grow(holes, 2) < 0.5)
        if a.face_parts(f).occlusion().mouth_hidden:
            # A face mask covers the lower face: skin is sampled above the nose bridge
            # (the pale blue of an FFP2 mask otherwise became "skin colour" and took
            # kodim04's pink curtain with it).
            up = pts[topo.FOREHEAD] - pts[topo.CHIN]
            yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
            sel &= ((xx - pts[NOSE_BRIDGE][0]) * up[0] + (yy - pts[NOSE_BRIDGE][1]) * up[1]) > 0
        samples.append(lab[sel])
    s = np.concatenate(samples)
    if len(s) < 20:
        return None
    mean = s.mean(0)
    cov = np.cov(s.T) + np.diag([4.0, 2.0, 2.0])
    inv = np.linalg.inv(cov)
    d = lab.reshape(-1, 3) - mean
    m2 = np.einsum("ij,jk,ik->i", d, inv, d).reshape(wh, ww)
    colour = np.exp(-m2 / (2 * 3.0**2)).astype(np.float32)
    return colour, mean, cov, lab, faces


# A body-skin blob (p > 0.5, working grid) whose mean colour likeness to the face
# skin is under this is not this person's skin.  Measured at 1024 px on the hard
# cases: kodim04's pink curtain 0.00-0.08 (the skin model 0.97-1.00 there), the hat
# brim's hair 0.01, an astronaut suit patch 0.00; hands, arms and legs 0.44-0.85
# (kodim12, kodim18, Hopper, craft-beer, kodim14), necks and shoulders 0.62-0.88.
SKIN_BLOB_LIKE = 0.2
NOSE_BRIDGE = 195  # mesh point where tools/hard_cases.py's painted mask (and a real one) begins
SKIN_BLOB_NECK = 0.006  # of the working grid's long edge: bridges thinner than twice this are cut


def _skin_like_face(a: PeopleAnalysis, p: np.ndarray, person: _Person | None) -> np.ndarray:
    """Body skin less its blobs that have nothing of the face skin's colour: the
    skin/clothes/hair model answers to a colour range, and satin, wood or a pink wall
    fall in it.  Black-and-white photos and faceless people keep every blob (there is
    no face colour to compare with)."""
    match = _face_colour_match(a, person)
    if match is None:
        return p
    colour, _, _, lab, _ = match
    if float(np.abs(lab[..., 1:]).mean()) < GREY_CHROMA:
        return p
    blobs = (p > 0.5).astype(np.uint8)
    # Blobs are told apart after an opening: a thin rim of "skin" along the face's
    # edge otherwise joins the hair beside the face and the curtain behind the neck to
    # the shoulders (kodim04).  Every pixel then goes with its nearest core.
    r = max(1, round(SKIN_BLOB_NECK * max(p.shape)))
    cores = cv2.morphologyEx(blobs, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    n, labels = cv2.connectedComponents(cores, connectivity=8)
    if n <= 1:
        return p
    like = np.bincount(labels.ravel(), weights=colour.ravel(), minlength=n) / np.maximum(
        np.bincount(labels.ravel(), minlength=n), 1)
    drop = like < SKIN_BLOB_LIKE
    drop[0] = False
    if not drop.any():
        return p
    _, idx = cv2.distanceTransformWithLabels(1 - cores, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(cores)
    nearest = labels[ys[idx - 1], xs[idx - 1]]
    # Soft: the dropped cores' pixels and rims (all p > 0 nearest to them) go.
    return np.where(drop[nearest], 0.0, p).astype(np.float32)


def _with_face_colour(a: PeopleAnalysis, p_model: np.ndarray, person: _Person | None) -> np.ndarray:
    """Blend the skin model with how close each pixel's colour is to the face skin."""
    match = _face_colour_match(a, person)
    if match is None:
        return p_model
    colour, mean, cov, lab, faces = match
    ww, wh = a.work_wh
    chroma = float(np.abs(lab[..., 1:]).mean())
    if chroma < GREY_CHROMA:
        # A black-and-white photo: the skin model, trained on colour, sees little
        # skin (Marie Curie's hands: nothing).  Lightness like the face's, inside the
        # person and off what the model calls clothes, is skin there.
        sch = a.skin_clothes_hair()
        light = np.abs(lab[..., 0] - mean[0]) / max(float(np.sqrt(cov[0, 0])), 2.0)
        grey = np.exp(-0.5 * light**2).astype(np.float32)
        # Not the hair round the face (as light as skin in grey), not clothes.
        heads = np.zeros((wh, ww), np.float32)
        for f in faces:
            c, fs = f.centre * np.array([a.sx, a.sy]), f.size * a.sx
            cv2.ellipse(heads, (int(c[0]), int(c[1] - 0.1 * fs)), (int(0.95 * fs), int(0.9 * fs)), 0, 0, 360, 1.0, -1)
        off = np.clip(1.0 - 1.5 * np.maximum(sch[1], sch[2]), 0, 1) * (1 - heads)
        # The model's weak skin answer still says where (hands 0.1-0.3, a lit dress
        # edge or a tripod ~0): it gates the lightness match.
        hint = np.clip(GREY_SKIN_GAIN * sch[0], 0, 1)
        return np.maximum(p_model, grey * off * hint)
    return 0.65 * p_model + 0.35 * np.maximum(colour, p_model)


FACE_PARTS = ("face-skin", "eyebrows", "sclera", "iris", "lips", "teeth")
PIXEL_PARTS = ("hair", "clothes", "body-skin")


def derive_part(inp: MaskInput, comp: MaskComponent, kind: str) -> MaskResult:
    a = analyse(inp)
    person, reason = choose_person(a, comp.params or {})
    if reason:
        return _empty(a, kind, reason)
    chosen = person.info.index if person else None
    if kind == "person":
        alpha = a.all_alpha()
        limbs = a.pose_limbs() if a.people else []
        if limbs:
            # Limbs the selfie model leaves soft or short (raised arms, a stride's
            # legs, hands) where the pose model segments the body it found (people/held.py
            # runs it for the held check anyway): see POSE_GATE.
            alpha = with_pose(alpha, limbs)
        cut = a.held_cut_full()
        if cut is not None:  # a teddy bear, a hugged dog (people/held.py); the subject keeps them
            alpha = alpha * (1 - cut)
        if person is not None:
            alpha = alpha * a.membership(person)
        frac = float((alpha > 0.5).mean())
        if frac == 0:
            return _empty(a, kind, "no person found in this photo", chosen)
        score = person.info.score if person else frac
        info = _info(a, chosen)
        doubts = _doubts(a, kind, person)
        if doubts:
            info["reason"] = "; ".join(doubts)
        return MaskResult(alpha.astype(np.float32), True, float(score), SEGMENTER, VERSION, info)
    if kind in PIXEL_PARTS:
        if not a.people:
            # The skin/clothes/hair model labels colours: on a photo with nobody it
            # finds "hair" in rock and "clothes" in petals.
            return _empty(a, kind, f"no person found in this photo, so no {kind}", chosen)
        try:
            alpha = _pixel_part(a, kind, person)
        except Exception as exc:  # model missing: report, do not crash the layer
            return _empty(a, kind, f"{kind}: {exc}", chosen)
        if not (alpha > 0.5).any():
            doubts = _doubts(a, kind, person)
            return _empty(a, kind, f"no {kind} found" + (f" ({'; '.join(doubts)})" if doubts else ""), chosen)
        info = _info(a, chosen)
        doubts = _doubts(a, kind, person)
        if doubts:
            info["reason"] = "; ".join(doubts)
        return MaskResult(alpha, True, float((alpha > 0.5).mean()), _models(kind), VERSION, info)
    # Face parts: one person's face, or every face.
    targets = [person] if person is not None else a.people
    if not targets:
        return _empty(a, kind, "no face found", chosen)
    out = np.zeros(a.shape, np.float32)
    notes: list[tuple[str, _Person, float]] = []  # why a person's face gave nothing for this part
    scores = []
    for p in targets:
        note = _face_part_note(a, p, kind)
        if note:
            notes.append((note, p, p.face.size if p.face is not None else 0.0))
            continue
        fp = a.face_parts(p.face)
        roi = fp.to_full(fp.part(kind))
        out[fp.y0:fp.y1, fp.x0:fp.x1] = np.maximum(out[fp.y0:fp.y1, fp.x0:fp.x1], roi)
        scores.append(p.face.score)
        if not (roi > 0.5).any():  # a closed mouth for teeth, closed eyes for sclera
            notes.append((f"no {kind} visible", p, p.face.size))
    if not (out > 0.5).any():
        return _empty(a, kind, _summary(notes, kind, one=person is not None), chosen)
    score = float(np.mean(scores))
    info = {**_info(a, chosen), "confidence": round(score, 3)}
    if notes:
        # Some faces gave this part and some could not: the mask is usable but
        # incomplete, and says for whom.
        info["reason"] = f"{kind} not drawn for everyone: " + _summary(notes, kind, one=False)
    return MaskResult(out, True, score, _models(kind), VERSION, info)


# Smallest face (pixels of the analysed image, the mesh's box) each face part is drawn
# on.  Below it the part would be a guess: the mesh model sees a 192 px crop, but a
# 28 px face holds brows and lips a pixel or two thick and no iris (the iris models
# are not run under faces.MIN_IRIS_FACE); the part says "face too small" instead.
MIN_FACE_PX = {"face-skin": 16, "eyebrows": 32, "lips": 32, "teeth": 40, "sclera": MIN_IRIS_FACE,
               "iris": MIN_IRIS_FACE}


def _face_part_note(a: PeopleAnalysis, p: _Person, kind: str) -> str | None:
    """Why person ``p`` gives no ``kind`` (None when it may): no face, a face too small,
    eyes behind sunglasses, a mouth behind a mask."""
    if p.face is None or p.face.landmarks is None:
        return "no face found"
    if p.face.size < MIN_FACE_PX[kind]:
        return "face too small"
    occ = a.face_parts(p.face).occlusion()
    if kind in ("sclera", "iris") and occ.eyes_hidden:
        return "eyes hidden by sunglasses"
    if kind in ("lips", "teeth") and occ.mouth_hidden:
        return "mouth hidden by a face mask"
    return None


def _summary(notes: list[tuple[str, _Person, float]], kind: str, one: bool) -> str:
    """One line from the per-person notes, grouped by cause: "face too small (28 px;
    iris from 40 px) for person 2 (index 1)", "... (19-26 px; ...) for 4 people
    (persons 1, 2, 3, 5)".  ``one``: the user asked for one person (_empty names them)."""
    parts = []
    for cause in dict.fromkeys(n for n, _, _ in notes):
        group = [(p, size) for n, p, size in notes if n == cause]
        text = cause
        if cause == "face too small":
            lo, hi = min(s for _, s in group), max(s for _, s in group)
            span = f"{lo:.0f} px" if round(lo) == round(hi) else f"{lo:.0f}-{hi:.0f} px"
            text = f"face too small ({span}; {kind} from {MIN_FACE_PX[kind]} px)"
        if not one:
            idx = [p.info.index for p, _ in group]
            if len(idx) == 1:
                text += f" for person {idx[0] + 1} (index {idx[0]})"
            else:
                shown = ", ".join(str(i + 1) for i in idx[:8]) + (", ..." if len(idx) > 8 else "")
                text += f" for {len(idx)} people (persons {shown})"
        parts.append(text)
    return "; ".join(parts)


def _register(kind: str, model: str):
    @register(kind, model=model, model_version=VERSION)
    def fn(inp: MaskInput, comp: MaskComponent) -> MaskResult:
        return derive_part(inp, comp, kind)

    fn.__name__ = kind.replace("-", "_")
    return fn


person = _register("person", SEGMENTER)
for _kind in FACE_PARTS:
    _register(_kind, "face_landmark")
for _kind in PIXEL_PARTS:
    _register(_kind, SCH_MODEL)
