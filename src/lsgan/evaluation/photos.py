"""The real-photo benchmark (``lsgan eval photos``): edit every photo of a folder to every asked emotion through
the public ``Editor`` API and measure what no SynthFACS figure shows: whether real-face expression classifiers
read the asked emotion, whether the person stays the same (dlib identity distance), how much detail survives,
whether anything outside the face changed, and how the face's geometry moved against the direction FACS expects.

Every photo is counted: edited, or failed with its reason (unreadable, no face found, an editor error). A photo
with several faces is edited once per emotion and measured at each face (rows named ``photo#N``, N the editor's
face number, left to right).
``run_photo_benchmark`` returns the rows; ``summarize`` reduces them to the figures of the report
(``evaluation.photo_report`` writes report.md, results.csv, summary.json and contact_sheet.png).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from lsgan.data.faces import FaceAligner, Landmarks, MediapipeDetector, warp_antialiased
from lsgan.data.images import read_image
from lsgan.errors import LsganError, NoFaceError
from lsgan.facs import EMOTIONS
from lsgan.metrics.photo import (
    FACERES_SAME_PERSON_THRESHOLD,
    READINGS,
    SAME_PERSON_THRESHOLD,
    FaceDescriber,
    FaceResDescriber,
    detail_kept,
    expected_sign,
    face_region,
    geometry_change,
    outside_change,
)
from lsgan.nets.expression import CLASSIFIER_NAMES, EXPRESSIONS, HELD_OUT_CLASSIFIER, emotion_to_expression


# The boxes each classifier also reads a face in, as (scale, shift down by this share of the box's width); the box
# itself first. Their mean probabilities are the "<name>+boxes" read: the classifiers' reads swing with a few pixels
# of box (a dropped chin moves the face inside it), so a figure resting on one box cannot tell a change of a few
# reads from that noise.
BOX_JITTERS: tuple[tuple[float, float], ...] = ((1.0, 0.0), (0.9, -0.05), (0.9, 0.0), (0.9, 0.05), (1.0, -0.05),
                                                (1.0, 0.05), (1.1, -0.05), (1.1, 0.0), (1.1, 0.05))
BOX_AVERAGED = "+boxes"  # suffix of a classifier's box-averaged read name


class BenchmarkInputError(LsganError, ValueError):
    """A benchmark that cannot run as asked: no photos, an unknown emotion or classifier."""


class Classifier(Protocol):
    """What the benchmark needs of an expression classifier (``lsgan.nets.expression.ExpressionClassifier``)."""

    name: str

    def classify(self, photo: np.ndarray, boxes: Sequence[tuple[float, float, float, float]]) -> np.ndarray: ...


class PhotoEditor(Protocol):
    """The public editing API the benchmark drives (``lsgan.editing.editor.Editor``)."""

    def edit(self, images: np.ndarray, aus: None = None, *, emotion: str | None = None,
             intensity: float | None = None) -> object: ...


@dataclass
class ClassifierRead:
    source_top: str  # the classifier's top class for the source face
    source_p: float  # its probability of the asked expression on the source
    edit_top: str
    edit_p: float


@dataclass
class EditRow:
    """One face of a photo × emotion: its measures, or why it failed (``status`` "failed", ``reason``)."""

    photo: str  # the photo's file name
    emotion: str
    face: int | None = None  # in a photo with several faces, this one's number (the editor's, left to right)
    status: str = "edited"
    reason: str = ""
    seconds: float = math.nan  # editor.edit wall time of the photo's edit (every face; detection, model, pasting)
    identity_distance: float = math.nan  # dlib's
    identity_distance_faceres: float = math.nan  # HSE FaceRes's (cosine), the second identity judge
    detail_kept: float = math.nan
    outside_max_abs: float = math.nan
    outside_changed_share: float = math.nan
    geometry: dict[str, float] = field(default_factory=dict)  # reading -> edit - source (empty: no mesh)
    reads: dict[str, ClassifierRead] = field(default_factory=dict)  # classifier name -> read

    @property
    def name(self) -> str:
        return face_name(self.photo, self.face)


def face_name(photo: str, face: int | None) -> str:
    """The photo's name, with ``#N`` for face N of a photo with several."""
    return photo if face is None else f"{photo}#{face}"


@dataclass
class SheetRow:
    """One row of the contact sheet: face thumbnails (source first, then one per emotion, None where the edit
    failed) and the held-out classifier's top read of each."""

    photo: str
    cells: list[np.ndarray | None]
    labels: list[str]
    failure: str = ""


@dataclass
class BenchmarkResult:
    rows: list[EditRow]
    sheet: list[SheetRow]
    emotions: tuple[str, ...]
    classifiers: tuple[str, ...]
    intensity: float
    model: str


@dataclass
class _Source:
    """What is measured once per face of a source photo."""

    photo: np.ndarray
    box: tuple[float, float, float, float]  # this face's
    mesh: Landmarks | None  # mediapipe's mesh in that box, None if it finds no face there
    region: np.ndarray  # bool H×W: every face's hull, dilated
    probs: dict[str, np.ndarray]  # read name (classifier, classifier+boxes) -> [7]


def jittered_boxes(box: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    """``BOX_JITTERS`` applied to ``box`` (x0, y0, x1, y1): the box itself first."""
    x0, y0, x1, y1 = box
    cx, cy, width, height = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    return [(cx - scale * width / 2, cy + shift * width - scale * height / 2,
             cx + scale * width / 2, cy + shift * width + scale * height / 2) for scale, shift in BOX_JITTERS]


def read_names(classifiers: Sequence[Classifier]) -> tuple[str, ...]:
    """Each classifier's two reads: its own box, and the mean over ``BOX_JITTERS`` (``BOX_AVERAGED``)."""
    return tuple(name for clf in classifiers for name in (clf.name, clf.name + BOX_AVERAGED))


def classifier_reads(clf: Classifier, photo: np.ndarray,
                     box: tuple[float, float, float, float]) -> dict[str, np.ndarray]:
    """``{name: [7], name+boxes: [7]}``: ``clf``'s probabilities in ``box`` and their mean over the jittered boxes."""
    probs = np.asarray(clf.classify(photo, jittered_boxes(box)))  # [len(BOX_JITTERS), 7]
    return {clf.name: probs[0], clf.name + BOX_AVERAGED: probs.mean(axis=0)}


def parse_emotions(text: str) -> tuple[str, ...]:
    """Comma-separated emotions (``facs.EMOTIONS``), in the order given, each once."""
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in EMOTIONS]
    if unknown or not names:
        raise BenchmarkInputError(f"unknown emotion {', '.join(map(repr, unknown)) or '(none given)'}: choose from "
                                  f"{', '.join(EMOTIONS)}")
    return names


def parse_classifier_names(text: str) -> tuple[str, ...]:
    """Comma-separated classifier names; "" or "none" for none (geometry, identity and detail still run)."""
    if text.strip().lower() in ("", "none"):
        return ()
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in CLASSIFIER_NAMES]
    if unknown:
        raise BenchmarkInputError(f"unknown expression classifier {', '.join(map(repr, unknown))}: choose from "
                                  f"{', '.join(CLASSIFIER_NAMES)}, or none")
    return names


def load_classifiers(names: Sequence[str], device: str = "cpu") -> list[Classifier]:
    """The named classifiers (``nets.expression.load_classifier``); one that this lsgan lacks is a clear error."""
    from lsgan.nets.expression import load_classifier

    loaded = []
    for name in names:
        try:
            loaded.append(load_classifier(name, device))
        except ImportError as err:
            raise BenchmarkInputError(f"expression classifier {name!r} is not available in this lsgan ({err}); "
                                      "leave it out with --classifiers, or --classifiers none") from None
    return loaded


@dataclass
class _Judges:
    """What measures the edits, loaded once per run."""

    aligner: FaceAligner  # finds the source faces (mediapipe, dlib fallback: like the editor's)
    mesh: MediapipeDetector  # geometry, in the source's box
    describer: FaceDescriber  # identity
    faceres: FaceResDescriber  # identity, a second judge
    classifiers: Sequence[Classifier]

    def close(self) -> None:
        self.aligner.close()
        self.mesh.close()


def run_photo_benchmark(editor: PhotoEditor, photos: Sequence[Path], emotions: Sequence[str],
                        classifiers: Sequence[Classifier] = (), *, intensity: float = 1.0, model: str = "",
                        cell: int = 128, progress: bool = True,
                        clock: Callable[[], float] = time.perf_counter) -> BenchmarkResult:
    """Edit each photo to each emotion and measure it (see the module doc); ``cell``: contact-sheet thumbnail
    side; ``clock`` times ``editor.edit``."""
    if not photos:
        raise BenchmarkInputError("no photos to edit")
    judges = _Judges(FaceAligner(), MediapipeDetector(), FaceDescriber(), FaceResDescriber(), classifiers)
    rows: list[EditRow] = []
    sheet: list[SheetRow] = []
    try:
        with tqdm(total=len(photos) * len(emotions), unit="edit", desc="eval photos", disable=not progress) as bar:
            for path in photos:
                photo_rows, sheet_rows = _benchmark_photo(editor, path, emotions, intensity, judges, cell, clock)
                rows += photo_rows
                sheet += sheet_rows
                bar.update(len(emotions))
    finally:
        judges.close()
    return BenchmarkResult(rows, sheet, tuple(emotions), read_names(classifiers), intensity, model)


def _benchmark_photo(editor: PhotoEditor, path: Path, emotions: Sequence[str], intensity: float, judges: _Judges,
                     cell: int, clock: Callable[[], float]) -> tuple[list[EditRow], list[SheetRow]]:
    """Rows and contact-sheet rows of one photo, for every face found in it (each edit of the photo measured at
    each face)."""
    name = path.name
    try:
        sources = _measure_sources(path, judges)
    except LsganError as err:
        reason = _reason(err, path)
        try:
            thumb: np.ndarray | None = _thumbnail(read_image(path), None, cell)
        except LsganError:
            thumb = None
        rows = [EditRow(name, emotion, status="failed", reason=reason) for emotion in emotions]
        return rows, [SheetRow(name, [thumb, *[None] * len(emotions)], [name, *[""] * len(emotions)], reason)]
    held_out = _held_out(judges.classifiers)
    faces = [None] if len(sources) == 1 else list(range(len(sources)))
    sheet = []
    for face, source in zip(faces, sources):
        title = face_name(name, face)
        top = EXPRESSIONS[int(np.argmax(source.probs[held_out]))] if held_out else None
        sheet.append(SheetRow(title, [_thumbnail(source.photo, source.box, cell)], [_label(title, held_out, top)]))
    rows = []
    for emotion in emotions:
        measured, edited = _edit_and_measure(editor, path, faces, sources, emotion, intensity, judges, clock)
        rows += measured
        for row, source, sheet_row in zip(measured, sources, sheet):
            sheet_row.cells.append(None if edited is None else _thumbnail(edited, source.box, cell))
            edit_top = row.reads[held_out].edit_top if held_out and held_out in row.reads else None
            label = f"{emotion}\n{row.reason}" if edited is None else _label(emotion, held_out, edit_top)
            sheet_row.labels.append(label)
    return rows, sheet


def _measure_sources(path: Path, judges: _Judges) -> list[_Source]:
    """Each face of the photo, left to right (the editor's face numbers), measured before the edit."""
    photo = read_image(path)
    faces = judges.aligner.detect(photo)
    if not faces:
        raise NoFaceError("no face found")
    region = face_region([f.landmarks.points for f in faces], photo.shape)
    sources = []
    for face in sorted(faces, key=lambda f: f.box[0]):
        probs = {name: p for clf in judges.classifiers for name, p in classifier_reads(clf, photo, face.box).items()}
        sources.append(_Source(photo, face.box, judges.mesh.mesh_in_box(photo, face.box), region, probs))
    return sources


def _edit_and_measure(editor: PhotoEditor, path: Path, faces: Sequence[int | None], sources: Sequence[_Source],
                      emotion: str, intensity: float, judges: _Judges, clock: Callable[[], float]
                      ) -> tuple[list[EditRow], np.ndarray | None]:
    """One edit of the photo (every face to ``emotion``), measured at each of its faces: a row per face."""
    rows = [EditRow(path.name, emotion, face=face) for face in faces]
    photo = sources[0].photo
    start = clock()
    try:
        result = editor.edit(photo, emotion=emotion, intensity=intensity)
        edited = np.asarray(result.images[0])
    except LsganError as err:
        for row in rows:
            row.status, row.reason = "failed", _reason(err, path)
        return rows, None
    seconds = clock() - start
    if edited.shape != photo.shape:
        for row in rows:
            row.status, row.reason = "failed", f"edit is {edited.shape}, photo {photo.shape}"
        return rows, None
    change = outside_change(photo, edited, sources[0].region)  # outside every face: one figure per photo
    expression = emotion_to_expression(emotion)
    asked = EXPRESSIONS.index(expression) if expression else None
    for row, source in zip(rows, sources):
        row.seconds = seconds
        if not _was_edited(result, source.box):
            row.status, row.reason = "failed", _left_reason(getattr(result, "left", []), row.face or 0)
            continue
        row.identity_distance = judges.describer.distance(photo, edited, source.box)
        row.identity_distance_faceres = judges.faceres.distance(photo, edited, source.box)
        row.detail_kept = detail_kept(photo, edited, source.box)
        row.outside_max_abs, row.outside_changed_share = change.max_abs, change.changed_share
        row.geometry = _geometry(source, edited, judges.mesh)
        for clf in judges.classifiers:
            for name, after in classifier_reads(clf, edited, source.box).items():
                before = source.probs[name]
                row.reads[name] = ClassifierRead(
                    EXPRESSIONS[int(before.argmax())], math.nan if asked is None else float(before[asked]),
                    EXPRESSIONS[int(after.argmax())], math.nan if asked is None else float(after[asked]))
    return rows, edited


def _left_reason(left: Sequence[object], number: int) -> str:
    """Why the editor left face ``number`` as it is: the ``why`` of its entry in the result's faces left
    (``EditResult.left``: ``number`` and ``why``, e.g. ``too small to edit (20 px, under 24 px)``)."""
    for face in left:
        if getattr(face, "number", None) == number:
            return f"the editor left this face as it is: {face.why}"
    return "the editor left this face as it is"


def _was_edited(result: object, box: tuple[float, float, float, float]) -> bool:
    """Whether the editor's result lists a face at ``box`` among those it edited (``EditResult.faces``); an editor
    that does not report its faces, or edits the whole image (no box), is taken to edit every face."""
    reports = getattr(result, "faces", None)
    if reports is None or any(report.box is None for report in reports):
        return True
    return any(np.linalg.norm(_centre(report.box) - _centre(box)) < (box[2] - box[0]) / 2 for report in reports)


def _centre(box: tuple[float, float, float, float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _geometry(source: _Source, edited: np.ndarray, mesh: MediapipeDetector) -> dict[str, float]:
    """Reading changes from mediapipe meshes of the source and the edit, both placed in the source's face box (so
    a blurred edit whose face mediapipe's detector misses is still measured); empty when either has no mesh."""
    if source.mesh is None:
        return {}
    after = mesh.mesh_in_box(edited, source.box)
    return {} if after is None else geometry_change(source.mesh.points, after.points)


def _reason(err: Exception, path: Path) -> str:
    """The error's message without the photo's name that it may start with (the CSV names the photo)."""
    message = str(err)
    head, sep, tail = message.partition(": ")
    return tail if sep and (head == str(path) or head.startswith("<")) else message


def _held_out(classifiers: Sequence[Classifier]) -> str | None:
    """The classifier whose reads label the contact sheet: the held-out one if it ran, else the first."""
    names = [clf.name for clf in classifiers]
    return HELD_OUT_CLASSIFIER if HELD_OUT_CLASSIFIER in names else (names[0] if names else None)


def _label(title: str, held_out: str | None, top: str | None) -> str:
    return title if held_out is None or top is None else f"{title}\n{held_out}: {top}"


def _thumbnail(photo: np.ndarray, box: tuple[float, float, float, float] | None, cell: int) -> np.ndarray:
    """``cell``×``cell`` uint8 view of the face: a square 1.6× the box (at most the photo's shorter side) around
    its centre, moved to lie inside the photo; the photo's centre square when there is no box."""
    height, width = photo.shape[:2]
    side = float(min(height, width))
    cx, cy = width / 2, height / 2
    if box is not None:
        side = min(side, 1.6 * max(box[2] - box[0], box[3] - box[1]))
        cx = float(np.clip((box[0] + box[2]) / 2, side / 2, width - side / 2))
        cy = float(np.clip((box[1] + box[3]) / 2, side / 2, height - side / 2))
    scale = cell / side
    return warp_antialiased(photo, np.array([[scale, 0, cell / 2 - cx * scale], [0, scale, cell / 2 - cy * scale]]),
                            cell)


# ---------------------------------------------------------------- summary


def summarize(result: BenchmarkResult) -> dict:
    """The report's figures as plain JSON-able values (NaN-free: a figure with nothing to average is None)."""
    rows = result.rows
    edited = [row for row in rows if row.status == "edited"]
    photos = list(dict.fromkeys(row.photo for row in rows))
    failed_photos = {row.photo: row.reason for row in rows if row.status == "failed"
                     and all(r.status == "failed" for r in rows if r.photo == row.photo)}
    neutral = {row.name: row.geometry for row in edited if row.emotion == "neutral" and row.geometry}
    # each edit of a photo timed once, not once per face (every face's row holds the photo's time, edited or not)
    edit_seconds = {(r.photo, r.emotion): r.seconds for r in rows if not math.isnan(r.seconds)}
    seconds_per_photo = [sum(t for (name, _), t in edit_seconds.items() if name == photo) for photo in photos
                         if any(name == photo for name, _ in edit_seconds)]
    return {
        "model": result.model,
        "intensity": result.intensity,
        "emotions": list(result.emotions),
        "photos": len(photos),
        "faces": len(dict.fromkeys(row.name for row in rows)),
        "photos_edited": len(photos) - len(failed_photos),
        "photos_failed": [{"photo": photo, "reason": reason} for photo, reason in failed_photos.items()],
        "edits": len(rows),
        "edits_done": len(edited),
        "edits_failed": [{"photo": r.name, "emotion": r.emotion, "reason": r.reason} for r in rows
                         if r.status == "failed" and r.photo not in failed_photos],
        "classifiers": {name: _classifier_summary(name, edited, result.emotions) for name in result.classifiers},
        "held_out_classifier": HELD_OUT_CLASSIFIER,
        "identity_distance": _identity_summary([r.identity_distance for r in edited], SAME_PERSON_THRESHOLD),
        "identity_distance_faceres": _identity_summary([r.identity_distance_faceres for r in edited],
                                                       FACERES_SAME_PERSON_THRESHOLD),
        "detail_kept": {"median": _median([r.detail_kept for r in edited]),
                        "min": _min([r.detail_kept for r in edited])},
        "outside_change": {"max_abs": _max([r.outside_max_abs for r in edited]),
                           "max_changed_share": _max([r.outside_changed_share for r in edited]),
                           "edits_changing_outside": sum(r.outside_max_abs > 0 for r in edited)},
        "geometry": {emotion: _geometry_summary([r for r in edited if r.emotion == emotion], emotion, neutral)
                     for emotion in result.emotions},
        "geometry_missing": sum(not r.geometry for r in edited),
        "seconds": {"per_edit_mean": _mean(list(edit_seconds.values())),
                    "per_edit_median": _median(list(edit_seconds.values())),
                    "per_photo_mean": _mean(seconds_per_photo)},
    }


def _identity_summary(distances: list[float], threshold: float) -> dict:
    """One identity judge's distances over the edits: mean, max, and how many reach its "another person"
    ``threshold``."""
    return {"mean": _mean(distances), "max": _max(distances),
            "over_threshold": sum(distance >= threshold for distance in distances), "threshold": threshold}


def _classifier_summary(name: str, edited: list[EditRow], emotions: Sequence[str]) -> dict:
    """Per emotion (and over all): among edits whose source the classifier did not already read as the asked
    expression, the share it reads as asked after the edit; and the mean probability of the asked expression
    before and after, over every edit. Emotions no classifier has (contempt) are left out."""
    per_emotion = {}
    for emotion in emotions:
        expression = emotion_to_expression(emotion)
        if expression is None:
            continue
        reads = [row.reads[name] for row in edited if row.emotion == emotion and name in row.reads]
        per_emotion[emotion] = _read_figures(reads, expression)
    all_reads = [(row.reads[name], emotion_to_expression(row.emotion)) for row in edited
                 if name in row.reads and emotion_to_expression(row.emotion)]
    eligible = [read for read, expression in all_reads if read.source_top != expression]
    hits = sum(read.edit_top == expression for read, expression in all_reads if read.source_top != expression)
    overall = {"eligible": len(eligible), "read_as_asked": hits,
               "share": hits / len(eligible) if eligible else None,
               "p_before": _mean([read.source_p for read, _ in all_reads]),
               "p_after": _mean([read.edit_p for read, _ in all_reads])}
    return {"held_out": name.removesuffix(BOX_AVERAGED) == HELD_OUT_CLASSIFIER, "per_emotion": per_emotion,
            "overall": overall}


def _read_figures(reads: list[ClassifierRead], expression: str) -> dict:
    eligible = [read for read in reads if read.source_top != expression]
    hits = sum(read.edit_top == expression for read in eligible)
    return {"edits": len(reads), "eligible": len(eligible), "read_as_asked": hits,
            "share": hits / len(eligible) if eligible else None,
            "p_before": _mean([read.source_p for read in reads]), "p_after": _mean([read.edit_p for read in reads])}


def _geometry_summary(rows: list[EditRow], emotion: str, neutral: dict[str, dict[str, float]]) -> dict:
    """Per reading: mean change, the FACS-expected sign, whether the mean moved that way, the share of edits
    that moved that way, and how many edits had meshes. ``vs_neutral``: the same against the same photo's edit to
    neutral (``neutral``: photo -> its neutral edit's changes), which takes out what every edit does alike (a blur
    narrows the mouth whatever the target); None for neutral itself or when it was not asked."""
    summary = {}
    for reading in READINGS:
        sign = expected_sign(emotion, reading)
        changes = [row.geometry[reading] for row in rows if reading in row.geometry]
        relative = [row.geometry[reading] - neutral[row.name][reading] for row in rows
                    if emotion != "neutral" and reading in row.geometry and row.name in neutral]
        summary[reading] = {"n": len(changes), "expected_sign": sign, **_direction(changes, sign),
                            "vs_neutral": _direction(relative, sign) if relative else None}
    return summary


def _direction(changes: list[float], sign: int) -> dict:
    mean = _mean(changes)
    return {"mean_change": mean,
            "agrees": None if sign == 0 or mean is None else bool(np.sign(mean) == sign),
            "share_expected_way": None if sign == 0 or not changes else
            float(np.mean([np.sign(change) == sign for change in changes]))}


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def _mean(values: Sequence[float]) -> float | None:
    finite = _finite(values)
    return float(np.mean(finite)) if finite else None


def _median(values: Sequence[float]) -> float | None:
    finite = _finite(values)
    return float(np.median(finite)) if finite else None


def _max(values: Sequence[float]) -> float | None:
    finite = _finite(values)
    return max(finite) if finite else None


def _min(values: Sequence[float]) -> float | None:
    finite = _finite(values)
    return min(finite) if finite else None
