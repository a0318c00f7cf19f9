"""``lsgan serve``: a Gradio page to edit a face with the 16 AU sliders.

Upload a photo: its own AUs (G_exp) set the sliders. Moving a slider, or an emotion preset (which sets all
sliders), edits the face; the result is shown beside the source with the region masks and a download.
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
from lsgan.editing.editor import Editor, PreparedFace
from lsgan.editing.outputs import MASK_NAMES
from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, AU_NAMES, EMOTIONS, emotion_vector

IMAGE_HEIGHT = 320
SLIDER_DECIMALS = 2
KEPT_DOWNLOADS = 16  # the newest results stay downloadable; older ones are deleted


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

    def load(self, path: str | None) -> tuple[np.ndarray, PreparedFace, list[float]]:
        """An uploaded file -> (the photo, its prepared face, its AUs for the sliders)."""
        if not path:
            raise LsganError("upload a photo of a face first")
        face = self.editor.prepare(path)[0]
        return face.photo, face, _slider_values(self.editor.estimate_faces([face])[0])

    def edit(self, face: PreparedFace | None, aus: list[float]) -> tuple[np.ndarray, list[tuple[np.ndarray, str]], str]:
        """Slider values -> (edited photo, captioned masks, path of a PNG to download)."""
        if face is None:
            raise LsganError("upload a photo of a face first")
        source = self.editor.estimate_faces([face])
        result = self.editor.render([face], np.asarray([aus], dtype=np.float32), source)
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

        def edit_from_sliders(face, *aus):
            return page.edit(face, list(aus))

        def load_upload(path):
            photo, face, aus = page.load(path)
            return photo, face, *aus

        # .success, not .then: after a refused upload there is nothing to edit (and no second error to show).
        upload.upload(guarded(load_upload), upload, [source_view, face_state, *sliders]).success(
            guarded(edit_from_sliders), [face_state, *sliders], edit_outputs)
        for slider in sliders:
            slider.release(guarded(edit_from_sliders), [face_state, *sliders], edit_outputs)
        for emotion, button in zip(EMOTIONS, presets):
            button.click(lambda emotion=emotion: page.preset(emotion), None, sliders).success(
                guarded(edit_from_sliders), [face_state, *sliders], edit_outputs)
    return app


def serve(editor: Editor, config: WebConfig | None = None, *, block: bool = True):
    """Launch the page; with ``block=False`` return at once (the server runs in a thread) for tests."""
    config = config or WebConfig()
    app = build_app(editor, config)
    app.launch(server_name=config.host, server_port=config.port, max_file_size=config.max_file_size,
               prevent_thread_lock=not block, quiet=not block, show_error=True)
    return app
