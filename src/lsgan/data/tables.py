"""AU tables of every supported kind, read into one normal form: a list of ``AURecord``.

Readers (all return ``TableResult``: records plus the rows skipped, each with its reason):

- ``read_synthfacs(root)``      SynthFACS ``annotations.csv`` (+ ``meta.json`` ``au_scale``), also what
                                ``lsgan data prepare`` writes;
- ``read_plain_csv(csv)``       ``image``/``path``/``file`` column + ``AU01``/``AU1``/``au01``... columns;
- ``read_openface_csv(csv)``    OpenFace 2 output: ``AU01_r``... (0-5), one row per frame;
- ``read_rafd(folder)``         RaFD file names (identity, emotion), AUs from a CSV or emotion prototypes;
- ``read_disfa(root)``          DISFA ``ActionUnit_Labels`` files + extracted frame folders.

``strict=True`` raises ``DataError`` at the first bad row (naming file, row and column); the default
lenient mode skips the row and reports it. A missing AU *column* is always an error.
"""

from __future__ import annotations

import csv
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lsgan.errors import DataError
from lsgan.facs import AU_IDS, DISFA_SCALE, EMOTIONS, NUM_AUS, emotion_vector

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
SPLITS = ("train", "test")
DEFAULT_TEST_FRACTION = 0.1
IMAGE_COLUMNS = ("image", "path", "file", "filename", "image_path")
ALL_LABELLED = np.ones(NUM_AUS, dtype=bool)


@dataclass(frozen=True, eq=False)
class AURecord:
    """One face image and its AU labels. ``aus`` is float32 [16] on 0-1 in ``facs.AU_IDS`` order;
    ``au_mask`` [16] is True where the AU is labelled (DISFA lacks 4 of the 16)."""

    image: Path
    aus: np.ndarray
    au_mask: np.ndarray = field(default_factory=ALL_LABELLED.copy)
    identity: str = ""
    split: str = "train"
    emotion: str = ""
    labels: Path | None = None


@dataclass(frozen=True)
class Skipped:
    """A file or table row left out, and why."""

    file: str
    reason: str

    @classmethod
    def from_error(cls, file: str | Path, error: Exception) -> Skipped:
        """The error's message, less the file name it starts with (the record names the file already)."""
        return cls(str(file), str(error).removeprefix(f"{file}: "))


@dataclass
class TableResult:
    records: list[AURecord]
    skipped: list[Skipped] = field(default_factory=list)
    unlisted: list[Path] = field(default_factory=list)  # images in the folder that the table does not name


class _RowSink:
    """Collects rows: raises at the first bad one in strict mode, otherwise records it as skipped."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.result = TableResult(records=[])

    def reject(self, where: str, error: DataError) -> None:
        if self.strict:
            raise error
        self.result.skipped.append(Skipped.from_error(where, error))

    def bad(self, where: str, reason: str) -> None:
        self.reject(where, DataError(f"{where}: {reason}"))


# ---------------------------------------------------------------- CSV plumbing

def _read_csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header (stripped, as OpenFace writes ``" AU01_r"``) and (line number, row) pairs."""
    if not path.is_file():
        raise DataError(f"{path}: no such AU table")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    reader = csv.reader(text.splitlines())
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: the table is empty") from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for line_no, values in enumerate(reader, start=2):
            if any(v.strip() for v in values):  # short rows: their missing cells read as empty below
                yield line_no, dict(zip(header, (v.strip() for v in values), strict=False))

    return header, rows()


_AU_NAME = re.compile(r"^au[_ ]?0*(\d+)(_r)?$", re.IGNORECASE)


def find_au_columns(header: Sequence[str], path: Path, *, suffix_r: bool | None = None,
                    required: Iterable[int] = AU_IDS) -> dict[int, str]:
    """Map AU number -> column name (``AU01``, ``AU1``, ``au01``, ``AU01_r``). ``suffix_r`` True keeps only
    ``_r`` columns (OpenFace intensities; ``_c`` presence columns never match), False only plain ones."""
    found: dict[int, str] = {}
    for name in header:
        match = _AU_NAME.match(name)
        if match and (suffix_r is None or bool(match.group(2)) == suffix_r) and int(match.group(1)) in AU_IDS:
            found.setdefault(int(match.group(1)), name)
    missing = [au for au in required if au not in found]
    if missing:
        wanted = "AU{:02d}_r" if suffix_r else "AU{:02d}"
        raise DataError(f"{path}: missing AU column(s) {', '.join(wanted.format(a) for a in missing)}")
    return found


def _find_column(header: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {h.lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def parse_aus(row: Mapping[str, str], columns: Mapping[int, str], scale: float, where: str) -> np.ndarray:
    """The 16-vector of one row on the 0-1 scale; AUs without a column stay 0 (their mask is False)."""
    aus = np.zeros(NUM_AUS, dtype=np.float32)
    for index, au in enumerate(AU_IDS):
        if au not in columns:
            continue
        column = columns[au]
        text = row.get(column, "")
        try:
            value = float(text)
        except ValueError:
            raise DataError(f"{where}: column {column}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise DataError(f"{where}: column {column} is {text!r}")
        if not -1e-6 <= value <= scale + 1e-6:
            raise DataError(f"{where}: column {column} = {value:g} is outside [0, {scale:g}]")
        aus[index] = min(max(value / scale, 0.0), 1.0)
    return aus


def mask_for(columns: Mapping[int, str] | Iterable[int]) -> np.ndarray:
    return np.array([au in columns for au in AU_IDS], dtype=bool)


def _check_scale(scale: float, path: Path) -> float:
    if scale not in (1.0, DISFA_SCALE):
        raise DataError(f"{path}: AU scale must be 1 or 5, got {scale:g}")
    return float(scale)


# ---------------------------------------------------------------- splits

def split_by_identity(identities: Iterable[str], test_fraction: float = DEFAULT_TEST_FRACTION) -> dict[str, str]:
    """Deterministic train/test split by identity (a CRC of the name, so adding identities moves no one)."""
    buckets = 1000
    return {
        ident: "test" if zlib.crc32(ident.encode()) % buckets < test_fraction * buckets else "train"
        for ident in set(identities)
    }


def assign_splits(records: list[AURecord], test_fraction: float = DEFAULT_TEST_FRACTION) -> list[AURecord]:
    splits = split_by_identity((r.identity for r in records), test_fraction)
    return [replace(r, split=splits[r.identity]) for r in records]


def _clean_split(value: str, where: str) -> str:
    split = value.strip().lower() or "train"
    if split not in SPLITS:
        raise DataError(f"{where}: split {value!r} is not one of {', '.join(SPLITS)}")
    return split


def _clean_emotion(value: str, where: str) -> str:
    emotion = value.strip().lower()
    if emotion and emotion not in EMOTIONS:
        raise DataError(f"{where}: emotion {value!r} is not one of {', '.join(EMOTIONS)}")
    return emotion


# ---------------------------------------------------------------- (a) SynthFACS annotations.csv

def read_synthfacs(root: str | Path, *, strict: bool = False) -> TableResult:
    """``root/annotations.csv`` + ``root/meta.json`` (``au_scale``: 1 or 5). Paths are relative to ``root``."""
    root = Path(root)
    csv_path = root / "annotations.csv"
    scale = _check_scale(float(_read_meta(root).get("au_scale", 1.0)), root / "meta.json")
    header, rows = _read_csv_rows(csv_path)
    for name in ("image", "identity", "split"):
        if name not in header:
            raise DataError(f"{csv_path}: missing column {name}")
    columns = find_au_columns(header, csv_path, suffix_r=False)
    sink = _RowSink(strict)
    for line_no, row in rows:
        where = f"{csv_path}:{line_no}"
        try:
            sink.result.records.append(AURecord(
                image=root / row["image"],
                aus=parse_aus(row, columns, scale, where),
                au_mask=_parse_mask(row.get("au_mask", ""), where),
                identity=row["identity"],
                split=_clean_split(row["split"], where),
                emotion=_clean_emotion(row.get("emotion", ""), where),
                labels=root / row["labels"] if row.get("labels") else None,
            ))
        except DataError as err:
            sink.reject(where, err)
    return sink.result


def _read_meta(root: Path) -> dict:
    meta_path = root / "meta.json"
    if not meta_path.is_file():
        return {}
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as err:
        raise DataError(f"{meta_path}: not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{meta_path}: expected a JSON object")
    return meta


def format_mask(mask: np.ndarray) -> str:
    """``au_mask`` as written in annotations.csv: 16 characters of 0/1 in ``AU_IDS`` order."""
    return "".join("1" if m else "0" for m in mask)


def _parse_mask(text: str, where: str) -> np.ndarray:
    if not text:
        return ALL_LABELLED.copy()
    if len(text) != NUM_AUS or set(text) - {"0", "1"}:
        raise DataError(f"{where}: au_mask {text!r} must be {NUM_AUS} characters of 0/1")
    return np.array([c == "1" for c in text], dtype=bool)


# ---------------------------------------------------------------- (b) plain CSV

def read_plain_csv(csv_path: str | Path, *, image_root: str | Path | None = None, scale: float = 1.0,
                   require_all_aus: bool = True, test_fraction: float = DEFAULT_TEST_FRACTION,
                   strict: bool = False) -> TableResult:
    """A CSV with an ``image``/``path``/``file`` column, AU columns and optional ``identity``, ``split``,
    ``emotion``, ``labels``. Image paths are relative to ``image_root`` (default: the CSV's folder).
    Without ``identity`` each image is its own identity; without ``split`` the split is by identity.
    ``require_all_aus=False`` accepts a subset of the 16 AUs and masks the others."""
    csv_path = Path(csv_path)
    root = Path(image_root) if image_root is not None else csv_path.parent
    scale = _check_scale(scale, csv_path)
    header, rows = _read_csv_rows(csv_path)
    image_col = _find_column(header, IMAGE_COLUMNS)
    if image_col is None:
        raise DataError(f"{csv_path}: missing image column (one of {', '.join(IMAGE_COLUMNS)})")
    columns = find_au_columns(header, csv_path, required=AU_IDS if require_all_aus else ())
    if not columns:
        raise DataError(f"{csv_path}: no AU columns (expected AU01 ... AU26)")
    optional = {name: _find_column(header, (name,)) for name in ("identity", "split", "emotion", "labels")}
    sink = _RowSink(strict)
    first_line: dict[Path, int] = {}
    for line_no, row in rows:
        where = f"{csv_path}:{line_no}"
        try:
            record = _plain_record(row, image_col, optional, columns, scale, root, where)
        except DataError as err:
            sink.reject(where, err)
            continue
        key = record.image.resolve()
        if key in first_line:  # two rows for one photo, maybe with different AUs: the first one counts
            sink.bad(where, f"{row[image_col]} is listed again (first on line {first_line[key]}); "
                            "only the first row is used")
            continue
        first_line[key] = line_no
        sink.result.records.append(record)
    if optional["split"] is None:
        sink.result.records = assign_splits(sink.result.records, test_fraction)
    sink.result.unlisted = unlisted_images(root, sink.result.records)
    return sink.result


def unlisted_images(root: Path, records: Sequence[AURecord]) -> list[Path]:
    """Images under ``root`` that no record names (as image or label map): photos the table left out."""
    if not root.is_dir():
        return []
    named = {record.image.resolve() for record in records}
    named |= {record.labels.resolve() for record in records if record.labels is not None}
    return [path for path in list_images(root) if path.resolve() not in named]


def inside(root: Path, relative: str, where: str) -> Path:
    """``root / relative``, refused (``DataError``) when it leads outside ``root`` (``../``, absolute paths)."""
    path = root / relative
    if not path.resolve().is_relative_to(root.resolve()):
        raise DataError(f"{where}: {relative!r} is outside the data folder {root}; tables may only name files in it")
    return path


def _plain_record(row: Mapping[str, str], image_col: str, optional: Mapping[str, str | None],
                  columns: Mapping[int, str], scale: float, root: Path, where: str) -> AURecord:
    def value(name: str) -> str:
        column = optional[name]
        return row.get(column, "") if column else ""

    if not row.get(image_col):
        raise DataError(f"{where}: empty {image_col}")
    image = inside(root, row[image_col], where)
    return AURecord(
        image=image,
        aus=parse_aus(row, columns, scale, where),
        au_mask=mask_for(columns),
        identity=value("identity") or image.stem,
        split=_clean_split(value("split"), where),
        emotion=_clean_emotion(value("emotion"), where),
        labels=inside(root, value("labels"), where) if value("labels") else None,
    )


# ---------------------------------------------------------------- (c) OpenFace CSV

OPENFACE_PATTERN = "frame_det_{face_id:02d}_{frame:06d}.bmp"


def read_openface_csv(csv_path: str | Path, *, image_dir: str | Path | None = None,
                      pattern: str = OPENFACE_PATTERN, identity: str | None = None,
                      strict: bool = False) -> TableResult:
    """OpenFace 2 ``FeatureExtraction`` output: one row per frame, ``AU01_r``... on 0-5.

    Rows map to image files through ``pattern`` (fields ``frame`` and ``face_id``; the default is OpenFace's
    aligned-face naming) under ``image_dir`` (default ``<csv stem>_aligned`` beside the CSV, as OpenFace
    writes it). Rows with ``success == 0`` (no face tracked) are skipped and reported. The identity is
    ``identity`` or the CSV's stem (one OpenFace CSV per video/person)."""
    csv_path = Path(csv_path)
    image_dir = Path(image_dir) if image_dir is not None else openface_image_dir(csv_path)
    header, rows = _read_csv_rows(csv_path)
    if "frame" not in header:
        raise DataError(f"{csv_path}: missing column frame (is this OpenFace output?)")
    columns = find_au_columns(header, csv_path, suffix_r=True)
    sink = _RowSink(strict)
    for line_no, row in rows:
        where = f"{csv_path}:{line_no}"
        if row.get("success", "1") in ("0", "0.0"):
            sink.result.skipped.append(Skipped(where, "OpenFace did not track a face (success=0)"))
            continue
        try:
            sink.result.records.append(AURecord(
                image=image_dir / _frame_file(pattern, row, where),
                aus=parse_aus(row, columns, DISFA_SCALE, where),
                identity=identity or csv_path.stem,
            ))
        except DataError as err:
            sink.reject(where, err)
    return sink.result


def openface_image_dir(csv_path: Path) -> Path:
    """Where OpenFace's FeatureExtraction puts the aligned faces of ``csv_path``."""
    return csv_path.with_name(f"{csv_path.stem}_aligned")


def _frame_file(pattern: str, row: Mapping[str, str], where: str) -> str:
    try:
        fields = {"frame": int(float(row["frame"])), "face_id": int(float(row.get("face_id") or 0))}
        return pattern.format(**fields)
    except (KeyError, ValueError, IndexError) as err:
        raise DataError(f"{where}: cannot name the frame file with pattern {pattern!r} ({err})") from None


# ---------------------------------------------------------------- (d) RaFD

RAFD_NAME = re.compile(
    r"^Rafd(?P<angle>\d{3})_(?P<identity>\d+)_(?P<ethnicity>[A-Za-z]+)_(?P<gender>female|male)_"
    r"(?P<emotion>[a-z]+)_(?P<gaze>frontal|left|right)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RafdName:
    angle: int
    identity: str
    ethnicity: str
    gender: str
    emotion: str
    gaze: str


def parse_rafd_name(path: str | Path) -> RafdName:
    """``Rafd090_01_Caucasian_female_angry_frontal.jpg`` -> its fields; ``DataError`` if it does not fit."""
    match = RAFD_NAME.match(Path(path).stem)
    if not match:
        raise DataError(f"{path}: not a RaFD file name (Rafd<angle>_<id>_<ethnicity>_<gender>_<emotion>_<gaze>)")
    emotion = match["emotion"].lower()
    if emotion not in EMOTIONS:
        raise DataError(f"{path}: unknown RaFD emotion {emotion!r}")
    return RafdName(int(match["angle"]), match["identity"], match["ethnicity"], match["gender"].lower(),
                    emotion, match["gaze"].lower())


def read_rafd(folder: str | Path, *, au_table: TableResult | None = None, angles: Sequence[int] | None = None,
              test_fraction: float = DEFAULT_TEST_FRACTION) -> TableResult:
    """Every RaFD image in ``folder`` (recursively), identity and emotion from its name.

    AUs come from ``au_table`` (any table read above, e.g. OpenFace run on RaFD; joined on the file name).
    Without one, each image gets its emotion's FACS prototype (``facs.emotion_vector``): a *weak* label
    that ignores how strongly each person actually poses. ``angles`` keeps only those camera angles."""
    folder = Path(folder)
    by_name = {r.image.name: r for r in au_table.records} if au_table is not None else None
    result = TableResult(records=[], skipped=list(au_table.skipped) if au_table else [])
    for path in list_images(folder):
        try:
            name = parse_rafd_name(path)
        except DataError as err:
            result.skipped.append(Skipped.from_error(path, err))
            continue
        if angles is not None and name.angle not in angles:
            continue
        labelled = _rafd_aus(path, name, by_name)
        if labelled is None:
            result.skipped.append(Skipped(str(path), "no row for this image in the AU table"))
            continue
        aus, mask = labelled
        result.records.append(AURecord(image=path, aus=aus, au_mask=mask, identity=f"rafd{name.identity}",
                                       emotion=name.emotion))
    result.records = assign_splits(result.records, test_fraction)
    return result


def _rafd_aus(path: Path, name: RafdName,
              by_name: Mapping[str, AURecord] | None) -> tuple[np.ndarray, np.ndarray] | None:
    if by_name is None:
        return emotion_vector(name.emotion), ALL_LABELLED.copy()
    row = by_name.get(path.name)
    return (row.aus, row.au_mask) if row is not None else None


def list_images(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursively, by suffix: ``IMAGE_SUFFIXES``), sorted."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


# ---------------------------------------------------------------- (e) DISFA

DISFA_AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26)
DISFA_LABEL_FILE = re.compile(r"^(?P<subject>SN\d+)_au(?P<au>\d+)$", re.IGNORECASE)


def read_disfa(root: str | Path, *, frames_dir: str | Path | None = None, frame_step: int = 1,
               frame_offset: int = 0, test_fraction: float = DEFAULT_TEST_FRACTION,
               strict: bool = False) -> TableResult:
    """DISFA: ``root/ActionUnit_Labels/SN001/SN001_au1.txt`` (``frame,intensity`` lines, 0-5) for 12 AUs, and
    frames extracted from the videos into ``frames_dir`` (default ``root/Videos_LeftCamera``), one folder per
    subject whose name contains its id (``SN001/``, ``LeftVideoSN001_comp/``), files numbered by frame
    (``00001.png``, ``frame_1.jpg``: the last number in the name, plus ``frame_offset``).

    The 4 AUs DISFA lacks (7, 10, 14, 23) have ``au_mask`` False. ``frame_step`` keeps every n-th frame."""
    root = Path(root)
    label_root = root / "ActionUnit_Labels"
    frames_root = Path(frames_dir) if frames_dir is not None else root / "Videos_LeftCamera"
    if not label_root.is_dir():
        raise DataError(f"{label_root}: no such folder (expected DISFA's ActionUnit_Labels)")
    if not frames_root.is_dir():
        raise DataError(f"{frames_root}: no such folder (extract the video frames there, one folder per subject)")
    sink = _RowSink(strict)
    mask = mask_for(DISFA_AUS)
    for subject_dir in sorted(p for p in label_root.iterdir() if p.is_dir()):
        subject = subject_dir.name
        labels = _read_disfa_subject(subject_dir, sink)
        for frame, image in _subject_frames(frames_root, subject, frame_offset)[::frame_step]:
            if frame not in labels:
                sink.bad(str(image), f"no DISFA label for frame {frame}")
                continue
            sink.result.records.append(AURecord(image=image, aus=labels[frame], au_mask=mask.copy(),
                                                identity=subject))
    sink.result.records = assign_splits(sink.result.records, test_fraction)
    return sink.result


def _read_disfa_subject(subject_dir: Path, sink: _RowSink) -> dict[int, np.ndarray]:
    """frame -> AU 16-vector (DISFA's 12 AUs filled) for one subject; every AU file must be present."""
    files = {}
    for path in subject_dir.glob("*.txt"):
        match = DISFA_LABEL_FILE.match(path.stem)
        if match:
            files[int(match["au"])] = path
    missing = [au for au in DISFA_AUS if au not in files]
    if missing:
        raise DataError(f"{subject_dir}: missing label file(s) "
                        f"{', '.join(f'{subject_dir.name}_au{a}.txt' for a in missing)}")
    frames: dict[int, np.ndarray] = {}
    for au, path in files.items():
        if au not in DISFA_AUS:
            continue
        for frame, value in _read_disfa_au_file(path, sink):
            frames.setdefault(frame, np.zeros(NUM_AUS, dtype=np.float32))[AU_IDS.index(au)] = value
    return frames


def _read_disfa_au_file(path: Path, sink: _RowSink) -> Iterator[tuple[int, float]]:
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            frame_text, value_text = (part.strip() for part in line.split(","))
            frame, value = int(frame_text), float(value_text)
        except ValueError:
            sink.bad(where, f"expected 'frame,intensity', got {line.strip()!r}")
            continue
        if not math.isfinite(value) or not 0 <= value <= DISFA_SCALE:
            sink.bad(where, f"intensity {value_text} is outside [0, {DISFA_SCALE:g}]")
            continue
        yield frame, value / DISFA_SCALE


_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


def _subject_frames(frames_root: Path, subject: str, frame_offset: int) -> list[tuple[int, Path]]:
    folders = [p for p in frames_root.iterdir() if p.is_dir() and subject.lower() in p.name.lower()]
    numbered = []
    for folder in folders:
        for image in list_images(folder):
            match = _LAST_NUMBER.search(image.stem)
            if match:
                numbered.append((int(match.group(1)) + frame_offset, image))
    return sorted(numbered)


# ---------------------------------------------------------------- format guessing and summaries

def guess_kind(path: str | Path) -> str:
    """The table kind of a path: a folder with ``annotations.csv`` is SynthFACS-format, one with
    ``ActionUnit_Labels`` DISFA; a CSV with a ``frame`` column and ``AU.._r`` columns is OpenFace, else plain."""
    path = Path(path)
    if path.is_dir():
        if (path / "annotations.csv").is_file():
            return "synthfacs"
        if (path / "ActionUnit_Labels").is_dir():
            return "disfa"
        if any(RAFD_NAME.match(p.stem) for p in list_images(path)[:20]):
            return "rafd"
        raise DataError(f"{path}: cannot tell the data set format; pass it explicitly")
    header, _ = _read_csv_rows(path)
    is_openface = "frame" in header and any(h.lower().endswith("_r") and _AU_NAME.match(h) for h in header)
    return "openface" if is_openface else "folder"


@dataclass
class TableSummary:
    """Counts and AU ranges of a list of records (what ``lsgan data check`` prints)."""

    total: int
    per_split: dict[str, int]
    per_emotion: dict[str, int]
    identities_per_split: dict[str, int]
    with_labels: int
    au_min: np.ndarray
    au_mean: np.ndarray
    au_max: np.ndarray
    au_labelled: np.ndarray  # [16] how many records label each AU


def summarize(records: Sequence[AURecord]) -> TableSummary:
    if not records:
        raise DataError("no usable records to summarise")
    mask = np.stack([r.au_mask for r in records])
    aus = np.ma.masked_array(np.stack([r.aus for r in records]), mask=~mask)
    splits = sorted({r.split for r in records})
    return TableSummary(
        total=len(records),
        per_split={s: sum(r.split == s for r in records) for s in splits},
        per_emotion=dict(sorted(Counter(r.emotion or "(none)" for r in records).items())),
        identities_per_split={s: len({r.identity for r in records if r.split == s}) for s in splits},
        with_labels=sum(r.labels is not None for r in records),
        au_min=aus.min(axis=0).filled(np.nan),
        au_mean=aus.mean(axis=0).filled(np.nan),
        au_max=aus.max(axis=0).filled(np.nan),
        au_labelled=mask.sum(axis=0),
    )
