"""``lsgan serve``: a Gradio page to edit a face with the 16 AU sliders.

Upload a photo: its own AUs (G_exp) set the sliders. Moving a slider, or an emotion preset (which sets all
sliders), edits the face (every face, or the one chosen, numbered left to right; the whole face, or only the
eyes or the mouth); the result is shown beside the source with the region masks and a download.
Bad uploads (not an image, too small, no face) are refused with a one-line message.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lsgan.data.images import write_image
from lsgan.editing.editor import Editor, PreparedPhoto
from lsgan.editing.targets import REGION_AUS, TargetRequest, resolve_targets
from lsgan.editing.outputs import MASK_NAMES
from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, AU_NAMES, EMOTIONS, emotion_vector

IMAGE_HEIGHT = 320
SLIDER_DECIMALS = 2
KEPT_DOWNLOADS = 16  # the newest results stay downloadable; older ones are deleted
EVERY_FACE = "every face"
WHOLE_FACE = "whole face"
REGION_CHOICES = (WHOLE_FACE, *REGION_AUS)


@dataclass
class WebConfig:
    host: str = "127.0.0.1"  # local only by default: the page runs a model on anything uploaded
    port: int = 7860
    max_file_size: str = "10mb"
    preset_intensity: float = 1.0


def slider_label(au: int) -> str:
    return f"AU{au} {AU_NAMES[au]}"


class EditPage:
    """The page's callbacks, bound to one editor (no Gradio types here, so they are easy to test)."""

    def __init__(self, editor: Editor, config: WebConfig) -> None:
        self.editor = editor
        self.config = config
        self.downloads = Path(tempfile.mkdtemp(prefix="lsgan-web-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.downloads, ignore_errors=True)  # also at exit

    def load(self, path: str | None) -> tuple[np.ndarray, PreparedPhoto, list[float], list[str]]:
        """An uploaded file -> (the photo, its prepared faces, the largest face's AUs for the sliders, the face
        choices: every face, then each face's number, left to right)."""
        if not path:
            raise LsganError("upload a photo of a face first")
        photo = self.editor.prepare(path)[0]  # faces largest first
        largest = PreparedPhoto(photo.photo, photo.faces[:1], photo.name)
        numbers = sorted(face.number for face in photo.faces)
        choices = [EVERY_FACE, *map(str, numbers)] if len(numbers) > 1 else [EVERY_FACE]
        return photo.photo, photo, _slider_values(self.editor.estimate_faces([largest])[0]), choices

    def edit(self, photo: PreparedPhoto | None, aus: list[float], face: str = EVERY_FACE,
             region: str = WHOLE_FACE) -> tuple[np.ndarray, list[tuple[np.ndarray, str]], str]:
        """Slider values -> (edited photo, captioned masks, path of a PNG to download); ``face`` and ``region``
        as the page's choices name them."""
        if photo is None:
            raise LsganError("upload a photo of a face first")
        chosen = photo if face in (EVERY_FACE, None) else PreparedPhoto(
            photo.photo, [f for f in photo.faces if str(f.number) == face], photo.name)
        if not chosen.faces:
            raise LsganError(f"no face {face} in this photo")
        region_name = None if region in (WHOLE_FACE, None) else region
        source = self.editor.estimate_faces([chosen])
        target = resolve_targets(TargetRequest(aus=np.asarray(aus, np.float32), region=region_name), source)
        result = self.editor.render([chosen], target, source, region=region_name)
        masks = [(result.photo_masks[0][:, :, channel], name) for channel, name in enumerate(MASK_NAMES)]
        return result.image, masks, str(self._new_download(result.image))

    def _new_download(self, image: np.ndarray) -> Path:
        """Write the result for the download button, in its own folder; folders beyond the newest
        ``KEPT_DOWNLOADS`` are deleted so that a long session does not fill the disk."""
        path = write_image(Path(tempfile.mkdtemp(dir=self.downloads)) / "edited.png", image)
        folders = sorted(self.downloads.iterdir(), key=lambda folder: folder.stat().st_mtime_ns)
        for old in folders[:-KEPT_DOWNLOADS]:
            shutil.rmtree(old, ignore_errors=True)
        return path

    def close(self) -> None:
        """Delete the page's downloads folder."""
        self._cleanup()

    def preset(self, emotion: str) -> list[float]:
        return _slider_values(emotion_vector(emotion, self.config.preset_intensity))


def _slider_values(aus: np.ndarray) -> list[float]:
    return [round(float(value), SLIDER_DECIMALS) for value in aus]


def build_app(editor: Editor, config: WebConfig | None = None):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    page = EditPage(editor, config or WebConfig())

    def guarded(callback):
        def run(*args):
            try:
                return callback(*args)
            except LsganError as err:
                raise gr.Error(str(err)) from None
        return run

    with gr.Blocks(title="lsgan: fine-grained expression editing") as app:
        gr.Markdown("## lsgan: edit a facial expression with action units\nUpload a photo, then move the sliders "
                    "or pick an emotion.")
        face_state = gr.State(None)
        upload = gr.File(label="Photo of a face", file_types=["image"], type="filepath", elem_id="upload")
        with gr.Row():
            face_choice = gr.Dropdown([EVERY_FACE], value=EVERY_FACE, label="Face (numbered left to right)",
                                      elem_id="face")
            region_choice = gr.Radio(list(REGION_CHOICES), value=WHOLE_FACE, label="Region", elem_id="region")
        with gr.Row():
            source_view = gr.Image(label="Source", interactive=False, height=IMAGE_HEIGHT, elem_id="source")
            result_view = gr.Image(label="Edited", interactive=False, height=IMAGE_HEIGHT, format="png",
                                   elem_id="result")
        with gr.Row():
            presets = [gr.Button(emotion, size="sm", elem_id=f"preset-{emotion}") for emotion in EMOTIONS]
        with gr.Row():
            sliders = [gr.Slider(0.0, 1.0, value=0.0, step=10**-SLIDER_DECIMALS, label=slider_label(au),
                                 elem_id=f"au{au}", min_width=220) for au in AU_IDS]
        with gr.Row():
            masks_view = gr.Gallery(label="Region masks (eye, mouth, part)", columns=3, height=220, elem_id="masks")
            download = gr.File(label="Download the result", interactive=False, elem_id="download")

        edit_outputs = [result_view, masks_view, download]
        edit_inputs = [face_state, face_choice, region_choice, *sliders]

        def edit_from_sliders(photo, face, region, *aus):
            return page.edit(photo, list(aus), face, region)

        def load_upload(path):
            photo, prepared, aus, choices = page.load(path)
            return photo, prepared, gr.Dropdown(choices=choices, value=EVERY_FACE), *aus

        # .success, not .then: after a refused upload there is nothing to edit (and no second error to show).
        upload.upload(guarded(load_upload), upload, [source_view, face_state, face_choice, *sliders]).success(
            guarded(edit_from_sliders), edit_inputs, edit_outputs)
        for slider in sliders:
            slider.release(guarded(edit_from_sliders), edit_inputs, edit_outputs)
        for control in (face_choice, region_choice):
            control.input(guarded(edit_from_sliders), edit_inputs, edit_outputs)
        for emotion, button in zip(EMOTIONS, presets):
            button.click(lambda emotion=emotion: page.preset(emotion), None, sliders).success(
                guarded(edit_from_sliders), edit_inputs, edit_outputs)
    return app


def serve(editor: Editor, config: WebConfig | None = None, *, block: bool = True):
    """Launch the page; with ``block=False`` return at once (the server runs in a thread) for tests."""
    config = config or WebConfig()
    app = build_app(editor, config)
    app.launch(server_name=config.host, server_port=config.port, max_file_size=config.max_file_size,
               prevent_thread_lock=not block, quiet=not block, show_error=True)
    return app
