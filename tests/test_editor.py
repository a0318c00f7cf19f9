"""The Python editing API: target rules, input kinds, batching, sequences, alignment, and bad inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from edit_support import synth_faces, tiny_bundle, tiny_editor  # noqa: F401  (pytest fixtures)
from PIL import Image

from lsgan.data.faces import warp_antialiased
from lsgan.editing.editor import DEFAULT_MODEL_DIR, Editor, EditorConfig, resolve_model_dir
from lsgan.editing.paint import LIT_BRIGHTEST
from lsgan.editing.reading import MAX_EXPOSURE_GAIN, VIEWS, exposed, view_crops
from lsgan.atomic import atomic_file, atomic_folder
from lsgan.editing.targets import (
    LIKE_GAIN, TargetRequest, interpolate_targets, other_side_targets, request_side, resolve_targets,
    with_bilateral_aus,
)
from lsgan.errors import CheckpointError, InputImageError, LsganError, NoFaceError
from lsgan.facs import AU_IDS, BILATERAL_AUS, AUError, au_index, edit_vector
from lsgan.nets.lsgan import load_bundle

AU12 = au_index(12)


# --- target rules (no model) -------------------------------------------------------------------------------------


@pytest.fixture
def source_aus(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 1, (2, 16)).astype(np.float32)


def test_au_settings_change_only_those_aus(source_aus):
    target = resolve_targets(TargetRequest(aus={12: 0.8, 6: 0.1}), source_aus)
    changed = [au_index(12), au_index(6)]
    np.testing.assert_allclose(target[:, changed], [[0.8, 0.1]] * 2)
    np.testing.assert_array_equal(np.delete(target, changed, axis=1), np.delete(source_aus, changed, axis=1))


def test_au_string_is_the_same_as_a_mapping(source_aus):
    from_string = resolve_targets(TargetRequest(aus="AU12=0.8, 6=0.1"), source_aus)
    np.testing.assert_array_equal(from_string, resolve_targets(TargetRequest(aus={12: 0.8, 6: 0.1}), source_aus))


def test_emotion_replaces_the_source_and_settings_apply_on_top(source_aus):
    target = resolve_targets(TargetRequest(aus={26: 0.3}, emotion="angry", intensity=0.5), source_aus)
    expected = edit_vector("angry", 0.5)  # what an edit asks for, not the posed prototype
    expected[au_index(26)] = 0.3
    np.testing.assert_allclose(target, np.stack([expected, expected]))


def test_like_copies_the_change_to_the_other_face_larger_as_g_exp_reads_photos_low(source_aus):
    """G_exp reads real faces' AUs low: the change from the source's reading to the other face's is copied
    ``LIKE_GAIN`` times, clipped to 0-1; a face copied onto itself is unchanged, onto one at rest its reading
    times the gain."""
    like = np.linspace(0, 1, 16, dtype=np.float32)
    expected = np.clip(source_aus + LIKE_GAIN * (like - source_aus), 0, 1)
    np.testing.assert_allclose(resolve_targets(TargetRequest(like_aus=like), source_aus), expected, atol=1e-6)
    assert LIKE_GAIN > 1
    np.testing.assert_allclose(resolve_targets(TargetRequest(like_aus=source_aus[0]), source_aus[:1]), source_aus[:1],
                               atol=1e-6)
    at_rest = np.zeros((1, 16), np.float32)
    np.testing.assert_allclose(resolve_targets(TargetRequest(like_aus=like), at_rest)[0],
                               np.minimum(LIKE_GAIN * like, 1.0), atol=1e-6)
    half = resolve_targets(TargetRequest(like_aus=like, intensity=0.5), source_aus)  # a share of the copy
    np.testing.assert_allclose(half, np.clip(source_aus + 0.5 * LIKE_GAIN * (like - source_aus), 0, 1), atol=1e-6)
    np.testing.assert_allclose(resolve_targets(TargetRequest(like_aus=like, intensity=0.0), source_aus), source_aus,
                               atol=1e-6)


def test_a_full_vector_is_the_target(source_aus):
    vector = np.full(16, 0.25)
    np.testing.assert_allclose(resolve_targets(TargetRequest(aus=vector), source_aus), np.full((2, 16), 0.25))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (TargetRequest(aus={13: 0.5}), "unknown AU 13"),
        (TargetRequest(aus="12=1.5"), "must be a number in [0, 1]"),
        (TargetRequest(aus="12=+1.5"), "AU12 change must be a number in [-1,"),
        (TargetRequest(aus={"AUx": 0.5}), "aus as a mapping is"),
        (TargetRequest(aus={12: "+x"}), "for AU12: expected a number"),
        (TargetRequest(aus="12=+abc"), "bad value"),
        (TargetRequest(emotion="happy", region="nose"), "unknown region"),
        (TargetRequest(emotion="contemptuous", side="middle"), "unknown side 'middle'"),
        (TargetRequest(aus={12: float("nan")}), "must be a number in [0, 1]"),
        (TargetRequest(aus=np.full(16, np.nan)), "NaN"),
        (TargetRequest(aus=np.zeros(15)), "16 values"),
        (TargetRequest(emotion="grumpy"), "unknown emotion 'grumpy'"),
        (TargetRequest(emotion="happy", intensity=1.2), "intensity must be in [0, 1]"),
        (TargetRequest(emotion="happy", like_aus=np.zeros(16)), "not both"),
        (TargetRequest(aus={12: 1.0}, intensity=0.5), "an intensity needs an emotion or a face to copy"),
        (TargetRequest(like_aus=np.zeros(16), intensity=1.5), "the intensity of a copy must be in [0, 1]"),
        (TargetRequest(), "nothing to edit"),
    ],
)
def test_bad_requests_are_one_line_errors(request_, message, source_aus):
    with pytest.raises(AUError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        resolve_targets(request_, source_aus)
    assert "\n" not in str(caught.value)


def test_interpolation_runs_from_source_to_target():
    source, target = np.zeros(16, np.float32), np.linspace(0, 1, 16, dtype=np.float32)
    steps = interpolate_targets(source, target, 5)
    assert steps.shape == (5, 16)
    np.testing.assert_allclose(steps[0], source)
    np.testing.assert_allclose(steps[-1], target)
    assert np.all(np.diff(steps, axis=0) >= 0)
    with pytest.raises(AUError):
        interpolate_targets(source, target, 1)


# --- the editor on already-cropped faces ------------------------------------------------------------------------


def test_pil_numpy_and_path_inputs_give_the_same_edit(tiny_editor, synth_faces, save_png):
    face = synth_faces[0]
    inputs = [face, Image.fromarray(face), save_png("face.png", face)]
    result = tiny_editor.edit(inputs, aus={12: 0.9})
    assert len(result.images) == 3
    for image in result.images:
        assert image.shape == face.shape and image.dtype == np.uint8
        np.testing.assert_allclose(image, result.images[0], atol=1)  # batch splits may round differently
    assert not np.array_equal(result.image, face)


def test_batches_give_the_same_result_as_single_edits(tiny_editor, synth_faces):
    batch = tiny_editor.edit(synth_faces, emotion="surprised")  # batch_size 2: two forward passes
    for face, edited in zip(synth_faces, batch.images):
        np.testing.assert_allclose(tiny_editor.edit(face, emotion="surprised").image, edited, atol=1)
    assert batch.masks.shape == (3, tiny_editor.image_size, tiny_editor.image_size, 3)
    np.testing.assert_allclose(batch.masks.sum(axis=-1), 1.0, atol=1e-5)


def test_output_has_the_input_size_without_alignment(tiny_editor, rng):
    photo = rng.integers(0, 256, (45, 70, 3), dtype=np.uint8)
    assert tiny_editor.edit(photo, aus={12: 1.0}).image.shape == (45, 70, 3)


def test_unset_aus_keep_the_sources_estimate(tiny_editor, synth_faces):
    result = tiny_editor.edit(synth_faces[:2], aus={12: 0.8})
    np.testing.assert_allclose(result.target_aus[:, AU12], 0.8)
    np.testing.assert_allclose(np.delete(result.target_aus, AU12, 1), np.delete(result.source_aus, AU12, 1))
    np.testing.assert_allclose(result.source_aus, tiny_editor.estimate(synth_faces[:2]), atol=1e-6)


def test_estimate_returns_one_row_of_16_per_image(tiny_editor, synth_faces):
    aus = tiny_editor.estimate(synth_faces)
    assert aus.shape == (3, len(AU_IDS)) and aus.dtype == np.float32
    assert np.all((aus >= 0) & (aus <= 1))


def test_the_reading_is_the_median_of_g_exps_readings_over_the_views(tiny_bundle, synth_faces):
    steady = Editor.from_pretrained(tiny_bundle, align=False)
    photo = steady.prepare(synth_faces[0])[0]
    face = photo.faces[0]
    readings = steady._regress_aus(view_crops(photo.photo, face.matrix, steady.image_size)).numpy()  # [V, 16]
    np.testing.assert_allclose(steady.estimate_faces([photo])[0], np.median(readings, axis=0), atol=1e-6)
    steady.reading_views = VIEWS[:3]  # another set of views (scripts/reading_repeatability.py compares sets)
    np.testing.assert_allclose(steady.estimate_faces([photo])[0], np.median(readings[:3], axis=0), atol=1e-6)
    one_crop = Editor(load_bundle(tiny_bundle), EditorConfig(align=False, steady_reading=False))
    np.testing.assert_allclose(one_crop.estimate_faces([photo])[0], readings[VIEWS.index((False, 1.0, 0.0, 0.0))],
                               atol=1e-6)


def test_the_views_are_the_aligned_crop_mirrored_scaled_and_moved(rng):
    photo = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    size = 100
    matrix = np.array([[0.3, 0.05, -20.0], [-0.05, 0.3, 10.0]])  # a strong reduction: the photo is shrunk first
    crops = dict(zip(VIEWS, view_crops(photo, matrix, size)))
    assert len(crops) == len(VIEWS) == 30
    aligned = crops[(False, 1.0, 0.0, 0.0)]
    np.testing.assert_array_equal(aligned, warp_antialiased(photo, matrix, size))
    np.testing.assert_array_equal(crops[(True, 1.0, 0.0, 0.0)], aligned[:, ::-1])
    # 3 px right, 3 px up; cv2 rounds sample positions to 1/32 px, so a pixel may be one level off
    np.testing.assert_allclose(crops[(False, 1.0, 0.03, 0.0)][:, 3:], aligned[:, :-3], atol=1)
    np.testing.assert_allclose(crops[(False, 1.0, 0.0, -0.03)][:-3], aligned[3:], atol=1)
    centre = slice(45, 55)
    zoomed = crops[(False, 1.05, 0.0, 0.0)].astype(int)
    assert np.abs(zoomed[centre, centre] - aligned[centre, centre]).mean() < np.abs(zoomed - aligned).mean()


def test_a_dark_face_is_read_brightened_until_its_brightest_is_lit():
    views = np.full((2, 8, 8, 3), 40, np.uint8)
    views[:, 0, 0] = 200  # a highlight: clipped when brightened
    np.testing.assert_array_equal(exposed(views, 50.0)[:, 1:, 1:], 40 * LIT_BRIGHTEST / 50)
    assert exposed(views, 50.0)[0, 0, 0, 0] == 255
    np.testing.assert_array_equal(exposed(views, 10.0)[:, 1:, 1:], 40 * MAX_EXPOSURE_GAIN)
    assert exposed(views, LIT_BRIGHTEST) is views and exposed(views, 240.0) is views  # a photo in its light


def test_a_face_in_a_dark_photo_is_read_as_in_its_light(astronaut):
    """The astronaut in 0.3 of the light: G_exp's reading within 0.05 of her photo's (0.14 off, read as it was)."""
    editor = Editor.from_pretrained()
    dark = np.round(astronaut * 0.3).astype(np.uint8)
    assert np.abs(editor.estimate(dark)[0] - editor.estimate(astronaut)[0]).max() < 0.05


def test_like_uses_the_other_faces_estimate(tiny_editor, synth_faces):
    result = tiny_editor.edit(synth_faces[0], like=synth_faces[1])
    source, like = tiny_editor.estimate(synth_faces[0])[0], tiny_editor.estimate(synth_faces[1])[0]
    np.testing.assert_allclose(result.target_aus[0], np.clip(source + LIKE_GAIN * (like - source), 0, 1), atol=1e-6)


def test_contempt_acts_on_one_side_unless_told_and_other_edits_on_both(source_aus):
    assert request_side(TargetRequest(emotion="contemptuous")) == "left"
    assert request_side(TargetRequest(emotion=" Contemptuous ", intensity=0.5)) == "left"
    assert request_side(TargetRequest(emotion="contemptuous", side="right")) == "right"
    assert request_side(TargetRequest(emotion="contemptuous", side="both")) is None
    assert request_side(TargetRequest(emotion="happy")) is None
    assert request_side(TargetRequest(aus={12: 1.0}, side="left")) == "left"
    neutral_but_brows = resolve_targets(TargetRequest(emotion="neutral", aus={4: 0.5}), source_aus)
    np.testing.assert_array_equal(other_side_targets(TargetRequest(emotion="contemptuous", aus={4: 0.5}), source_aus),
                                  neutral_but_brows)  # an emotion's other side at rest; its settings on both sides
    np.testing.assert_array_equal(other_side_targets(TargetRequest(aus={12: 1.0}, side="left"), source_aus),
                                  source_aus)  # a change's other side as it was


def test_a_one_sided_edit_changes_that_side_as_the_target_and_the_other_as_its_own(tiny_editor, synth_faces):
    """The model's field (a crop without a mesh): columns on the picture's left as the edit to the target, those on
    the right as the edit to the other side's AUs, a blend across the middle."""
    photo = tiny_editor.prepare(synth_faces[0])[0]
    source = tiny_editor.estimate_faces([photo])
    target, other = edit_vector("happy")[None], edit_vector("surprised")[None]
    sided = tiny_editor.render([photo], target, source, side="left", other_aus=other).images[0].astype(int)
    whole = tiny_editor.render([photo], target, source).images[0].astype(int)
    other = with_bilateral_aus(other, target)  # the lips apart and the jaw as the target has them, on both sides
    others = tiny_editor.render([photo], other, source).images[0].astype(int)
    width = sided.shape[1]
    assert np.abs(whole - others)[:, :width // 3].mean() > 1.0  # the two edits differ on both sides
    assert np.abs(whole - others)[:, -width // 3:].mean() > 1.0
    assert np.abs(sided - whole)[:, :width // 3].max() <= 1
    assert np.abs(sided - others)[:, -width // 3:].max() <= 1
    with pytest.raises(AUError, match="needs the other side's AUs"):
        tiny_editor.render([photo], target, source, side="left")


def test_the_midline_aus_act_on_both_sides_of_a_one_sided_edit(source_aus):
    target = np.zeros_like(source_aus)
    other = with_bilateral_aus(source_aus, target)
    midline = [au_index(au) for au in BILATERAL_AUS]
    assert sorted(BILATERAL_AUS) == [17, 25, 26]
    np.testing.assert_array_equal(other[:, midline], 0.0)
    np.testing.assert_array_equal(np.delete(other, midline, axis=1), np.delete(source_aus, midline, axis=1))


def test_a_one_sided_edit_closes_the_whole_mouth():
    """The astronaut's broad smile, contempt on the picture's left and her own AUs on the right (what the web page's
    sliders do): her lips close on both sides, no teeth left showing on the right."""
    from skimage import data

    editor = Editor.from_pretrained()
    photo = data.astronaut()
    prepared = editor.prepare(photo)[0]
    source = editor.estimate_faces([prepared])
    edited = editor.render([prepared], edit_vector("contemptuous")[None], source, side="left",
                           other_aus=source).images[0]
    x0, y0, x1, y1 = prepared.faces[0].aligned.box
    middle, width, height = (x0 + x1) / 2, x1 - x0, y1 - y0
    rows, right = slice(int(y0 + 0.66 * height), int(y0 + 0.8 * height)), slice(int(middle), int(middle + 0.16 * width))

    def white(image: np.ndarray) -> float:  # teeth: every channel bright
        return float((image[rows, right].min(axis=2) > 190).mean())

    assert white(photo) > 0.05 and white(edited) < 0.02


def test_a_one_sided_edit_of_a_photo_leaves_the_other_side_of_the_face_as_it_was():
    """A smile on the astronaut's left (the picture's) only: her face right of the middle keeps its pixels, her left
    mouth corner moves; the sequence's last frame is the edit."""
    from skimage import data

    editor = Editor.from_pretrained()
    photo = data.astronaut()
    edited = editor.edit(photo, aus={12: 0.0}, side="left")
    box = edited.faces[0].box
    middle, width = (box[0] + box[2]) / 2, box[2] - box[0]
    change = np.abs(edited.image.astype(int) - photo).max(axis=2)
    right, left = slice(int(middle + 0.2 * width), int(box[2])), slice(int(box[0]), int(middle - 0.2 * width))
    rows = slice(int(box[1]), int(box[3]))
    assert change[rows, right].max() == 0 and change[rows, left].max() > 30
    both = np.abs(editor.edit(photo, aus={12: 0.0}).image.astype(int) - photo).max(axis=2)
    assert both[rows, right].max() > 30
    frames = editor.edit_sequence(photo, 2, aus={12: 0.0}, side="left").images
    np.testing.assert_array_equal(frames[-1], edited.image)
    creased = Editor.from_pretrained(creases=True).edit(photo, aus={12: 0.0}, side="left").image  # folds one-sided too
    creases = np.abs(creased.astype(int) - photo).max(axis=2)
    assert creases[rows, right].max() == 0 and np.abs(creased.astype(int) - edited.image).max() > 0


def test_sequence_goes_from_the_source_expression_to_the_target(tiny_editor, synth_faces):
    result = tiny_editor.edit_sequence(synth_faces[0], 4, aus={12: 1.0})
    assert len(result.images) == 4
    np.testing.assert_allclose(result.target_aus[0], result.source_aus[0], atol=1e-6)
    assert result.target_aus[-1, AU12] == pytest.approx(1.0)
    assert np.all(np.diff(result.target_aus[:, AU12]) >= 0)


def test_photo_masks_are_drawn_only_when_asked_for_and_once(tiny_editor, synth_faces, monkeypatch):
    """A result's photo masks are full-resolution arrays (576 MB for a 48-megapixel photo): an edit or a sequence
    draws none until ``photo_masks`` is read, then each input's once; they are the faces' crop masks on the photo."""
    from lsgan.editing import editor as editor_module

    drawn = []
    original = editor_module._masks_on_photo
    monkeypatch.setattr(editor_module, "_masks_on_photo",
                        lambda photo, pairs: drawn.append(1) or original(photo, pairs))
    result = tiny_editor.edit(synth_faces[:2], aus={12: 1.0})
    frames = tiny_editor.edit_sequence(synth_faces[0], 3, aus={12: 1.0})
    assert drawn == [] and len(frames.images) == 3
    masks = result.photo_masks
    assert len(drawn) == 2 and result.photo_masks is masks and len(drawn) == 2
    for image, photo_mask, crop_mask in zip(result.images, masks, result.masks):
        height, width = image.shape[:2]  # no alignment: the crop is the whole image, resized
        np.testing.assert_allclose(photo_mask, cv2.resize(crop_mask, (width, height), interpolation=cv2.INTER_LINEAR))


# --- bad inputs ---------------------------------------------------------------------------------------------------


def test_unreadable_images_are_named_in_the_error(tiny_editor, tmp_path, save_png, synth_faces):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    full = save_png("full.png", synth_faces[0]).read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(full[: len(full) // 2])
    tiny = save_png("tiny.png", np.zeros((1, 1, 3), np.uint8))
    for path in (text, truncated, tiny, tmp_path / "missing.png"):
        with pytest.raises(InputImageError, match=path.name):
            tiny_editor.edit(path, aus={12: 1.0})


def test_empty_list_is_an_error(tiny_editor):
    with pytest.raises(InputImageError, match="empty"):
        tiny_editor.estimate([])


def test_photo_without_a_face_is_an_error(tiny_bundle, rng, save_png):
    noise = save_png("noise.png", rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    with Editor.from_pretrained(tiny_bundle) as editor, pytest.raises(NoFaceError, match="noise.png: no face"):
        editor.edit(noise, aus={12: 1.0})


def test_missing_or_mismatched_bundles_are_checkpoint_errors(tiny_bundle, tmp_path):
    with pytest.raises(CheckpointError, match="no config.yaml"):
        Editor.from_pretrained(tmp_path / "nowhere")
    other = tmp_path / "other"
    other.mkdir()
    for file in tiny_bundle.iterdir():
        (other / file.name).write_bytes(file.read_bytes())
    config = (other / "config.yaml").read_text()
    (other / "config.yaml").write_text(config.replace("latent_dim: 16", "latent_dim: 24"))
    with pytest.raises(CheckpointError, match="generator.safetensors does not fit"):
        Editor.from_pretrained(other)


def test_absent_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr("lsgan.editing.editor.DEFAULT_MODEL_DIR", tmp_path / "default")
    with pytest.raises(CheckpointError, match="--model"):
        resolve_model_dir(None)
    assert resolve_model_dir(tmp_path) == tmp_path
    assert DEFAULT_MODEL_DIR.name == "default"


def test_unavailable_device_is_an_error(tiny_bundle, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(LsganError, match="no CUDA GPU"):
        Editor.from_pretrained(tiny_bundle, device="cuda")


def test_atomic_writes_leave_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    folder = tmp_path / "frames"
    with pytest.raises(RuntimeError), atomic_folder(folder) as tmp_dir:
        (tmp_dir / "000.png").write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_replaces_only_when_done(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_file(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
