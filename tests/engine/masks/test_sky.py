"""The sky kind on the shipped samples (real ONNX models) and its fusion rules."""
from __future__ import annotations


from pathlib import Path

import cv2
import numpy as np
import pytest

from maskroom.engine.masks import sky as SK
from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent, MaskDefinition

from conftest import SAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def torcal():
    img = load_rgb(SAMPLES / "immich_el_torcal_rocks.jpg")
    return img, derive(MaskInput(image=img, digest="torcal"), MaskComponent(kind="sky"))


def _region(a, x0, y0, x1, y1):
    h, w = a.shape
    return a[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]


def test_el_torcal_sky_covers_top_not_rocks(torcal):
    img, res = torcal
    assert res.found and res.alpha.shape == img.shape[:2]
    sky = res.alpha > 0.5
    # Hand-drawn regions (looked up on a 10x10 grid over the photo).
    assert _region(sky, 0.0, 0.0, 0.3, 0.5).mean() > 0.97  # open blue sky, left
    assert _region(sky, 0.3, 0.0, 0.8, 0.2).mean() > 0.97  # open sky above the pinnacles
    assert _region(sky, 0.0, 0.85, 1.0, 1.0).mean() < 0.03  # rocks and shrubs at the bottom
    assert _region(sky, 0.9, 0.2, 1.0, 0.8).mean() < 0.03  # the rock wall on the right
    assert _region(sky, 0.08, 0.75, 0.25, 0.85).mean() < 0.1  # the tree crown, lower left


def test_sky_edges_are_soft_only_at_the_boundary(torcal):
    _, res = torcal
    a = res.alpha
    partial = (a > 0.05) & (a < 0.95)
    assert 0 < partial.mean() < 0.08


def test_sky_less_sample_is_nothing_found():
    img = load_rgb(SAMPLES / "immich_portrait_curies.jpg")
    res = derive(MaskInput(image=img, digest="curies"), MaskComponent(kind="sky"))
    assert not res.found
    assert res.alpha.max() == 0.0


def test_dark_backdrop_close_up_is_not_sky():
    # Both models take this cactus's black backdrop for sky; the colour veto must not.
    img = load_rgb(SAMPLES / "immich_notocactus_minimus.jpg")
    res = derive(MaskInput(image=img, digest="cactus"), MaskComponent(kind="sky"))
    assert not res.found


def test_sky_composes_with_invert_and_linear_subtract(torcal):
    img, res = torcal
    inp = MaskInput(image=img, digest="torcal")
    inverted = compose(MaskDefinition([MaskComponent(kind="sky", inverted=True)]), inp)
    assert np.allclose(inverted, 1.0 - res.alpha, atol=1e-5)
    grown = compose(MaskDefinition([MaskComponent(kind="sky", grow=0.02)]), inp)
    assert (grown > 0.5).sum() > (res.alpha > 0.5).sum()


def test_fuse_drops_specks_and_vetoes_dark_regions():
    u2 = np.zeros((100, 100), np.float32)
    ege = np.zeros((100, 100), np.float32)
    u2[:40], ege[:40] = 0.95, 0.9  # a sky band
    u2[80, 80], ege[80, 80] = 1.0, 1.0  # a one-pixel speck
    p = SK.fuse(u2, ege)
    assert (p[:40] > 0.5).all() and p[80, 80] < 0.5
    small = np.full((100, 100, 3), 0.03, np.float32)  # black backdrop
    assert (SK.fuse(u2, ege, small) > 0.5).sum() == 0
    small[:] = [0.55, 0.7, 0.95]  # blue sky
    assert (SK.fuse(u2, ege, small)[:40] > 0.5).all()


def test_model_inputs_follow_upstream_normalisation():
    img = np.random.default_rng(0).random((50, 70, 3)).astype(np.float32)
    u2, ege = SK.model_inputs(img)
    # EGE takes its fixed square; U²-Netp the photo's shape, long edge 384, sides multiples of 32.
    assert ege.shape == (3, 384, 384) and u2.shape == (3, 288, 384)
    assert SK.u2_size(1365, 2048) == (256, 384) and SK.u2_size(2048, 1536) == (384, 288)
    assert SK.u2_size(500, 500) == (384, 384) and SK.u2_size(40, 2000) == (32, 384)
    assert abs(float(ege.min())) < 1e-4 and abs(float(ege.max()) - 255.0) < 1e-3
    assert -2.2 < float(u2.min()) and float(u2.max()) < 2.7


def test_portrait_backdrop_is_not_sky():
    # Both models take Grace Hopper's plain blue studio backdrop for sky (0.99 each);
    # a close-up portrait with less "sky" than person is called a backdrop.
    img = load_rgb(SAMPLES / "mpl_grace_hopper.jpg")
    u2, ege = SK.sky_probabilities(img)
    assert (SK.fuse(u2, ege, SK.model_size(img)) > 0.5).mean() > 0.1  # the models alone say sky
    res = derive(MaskInput(image=img, digest="hopper"), MaskComponent(kind="sky"))
    assert not res.found and res.alpha.max() == 0.0
    assert res.info["reason"] == "no sky: the backdrop behind a portrait"


def test_landscape_keeps_its_sky_through_the_portrait_rule(torcal):
    img, res = torcal
    assert res.found and "reason" not in res.info
    assert not SK.portrait_backdrop(MaskInput(image=img, digest="torcal"), res.score)


def test_sky_less_image_skips_the_expensive_model():
    img = load_rgb(SAMPLES / "immich_portrait_curies.jpg")
    u2, ege = SK.sky_probabilities(img, lazy=True)
    assert u2 is None and SK.no_sky_at_all(ege)
    u2_full, _ = SK.sky_probabilities(img)  # not lazy: both models
    assert u2_full is not None and u2_full.shape == (SK.SIZE, SK.SIZE)


def test_sky_at_preview_size_matches_native(torcal):
    # The 2048 px preview goes through refinement's working-size path; the matte must
    # agree with the one derived on the native 512 px photo.
    img, res = torcal
    h, w = img.shape[:2]
    big = cv2.resize(img, (2048, round(h * 2048 / w)), interpolation=cv2.INTER_CUBIC)
    alpha, fraction = SK.sky_alpha(big)
    assert alpha.shape == big.shape[:2] and alpha.dtype == np.float32
    small = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA) > 0.5
    native = res.alpha > 0.5
    assert (small & native).sum() / (small | native).sum() > 0.97
    assert abs(fraction - res.score) < 0.02


def test_blue_sky_the_fusion_lost_is_kept_only_at_the_top_and_blue():
    # EGE sees a clear blue sky at the top that U²-Netp doubts (sky through leaves):
    # the weighted mean alone (0.6*0.1 + 0.4*0.95 = 0.44) would lose it.
    u2 = np.zeros((100, 100), np.float32)
    ege = np.zeros((100, 100), np.float32)
    u2[:30], ege[:30] = 0.1, 0.95
    small = np.full((100, 100, 3), 0.3, np.float32)
    small[:30] = [0.25, 0.45, 0.85]  # clear blue
    assert (SK.fuse(u2, ege) > 0.5).sum() == 0  # no colours given: the mean decides
    assert (SK.fuse(u2, ege, small)[:30] > 0.5).all()
    grey = small.copy()
    grey[:30] = [0.8, 0.8, 0.82]  # a bright wall EGE takes for sky: not kept
    assert (SK.fuse(u2, ege, grey) > 0.5).sum() == 0
    low = np.roll(small, 50, axis=0)  # blue water in the lower half: not kept
    assert (SK.fuse(np.roll(u2, 50, 0), np.roll(ege, 50, 0), low) > 0.5).sum() == 0


@pytest.fixture(scope="module")
def u2_fp32_free_size():
    """The shipped fp32 U²-Netp with its input size freed as tools/models/quantize.py frees
    it before quantising: ``run(x)`` at the input size the sky mask gives U²-Netp."""
    import onnx
    import onnxruntime as ort

    from maskroom.engine.masks import model_store
    from tools.models.quantize import free_size

    model = free_size(onnx.load(str(model_store.verify(SK.MODEL_U2_FP32))))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda x: sess.run(None, {"input.1": x[None]})[0].reshape(x.shape[1:])


def test_freeing_the_input_size_keeps_the_fp32_numbers(u2_fp32_free_size):
    x = SK.model_inputs(np.random.default_rng(1).random((384, 384, 3)).astype(np.float32))[0]
    assert float(np.abs(u2_fp32_free_size(x) - SK._run(SK.MODEL_U2_FP32, x)).max()) < 1e-5
    # and any size runs, answering at that size
    assert u2_fp32_free_size(np.zeros((3, 256, 384), np.float32)).shape == (256, 384)


def test_int8_u2netp_agrees_with_the_fp32_file_it_is_made_from(u2_fp32_free_size):
    """The shipped int8 U²-Netp (tools/models/quantize.py) is pinned to the fp32 file by
    sha256 and marks the same sky on real photos, at the photo's shape as the sky mask runs
    it; its version keys the sky rasters."""
    from maskroom.engine.masks import model_store

    info = model_store.model_info(SK.MODEL_U2)
    assert SK.MODEL_U2 != SK.MODEL_U2_FP32 and info["source"]["derived_from"] == SK.MODEL_U2_FP32
    assert info["source"]["derived_from_sha256"] == model_store.sha256_file(model_store.verify(SK.MODEL_U2_FP32))
    assert info["version"] in SK.model_version()
    from maskroom.engine.masks.cache import kind_version

    assert info["version"] in kind_version("sky")  # rasters made with the fp32 file go stale
    # Both models of the fusion key the rasters: a new EGE file makes them stale too.
    assert model_store.model_info(SK.MODEL_EGE)["version"] in kind_version("sky")
    for name in ("immich_el_torcal_rocks.jpg", "immich_tanners_ridge.jpg", "immich_denali.webp"):
        u2_in, _ = SK.model_inputs(load_rgb(SAMPLES / name))
        assert u2_in.shape[1:] != (SK.SIZE, SK.SIZE), name  # not square: the shape is kept
        p32, p8 = u2_fp32_free_size(u2_in), SK._run(SK.MODEL_U2, u2_in)
        # Probabilities, not only the 0.5 cut: the fusion weighs them (a quantised sigmoid
        # once capped sure sky at 0.686 with the same IoU).
        assert float(np.abs(p32 - p8).mean()) < 0.01, name
        fp32, int8 = p32 > 0.5, p8 > 0.5
        assert fp32.mean() > 0.05, name  # these photos have sky
        iou = (fp32 & int8).sum() / (fp32 | int8).sum()
        assert iou > 0.98, (name, iou)


def test_backdrop_running_to_the_bottom_edge_is_not_sky():
    # Both models call a pale defocused backdrop sky; it fills the frame down to the
    # bottom edge, where a sky would have a horizon below it.
    u2 = np.zeros((96, 96), np.float32)
    ege = np.zeros((96, 96), np.float32)
    u2[:, 40:], ege[:, 40:] = 0.99, 0.8  # the right 58 % of the frame, top to bottom
    small = np.full((96, 96, 3), 0.35, np.float32)
    small[:, 40:] = [0.8, 0.82, 0.8]  # pale neutral backdrop
    assert (SK.fuse(u2, ege, small) > 0.5).sum() == 0
    blue = small.copy()
    blue[:, 40:] = [0.4, 0.6, 0.9]  # clear blue sky filling the frame (a bird in flight): kept
    assert (SK.fuse(u2, ege, blue)[:, 40:] > 0.5).all()
    ends = u2.copy(), ege.copy()
    for a in ends:
        a[60:] = 0.0  # the same pale region ending at a horizon above the bottom edge: sky
    assert (SK.fuse(*ends, small)[:60, 40:] > 0.5).all()
    narrow = u2.copy(), ege.copy()
    for a in narrow:
        a[60:, :80] = 0.0  # touches the bottom edge on 17 % of its width only: sky
    assert (SK.fuse(*narrow, small)[:60, 40:] > 0.5).all()


def _sea_scene(wavy: bool = False):
    """A 384 px scene both models call sky down to the shore: pale sky, then darker
    blue sea below a level horizon (or below a wavy cloud-bank edge), then land."""
    h = w = SK.SIZE
    small = np.zeros((h, w, 3), np.float32)
    small[:] = [0.3, 0.35, 0.2]  # land
    cols = np.arange(w)
    edge = 150 + (25 * np.sin(cols / 20.0)).astype(int) if wavy else np.full(w, 150)
    rows = np.arange(h)[:, None]
    sky = rows < edge[None, :]
    sea = (rows >= edge[None, :]) & (rows < 230)
    small[sky] = [0.62, 0.72, 0.88]
    small[sea] = [0.25, 0.45, 0.65]
    u2 = np.where(sky | sea, 0.97, 0.02).astype(np.float32)
    return u2, u2.copy(), small, sky, sea


def test_sea_below_a_level_horizon_is_not_sky():
    u2, ege, small, sky, sea = _sea_scene()
    p = SK.fuse(u2, ege, small) > 0.5
    assert p[sky].mean() > 0.97  # the cut may take a row or two of sky at 384 px (refinement follows the edge)
    assert p[sea].mean() < 0.02
    # The same colours below a wavy edge (a cloud bank, not a horizon) are left alone.
    u2, ege, small, sky, sea = _sea_scene(wavy=True)
    assert (SK.fuse(u2, ege, small) > 0.5)[sky | sea].mean() > 0.99
    # A brighter band below a level line is not water under a horizon either.
    u2, ege, small, sky, sea = _sea_scene()
    small[sea] = [0.85, 0.9, 0.97]
    assert (SK.fuse(u2, ege, small) > 0.5)[sky | sea].mean() > 0.99


def test_int8_u2netp_does_not_saturate_without_vnni():
    """On an x86 CPU without VNNI (AVX2 only) onnxruntime's u8s8 convolution sums pairs of
    products in int16; with 8-bit weights it saturated and the int8 file drifted from fp32
    (ADE20K IoU@0.5 0.785 against fp32 on such a CPU; on seeded noise the mean absolute
    difference was 0.12).  The file is quantised with 7-bit weights (reduce_range): 0.008."""
    rng = np.random.default_rng(0)
    u2_in, _ = SK.model_inputs(rng.random((384, 384, 3)).astype(np.float32))
    p32, p8 = SK._run(SK.MODEL_U2_FP32, u2_in), SK._run(SK.MODEL_U2, u2_in)
    assert float(np.abs(p32 - p8).mean()) < 0.03


def _panes_scene():
    """A room at 96 px: beige wall and ceiling, three bright window panes mid-height."""
    small = np.full((96, 96, 3), [0.7, 0.62, 0.5], np.float32)
    u2 = np.zeros((96, 96), np.float32)
    for x0 in (10, 40, 70):
        small[30:50, x0:x0 + 15] = [0.97, 0.97, 0.98]
        u2[30:50, x0:x0 + 15] = 0.98
    return u2, u2.copy(), small


def test_window_panes_of_a_room_are_not_sky():
    u2, ege, small = _panes_scene()
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert (p > 0.5).sum() == 0 and "window" in reason
    # The same openings with the sky also reaching the frame's top edge: an outdoor sky, kept.
    u2[:10], ege[:10] = 0.98, 0.98
    small[:10] = [0.6, 0.7, 0.9]
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert (p > 0.5)[30:50, 10:25].all() and reason is None
    # One or two openings (under a bridge, through a canopy) are not a room's panes.
    u2, ege, small = _panes_scene()
    u2[:, 70:] = ege[:, 70:] = 0.0
    assert (SK.fuse(u2, ege, small)[30:50, 10:25] > 0.5).all()


def test_plain_wall_the_precise_model_doubts_is_not_sky():
    small = np.full((96, 96, 3), 0.3, np.float32)
    small[:50] = [0.88, 0.87, 0.86]  # a white wall in the upper half
    u2 = np.zeros((96, 96), np.float32)
    u2[:50] = 0.88  # U²-Netp sure enough to pass 0.5, less sure than over any real sky
    ege = np.where(u2 > 0, 0.98, 0.0).astype(np.float32)
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert (p > 0.5).sum() == 0 and "doubts" in reason
    sure = np.where(u2 > 0, 0.99, 0.0).astype(np.float32)  # an overcast sky U²-Netp is sure of: kept
    assert (SK.fuse_with_reason(sure, ege, small)[0][:50] > 0.5).all()
    blue = small.copy()
    blue[:50] = [0.55, 0.7, 0.92]  # a hazy blue sky the model is less sure of: kept
    assert (SK.fuse_with_reason(u2, ege, blue)[0][:50] > 0.5).all()


def test_grey_clock_face_is_not_sky_and_says_why():
    # Both models took 57 % of this clock face for sky (tests/data/SOURCES.md).
    img = load_rgb(Path(__file__).parents[2] / "data" / "sky_greentock_480.jpg")
    res = derive(MaskInput(image=img, digest="greentock"), MaskComponent(kind="sky"))
    assert (res.alpha > 0.5).mean() < 0.05  # a few specks of the face's rim are left at 480 px
    assert res.info["reason"].startswith("doubtful sky") and "doubts" in res.info["reason"]


def test_blue_filling_the_frame_to_its_bottom_is_kept_but_doubtful():
    # Underwater blue or a blue backdrop (mate_Aqua: 90 % "sky") fills the frame down to its
    # bottom edge like an open sky behind a bird in flight: kept, but the reason says so.
    u2 = np.full((96, 96), 0.99, np.float32)
    u2[30:60, 30:60] = 0.0  # the subject
    small = np.full((96, 96, 3), [0.4, 0.6, 0.9], np.float32)
    small[30:60, 30:60] = 0.3
    p, reason = SK.fuse_with_reason(u2, u2.copy(), small)
    assert (p > 0.5).mean() > 0.85 and "bottom edge" in reason
    u2[60:] = 0.0  # a sky ending at a horizon above the bottom edge: nothing to say
    assert SK.fuse_with_reason(u2, u2.copy(), small)[1] is None


def _clouds(shape, rng, low=0.2, high=1.0):
    """Warm, clouded sky pixels: brightness varying far more than a wall's."""
    lum = cv2.GaussianBlur(rng.random(shape[:2]).astype(np.float32), (0, 0), 3)
    lum = low + (high - low) * (lum - lum.min()) / (lum.max() - lum.min())
    return np.stack([lum * 1.1, lum * 0.8, lum * 0.75], axis=-1).clip(0, 1).astype(np.float32)


def test_clouded_sunset_band_only_ege_sees_is_kept_a_plain_one_is_not():
    # The hard-case city skyline: U²-Netp 0.0-0.3 over a sunset sky EGE is sure of.
    rng = np.random.default_rng(1)
    u2 = np.zeros((96, 96), np.float32)
    u2[:30] = 0.1  # the weighted mean alone loses it: 0.6 * 0.1 + 0.4 * 0.99 = 0.46
    ege = np.zeros((96, 96), np.float32)
    ege[:30] = 0.99
    small = np.full((96, 96, 3), 0.25, np.float32)
    small[:30] = _clouds((30, 96), rng)
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert (p[:30] > 0.5).all() and (p[30:] <= 0.5).all() and reason is None
    plain = small.copy()
    plain[:30] = [0.6, 0.5, 0.45]  # a warm wall or backdrop: plain, not kept
    assert (SK.fuse_with_reason(u2, ege, plain)[0] > 0.5).sum() == 0
    # the same clouds not touching the top edge (a poster, a painting): not kept
    low = np.roll(small, 40, axis=0)
    assert (SK.fuse_with_reason(np.roll(u2, 40, 0), np.roll(ege, 40, 0), low)[0] > 0.5).sum() == 0


def test_models_split_over_most_of_the_frame_is_doubtful_and_rescues_nothing():
    # The hard-case aquarium: EGE calls 81 % of the frame sky, U²-Netp 9 %.
    u2 = np.zeros((96, 96), np.float32)
    u2[:10, :48] = 0.9
    ege = np.zeros((96, 96), np.float32)
    ege[:80] = 0.95
    small = np.full((96, 96, 3), [0.1, 0.45, 0.8], np.float32)  # deep blue everywhere
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert "disagree" in reason
    # what both models see stays; the blue EGE alone saw is not taken back
    assert (p[:10, :48] > 0.5).all() and (p > 0.5).sum() == 10 * 48
    ege[40:] = 0.0  # EGE's extra sky is a smaller share: the usual rules, no doubt
    p, reason = SK.fuse_with_reason(u2, ege, small)
    assert reason is None and (p[:40] > 0.5).all()


def test_u2netp_beside_ege_gives_the_same_sky(torcal, monkeypatch):
    # U²-Netp runs in a worker thread while EGE and the photo-only preparation run:
    # the matte, its fraction and the reason must be those of one step after the other.
    img, _ = torcal
    inp = MaskInput(image=img, digest="torcal-threads")
    side_by_side = SK._sky(img, inp=inp)
    from maskroom.engine.executor import threads

    monkeypatch.setattr(SK, "_start", threads.Later)
    one_thread = SK._sky(img, inp=inp)
    assert np.array_equal(side_by_side[0], one_thread[0]) and side_by_side[1:] == one_thread[1:]
    assert side_by_side[1] > 0.1


def test_a_sky_less_photo_stops_u2netp_and_says_no_sky():
    img = load_rgb(SAMPLES / "immich_portrait_curies.jpg")
    alpha, fraction, reason = SK._sky(img)
    assert fraction == 0.0 and alpha.max() == 0.0 and reason == "no sky in this photo"
    # The stopped run leaves the session usable for the next photo.
    u2, _ = SK.sky_probabilities(img)
    assert u2 is not None and u2.shape == (SK.SIZE, SK.SIZE)


def test_a_one_thread_process_runs_the_models_one_after_the_other(monkeypatch):
    # A batch worker is allowed one thread: no U²-Netp beside EGE, and none at all
    # on a photo EGE sees no sky in.
    from maskroom.engine.masks import model_store

    monkeypatch.setattr(model_store, "threads", lambda: 1)
    ran = []
    real = SK._run
    monkeypatch.setattr(SK, "_run", lambda name, x, options=None: ran.append(name) or real(name, x, options))
    img = load_rgb(SAMPLES / "immich_portrait_curies.jpg")
    assert SK._sky(img)[1] == 0.0
    assert ran == [SK.MODEL_EGE]
