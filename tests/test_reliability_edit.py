"""Bad inputs and faults around ``lsgan edit`` / ``serve`` / ``export`` (docs/reliability.md): nothing lost,
nothing unbounded, one ``error:`` line and exit 2 instead of a traceback."""

from __future__ import annotations

import errno
import os
import socket
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from edit_support import (  # noqa: F401  (pytest fixtures)
    face_files,
    files_under,
    lsgan,
    run_lsgan,
    synth_faces,
    tiny_bundle,
    tiny_editor,
)
from PIL import Image

from lsgan import atomic
from lsgan.data.images import read_image
from lsgan.errors import InputImageError




def one_error_line(run, message: str) -> bool:
    return run.code == 2 and run.err.startswith("error: ") and message in run.err and run.err.count("\n") == 1


# --- data loss: inputs are never overwritten unless asked ------------------------------------------------------

def test_output_that_is_the_input_is_refused_and_the_input_is_unchanged(lsgan, face_files, save_png, synth_faces):
    jpeg = save_png("faces/photo.jpg", synth_faces[0])
    for source in (face_files[0], jpeg):
        before = source.read_bytes()
        run = lsgan("edit", source, "--aus", "12=0.8", "--no-align", "--out", source)
        assert one_error_line(run, "the output is an input file"), run.err
        assert source.read_bytes() == before
    link = face_files[0].with_name("link.png")
    link.symlink_to(face_files[0])  # the same file under another name
    run = lsgan("edit", face_files[0], "--aus", "12=0.8", "--no-align", "--out", link)
    assert one_error_line(run, "the output is an input file")


def test_output_that_is_the_like_face_is_refused(lsgan, face_files, tmp_path):
    before = face_files[1].read_bytes()
    run = lsgan("edit", face_files[0], "--like", face_files[1], "--no-align", "--out", face_files[1])
    assert one_error_line(run, "the output is an input file")
    assert face_files[1].read_bytes() == before


def test_overwrite_allows_replacing_the_input(lsgan, face_files):
    before = face_files[0].read_bytes()
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", face_files[0], "--overwrite")
    assert run.code == 0, run.err
    assert face_files[0].read_bytes() != before


def test_folder_output_that_is_the_source_folder_is_refused(lsgan, face_files):
    folder = face_files[0].parent
    before = {path: path.read_bytes() for path in files_under(folder)}
    run = lsgan("edit", folder, "--emotion", "happy", "--no-align", "--out", folder)
    assert one_error_line(run, "the output folder is the source folder")
    assert {path: path.read_bytes() for path in files_under(folder)} == before


def test_an_existing_output_that_is_not_an_input_is_replaced(lsgan, face_files, tmp_path):
    out = tmp_path / "old_result.png"
    out.write_bytes(b"an earlier result")
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", out)
    assert run.code == 0, run.err
    assert read_image(out).shape == read_image(face_files[0]).shape


# --- output names and formats ----------------------------------------------------------------------------------

def test_out_with_a_trailing_slash_is_a_new_folder(lsgan, face_files, tmp_path):
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", f"{tmp_path / 'newdir'}/")
    assert run.code == 0, run.err
    assert (tmp_path / "newdir").is_dir() and (tmp_path / "newdir" / "face0_edited.png").is_file()


@pytest.mark.parametrize(("suffix", "fmt"), [(".png", "PNG"), (".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP")])
def test_output_is_written_in_the_format_its_extension_names(lsgan, face_files, tmp_path, suffix, fmt):
    out = tmp_path / f"edited{suffix}"
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", out)
    assert run.code == 0, run.err
    with Image.open(out) as image:
        assert image.format == fmt


@pytest.mark.parametrize("name", ["edited.txt", "edited"])
def test_unknown_output_extension_is_refused(lsgan, face_files, tmp_path, name):
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", tmp_path / name)
    assert one_error_line(run, "cannot write images as")
    assert ("for a new folder" in run.err) == (name == "edited")  # a name with no extension may mean a folder
    assert not (tmp_path / name).exists()


def test_outputs_follow_the_umask(lsgan, face_files, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "seq" / "smile.png"
        run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--save-masks", "--steps", "2", "--out", out)
        assert run.code == 0, run.err
        written = files_under(tmp_path / "seq")
        assert len(written) >= 7  # result, 4 masks, GIF, 2 frames (MP4 when available)
        assert {oct(path.stat().st_mode & 0o777) for path in written} == {"0o644"}
        assert oct((tmp_path / "seq" / "smile_frames").stat().st_mode & 0o777) == "0o755"
        os.umask(0o077)
        atomic.write_bytes(tmp_path / "private.bin", b"x")
        assert (tmp_path / "private.bin").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


# --- AU requests -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("aus", "message"), [
    ("12=0.5,12=0.7", "AU12 is given twice"),
    ("AU12=0.5,12=0.7", "AU12 is given twice"),
    (",,,", "nothing to edit"),
    (" , ", "nothing to edit"),
])
def test_duplicate_or_empty_aus_are_refused(lsgan, face_files, tmp_path, aus, message):
    run = lsgan("edit", face_files[0], "--aus", aus, "--no-align", "--out", tmp_path / "never.png")
    assert one_error_line(run, message)
    assert not (tmp_path / "never.png").exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"emotion": "happy", "intensity": "0.5"}, "intensity must be a number"),
    ({"emotion": 3}, "emotion must be a name"),
    ({"aus": 12}, "aus must be settings"),
    ({"aus": ["x"] * 16}, "aus must be settings"),
    ({"aus": {12: "0.8"}}, "aus as a mapping"),
    ({"aus": "12=0.5,12=0.6"}, "AU12 is given twice"),
])
def test_api_checks_argument_types_with_clear_errors(tiny_editor, synth_faces, kwargs, message):
    from lsgan.facs import AUError

    with pytest.raises(AUError, match=message):
        tiny_editor.edit(synth_faces[0], **kwargs)


# --- unbounded work ----------------------------------------------------------------------------------------------

def huge_png_header(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file (a few bytes of IDAT) whose header claims ``width``x``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_pixel_limit_is_checked_from_the_header(lsgan, tmp_path):
    huge = huge_png_header(tmp_path / "huge.png", 12000, 12000)
    assert huge.stat().st_size < 200
    run = lsgan("edit", huge, "--aus", "12=1", "--no-align")
    assert one_error_line(run, "huge.png: image is 12000x12000 (144 MP), over the limit of 50 MP")
    run = lsgan("edit", huge, "--aus", "12=1", "--no-align", "--max-pixels", "1000")
    assert one_error_line(run, "over the limit of 0.001 MP")
    with pytest.raises(InputImageError, match="over the limit"):
        read_image(huge, max_pixels=100_000_000)
    with pytest.raises(InputImageError, match="over the limit"):
        read_image(np.zeros((20, 20, 3), np.uint8), max_pixels=100)
    # Without a limit the header passes and decoding fails on the missing data, not on memory.
    with pytest.raises(InputImageError, match="truncated|not a readable"):
        read_image(huge_png_header(tmp_path / "wide.png", 60_000, 100), max_pixels=None)


def test_editor_max_pixels_is_configurable(tiny_bundle, synth_faces):
    from lsgan.editing.editor import Editor

    editor = Editor.from_pretrained(tiny_bundle, align=False, max_pixels=1000)
    with pytest.raises(InputImageError, match="over the limit"):
        editor.edit(synth_faces[0], aus={12: 1.0})  # 40x40 = 1600 pixels


@pytest.mark.parametrize("steps", ["10000", "241", "1"])
def test_steps_are_capped(lsgan, face_files, tmp_path, steps):
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--steps", steps, "--no-align", "--out", tmp_path / "s.png")
    assert one_error_line(run, f"a sequence needs between 2 and 240 steps (--steps), got {steps}")
    assert files_under(tmp_path) == set(face_files)


def test_api_sequences_are_capped_too(tiny_editor, synth_faces):
    from lsgan.facs import AUError

    with pytest.raises(AUError, match="between 2 and 240 steps"):
        tiny_editor.edit_sequence(synth_faces[0], 10_000, aus={12: 1.0})


def test_sequence_frames_are_streamed_not_held(tiny_editor, face_files, tmp_path, monkeypatch):
    from lsgan.editing.files import EditJob, edit_file

    batches = []
    original = tiny_editor.render
    monkeypatch.setattr(tiny_editor, "render",
                        lambda photos, *a, **k: batches.append(len(photos)) or original(photos, *a, **k))
    job = EditJob(tiny_editor.request({12: 1.0}), steps=5)
    edit_file(tiny_editor, face_files[0], tmp_path / "seq.png", job)
    assert batches == [2, 2, 1]  # the editor's batch size: never the whole sequence at once
    assert len(list((tmp_path / "seq_frames").iterdir())) == 5
    with Image.open(tmp_path / "seq.gif") as gif:
        assert gif.n_frames == 8  # 5 forward + 3 back


def test_a_file_with_alpha_is_decoded_once(tiny_editor, synth_faces, tmp_path, monkeypatch):
    """An edit of an image with alpha reads its pixels once (the editor keeps the RGBA that ``read_extras`` gives
    back to the output), and the output keeps the alpha."""
    from lsgan.data import images
    from lsgan.editing.files import EditJob, edit_file

    alpha = np.full(synth_faces[0].shape[:2], 255, np.uint8)
    alpha[:4] = 0
    source = tmp_path / "cut_out.png"
    Image.fromarray(np.dstack([synth_faces[0], alpha])).save(source)
    decodes = []
    original = images._open_pil
    monkeypatch.setattr(images, "_open_pil", lambda *args: decodes.append(args[0]) or original(*args))
    edit_file(tiny_editor, source, tmp_path / "out.png", EditJob(tiny_editor.request({12: 1.0})))
    assert decodes == [source]
    with Image.open(tmp_path / "out.png") as out:
        np.testing.assert_array_equal(np.asarray(out)[:, :, 3], alpha)


def test_animated_gif_input_says_only_the_first_frame_is_edited(lsgan, synth_faces, tmp_path):
    frames = [Image.fromarray(face) for face in synth_faces]
    gif = tmp_path / "moving.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    run = lsgan("edit", gif, "--aus", "12=1", "--no-align", "--out", tmp_path / "out.png")
    assert run.code == 0, run.err
    assert "warning: " in run.err and "moving.gif: an animated image; only its first frame is used" in run.err
    assert run.err.count("\n") == 1


# --- write errors: one line, exit 2 ------------------------------------------------------------------------------

def read_only_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a read-only folder does to every write (the tests run as root, where chmod would not stop one)."""
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(atomic.tempfile, "mkdtemp", refuse)


def disk_full_after(monkeypatch: pytest.MonkeyPatch, saves: int) -> None:
    """Every PIL save after the first ``saves`` fails with ENOSPC, as on a full disk."""
    original = Image.Image.save
    count = {"n": 0}

    def save(self, *args, **kwargs):
        count["n"] += 1
        if count["n"] > saves:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)


def test_read_only_output_folder_is_one_error_line(lsgan, face_files, tmp_path, monkeypatch):
    read_only_folder(monkeypatch)
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", tmp_path / "ro" / "x.png")
    assert one_error_line(run, "cannot write ") and "Permission denied" in run.err


@pytest.mark.parametrize("steps", [[], ["--steps", "3"]])
def test_disk_full_is_one_error_line_and_leaves_no_partial_file(lsgan, face_files, tmp_path, monkeypatch, steps):
    disk_full_after(monkeypatch, 0)
    out = tmp_path / "full" / "x.png"
    run = lsgan("edit", face_files[0], "--aus", "12=1", "--no-align", "--out", out, *steps)
    assert one_error_line(run, "No space left on device"), run.err
    assert not out.parent.exists() or files_under(out.parent) == set()


def test_disk_full_in_a_folder_run_prints_what_was_finished(lsgan, face_files, tmp_path, monkeypatch):
    disk_full_after(monkeypatch, 1)
    out = tmp_path / "edited"
    run = lsgan("edit", face_files[0].parent, "--aus", "12=1", "--no-align", "--out", out, "--batch-size", "2")
    assert run.code == 2
    assert "edited 1 of 3 images into" in run.out
    last_line = run.err.rstrip("\n").rsplit("\n", 1)[-1]  # after the progress bar
    assert last_line.startswith("error: cannot write ") and last_line.endswith("face1.png: No space left on device")
    assert "Traceback" not in run.err
    assert [path.name for path in files_under(out)] == ["face0.png"]


def test_export_into_a_read_only_folder_is_one_error_line(lsgan, tmp_path, monkeypatch):
    read_only_folder(monkeypatch)
    run = lsgan("export", "onnx", "--out", tmp_path / "ro" / "model.onnx")
    assert one_error_line(run, "cannot write ") and "model.onnx" in run.err


def test_synth_into_a_read_only_folder_is_one_error_line(lsgan, tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", refuse)
    run = lsgan("data", "synth", "--out", tmp_path / "synth", "--identities", "1", "--per-identity", "1",
                "--size", "32", model=False)
    assert one_error_line(run, "Read-only file system")


# --- serve -------------------------------------------------------------------------------------------------------

def test_serve_on_a_busy_port_is_one_error_line(lsgan):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = lsgan("serve", "--port", port)
    assert one_error_line(run, f"cannot serve on 127.0.0.1:{port}")


@pytest.mark.parametrize("size", ["abc", "10", "1.5mb", "0mb", "10 parsecs"])
def test_serve_refuses_a_bad_max_file_size(lsgan, size):
    run = lsgan("serve", "--max-file-size", size)
    assert one_error_line(run, "--max-file-size")


def test_max_file_size_accepts_gradio_sizes():
    from lsgan.cli.edit import check_file_size

    assert check_file_size("10mb") == 10 * 1024**2 and check_file_size("500 KB") == 500 * 1024


def test_exported_onnx_follows_the_umask(lsgan, tmp_path):
    old = os.umask(0o022)
    try:
        run = lsgan("export", "onnx", "--out", tmp_path / "editor.onnx")
    finally:
        os.umask(old)
    assert run.code == 0, run.err
    assert (tmp_path / "editor.onnx").stat().st_mode & 0o777 == 0o644
