"""The ``lsgan serve`` page: its callbacks directly, then the real page in headless Chromium (Playwright)."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from edit_support import run_lsgan, synth_faces, tiny_bundle, tiny_editor  # noqa: F401  (pytest fixtures)
from PIL import Image

from lsgan.data.images import DEFAULT_MAX_PIXELS, read_image
from lsgan.editing import web
from lsgan.editing.editor import LeftFace
from lsgan.editing.targets import LIKE_GAIN
from lsgan.editing.web import EditPage, WebConfig, exposure_warning, slider_label
from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, edit_vector

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000
DOWNLOAD_LINK = "#download a[download]"


# --- callbacks, no browser ------------------------------------------------------------------------------------------


@pytest.fixture
def page_callbacks(tiny_editor):
    page = EditPage(tiny_editor, WebConfig())
    yield page
    page.close()


def test_sliders_are_named_after_the_aus():
    assert slider_label(12) == "AU12 lip corner puller"
    assert len({slider_label(au) for au in AU_IDS}) == 16


def test_upload_sets_the_sliders_to_the_faces_aus(page_callbacks, tiny_editor, synth_faces, save_png):
    photo, _, aus, _, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    np.testing.assert_array_equal(photo, synth_faces[0])
    np.testing.assert_allclose(aus, tiny_editor.estimate(synth_faces[0])[0], atol=0.005)


def test_edit_returns_the_image_masks_and_a_download(page_callbacks, synth_faces, save_png):
    _, face, aus, _, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    aus[AU_IDS.index(12)] = 1.0
    image, masks, download = page_callbacks.edit(face, aus)
    assert image.shape == synth_faces[0].shape
    assert [caption for _, caption in masks] == ["eye", "mouth", "part"]
    np.testing.assert_allclose(sum(mask for mask, _ in masks), 1.0, atol=1e-5)
    np.testing.assert_array_equal(read_image(download), image)


def test_the_download_keeps_the_uploads_colour_profile_exif_and_alpha(page_callbacks, synth_faces, save_png):
    from PIL import ImageCms

    rgba = np.dstack([synth_faces[0], np.full(synth_faces[0].shape[:2], 255, np.uint8)])
    rgba[:4, :4, 3] = 0
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "lsgan test camera"
    upload = save_png("face.png", Image.fromarray(rgba))
    Image.fromarray(rgba).save(upload, icc_profile=profile, exif=exif.tobytes())
    _, face, aus, _, _ = page_callbacks.load(str(upload))
    Path(upload).unlink()  # the extras are kept with the prepared photo: each edit reads nothing from the upload
    image, _, download = page_callbacks.edit(face, aus)
    saved = Image.open(download)
    assert saved.info["icc_profile"] == profile and dict(saved.getexif()) == {0x010F: "lsgan test camera"}
    np.testing.assert_array_equal(np.asarray(saved)[:, :, 3], rgba[:, :, 3])
    np.testing.assert_array_equal(read_image(download)[4:, 4:], image[4:, 4:])


def test_faces_left_as_they_are_are_told_by_file_name(page_callbacks, synth_faces, save_png, monkeypatch):
    upload = str(save_png("group.png", synth_faces[0]))
    left = LeftFace(upload, 1, "turned too far to edit, in profile (its nose tip beyond an eye)")
    note = f"{upload}: face 1 is turned too far to edit, in profile (its nose tip beyond an eye); left as it is"
    prepare = page_callbacks._prepare

    def prepared_with_a_face_left(path):
        kept = prepare(path)
        kept.photo.left.append(left)
        return kept

    monkeypatch.setattr(page_callbacks, "_prepare", prepared_with_a_face_left)
    *_, notes = page_callbacks.load(upload)
    assert notes.left == [note.replace(upload, "group.png")] and notes.hints == []


def banded_masks(image):
    """Region masks of known shape for the random tiny model: eye = top third, mouth = bottom third, part = rest."""
    import torch

    masks = torch.zeros_like(image)
    third = image.shape[-2] // 3
    masks[:, 0, :third], masks[:, 1, -third:], masks[:, 2, third:-third] = 1.0, 1.0, 1.0
    return masks


def test_region_choice_keeps_pixels_outside_that_region_exact(page_callbacks, tiny_editor, synth_faces, save_png,
                                                              monkeypatch):
    monkeypatch.setattr(tiny_editor.generator, "region_masks", banded_masks)
    _, face, aus, choices, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    assert choices == ["every face"]  # one face: nothing to choose
    aus[AU_IDS.index(12)] = 1.0
    aus[AU_IDS.index(1)] = 1.0
    image, masks, _ = page_callbacks.edit(face, aus, "every face", "mouth")
    mouth = masks[1][0]
    assert np.any(image != synth_faces[0])
    np.testing.assert_array_equal(image[mouth == 0], synth_faces[0][mouth == 0])
    with pytest.raises(LsganError, match="no face 3"):
        page_callbacks.edit(face, aus, "3", "whole face")


def test_the_glasses_choice_keeps_the_chosen_face_s_frame_still(save_png):
    """The astronaut in drawn clear glasses, surprised by the sliders: where found (the page's default, her glasses
    are found) and worn, her frame stays to the pixel; with none, the same kept upload's frame moves with her brows."""
    from script_support import forget_script, load_script
    from skimage import data

    from lsgan.editing import Editor

    photo, frame = load_script("glasses_figure").with_clear_glasses(data.astronaut())
    forget_script("glasses_figure")
    page = EditPage(Editor.from_pretrained(), WebConfig())
    try:
        _, upload, _, _, notes = page.load(str(save_png("glasses.png", photo)))
        aus = page.preset("surprised")
        found = page.edit(upload, aus, glasses=web.GLASSES_CHOICES["where found"])[0]
        kept = page.edit(upload, aus, glasses=web.GLASSES_CHOICES["worn"])[0]
        moved = page.edit(upload, aus, glasses=web.GLASSES_CHOICES["none"])[0]
        again = page.edit(upload, aus)[0]  # "none" did not forget what was found
    finally:
        page.close()
    assert notes.left == [] and len(notes.hints) == 1 and "seems to wear glasses" in notes.hints[0]
    np.testing.assert_array_equal(kept[frame], photo[frame])
    np.testing.assert_array_equal(found, kept)
    np.testing.assert_array_equal(again, kept)
    assert np.abs(moved.astype(int) - photo)[frame].mean() > 5
    assert np.any(kept != photo, axis=-1).sum() > 2000


def test_slider_moves_read_the_upload_s_face_once(page_callbacks, tiny_editor, synth_faces, save_png, monkeypatch):
    """G_exp reads a kept upload's face once (on upload); slider moves and a copy reuse that reading, and edit as a
    page that reads it afresh does."""
    upload = str(save_png("face.png", synth_faces[0]))
    reads = []
    estimate_faces = tiny_editor.estimate_faces
    monkeypatch.setattr(tiny_editor, "estimate_faces",
                        lambda photos: reads.extend(photo.name for photo in photos) or estimate_faces(photos))
    _, state, aus, _, _ = page_callbacks.load(upload)
    aus[AU_IDS.index(12)] = 1.0
    first = page_callbacks.edit(state, aus)[0]
    aus[AU_IDS.index(26)] = 0.8
    second = page_callbacks.edit(state, aus)[0]
    page_callbacks.copy(state, str(save_png("like.png", synth_faces[1])))
    assert reads.count(upload) == 1
    fresh = EditPage(tiny_editor, WebConfig())
    try:
        _, fresh_state, _, _, _ = fresh.load(upload)
        np.testing.assert_array_equal(fresh.edit(fresh_state, aus)[0], second)
    finally:
        fresh.close()
    assert not np.array_equal(first, second)


def test_a_kept_photo_reads_only_the_faces_it_has_not_read():
    """Faces are read by number, when first asked for, and come back in the order asked."""
    from lsgan.editing.editor import PreparedFace, PreparedPhoto

    faces = [PreparedFace(np.zeros((8, 8, 3), np.uint8), np.eye(2, 3), None, number) for number in (1, 2, 3)]
    kept = web._KeptPhoto(PreparedPhoto(np.zeros((8, 8, 3), np.uint8), faces, "group.png"), extras=None)
    asked = []

    class Reader:
        def estimate_faces(self, photos):
            numbers = [face.number for photo in photos for face in photo.faces]
            asked.append(numbers)
            return np.array([np.full(16, number / 10) for number in numbers], np.float32)

    np.testing.assert_allclose(kept.source_aus(Reader(), faces[1:2])[:, 0], [0.2])
    np.testing.assert_allclose(kept.source_aus(Reader(), [faces[2], faces[0], faces[1]])[:, 0], [0.3, 0.1, 0.2])
    kept.source_aus(Reader(), faces)
    assert asked == [[2], [3, 1]]


def test_the_side_choice_moves_only_that_side_and_contempt_s_preset_picks_one(page_callbacks, synth_faces, save_png):
    _, state, reading, _, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    kept = page_callbacks.edit(state, reading)[0].astype(int)  # the sliders where the upload set them
    aus = list(reading)
    aus[AU_IDS.index(12)], aus[AU_IDS.index(2)] = 1.0, 1.0
    whole = page_callbacks.edit(state, aus)[0].astype(int)
    left = page_callbacks.edit(state, aus, side="left")[0].astype(int)
    third = left.shape[1] // 3
    assert np.abs(left - whole)[:, :third].max() <= 1 and np.abs(left - kept)[:, -third:].max() <= 1
    assert np.abs(whole - kept)[:, -third:].mean() > 1.0
    aus[AU_IDS.index(26)] = 1.0  # the jaw drops on both sides, whichever the sliders act on
    dropped = page_callbacks.edit(state, aus, side="left")[0].astype(int)
    assert np.abs(dropped - left)[:, -third:].mean() > 1.0
    assert page_callbacks.preset_side("contemptuous") == "left" and page_callbacks.preset_side("happy") == "both"
    with pytest.raises(LsganError, match="unknown side"):
        page_callbacks.edit(state, aus, side="up")


def test_the_glasses_choice_needs_aligned_faces(page_callbacks, synth_faces, save_png):
    _, face, aus, _, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    with pytest.raises(LsganError, match="not with --no-align"):
        page_callbacks.edit(face, aus, glasses=True)


def test_old_downloads_are_deleted_and_the_folder_goes_with_the_page(tiny_editor, synth_faces, save_png, monkeypatch):
    monkeypatch.setattr(web, "KEPT_DOWNLOADS", 2)
    page = EditPage(tiny_editor, WebConfig())
    _, face, aus, _, _ = page.load(str(save_png("face.png", synth_faces[0])))
    downloads = [page.edit(face, aus)[2] for _ in range(4)]
    assert [Path(d).is_file() for d in downloads] == [False, False, True, True]
    page.close()
    assert not page.downloads.exists() and not page.folder.root.exists()


def test_the_page_folder_is_private_and_holds_uploads_and_downloads(page_callbacks):
    folder = page_callbacks.folder
    assert folder.root.name.startswith(web.FOLDER_PREFIX)
    assert stat.S_IMODE(folder.root.stat().st_mode) == 0o700
    assert {folder.uploads.parent, folder.downloads.parent} == {folder.root}
    assert page_callbacks.downloads == folder.downloads


def test_presets_are_what_an_edit_asks_for(page_callbacks):
    np.testing.assert_allclose(page_callbacks.preset("angry"), edit_vector("angry"))


def test_a_face_to_copy_sets_the_sliders_as_like_does(page_callbacks, tiny_editor, synth_faces, save_png, tmp_path):
    """A second upload, a face to copy, sets the sliders to what ``lsgan edit --like`` asks for: the photo's own
    AUs plus ``LIKE_GAIN`` times the change to the other face's (the photo itself: its own AUs)."""
    face = page_callbacks.load(str(save_png("face.png", synth_faces[0])))[1]
    sliders = page_callbacks.copy(face, str(save_png("other.png", synth_faces[1])))
    source, like = tiny_editor.estimate(synth_faces[0])[0], tiny_editor.estimate(synth_faces[1])[0]
    np.testing.assert_allclose(sliders, np.clip(source + LIKE_GAIN * (like - source), 0, 1), atol=0.006)
    np.testing.assert_allclose(page_callbacks.copy(face, face), source, atol=0.006)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(LsganError, match="^notes.png: not a readable image"):
        page_callbacks.copy(face, str(text))
    with pytest.raises(LsganError, match="upload a photo"):
        page_callbacks.copy(None, face)
    with pytest.raises(LsganError, match="upload a face to copy"):
        page_callbacks.copy(face, None)


def _as_upload(page: EditPage, source: Path, name: str | None = None) -> str:
    """``source`` copied where Gradio puts an upload: a hashed folder inside the page's upload cache."""
    target = page.folder.uploads / "0f3a9c" / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return str(target)


def test_bad_uploads_raise_user_errors(page_callbacks, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(LsganError, match="notes.png: not a readable image"):
        page_callbacks.load(str(text))
    with pytest.raises(LsganError, match="upload a photo"):
        page_callbacks.load(None)
    with pytest.raises(LsganError, match="upload a photo"):
        page_callbacks.edit(None, [0.0] * 16)


def test_error_messages_name_the_users_file_not_server_paths(page_callbacks, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    upload = _as_upload(page_callbacks, text, "my holiday.png")
    with pytest.raises(LsganError) as refused:
        page_callbacks.load(upload)
    message = str(refused.value)
    assert message.startswith("my holiday.png: not a readable image"), message
    assert os.sep not in message and str(page_callbacks.folder.root) not in message


def test_callback_errors_reach_the_page_without_paths_or_tracebacks(page_callbacks, capsys):
    gr = pytest.importorskip("gradio")
    inside = page_callbacks.folder.uploads / "ab12" / "face.png"

    def refuse():
        raise LsganError(f"{inside}: no face found")

    def crash():
        raise RuntimeError(f"tensor trouble reading {inside}")

    with pytest.raises(gr.Error) as shown:
        web.guarded(page_callbacks, refuse)()
    assert shown.value.message == "face.png: no face found"
    with pytest.raises(gr.Error) as shown:
        web.guarded(page_callbacks, crash)()
    assert shown.value.message == web.INTERNAL_ERROR
    assert "tensor trouble" in capsys.readouterr().err  # the details go to the server's log


def test_photos_over_the_memory_budget_are_read_again_not_kept(tiny_editor, synth_faces, save_png):
    size = synth_faces[0].shape[0]
    page = EditPage(tiny_editor, WebConfig(kept_face_pixels=size * size))  # room for one small photo
    try:
        small = [_as_upload(page, save_png(f"small{i}.png", face)) for i, face in enumerate(synth_faces[:2])]
        large = _as_upload(page, save_png("large.png", np.repeat(np.repeat(synth_faces[2], 2, 0), 2, 1)))
        _, first, aus, _, _ = page.load(small[0])
        assert page.kept_faces() == [first]
        page.load(small[1])
        assert page.kept_faces() == [small[1]]  # the older one was dropped
        _, state, aus, _, _ = page.load(large)
        assert page.kept_faces() == []  # too large to keep: nothing of it stays in memory
        image, _, _ = page.edit(state, aus)
        assert page.kept_faces() == [] and image.shape == (2 * size, 2 * size, 3)
        again, _, _ = page.edit(state, aus)  # read again from the upload: the same edit
        np.testing.assert_array_equal(again, image)
        Path(first).unlink()  # pruned from the cache while the tab still shows it
        with pytest.raises(LsganError, match="small0.png is no longer on the server"):
            page.edit(first, aus)
    finally:
        page.close()


def test_gradio_caches_in_the_page_folder_and_prunes_it(page_callbacks, monkeypatch):
    pytest.importorskip("gradio")
    monkeypatch.delenv(web.GRADIO_TEMP_ENV, raising=False)
    app = web.build_app(page_callbacks)
    caches = {Path(block.GRADIO_CACHE) for block in app.blocks.values() if hasattr(block, "GRADIO_CACHE")}
    assert caches == {page_callbacks.folder.uploads}
    assert os.environ[web.GRADIO_TEMP_ENV] == str(page_callbacks.folder.uploads)  # where the server puts uploads
    frequency, age = app.delete_cache
    assert age == WebConfig().cache_age_s and 0 < frequency <= age


def test_only_non_loopback_hosts_get_the_no_authentication_warning():
    for local in ("127.0.0.1", "localhost", "::1", "127.0.1.1"):
        assert exposure_warning(local, 7860) is None, local
    for exposed in ("0.0.0.0", "::", "192.168.1.20", "example.org"):
        warning = exposure_warning(exposed, 7860)
        assert warning is not None and warning.startswith("warning: ") and "no authentication" in warning
        assert f"{exposed}:7860" in warning


class _FakeApp:
    """Stands in for the Gradio app where a test must not bind a port (0.0.0.0)."""

    def __init__(self):
        self.launched, self.closed = {}, False

    def launch(self, **options):
        self.launched = options

    def close(self, verbose=True):
        self.closed = True


def test_serve_command_on_all_interfaces_warns_then_cleans_up(tiny_bundle, capsys, monkeypatch):
    made = {}

    def fake_build_app(page):
        made.update(app=_FakeApp(), page=page)
        return made["app"]

    monkeypatch.setattr(web, "build_app", fake_build_app)
    monkeypatch.setattr(web.StopSignals, "wait", lambda self: None)  # as if SIGTERM came at once
    run = run_lsgan(["serve", "--model", tiny_bundle, "--host", "0.0.0.0", "--port", "7999", "--no-align"],
                    capsys, monkeypatch)
    assert run.code == 0, run.err
    assert run.err.startswith("warning: serving on 0.0.0.0:7999") and "no authentication" in run.err
    app, page = made["app"], made["page"]
    assert (app.launched["server_name"], app.launched["server_port"]) == ("0.0.0.0", 7999)
    assert app.launched["max_file_size"] == WebConfig().max_file_size
    assert page.config.kept_face_pixels == WebConfig().kept_face_pixels == DEFAULT_MAX_PIXELS  # one of the largest
    assert page.editor.config.align is False
    assert app.closed and not page.folder.root.exists()
    run = run_lsgan(["serve", "--model", tiny_bundle, "--port", "7999", "--kept-pixels", "1000"], capsys, monkeypatch)
    assert run.code == 0 and "warning" not in run.err
    assert made["app"].launched["server_name"] == "127.0.0.1" and made["page"].config.kept_face_pixels == 1000


# --- the real page in a browser -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tiny_editor, monkeypatch):
    """The page served on a free localhost port (in a thread); yields its URL."""
    pytest.importorskip("gradio")
    monkeypatch.delenv(web.GRADIO_TEMP_ENV, raising=False)  # the page sets it: put it back afterwards
    config = WebConfig(port=_free_port(), max_file_size="200kb")
    served = web.serve(tiny_editor, config, block=False)
    yield served
    served.close()
    assert not served.page.folder.root.exists()


def _wait_until_it_answers(url: str, server: subprocess.Popen, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"lsgan serve exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(1)
    pytest.fail(f"lsgan serve did not answer at {url} within {timeout_s} s")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_command_removes_its_folder_when_stopped(stop, tiny_bundle, tmp_path):
    """The installed ``lsgan serve`` in its own process: the page answers, its private folder exists (0700) and
    Gradio's cache is inside it; SIGTERM (or Ctrl-C) stops it cleanly and nothing is left in the temp dir."""
    pytest.importorskip("gradio")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_ANALYTICS_ENABLED": "False", "OMP_NUM_THREADS": "1"}
    env.pop(web.GRADIO_TEMP_ENV, None)
    port = _free_port()
    command = [str(Path(sys.executable).with_name("lsgan")), "serve", "--model", str(tiny_bundle), "--no-align",
               "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "lsgan" in _wait_until_it_answers(f"http://127.0.0.1:{port}/", server)
        folders = list(temp.glob(f"{web.FOLDER_PREFIX}*"))
        assert len(folders) == 1 and stat.S_IMODE(folders[0].stat().st_mode) == 0o700
        assert not (temp / "gradio").exists()  # Gradio's shared default cache is not used
        server.send_signal(stop)
        _, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert "Traceback" not in err
    assert sorted(temp.iterdir()) == [], "left behind"


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        browser.close()


def _shown_image(page, selector: str) -> tuple[str, np.ndarray]:
    """The src of the image in ``selector`` and its pixels (fetched the way the browser does)."""
    src = page.locator(f"{selector} img").get_attribute("src")
    return src, np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB"))


def _drag_slider_to_the_end(page, elem_id: str) -> None:
    slider = page.locator(f"#{elem_id} input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    middle_y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, middle_y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 1, middle_y, steps=5)
    page.mouse.up()


@pytest.mark.browser
def test_upload_move_a_slider_and_get_a_new_image(served, browser_page, synth_faces, save_png):
    page = browser_page
    page.goto(served.url)
    page.locator("#upload input[type=file]").set_input_files(str(save_png("face.png", synth_faces[0])))
    page.wait_for_selector("#result img")
    page.wait_for_selector(DOWNLOAD_LINK)
    assert list(served.page.folder.uploads.rglob("face.png"))  # the upload went to the page's own folder
    first_src, first = _shown_image(page, "#result")
    first_download = page.locator(DOWNLOAD_LINK).get_attribute("href")
    assert first.shape == synth_faces[0].shape

    _drag_slider_to_the_end(page, "au12")
    page.wait_for_function(
        "src => { const img = document.querySelector('#result img'); return img && img.src !== src; }",
        arg=first_src,
    )
    assert float(page.locator("#au12 input[type=number]").input_value()) == pytest.approx(1.0)
    _, second = _shown_image(page, "#result")
    assert second.shape == first.shape and not np.array_equal(second, first)
    page.wait_for_function(f"href => document.querySelector('{DOWNLOAD_LINK}').href !== href", arg=first_download)
    downloaded = page.request.get(page.locator(DOWNLOAD_LINK).get_attribute("href")).body()
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(downloaded)).convert("RGB")), second)

    page.locator("#preset-surprised").click()
    page.wait_for_function("() => document.querySelector('#au26 input[type=number]').value == '0.8'")
    page.locator("#preset-contemptuous").click()  # contempt's preset acts on one side, the others on both
    page.wait_for_function("() => document.querySelector('#side input[value=left]').checked")
    page.locator("#preset-happy").click()
    page.wait_for_function("() => document.querySelector('#side input[value=both]').checked")


@pytest.mark.browser
def test_a_face_to_copy_sets_the_sliders_and_edits(served, browser_page, tiny_editor, synth_faces, save_png,
                                                   monkeypatch):
    """The page's wiring: a face uploaded to copy sets the sliders (``EditPage.copy``, tested above) and edits. The
    tiny test model reads every face alike, so the face to copy is read here as every AU at 0.9."""
    monkeypatch.setattr(tiny_editor, "_largest_face_reading", lambda image: (np.full(16, 0.9, np.float32), None))
    page = browser_page
    page.goto(served.url)
    page.locator("#upload input[type=file]").set_input_files(str(save_png("face.png", synth_faces[0])))
    page.wait_for_selector("#result img")
    first_src, first = _shown_image(page, "#result")
    page.locator("#like input[type=file]").set_input_files(str(save_png("other.png", synth_faces[1])))
    source = tiny_editor.estimate(synth_faces[0])[0, AU_IDS.index(12)]
    expected = float(np.clip(source + LIKE_GAIN * (0.9 - source), 0, 1))
    page.wait_for_function(
        "value => Math.abs(parseFloat(document.querySelector('#au12 input[type=number]').value) - value) < 0.006",
        arg=expected)
    page.wait_for_function(
        "src => { const img = document.querySelector('#result img'); return img && img.src !== src; }",
        arg=first_src,
    )
    _, copied = _shown_image(page, "#result")
    assert copied.shape == first.shape and not np.array_equal(copied, first)


@pytest.mark.browser
def test_non_image_upload_is_refused_with_a_message(served, browser_page, tmp_path):
    page = browser_page
    page.goto(served.url)
    text = tmp_path / "notes.png"
    text.write_text("hello, not a picture")
    page.locator("#upload input[type=file]").set_input_files(str(text))
    page.get_by_text("not a readable image").first.wait_for()
    assert page.locator("#result img").count() == 0


@pytest.mark.browser
def test_uploads_over_the_size_limit_are_refused(served, browser_page, save_png, rng):
    page = browser_page
    page.goto(served.url)
    big = save_png("big.png", rng.integers(0, 256, (400, 400, 3), dtype=np.uint8))  # ~480 kB > 200 kB limit
    page.locator("#upload input[type=file]").set_input_files(str(big))
    page.get_by_text("maximum", exact=False).first.wait_for()
    assert page.locator("#source img").count() == 0




def test_sliders_set_the_largest_face_and_move_the_others_by_the_same_change():
    from lsgan.editing.web import slider_targets

    source = np.array([[0.2] * 16, [0.6] * 16], np.float32)  # largest face first
    sliders = [0.2] * 16
    sliders[AU_IDS.index(12)] = 0.9  # AU12 +0.7 on the largest face
    target = slider_targets(sliders, source)
    np.testing.assert_allclose(target[0], sliders)
    assert target[1, AU_IDS.index(12)] == pytest.approx(1.0)  # 0.6 + 0.7, clipped
    np.testing.assert_allclose(np.delete(target[1], AU_IDS.index(12)), 0.6)  # unchanged AUs keep its own values


def test_sliders_left_where_the_upload_set_them_keep_each_face_s_own_reading():
    """The sliders show the largest face's reading rounded to their step: left there, each AU is the faces' own
    reading exactly (which the mesh motion keeps as the face shows it); moved by a step, the slider is the target."""
    from lsgan.editing.web import SLIDER_STEP, _slider_values, slider_targets

    source = np.array([np.linspace(0.0312, 0.9688, 16), np.full(16, 0.5)], np.float32)
    sliders = _slider_values(source[0])
    assert not np.array_equal(np.asarray(sliders, np.float32), source[0])  # rounded
    np.testing.assert_array_equal(slider_targets(sliders, source), source)
    sliders[AU_IDS.index(25)] += SLIDER_STEP
    target = slider_targets(sliders, source)
    assert target[0, AU_IDS.index(25)] == pytest.approx(sliders[AU_IDS.index(25)])
    assert target[1, AU_IDS.index(25)] > 0.5
    others = [index for index in range(16) if index != AU_IDS.index(25)]
    np.testing.assert_array_equal(target[:, others], source[:, others])


def test_an_upload_comes_back_as_it_was_until_a_slider_moves(save_png):
    """The first edit after an upload, with the sliders where the upload set them (the face's own reading, rounded),
    gives the photo back: a real smile whose reading has decimals the sliders do not show (scikit-image's
    astronaut). A slider moved, the face moves."""
    from skimage import data

    from lsgan.editing import Editor

    photo = data.astronaut()
    page = EditPage(Editor.from_pretrained(), WebConfig())
    try:
        _, upload, aus, _, _ = page.load(str(save_png("astronaut.png", photo)))
        unchanged = page.edit(upload, aus)[0]
        aus[AU_IDS.index(12)] = 0.0
        moved = page.edit(upload, aus)[0]
    finally:
        page.close()
    np.testing.assert_array_equal(unchanged, photo)
    assert np.abs(moved.astype(int) - photo).max() > 30
