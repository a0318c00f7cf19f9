"""``lsgan serve``: a Gradio page to edit a face with the 16 AU sliders.

Upload a photo: its own AUs (G_exp) set the sliders. Moving a slider, an emotion preset (which sets all sliders), or
a face to copy (whose expression sets them as ``lsgan edit --like`` would: ``targets.LIKE_GAIN``) edits the face
(every face, or the one chosen, numbered left to right; the whole face, or only the eyes or the mouth; the geometry
as ``--motion`` says, the folds shaded when the creases box is ticked); the result is shown beside the source with
the region masks and a download.
Bad uploads (not an image, too small, no face) are refused with a one-line message that names the user's file,
never a server path.

Everything the page writes (Gradio's upload cache, results, downloads) lives in one private folder
(``lsgan-web-*`` under the temporary directory, mode 0700): files older than ``WebConfig.cache_age_s`` are
deleted while the page runs, and the folder is removed when it stops (Ctrl-C, SIGTERM, SIGHUP or the end of the
process). Uploaded photos are kept in memory only up to ``WebConfig.kept_face_pixels``; beyond that they are read
again from the upload for each edit. The page has no authentication: serving on a non-loopback address prints a
warning.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lsgan.data.images import DEFAULT_MAX_PIXELS, ImageExtras, read_extras, write_image
from lsgan.editing.editor import MOTIONS, Editor, PreparedFace, PreparedPhoto, check_glasses
from lsgan.editing.targets import REGION_AUS, SIDES, TargetRequest, check_side, request_side, resolve_targets
from lsgan.editing.outputs import MASK_NAMES
from lsgan.errors import LsganError
from lsgan.facs import AU_IDS, AU_NAMES, EMOTIONS, edit_vector

IMAGE_HEIGHT = 320
SLIDER_DECIMALS = 2
SLIDER_STEP = 10**-SLIDER_DECIMALS
KEPT_DOWNLOADS = 16  # the newest results stay downloadable; older ones are deleted
FOLDER_PREFIX = "lsgan-web-"
GRADIO_TEMP_ENV = "GRADIO_TEMP_DIR"
# Ctrl-C too: a KeyboardInterrupt raised while the page is still starting would skip its clean-up.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name))
INTERNAL_ERROR = "the edit failed on the server (its log has the details)"
EVERY_FACE = "every face"
WHOLE_FACE = "whole face"
REGION_CHOICES = (WHOLE_FACE, *REGION_AUS)
GLASSES_CHOICES = {"where found": None, "worn": True, "none": False}  # the page's names for Editor.prepare's glasses


@dataclass
class WebConfig:
    host: str = "127.0.0.1"  # local only by default: the page runs a model on anything uploaded
    port: int = 7860
    max_file_size: str = "10mb"
    preset_intensity: float = 1.0
    cache_age_s: int = 900  # uploads and results older than this are deleted while the page runs
    # photos kept in memory between edits (pixels, all sessions together): one of the largest a page reads; a photo
    # over it is read again from its upload for each edit (a 48 MP one some 9 s a slider move)
    kept_face_pixels: int = DEFAULT_MAX_PIXELS


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """The warning printed when the page is served beyond this machine (None on a loopback address)."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}:{port}, which other machines can reach, and the page has no "
            "authentication: anyone there can upload photos and run the model. Use --host 127.0.0.1 (the "
            "default) unless the network is trusted.")


def slider_label(au: int) -> str:
    return f"AU{au} {AU_NAMES[au]}"


class PageFolder:
    """The page's private folder (mode 0700): ``uploads`` (Gradio's cache) and ``downloads``; removed on
    ``remove()`` or, at the latest, when the process ends normally."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))  # mkdtemp: 0700, owned by this user
        self.root.chmod(0o700)
        self.uploads = self.root / "uploads"
        self.downloads = self.root / "downloads"
        for folder in (self.uploads, self.downloads):
            folder.mkdir(mode=0o700)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)  # also at exit

    def remove(self) -> None:
        self._cleanup()

    def user_message(self, message: str, upload: str | None) -> str:
        """``message`` with the upload's server path replaced by its file name and any other path inside the
        folder reduced to its name (users see their file's name, never where the server keeps it)."""
        if upload:
            for spelling in {upload, str(Path(upload).resolve())}:
                message = message.replace(spelling, Path(upload).name)
        for root in {str(self.root), str(self.root.resolve())}:
            message = re.sub(re.escape(root) + r"[^\s'\"]*", lambda found: Path(found.group()).name, message)
        return message


@dataclass(frozen=True)
class UploadNotes:
    """What the page tells of an upload, one line each: the faces it leaves as they are (too small, in profile, cut
    by the border: shown as warnings) and its hints (a face that seems to wear glasses, its frame kept still: what the
    page does by default, shown as information)."""

    left: list[str]
    hints: list[str]


@dataclass
class _KeptPhoto:
    """An upload as the page keeps it between edits: its prepared faces, the file's extras for the download, and
    each face's AUs as G_exp reads them (by face number, read when first needed: the faces do not change between
    edits, and a reading over ``Editor.reading_views`` is most of a slider move's time)."""

    photo: PreparedPhoto
    extras: ImageExtras
    readings: dict[int, np.ndarray] = field(default_factory=dict)

    def source_aus(self, editor: Editor, faces: list[PreparedFace]) -> np.ndarray:
        """``[F, 16]``: the AUs of ``faces`` (this photo's), in order, each read once."""
        unread = [face for face in faces if face.number not in self.readings]
        if unread:
            fresh = editor.estimate_faces([PreparedPhoto(self.photo.photo, unread, self.photo.name)])
            self.readings.update(zip((face.number for face in unread), fresh))
        return np.stack([self.readings[face.number] for face in faces])

    def largest_face_aus(self, editor: Editor) -> np.ndarray:
        """``[16]``: the AUs of the photo's largest face (its faces are kept largest first)."""
        return self.source_aus(editor, self.photo.faces[:1])[0]

    @property
    def pixels(self) -> int:
        """Photo pixels held (an image with alpha holds its RGBA too)."""
        height, width = self.photo.photo.shape[:2]
        return height * width * (2 if self.extras.rgba is not None else 1)


class EditPage:
    """The page's callbacks, bound to one editor (no Gradio types here, so they are easy to test).

    The page's state (what Gradio keeps per browser tab) is the uploaded file's path; the prepared faces are
    kept here, newest first, up to ``config.kept_face_pixels`` photo pixels, and read again from the upload
    when they were dropped."""

    def __init__(self, editor: Editor, config: WebConfig) -> None:
        self.editor = editor
        self.config = config
        self.folder = PageFolder()
        self.downloads = self.folder.downloads
        self._photos: OrderedDict[str, _KeptPhoto] = OrderedDict()
        self._lock = threading.Lock()  # Gradio runs callbacks in worker threads

    def load(self, path: str | None) -> tuple[np.ndarray, str, list[float], list[str], UploadNotes]:
        """An uploaded file -> (the photo, the page state for it, the largest face's AUs for the sliders, the face
        choices: every face, then each face's number, left to right; its notes, one line each as the user names the
        file: the faces left as they are, too small or in profile, and those found in glasses)."""
        if not path:
            raise LsganError("upload a photo of a face first")
        kept = self._prepare(path)
        photo = kept.photo
        aus = _slider_values(kept.largest_face_aus(self.editor))
        self._keep(path, kept)
        numbers = sorted(face.number for face in photo.faces)
        choices = [EVERY_FACE, *map(str, numbers)] if len(numbers) > 1 else [EVERY_FACE]
        left = [self.folder.user_message(face.note, path) for face in photo.left]
        hints = [self.folder.user_message(hint, path) for hint in photo.hints]
        return photo.photo, path, aus, choices, UploadNotes(left, hints)

    def edit(self, upload: str | None, aus: list[float], face: str = EVERY_FACE, region: str = WHOLE_FACE,
             motion: str | None = None, creases: bool | None = None, glasses: bool | None = None,
             side: str = "both") -> tuple[np.ndarray, list[tuple[np.ndarray, str]], str]:
        """Slider values -> (edited photo, captioned masks, path of a PNG to download); ``face``, ``region``,
        ``motion``, ``creases``, ``glasses`` and ``side`` as the page's choices name them (``motion``, ``creases``
        None: the editor's own; ``glasses``: whose clear glasses' frames stay still, ``GLASSES_CHOICES``: the faces
        that seem to wear them (None), the chosen faces (True) or none (False); ``side``: "left" or "right" of the
        picture, where the sliders act, the other side as it is; "both")."""
        if not upload:
            raise LsganError("upload a photo of a face first")
        check_glasses(glasses, self.editor.config.align)
        check_side(side)
        kept = self._photo(upload)
        photo = kept.photo
        chosen = photo if face in (EVERY_FACE, None) else PreparedPhoto(
            photo.photo, [f for f in photo.faces if str(f.number) == face], photo.name)
        if not chosen.faces:
            raise LsganError(f"no face {face} in this photo")
        for prepared in photo.faces:
            prepared.glasses = prepared.holds_glasses(glasses) and any(prepared is wanted for wanted in chosen.faces)
        region_name = None if region in (WHOLE_FACE, None) else region
        source = kept.source_aus(self.editor, chosen.faces)  # [F, 16], largest face first
        target = resolve_targets(TargetRequest(aus=slider_targets(aus, source), region=region_name), source)
        result = self.editor.render([chosen], target, source, region=region_name, motion=motion, creases=creases,
                                    side=side, other_aus=source)
        self._keep(upload, kept)
        masks = [(result.photo_masks[0][:, :, channel], name) for channel, name in enumerate(MASK_NAMES)]
        return result.image, masks, str(self._new_download(result.image, kept.extras))

    def kept_faces(self) -> list[str]:
        """The uploads whose prepared faces are in memory, oldest first."""
        with self._lock:
            return list(self._photos)

    def _photo(self, upload: str) -> _KeptPhoto:
        with self._lock:
            kept = self._photos.get(upload)
        if kept is not None:
            return kept
        if not Path(upload).is_file():
            raise LsganError(f"{Path(upload).name} is no longer on the server (uploads are kept "
                             f"{self.config.cache_age_s // 60} minutes): upload it again")
        return self._prepare(upload)

    def _prepare(self, upload: str) -> _KeptPhoto:
        """The upload's faces and what its download keeps of the file (profile, EXIF, alpha), read once."""
        try:
            photo = self.editor.prepare(upload)[0]
            return _KeptPhoto(photo, read_extras(upload, photo.rgba))
        except LsganError as err:
            raise LsganError(self.folder.user_message(str(err), upload)) from None

    def _keep(self, upload: str, kept: _KeptPhoto) -> None:
        """Remember ``kept`` as the newest; drop the oldest beyond the pixel budget (this one too if it alone
        is over it: a large photo is read again for each edit rather than held)."""
        with self._lock:
            self._photos.pop(upload, None)
            self._photos[upload] = kept
            while self._photos and sum(k.pixels for k in self._photos.values()) > self.config.kept_face_pixels:
                self._photos.popitem(last=False)

    def _new_download(self, image: np.ndarray, extras: ImageExtras) -> Path:
        """Write the result for the download button (with the upload's colour profile, EXIF and alpha), in its own
        folder; folders beyond the newest ``KEPT_DOWNLOADS`` are deleted so that a long session does not fill the
        disk."""
        path = write_image(Path(tempfile.mkdtemp(dir=self.downloads)) / "edited.png", image, extras)
        folders = sorted(self.downloads.iterdir(), key=lambda folder: folder.stat().st_mtime_ns)
        for old in folders[:-KEPT_DOWNLOADS]:
            shutil.rmtree(old, ignore_errors=True)
        return path

    def close(self) -> None:
        """Forget the faces and delete the page's folder (uploads and downloads)."""
        with self._lock:
            self._photos.clear()
        self.folder.remove()

    def preset(self, emotion: str) -> list[float]:
        return _slider_values(edit_vector(emotion, self.config.preset_intensity))

    @staticmethod
    def preset_side(emotion: str) -> str:
        """The side an emotion's preset acts on: contempt's one side (as ``lsgan edit`` edits it), else both."""
        return request_side(TargetRequest(emotion=emotion)) or "both"

    def copy(self, upload: str | None, like: str | None) -> list[float]:
        """The sliders that copy the expression of the face uploaded as ``like`` onto the photo's largest face (as
        ``lsgan edit --like`` does: ``targets.resolve_targets``)."""
        if not upload:
            raise LsganError("upload a photo of a face first")
        if not like:
            raise LsganError("upload a face to copy")
        source = self._photo(upload).largest_face_aus(self.editor)[None]  # [1, 16]
        try:
            like_aus = self.editor.request(like=like).like_aus
        except LsganError as err:
            raise LsganError(self.folder.user_message(str(err), like)) from None
        return _slider_values(resolve_targets(TargetRequest(like_aus=like_aus), source)[0])


def slider_targets(sliders: list[float], source: np.ndarray) -> np.ndarray:
    """Target AUs ``[F, 16]`` for faces whose own AUs are ``source`` (largest face first): the sliders are the
    first face's target; every other face moves by the same change from its own AUs (clipped to 0-1), so a group
    photo does not take on one face's expression. A slider within half its step of the first face's reading is
    where the upload set it (the reading rounded): that AU is each face's own reading, exactly, so that an AU left
    alone is kept as the face shows it (``mesh_motion``: a parted-lips reading of closed lips, 0.4312 shown as 0.43
    and taken as 0.43, had opened the mouth of every upload's first edit)."""
    sliders = np.asarray(sliders, np.float32)
    change = sliders - source[0]
    change[np.abs(change) <= SLIDER_STEP / 2 + 1e-6] = 0.0
    target = np.clip(source + change, 0.0, 1.0).astype(np.float32)
    target[0] = np.where(change == 0.0, source[0], sliders)
    return target


def _slider_values(aus: np.ndarray) -> list[float]:
    return [round(float(value), SLIDER_DECIMALS) for value in aus]


def guarded(page: EditPage, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with its errors turned into the page's one-line messages: an ``LsganError`` as it is (paths
    inside the page's folder reduced to file names), anything else as a generic line (the traceback goes to
    the server's log, not to the browser)."""
    import gradio as gr

    def run(*args: Any) -> Any:
        try:
            return callback(*args)
        except LsganError as err:
            raise gr.Error(page.folder.user_message(str(err), None)) from None
        except Exception:
            traceback.print_exc()
            raise gr.Error(INTERNAL_ERROR) from None

    return run


def build_app(page: EditPage):
    """The Gradio Blocks app for ``page`` (not launched). Gradio's cache is the page's own upload folder."""
    os.environ[GRADIO_TEMP_ENV] = str(page.folder.uploads)  # read by Gradio when components and the server start
    import gradio as gr

    prune_every = max(1, min(60, page.config.cache_age_s))
    with gr.Blocks(title="lsgan: fine-grained expression editing",
                   delete_cache=(prune_every, page.config.cache_age_s)) as app:
        gr.Markdown("## lsgan: edit a facial expression with action units\nUpload a photo, then move the sliders, "
                    "pick an emotion or upload a face whose expression to copy.")
        face_state = gr.State(None)  # the upload's path: the photo itself stays on the server, bounded
        upload = gr.File(label="Photo of a face", file_types=["image"], type="filepath", elem_id="upload")
        with gr.Row():
            face_choice = gr.Dropdown([EVERY_FACE], value=EVERY_FACE, label="Face (numbered left to right)",
                                      elem_id="face")
            region_choice = gr.Radio(list(REGION_CHOICES), value=WHOLE_FACE, label="Region", elem_id="region")
            motion_choice = gr.Radio(list(MOTIONS), value=page.editor.config.motion, elem_id="motion",
                                     label="Geometry (mesh: SynthFACS's AU motion on the face's mesh; model: the "
                                           "generator's own field; both)")
            creases_choice = gr.Checkbox(value=page.editor.config.creases, elem_id="creases",
                                         label="Shade the folds (SynthFACS's creases; they look drawn)")
            glasses_choice = gr.Radio(list(GLASSES_CHOICES), value=next(iter(GLASSES_CHOICES)), elem_id="glasses",
                                      label="Clear glasses whose frames stay still (worn: on the face picked)")
            side_choice = gr.Radio(list(SIDES), value="both", elem_id="side",
                                   label="Side of the picture the sliders act on (the other stays as it is)")
        with gr.Row():
            source_view = gr.Image(label="Source", interactive=False, height=IMAGE_HEIGHT, elem_id="source")
            result_view = gr.Image(label="Edited", interactive=False, height=IMAGE_HEIGHT, format="png",
                                   elem_id="result")
        with gr.Row():
            presets = [gr.Button(emotion, size="sm", elem_id=f"preset-{emotion}") for emotion in EMOTIONS]
        with gr.Row():
            like = gr.File(label="Or copy the expression of this face", file_types=["image"], type="filepath",
                           elem_id="like", height=80)
        with gr.Row():
            sliders = [gr.Slider(0.0, 1.0, value=0.0, step=SLIDER_STEP, label=slider_label(au),
                                 elem_id=f"au{au}", min_width=220) for au in AU_IDS]
        with gr.Row():
            masks_view = gr.Gallery(label="Region masks (eye, mouth, part)", columns=3, height=220, elem_id="masks")
            download = gr.File(label="Download the result", interactive=False, elem_id="download")

        edit_outputs = [result_view, masks_view, download]
        edit_inputs = [face_state, face_choice, region_choice, motion_choice, creases_choice, glasses_choice,
                       side_choice, *sliders]

        def edit_from_sliders(upload_path, face, region, motion, creases, glasses, side, *aus):
            return page.edit(upload_path, list(aus), face, region, motion, creases, GLASSES_CHOICES.get(glasses),
                             side)

        def load_upload(path):
            photo, state, aus, choices, notes = page.load(path)
            for note in notes.left:
                gr.Warning(note)
            for hint in notes.hints:
                gr.Info(hint)
            return photo, state, gr.Dropdown(choices=choices, value=EVERY_FACE), *aus

        # .success, not .then: after a refused upload there is nothing to edit (and no second error to show).
        upload.upload(guarded(page, load_upload), upload, [source_view, face_state, face_choice, *sliders]).success(
            guarded(page, edit_from_sliders), edit_inputs, edit_outputs)
        for slider in sliders:
            slider.release(guarded(page, edit_from_sliders), edit_inputs, edit_outputs)
        for control in (face_choice, region_choice, motion_choice, creases_choice, glasses_choice, side_choice):
            control.input(guarded(page, edit_from_sliders), edit_inputs, edit_outputs)
        for emotion, button in zip(EMOTIONS, presets):
            button.click(lambda emotion=emotion: [*page.preset(emotion), page.preset_side(emotion)], None,
                         [*sliders, side_choice]).success(guarded(page, edit_from_sliders), edit_inputs, edit_outputs)
        like.upload(guarded(page, page.copy), [face_state, like], sliders).success(
            guarded(page, edit_from_sliders), edit_inputs, edit_outputs)
    return app


@dataclass
class ServedPage:
    """A launched page: the Gradio app and the callbacks' ``EditPage`` (which owns the private folder)."""

    app: Any
    page: EditPage
    url: str

    def close(self) -> None:
        """Stop the server and remove everything the page wrote."""
        try:
            self.app.close(verbose=False)
        finally:
            self.page.close()


def serve(editor: Editor, config: WebConfig | None = None, *, block: bool = True) -> ServedPage:
    """Launch the page. With ``block`` (the CLI) run until Ctrl-C, SIGTERM or SIGHUP, then close it and remove its
    folder; with ``block=False`` return at once (the server runs in a thread; call ``close()``)."""
    config = config or WebConfig()
    warning = exposure_warning(config.host, config.port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if not block:
        return _launch(editor, config, quiet=True)
    with StopSignals() as stop:  # handlers first: a signal during the start-up still cleans up
        served = _launch(editor, config, quiet=False)
        try:
            stop.wait()
        finally:
            served.close()
            print("lsgan serve: stopped; its uploads and downloads are deleted", file=sys.stderr, flush=True)
    return served


def _launch(editor: Editor, config: WebConfig, *, quiet: bool) -> ServedPage:
    page = EditPage(editor, config)
    try:
        app = build_app(page)
        app.launch(server_name=config.host, server_port=config.port, max_file_size=config.max_file_size,
                   prevent_thread_lock=True, quiet=quiet, show_error=True)
    except BaseException:
        page.close()
        raise
    return ServedPage(app, page, f"http://{config.host}:{config.port}/")


class StopSignals:
    """While entered, SIGTERM, SIGHUP and SIGINT (Ctrl-C) set ``stopped`` instead of stopping the process where it
    is (so the page can remove its folder, also when one comes during the start-up); ``wait()`` blocks until one of
    them. The previous handlers come back on exit."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self._previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopped.set()

    def wait(self) -> None:
        try:
            while not self.stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
