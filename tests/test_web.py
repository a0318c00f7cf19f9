"""The ``lsgan serve`` page: its callbacks directly, then the real page in headless Chromium (Playwright)."""

from __future__ import annotations

import io
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from edit_support import run_lsgan, synth_faces, tiny_bundle, tiny_editor  # noqa: F401  (pytest fixtures)
from PIL import Image

from lsgan.data.images import read_image
from lsgan.editing.web import EditPage, WebConfig, slider_label
from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, emotion_vector

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000
DOWNLOAD_LINK = "#download a[download]"


# --- callbacks, no browser ------------------------------------------------------------------------------------------


@pytest.fixture
def page_callbacks(tiny_editor) -> EditPage:
    return EditPage(tiny_editor, WebConfig())


def test_sliders_are_named_after_the_aus():
    assert slider_label(12) == "AU12 lip corner puller"
    assert len({slider_label(au) for au in AU_IDS}) == 16


def test_upload_sets_the_sliders_to_the_faces_aus(page_callbacks, tiny_editor, synth_faces, save_png):
    photo, _, aus, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    np.testing.assert_array_equal(photo, synth_faces[0])
    np.testing.assert_allclose(aus, tiny_editor.estimate(synth_faces[0])[0], atol=0.005)


def test_edit_returns_the_image_masks_and_a_download(page_callbacks, synth_faces, save_png):
    _, face, aus, _ = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    aus[AU_IDS.index(12)] = 1.0
    image, masks, download = page_callbacks.edit(face, aus)
    assert image.shape == synth_faces[0].shape
    assert [caption for _, caption in masks] == ["eye", "mouth", "part"]
    np.testing.assert_allclose(sum(mask for mask, _ in masks), 1.0, atol=1e-5)
    np.testing.assert_array_equal(read_image(download), image)


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
    _, face, aus, choices = page_callbacks.load(str(save_png("face.png", synth_faces[0])))
    assert choices == ["every face"]  # one face: nothing to choose
    aus[AU_IDS.index(12)] = 1.0
    aus[AU_IDS.index(1)] = 1.0
    image, masks, _ = page_callbacks.edit(face, aus, "every face", "mouth")
    mouth = masks[1][0]
    assert np.any(image != synth_faces[0])
    np.testing.assert_array_equal(image[mouth == 0], synth_faces[0][mouth == 0])
    with pytest.raises(LsganError, match="no face 3"):
        page_callbacks.edit(face, aus, "3", "whole face")


def test_old_downloads_are_deleted_and_the_folder_goes_with_the_page(tiny_editor, synth_faces, save_png, monkeypatch):
    from lsgan.editing import web

    monkeypatch.setattr(web, "KEPT_DOWNLOADS", 2)
    page = EditPage(tiny_editor, WebConfig())
    _, face, aus, _ = page.load(str(save_png("face.png", synth_faces[0])))
    downloads = [page.edit(face, aus)[2] for _ in range(4)]
    assert [Path(d).is_file() for d in downloads] == [False, False, True, True]
    page.close()
    assert not page.downloads.exists()


def test_presets_are_the_emotion_prototypes(page_callbacks):
    np.testing.assert_allclose(page_callbacks.preset("surprised"), emotion_vector("surprised"))


def test_bad_uploads_raise_user_errors(page_callbacks, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(LsganError, match="notes.png: not a readable image"):
        page_callbacks.load(str(text))
    with pytest.raises(LsganError, match="upload a photo"):
        page_callbacks.load(None)
    with pytest.raises(LsganError, match="upload a photo"):
        page_callbacks.edit(None, [0.0] * 16)


# --- the real page in a browser -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tiny_editor):
    """The page served on a free localhost port (in a thread); yields its URL."""
    pytest.importorskip("gradio")
    from lsgan.editing.web import serve

    config = WebConfig(port=_free_port(), max_file_size="200kb")
    app = serve(tiny_editor, config, block=False)
    yield f"http://{config.host}:{config.port}/"
    app.close()


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
    page.goto(served)
    page.locator("#upload input[type=file]").set_input_files(str(save_png("face.png", synth_faces[0])))
    page.wait_for_selector("#result img")
    page.wait_for_selector(DOWNLOAD_LINK)
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


@pytest.mark.browser
def test_non_image_upload_is_refused_with_a_message(served, browser_page, tmp_path):
    page = browser_page
    page.goto(served)
    text = tmp_path / "notes.png"
    text.write_text("hello, not a picture")
    page.locator("#upload input[type=file]").set_input_files(str(text))
    page.get_by_text("not a readable image").first.wait_for()
    assert page.locator("#result img").count() == 0


@pytest.mark.browser
def test_uploads_over_the_size_limit_are_refused(served, browser_page, save_png, rng):
    page = browser_page
    page.goto(served)
    big = save_png("big.png", rng.integers(0, 256, (400, 400, 3), dtype=np.uint8))  # ~480 kB > 200 kB limit
    page.locator("#upload input[type=file]").set_input_files(str(big))
    page.get_by_text("maximum", exact=False).first.wait_for()
    assert page.locator("#source img").count() == 0


def test_serve_command_binds_localhost_by_default(tiny_bundle, capsys, monkeypatch):
    launched = {}
    monkeypatch.setattr("lsgan.editing.web.serve", lambda editor, config: launched.update(editor=editor, config=config))
    run = run_lsgan(["serve", "--model", tiny_bundle, "--port", "7999", "--no-align"], capsys, monkeypatch)
    assert run.code == 0, run.err
    config = launched["config"]
    assert (config.host, config.port, config.max_file_size) == ("127.0.0.1", 7999, WebConfig().max_file_size)
    assert launched["editor"].config.align is False
