"""Edits at the photo's own resolution (``editing.fields``), several faces, region-only and relative edits.

The field tests use synthetic photos and fields; the photo tests use scikit-image's astronaut (a real photo) and
the shipped model, through the public ``Editor`` API."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import yaml

from edit_support import REPO, run_lsgan, synth_faces, tiny_bundle  # noqa: F401  (pytest fixtures)
from lsgan.data.images import to_tensor, to_uint8
from lsgan.editing import Editor
from lsgan.editing.editor import FaceChoiceError
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgan.editing.fields import BORDER_KEEP, apply_field, resize_matrix, within_photo
from lsgan.editing.targets import REGION_AUS
from lsgan.facs import AU_IDS, au_index, subset_indices

MODEL = 64  # crop side of the synthetic alignments


def detail(image: np.ndarray, rows: slice, cols: slice) -> float:
    """Variance of the Laplacian of the grey image inside the box: the fine detail there."""
    grey = cv2.cvtColor(np.ascontiguousarray(image[rows, cols]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def rotation_matrix(photo_side: int, angle_deg: float = 7.0) -> np.ndarray:
    """A photo -> MODEL-crop similarity: the photo's centre square shrunk to the crop, slightly rotated."""
    matrix = cv2.getRotationMatrix2D((photo_side / 2, photo_side / 2), angle_deg, MODEL / photo_side)
    matrix[:, 2] += MODEL / 2 - photo_side / 2
    return matrix


def smooth_field(seed: int, channels: int, scale: float) -> np.ndarray:
    """A smooth random field [channels, MODEL, MODEL] (a 4×4 random grid upsampled), values about ±scale."""
    coarse = np.random.default_rng(seed).uniform(-scale, scale, (channels, 4, 4)).astype(np.float32)
    return np.stack([cv2.resize(c, (MODEL, MODEL), interpolation=cv2.INTER_CUBIC) for c in coarse])


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A sharp 512×512 photo: fine random texture (skin pores, hair), uint8."""
    noise = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 0.7)


# --- the field, on synthetic photos ---------------------------------------------------------------------------------


def test_a_zero_field_returns_the_photo_exactly(texture):
    zero_flow, zero_colour = np.zeros((2, MODEL, MODEL), np.float32), np.zeros((3, MODEL, MODEL), np.float32)
    mask = np.ones(texture.shape[:2], np.float32)
    out = apply_field(texture, rotation_matrix(512), zero_flow, zero_colour, mask)
    np.testing.assert_array_equal(out, texture)


def test_a_sharp_pattern_stays_sharp_where_the_old_crop_paste_blurred_it(texture):
    matrix = rotation_matrix(512)
    flow, colour = smooth_field(1, 2, 0.04), smooth_field(2, 3, 0.05)  # shifts up to ~10 photo px
    mask = np.zeros(texture.shape[:2], np.float32)
    mask[128:384, 128:384] = 1.0
    inside = (slice(150, 360), slice(150, 360))
    kept = detail(apply_field(texture, matrix, flow, colour, mask), *inside) / detail(texture, *inside)
    # What editing did before: the face through a MODEL-px crop and back, upscaled.
    crop = cv2.warpAffine(texture, matrix, (MODEL, MODEL), flags=cv2.INTER_AREA)
    pasted = cv2.warpAffine(crop, cv2.invertAffineTransform(matrix), (512, 512), flags=cv2.INTER_LINEAR)
    old_kept = detail(pasted, *inside) / detail(texture, *inside)
    assert kept >= 0.9
    assert old_kept < 0.2  # the test tells the two paths apart


def test_the_flow_moves_pixels_by_the_documented_amount():
    photo = np.zeros((256, 256, 3), np.uint8)
    photo[:, 128:] = 255  # a vertical edge at x = 127.5
    matrix = resize_matrix(photo.shape, MODEL)  # photo -> crop, 4× smaller
    flow = np.zeros((2, MODEL, MODEL), np.float32)
    flow[0] = 0.125  # grid units: 0.125 * MODEL / 2 = 4 crop px = 16 photo px; sampling further right
    out = apply_field(photo, matrix, flow, np.zeros((3, MODEL, MODEL), np.float32), np.ones((256, 256), np.float32))
    row = out[100, :, 0].astype(int)
    edge = int(np.argmax(row > 127))
    assert edge == 128 - 16  # the edge moved 16 px left: each pixel shows the photo 16 px to its right


def test_a_field_reaching_past_the_border_stretches_the_edge_rather_than_mirroring_the_photo():
    photo = np.repeat(np.arange(256, dtype=np.uint8)[:, None, None], 256, axis=1).repeat(3, axis=2)  # value = row
    matrix = resize_matrix(photo.shape, MODEL)
    flow = np.zeros((2, MODEL, MODEL), np.float32)
    flow[1] = -0.125  # every pixel shows the photo 16 px above it: the top rows would read past the top edge
    out = apply_field(photo, matrix, flow, np.zeros((3, MODEL, MODEL), np.float32), np.ones((256, 256), np.float32))
    column = out[:, 128, 0].astype(int)
    assert column[0] == 0  # the border row stays
    steps = np.diff(column[:100])
    assert steps.min() >= 0  # mirrored, rows 1-16 would read rows 15-0 going back up
    assert steps.max() <= 1  # stretched, not torn: no rows of the photo skipped
    assert 16 * BORDER_KEEP <= column[16] < 16  # moved up, but kept at least that share of its distance inside
    np.testing.assert_array_equal(column[80:200], np.arange(80, 200) - 16)  # beyond 4 shifts, the shift to the bit


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.5, 80.0))
def test_no_pixel_of_the_photo_samples_past_its_borders(seed, reach):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(8, 60)), int(rng.integers(8, 60)))
    box = (slice(-4, shape[0] + 4), slice(-4, shape[1] + 4))  # with a margin beyond the photo, as the texture has
    ys, xs = np.mgrid[box].astype(np.float32)
    sample_x, sample_y = (grid + rng.uniform(-reach, reach, grid.shape).astype(np.float32) for grid in (xs, ys))
    kept_x, kept_y = within_photo(sample_x, sample_y, box, shape)
    inside = (ys >= 0) & (ys < shape[0]) & (xs >= 0) & (xs < shape[1])
    assert kept_x[inside].min() >= 0 and kept_x[inside].max() <= shape[1] - 1
    assert kept_y[inside].min() >= 0 and kept_y[inside].max() <= shape[0] - 1
    far = (np.abs(sample_y - ys) * 4 <= np.minimum(ys, shape[0] - 1 - ys)) & inside  # 4 shifts from either border
    np.testing.assert_array_equal(kept_y[far], sample_y[far])
    above = ys < 0  # the texture's margin beyond the photo: sampled no further out than it lies
    assert np.all(kept_y[above] >= ys[above])


def test_pixels_where_the_mask_is_zero_are_untouched(texture):
    flow, colour = smooth_field(3, 2, 0.05), smooth_field(4, 3, 0.3)
    mask = np.zeros(texture.shape[:2], np.float32)
    cv2.circle(mask, (256, 256), 120, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 8) * (mask > 0)
    out = apply_field(texture, rotation_matrix(512), flow, colour, mask)
    np.testing.assert_array_equal(out[mask == 0], texture[mask == 0])
    assert np.any(out[mask > 0.5] != texture[mask > 0.5])


def warp_generator(seed: int = 0, **tg: object):
    """The tiny test config as a warping, AU-gated, change-conditioned generator with a non-zero last conv."""
    from lsgan.config import from_dict
    from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator

    model = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())["model"]
    model["tg"].update(output="warp", au_gated=True, condition="change", **tg)
    torch.manual_seed(seed)
    generator = LSGANGenerator(from_dict(LSGANConfig, model)).eval()
    with torch.no_grad():  # the last convs start at zero (the identity edit): make the edit visible
        for branch in generator.tg.branches.values():
            branch.to_image[-2].weight.normal_(0, 0.05)
    return generator


def test_the_field_at_model_size_reproduces_the_generators_edit(synth_faces):
    generator = warp_generator()
    crop = np.asarray(synth_faces[0][4:36, 4:36])  # 32×32, the tiny model's size
    image = to_tensor(crop)[None]
    target, source = torch.rand(1, 16, generator=torch.Generator().manual_seed(1)), torch.zeros(1, 16)
    with torch.no_grad():
        edited, _, flow, colour = generator.edit_field(image, target, source)
        plain = generator.edit(image, target, source)[0]
    torch.testing.assert_close(edited, plain)
    applied = apply_field(crop, resize_matrix(crop.shape, 32), flow[0].numpy(), colour[0].numpy(),
                          np.ones((32, 32), np.float32))
    model_out = to_uint8(edited[0]).astype(int)
    assert np.abs(applied.astype(int) - crop).mean() > 2  # the edit is visible
    # Mixing the fields before sampling (not the warped images after) and bicubic sampling: close, not equal.
    assert np.abs(applied.astype(int) - model_out).mean() < 0.25 * np.abs(model_out - crop).mean()


def test_max_colour_bounds_the_colour_change():
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    target, source = torch.ones(2, 16), torch.zeros(2, 16)
    with torch.no_grad():
        free = warp_generator(max_colour=1.0).edit_field(image, target, source)[3]
        bounded = warp_generator(max_colour=0.05).edit_field(image, target, source)[3]
    assert bounded.abs().max() <= 0.1 + 1e-6  # 2 (the range) * max_colour
    torch.testing.assert_close(bounded, 0.05 * free)


def test_image_output_generators_carry_only_their_change(tiny_bundle):
    from lsgan.nets.lsgan import load_bundle

    generator = load_bundle(tiny_bundle).generator  # tg.output: image (the paper's)
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        edited, _, flow, colour = generator.edit_field(image, torch.rand(2, 16))
    assert not flow.any()
    torch.testing.assert_close(image + colour, edited)


# --- real photos, the shipped model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def editor() -> Editor:
    return Editor.from_pretrained()


def two_faces(astronaut: np.ndarray, right_scale: float = 1.0) -> np.ndarray:
    """The astronaut beside her mirror image (scaled by ``right_scale`` on a grey canvas): a 2-face photo."""
    right = np.ascontiguousarray(astronaut[:, ::-1])
    if right_scale != 1.0:
        side = round(512 * right_scale)
        canvas = np.full_like(astronaut, 128)
        canvas[:side, :side] = cv2.resize(right, (side, side), interpolation=cv2.INTER_AREA)
        right = canvas
    return np.concatenate([astronaut, right], axis=1)


def test_photo_edits_keep_the_faces_detail_and_leave_the_rest_exact(editor, astronaut):
    face = editor.prepare(astronaut)[0].faces[0]
    x0, y0, x1, y1 = (round(v) for v in face.aligned.box)
    box = (slice(y0, y1), slice(x0, x1))
    result = editor.edit([astronaut] * 3, emotion="happy")
    for edited in result.images:
        assert detail(edited, *box) / detail(astronaut, *box) >= 0.85
    changed = np.any(result.image != astronaut, axis=2)
    assert changed[box].mean() > 0.3
    # Nothing changes outside the hull of the face's landmarks (carried back to the photo).
    points = face.aligned.landmarks.transformed(cv2.invertAffineTransform(face.matrix)).points
    hull = np.zeros(astronaut.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    near_face = cv2.dilate(hull, np.ones((3, 3), np.uint8)) > 0  # 1 px for rounding
    assert not changed[~near_face].any()
    assert near_face.mean() < 0.1


def test_faces_are_numbered_left_to_right_and_each_can_be_chosen(editor, astronaut):
    photo = two_faces(astronaut)
    prepared = editor.prepare(photo)[0]
    centres = {face.number: (face.aligned.box[0] + face.aligned.box[2]) / 2 for face in prepared.faces}
    assert sorted(centres) == [0, 1] and centres[0] < 512 < centres[1]
    both = editor.edit(photo, emotion="surprised")
    assert len(both.faces) == 2 and both.target_aus.shape == (2, 16)
    assert np.any(both.image[:, :512] != photo[:, :512]) and np.any(both.image[:, 512:] != photo[:, 512:])
    right_only = editor.edit(photo, emotion="surprised", face=1)
    np.testing.assert_array_equal(right_only.image[:, :512], photo[:, :512])
    assert np.any(right_only.image[:, 512:] != photo[:, 512:])
    assert [(f.photo, f.number) for f in right_only.faces] == [(0, 1)]
    with pytest.raises(FaceChoiceError, match="no face 2 \\(found 2, numbered 0-1 left to right\\)"):
        editor.edit(photo, emotion="happy", face=2)


@pytest.mark.parametrize("why", ["too small to edit", "turned too far to edit", "cut by the photo's border"])
def test_a_face_the_editor_cannot_edit_is_reported_and_left_as_it_is(editor, astronaut, monkeypatch, why):
    """Beside a face it edits, a face under ``min_face`` px, in profile (its nose tip beyond an eye:
    ``Landmarks.turn`` outside 0-1; which face is in profile is set here), or with most of an eye or of the mouth
    beyond the photo's border (the mesh guesses the rest) is left as it is with one note; asked for alone, one
    error line."""
    from lsgan.editing import editor as editing

    if why == "too small to edit":
        photo = two_faces(astronaut, right_scale=0.7)  # the detector finds the small face down to about this
        sides = sorted(min(f.aligned.box[2] - f.aligned.box[0], f.aligned.box[3] - f.aligned.box[1])
                       for f in editor.prepare(photo)[0].faces)
        assert len(sides) == 2
        monkeypatch.setattr(editor.config, "min_face", round(sum(sides) / 2))  # between the two faces' sizes
    elif why == "cut by the photo's border":
        # beside her, the astronaut cut through her image-right eye: found, the eye's mesh all beyond the border
        photo = np.concatenate([astronaut, astronaut[:, :250]], axis=1)
    else:
        photo = two_faces(astronaut)
        frontal = editing._turn
        monkeypatch.setattr(editing, "_turn", lambda face: -0.3 if face.aligned.box[0] > 512 else frontal(face))
    result = editor.edit(photo, emotion="happy")
    assert len(result.faces) == 1 and result.faces[0].number == 0
    [note], [left] = result.notes, result.left
    assert f"face 1 is {why}" in note and "left as it is" in note
    assert (left.number, left.note) == (1, note) and left.why.startswith(why)  # the reason itself, for a benchmark
    np.testing.assert_array_equal(result.image[:, 512:], photo[:, 512:])
    with pytest.raises(FaceChoiceError, match=f"face 1 is {why}"):
        editor.edit(photo, emotion="happy", face=1)


def test_a_face_is_cut_by_the_border_where_most_of_an_eye_or_the_mouth_is_beyond_it():
    """An eye whose outer corner reaches past the photo's border is still edited; an eye or a mouth most of whose
    mesh points lie beyond it is not (the mesh there guesses what the photo does not show)."""
    from lsgan.data.faces import MEDIAPIPE478, AlignedFace, Landmarks
    from lsgan.editing.editor import PreparedFace, _cut_by_border

    def face_with(part: tuple[int, ...], share: float) -> PreparedFace:
        points = np.full((478, 2), 50.0)
        beyond = list(part)[:round(share * len(part))]
        points[beyond, 0] = -2.0  # left of the photo
        matrix = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]])  # photo -> crop: the landmarks are crop pixels
        landmarks = Landmarks(points * 0.5, MEDIAPIPE478)
        return PreparedFace(np.zeros((64, 64, 3), np.uint8), matrix, AlignedFace(None, matrix, landmarks, (0, 0, 1, 1)))

    for part in (MEDIAPIPE478.left_eye, MEDIAPIPE478.right_eye, MEDIAPIPE478.outer_lips):
        assert not _cut_by_border(face_with(part, 0.0), (100, 100, 3))
        assert not _cut_by_border(face_with(part, 0.3), (100, 100, 3))
        assert _cut_by_border(face_with(part, 0.7), (100, 100, 3))
    assert not _cut_by_border(face_with(MEDIAPIPE478.nose, 1.0), (100, 100, 3))  # the nose is not asked


@pytest.mark.parametrize("region", list(REGION_AUS))
def test_region_edits_change_only_that_regions_aus_and_pixels(editor, astronaut, region):
    result = editor.edit(astronaut, emotion="surprised", region=region)
    outside = np.ones(16, bool)
    outside[subset_indices(REGION_AUS[region])] = False
    np.testing.assert_array_equal(result.target_aus[0, outside], result.source_aus[0, outside])
    channel = {"eyes": 0, "mouth": 1}[region]
    region_mask = result.photo_masks[0][:, :, channel]
    changed = np.any(result.image != astronaut, axis=2)
    assert changed.any()
    assert not changed[region_mask == 0].any()  # bit-exact outside the region's mask


def test_signed_aus_move_the_faces_own_values(editor, astronaut):
    result = editor.edit(astronaut, aus="12=+0.3,4=-0.2")
    source, target = result.source_aus[0], result.target_aus[0]
    assert target[au_index(12)] == pytest.approx(min(source[au_index(12)] + 0.3, 1.0))
    assert target[au_index(4)] == pytest.approx(max(source[au_index(4)] - 0.2, 0.0))
    others = [i for i, au in enumerate(AU_IDS) if au not in (4, 12)]
    np.testing.assert_array_equal(target[others], source[others])


def test_estimate_lists_every_face_with_its_box(astronaut, save_png, capsys, monkeypatch):
    path = save_png("pair.png", two_faces(astronaut))
    run = run_lsgan(["estimate", path], capsys, monkeypatch)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{path}  face 0: box x0=") and lines[1].startswith(f"{path}  face 1: box x0=")
    x0_right = float(lines[1].split("x0=")[1].split()[0])
    assert x0_right > 512
    run = run_lsgan(["edit", path, "--emotion", "happy", "--face", "5", "--out", path.with_name("x.png")],
                    capsys, monkeypatch)
    assert run.code == 2 and "no face 5 (found 2" in run.err and run.err.count("\n") == 1
    assert not path.with_name("x.png").exists()
