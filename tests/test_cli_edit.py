"""``lsgan edit / estimate / demo`` end to end on small inputs, through the real entry point (errors: exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from edit_support import face_files, files_under, lsgan, run_lsgan, synth_faces, tiny_bundle  # noqa: F401  (fixtures)
from PIL import Image

from lsgan.data.images import read_image
from lsgan.editing.sequence import mp4_available
from lsgan.editing.targets import LIKE_GAIN
from lsgan.facs import AU_COLUMNS, EMOTIONS




def test_the_command_line_loads_without_torch_mediapipe_or_opencv():
    """`lsgan --help` and each command's --help stay quick (0.4 s; `weights` had imported torch at load: 3.8 s):
    the commands import the heavy libraries when they run."""
    code = "import sys, lsgan.cli; print(sorted({'torch', 'mediapipe', 'cv2', 'dlib'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_edit_one_file_with_masks(lsgan, face_files, tmp_path):
    out = tmp_path / "out" / "edited.png"
    run = lsgan("edit", face_files[0], "--aus", "12=0.8,6=0.6,25=0.3", "--no-align", "--save-masks", "--out", out)
    assert run.code == 0, run.err
    source = read_image(face_files[0])
    edited = read_image(out)
    assert edited.shape == source.shape and not np.array_equal(edited, source)
    masks = [np.asarray(Image.open(out.with_name(f"edited_mask_{name}.png"))) for name in ("eye", "mouth", "part")]
    assert all(mask.ndim == 2 for mask in masks)
    np.testing.assert_allclose(sum(mask.astype(int) for mask in masks), 255, atol=2)  # soft masks sum to 1
    assert out.with_name("edited_masks.png").is_file()


def test_default_output_is_beside_the_source(lsgan, face_files):
    run = lsgan("edit", face_files[1], "--emotion", "happy", "--intensity", "0.7", "--no-align")
    assert run.code == 0, run.err
    assert face_files[1].with_name("face1_edited.png").is_file()


def test_folder_goes_on_after_a_bad_file_and_fails_at_the_end(lsgan, face_files, tmp_path):
    (face_files[0].parent / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (face_files[0].parent / "readme.txt").write_text("not an image, and not picked up")
    out = tmp_path / "edited"
    run = lsgan("edit", face_files[0].parent, "--emotion", "sad", "--no-align", "--out", out, "--batch-size", "2")
    assert run.code == 1
    assert "broken.png" in run.err and "1 image(s) failed" in run.err
    assert "edited 3 of 4 images" in run.out
    assert sorted(p.name for p in files_under(out)) == ["face0.png", "face1.png", "face2.png"]


def test_folder_sources_sharing_a_name_get_distinct_outputs(lsgan, face_files, tmp_path):
    Image.open(face_files[1]).save(face_files[0].with_suffix(".jpg"), quality=95)  # face0.png and face0.jpg
    out = tmp_path / "edited"
    run = lsgan("edit", face_files[0].parent, "--aus", "12=1", "--no-align", "--out", out)
    assert run.code == 0, run.err
    assert sorted(p.name for p in files_under(out)) == ["face0_jpg.png", "face0_png.png", "face1.png", "face2.png"]


def test_like_copies_an_expression(lsgan, save_png, tmp_path):
    """``--like``: the target is the other face's AUs as G_exp reads them. The shipped model, since the tiny
    one's random G_exp reads every face alike."""
    from lsgan.data.synthfacs import render, sample_identity
    from lsgan.editing import Editor
    from lsgan.facs import emotion_vector

    editor = Editor.from_pretrained(align=False)
    neutral = render(sample_identity(5), np.zeros(16), size=editor.image_size).image
    smiling = render(sample_identity(6), emotion_vector("happy"), size=editor.image_size).image
    out = tmp_path / "like.png"
    run = lsgan("edit", save_png("neutral.png", neutral), "--like", save_png("smiling.png", smiling), "--no-align",
                "--out", out, model=False)
    assert run.code == 0, run.err
    source_aus, like_aus = editor.estimate([neutral, smiling])
    target = np.clip(source_aus + LIKE_GAIN * (like_aus - source_aus), 0, 1)  # the change copied, LIKE_GAIN times
    edited = read_image(out)
    np.testing.assert_array_equal(edited, editor.edit(neutral, aus=target).image)
    before, after = editor.estimate([neutral, edited])
    assert np.abs(after - like_aus).mean() < 0.8 * np.abs(before - like_aus).mean()


def test_steps_write_frames_and_animations(lsgan, face_files, tmp_path):
    out = tmp_path / "seq" / "smile.png"
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--steps", "3", "--no-align", "--out", out)
    assert run.code == 0, run.err
    frames = sorted((tmp_path / "seq" / "smile_frames").iterdir())
    assert [f.name for f in frames] == ["000.png", "001.png", "002.png"]
    with Image.open(out.with_suffix(".gif")) as gif:
        assert gif.n_frames == 4  # 3 forward + 1 back (boomerang loop)
        assert gif.size == Image.open(face_files[0]).size
    np.testing.assert_array_equal(read_image(out), read_image(frames[-1]))
    assert out.with_suffix(".mp4").is_file() == mp4_available()


def test_a_sequence_s_gif_has_one_palette_and_still_parts_stay_still(tmp_path):
    """The GIF's frames share one palette (median cut over a few frames) and are mapped to it without dithering:
    Pillow's default quantised each frame on its own (0.4 s a 512-px frame), so still parts of the picture changed
    colour from frame to frame; each frame stays near its PNG, and a colour that shows only in the middle of the
    sequence is in the palette."""
    from lsgan.editing.sequence import AnimationConfig, write_sequence

    ys, xs = np.mgrid[0:96, 0:128]
    background = np.stack([xs * 2, ys * 2, 255 - xs - ys], axis=-1).clip(0, 255).astype(np.uint8)  # a gradient
    frames = []
    for step in range(7):
        frame = background.copy()
        frame[20:50, 10 + 10 * step:40 + 10 * step] = (230, 40, 40)  # a red square moving right
        if step == 3:
            frame[60:80, 60:90] = (20, 200, 60)  # green, in the middle frame only
        frames.append(frame)
    files = write_sequence(frames, tmp_path / "moving", AnimationConfig(boomerang=False))
    with Image.open(files.gif) as gif:
        shown = []
        for index in range(gif.n_frames):
            gif.seek(index)
            shown.append(np.asarray(gif.convert("RGB")).astype(int))
    assert len(np.unique(np.concatenate(shown).reshape(-1, 3), axis=0)) <= 256  # one palette for every frame
    for frame, seen in zip(frames, shown):
        assert np.abs(seen - frame).mean() < 3
    still = (slice(55, 96), slice(0, 50))  # below the square's path, away from the green patch
    assert all(np.array_equal(seen[still], shown[0][still]) for seen in shown)
    assert np.abs(shown[3][60:80, 60:90] - (20, 200, 60)).max() < 30


@pytest.mark.skipif(not mp4_available(), reason="imageio-ffmpeg is not installed")
def test_an_odd_sized_sequence_s_mp4_keeps_its_pixels_without_a_warning(tmp_path, caplog):
    """libx264 needs even sides: a 33×21 sequence gets its last row and column once more (imageio had resized every
    frame and printed a warning)."""
    import imageio.v2 as imageio

    from lsgan.editing.sequence import write_sequence

    base = np.zeros((21, 33, 3), np.uint8)
    base[:, 24:] = 255  # an edge between columns 23 and 24 (resized to 34 wide, it moved to 24.7)
    with caplog.at_level("WARNING"):
        files = write_sequence([base, base], tmp_path / "odd")
    assert not [record for record in caplog.records if "macro_block_size" in record.getMessage()]
    with imageio.get_reader(files.mp4) as reader:
        first = reader.get_data(0)
    assert first.shape == (22, 34, 3)
    edge = float(np.interp(127.5, first[10, 20:28, 1].astype(float), np.arange(20, 28)))
    assert abs(edge - 23.5) < 0.35 and first[-1, 30:, 1].min() > 200 and first[:, -1, 1].min() > 200


def test_aligned_edit_of_a_real_photo_changes_only_the_face(lsgan, save_png, astronaut, tmp_path):
    photo = save_png("astronaut.png", astronaut)
    out = tmp_path / "astronaut_edited.png"
    run = lsgan("edit", photo, "--emotion", "happy", "--out", out, "--save-masks")
    assert run.code == 0, run.err
    edited = read_image(out)
    assert edited.shape == astronaut.shape
    changed = np.any(edited != astronaut, axis=2)
    assert changed.sum() > 2000
    # Only the face changes: nothing outside the hull of its landmarks, though the model crop reaches further.
    crop_area, face_hull = _crop_and_face_hull(astronaut, size=32)  # the tiny model's crop
    assert not changed[~face_hull].any()
    assert (crop_area & ~face_hull).sum() > 0.3 * crop_area.sum()  # a mask covering the whole crop would show
    # The masks are drawn on the photo: its size, summing to 1 over the face, 0 where the model crop does not reach.
    masks = [np.asarray(Image.open(tmp_path / f"astronaut_edited_mask_{name}.png")).astype(int)
             for name in ("eye", "mouth", "part")]
    assert all(mask.shape == astronaut.shape[:2] for mask in masks)
    total = sum(masks)
    np.testing.assert_allclose(total[70:180, 170:280], 255, atol=3)
    assert not total[400:].any() and not total[:, :50].any()


def test_an_edit_keeps_the_photos_colour_profile_exif_and_alpha(lsgan, astronaut, tmp_path):
    """A phone-style file: pixels stored sideways with an EXIF orientation, a colour profile, a transparent
    background whose hidden colour is green. The edit comes back upright with the same profile, EXIF (orientation
    reset) and alpha, the hidden colours as they were; a JPEG keeps profile and EXIF."""
    from PIL import ImageCms

    height, width = astronaut.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    alpha = np.where(np.hypot(yy - 150, xx - 230) < 200, 255, np.where(xx < 20, 128, 0)).astype(np.uint8)
    rgba = np.dstack([astronaut, alpha])
    rgba[alpha == 0, :3] = (0, 255, 0)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "lsgan test camera"  # orientation: turn 90° clockwise to show
    photo = tmp_path / "phone.png"
    Image.fromarray(rgba).transpose(Image.Transpose.ROTATE_90).save(photo, icc_profile=profile, exif=exif.tobytes())
    for name in ("edited.png", "edited.jpg"):
        run = lsgan("edit", photo, "--emotion", "happy", "--out", tmp_path / name)
        assert run.code == 0, run.err
    edited = Image.open(tmp_path / "edited.png")
    assert edited.mode == "RGBA" and edited.size == (width, height)
    assert edited.info["icc_profile"] == profile
    assert dict(edited.getexif()) == {0x010F: "lsgan test camera"}
    pixels = np.asarray(edited)
    np.testing.assert_array_equal(pixels[:, :, 3], alpha)
    np.testing.assert_array_equal(pixels[alpha == 0, :3], rgba[alpha == 0, :3])  # not the white it was edited on
    np.testing.assert_array_equal(pixels[alpha == 128, :3], rgba[alpha == 128, :3])
    assert np.any(pixels[:, :, :3] != astronaut)  # the face was edited
    as_jpeg = Image.open(tmp_path / "edited.jpg")
    assert as_jpeg.mode == "RGB" and as_jpeg.info["icc_profile"] == profile
    assert dict(as_jpeg.getexif()) == {0x010F: "lsgan test camera"}


def test_a_black_and_white_photo_comes_back_black_and_white(lsgan, save_png, astronaut, tmp_path):
    """A grey PNG edited to surprise (its mouth opened: painted dark red and warm white on colour photos) comes back
    a grey PNG, the face edited."""
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    photo = save_png("grey.png", grey)
    run = lsgan("edit", photo, "--emotion", "surprised", "--out", tmp_path / "edited.png")
    assert run.code == 0, run.err
    edited = Image.open(tmp_path / "edited.png")
    assert edited.mode == "L" and edited.size == (grey.shape[1], grey.shape[0])
    assert np.count_nonzero(np.asarray(edited) != grey) > 500


def test_a_sequence_s_frames_keep_the_source_file_s_grey_and_profile(lsgan, astronaut, tmp_path):
    """``--steps`` on a grey PNG with a grey colour profile: every frame is a grey PNG with that profile, as the
    final edit is (the frames had been RGB without it); the GIF is made from them."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    profile = profile[:16] + b"GRAY" + profile[20:]  # a profile whose colour space is grey
    photo = tmp_path / "grey.png"
    Image.fromarray(astronaut).convert("L").save(photo, icc_profile=profile)
    out = tmp_path / "seq" / "grey.png"
    run = lsgan("edit", photo, "--emotion", "happy", "--steps", "3", "--out", out)
    assert run.code == 0, run.err
    frames = sorted((tmp_path / "seq" / "grey_frames").iterdir())
    assert len(frames) == 3
    for frame in [*frames, out]:
        with Image.open(frame) as image:
            assert image.mode == "L" and image.info.get("icc_profile") == profile
    with Image.open(out.with_suffix(".gif")) as gif:
        assert gif.n_frames == 4


def _crop_and_face_hull(photo: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean H×W maps of where the aligned model crop lies on the photo, and of the convex hull of the face's
    landmarks (grown by 2 px for interpolation), from the same face finder the editor uses."""
    import cv2

    from lsgan.data.faces import FaceAligner, crop_to_photo

    with FaceAligner(size=size) as aligner:
        aligned = aligner.align(photo)
    hull = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(aligned.landmarks.points).astype(np.int32)), 1.0)
    crop_area = crop_to_photo(np.ones((size, size), np.float32), aligned, photo.shape) > 0
    face_hull = cv2.dilate((crop_to_photo(hull, aligned, photo.shape) > 0).astype(np.uint8), np.ones((5, 5), np.uint8))
    return crop_area, face_hull.astype(bool)


def test_estimate_prints_a_table_and_json(lsgan, face_files):
    run = lsgan("estimate", *face_files[:2], "--no-align")
    assert run.code == 0, run.err
    lines = run.out.strip().splitlines()
    assert lines[0] == f"{face_files[0]}  face 0: whole image" and lines[1] == f"{face_files[1]}  face 0: whole image"
    assert len(lines) == 2 + 1 + 16 and "face0.png#0" in lines[2]
    assert lines[11].startswith("AU12") and "lip corner puller" in lines[11]
    run = lsgan("estimate", face_files[0], "--no-align", "--json")
    table = json.loads(run.out)
    [face] = table[str(face_files[0])]
    assert face["face"] == 0 and face["box"] is None
    assert list(face["aus"]) == list(AU_COLUMNS)
    assert all(0.0 <= v <= 1.0 for v in face["aus"].values())


def test_demo_writes_a_grid(lsgan, tmp_path):
    run = lsgan("demo", "--out", tmp_path / "demo")
    assert run.code == 0, run.err
    grid_path = tmp_path / "demo" / "demo_grid.png"
    assert str(grid_path) in run.out
    grid = read_image(grid_path)
    size, identities, columns = 32, 3, 1 + len(EMOTIONS) + 5  # source, emotions, AU12 sweep of 5
    assert grid.shape[1] == columns * size
    label = grid.shape[0] - 2 * identities * size  # a row of edits and a row of true targets per identity
    assert 0 < label < size
    assert len(list((tmp_path / "demo").glob("source_*.png"))) == identities
    truth_row = grid[label + size: label + 2 * size]  # under the first identity's edits: its rendered targets
    assert (truth_row[:, :size] == 255).all()  # the source column is left blank
    assert truth_row[:, size:].std() > 10
    run = lsgan("demo", "--out", tmp_path / "plain", "--no-truth")
    assert run.code == 0 and read_image(tmp_path / "plain" / "demo_grid.png").shape[0] == label + identities * size


BAD_ARGS = {
    "unknown AU": (["--aus", "13=0.5"], "unknown AU 13"),
    "AU above 1": (["--aus", "12=1.5"], "AU12 intensity must be a number in [0, 1]"),
    "relative AU out of range": (["--aus", "12=+1.5"], "AU12 change must be a number in [-1, +1]"),
    "malformed relative AU": (["--aus", "12=+x"], "bad value '+x' for AU12"),
    "unknown region": (["--emotion", "happy", "--region", "nose"], "unknown region 'nose'"),
    "unknown side": (["--emotion", "contemptuous", "--side", "middle"], "unknown side 'middle'"),
    "glasses without alignment": (["--emotion", "happy", "--glasses"], "not with --no-align"),
    "face that does not exist": (["--emotion", "happy", "--face", "3"], "no face 3 (found 1, numbered 0"),
    "negative face": (["--emotion", "happy", "--face", "-1"], "--face must be 0 or more"),
    "NaN AU": (["--aus", "12=nan"], "AU12 intensity"),
    "unknown emotion": (["--emotion", "grumpy"], "unknown emotion 'grumpy'"),
    "emotion and like": (["--emotion", "happy", "--like", "{face}"], "not both"),
    "nothing to do": ([], "nothing to edit"),
}


@pytest.mark.parametrize("case", list(BAD_ARGS))
def test_bad_arguments_exit_2_with_one_line(case, lsgan, face_files, tmp_path):
    args, message = BAD_ARGS[case]
    args = [a.replace("{face}", str(face_files[1])) for a in args]
    out = tmp_path / "never.png"
    run = lsgan("edit", face_files[0], *args, "--no-align", "--out", out)
    assert run.code == 2
    assert run.err.startswith("error: ") and message in run.err and run.err.count("\n") == 1
    assert not out.exists()


def test_bad_images_exit_2_and_write_nothing(lsgan, save_png, tmp_path, rng):
    text = tmp_path / "text.png"
    text.write_text("hello")
    full = save_png("full.png", rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(full[: len(full) // 2])
    tiny = save_png("tiny.png", np.zeros((1, 1, 3), np.uint8))
    for source, message in ((text, "not a readable image"), (truncated, "truncated"), (tiny, "1x1")):
        before = files_under(tmp_path)
        run = lsgan("edit", source, "--aus", "12=1", "--no-align", "--save-masks")
        assert run.code == 2 and source.name in run.err and message in run.err
        assert files_under(tmp_path) == before


def test_photo_without_a_face_exits_2(lsgan, save_png, rng):
    noise = save_png("noise.png", rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
    run = lsgan("edit", noise, "--aus", "12=1")
    assert run.code == 2 and "noise.png: no face found" in run.err


def test_bad_models_exit_2(lsgan, face_files, tmp_path, tiny_bundle):
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--model", tmp_path / "nowhere", model=False)
    assert run.code == 2 and "nowhere" in run.err
    other = tmp_path / "other"
    other.mkdir()
    for file in tiny_bundle.iterdir():
        (other / file.name).write_bytes(file.read_bytes())
    (other / "config.yaml").write_text((other / "config.yaml").read_text().replace("latent_dim: 16", "latent_dim: 24"))
    run = lsgan("estimate", face_files[0], "--no-align", "--model", other, model=False)
    assert run.code == 2 and "does not fit" in run.err


def test_installed_command_reports_errors_with_exit_2(face_files):
    lsgan_command = Path(sys.executable).with_name("lsgan")
    done = subprocess.run([str(lsgan_command), "edit", str(face_files[0]), "--aus", "99=1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown AU 99") and done.stderr.count("\n") == 1


def test_creases_darken_an_angry_edit_between_the_brows(lsgan, save_png, astronaut, tmp_path):
    photo = save_png("astronaut.png", astronaut)
    plain, folded = tmp_path / "plain.png", tmp_path / "folded.png"
    assert lsgan("edit", photo, "--emotion", "angry", "--out", plain).code == 0
    run = lsgan("edit", photo, "--emotion", "angry", "--out", folded, "--creases")
    assert run.code == 0, run.err
    difference = (read_image(folded).astype(int) - read_image(plain).astype(int)).sum(axis=2)
    darker = difference < -15
    assert darker.sum() > 30
    rows, cols = np.nonzero(darker)
    # the glabellar furrows: between her eyes (centres at about columns 195 and 245), above them (row ~125)
    assert 60 < np.median(rows) < 130 and 200 < np.median(cols) < 240, (np.median(rows), np.median(cols))
    assert not np.any(difference[300:] != 0) and not np.any(difference[:, :120] != 0)  # nothing off the face


def test_a_face_in_clear_glasses_keeps_its_frame_unless_told_otherwise(lsgan, save_png, astronaut, tmp_path):
    """By default the frame of glasses the face seems to wear stays still, and a note says so; --no-glasses lets it
    move with the brows."""
    from script_support import forget_script, load_script

    photo, frame = load_script("glasses_figure").with_clear_glasses(astronaut)
    forget_script("glasses_figure")
    source = save_png("glasses.png", photo)
    found, moved = tmp_path / "found.png", tmp_path / "moved.png"
    run = lsgan("edit", source, "--emotion", "surprised", "--out", found)
    assert run.code == 0 and "face 0 seems to wear glasses: their frame is kept still" in run.err, run.err
    np.testing.assert_array_equal(read_image(found)[frame], photo[frame])
    run = lsgan("edit", source, "--emotion", "surprised", "--out", moved, "--no-glasses")
    assert run.code == 0 and "glasses" not in run.err, run.err
    assert np.abs(read_image(moved).astype(int) - photo)[frame].mean() > 5
