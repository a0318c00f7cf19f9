"""A face to copy (``like``) whose expression is lopsided is copied lopsided: a smirk as a smirk, one raised brow as
one.

G_exp reads a face and its mirror image alike (half of ``editing.reading``'s views are mirrored), so its reading of
a smirk has no side, and a copy moved both sides of the edited face alike. The mesh has the side: the asymmetries of
``metrics.photo`` (``corner_asymmetry``: one mouth corner lifted more than the other; ``brow_asymmetry``: one brow
higher). Where the face to copy and the face edited differ in one by at least ``LOPSIDED``, that reading's AUs
(``metrics.photo.ONE_SIDED_AUS``; the corners' depressor AU15 instead of the smile's AU12 for a face copied that
frowns) are given a difference between the picture's two sides that makes the face to copy's asymmetry on the
edited face's mesh (its basis motion, faded across the midline as the edit fades it, ``mesh_motion.side_weights``),
and the edit is rendered in two sides: the picture's left with the left's AUs, the right with the right's
(``Editor.render``'s ``side`` and ``other_aus``).
"""

from __future__ import annotations

import numpy as np

from lsgan.data.mesh_basis import MeshBasis
from lsgan.editing.mesh_motion import face_basis, has_mesh, side_weights
from lsgan.editing.targets import REGION_AUS, TargetRequest, au_settings
from lsgan.facs import AU_IDS, NUM_AUS, au_index, au_vector, subset_indices
from lsgan.metrics.photo import ONE_SIDED_AUS, geometry_readings

# Inter-ocular distances: a face to copy whose asymmetry differs from the edited face's by less is copied on both
# sides alike. The 14 portraits' own asymmetries lie within 0.031 of symmetric (mouth corners, brows) but for one
# face's lopsided smile (0.116) and another's brows (0.073); one-sided edits of them (contempt, one brow raised) at
# 0.085 to 0.23 (docs/real_photos.md, "A lopsided face copied lopsided")
LOPSIDED = 0.05


def side_differences(source_points: np.ndarray | None, like_points: np.ndarray | None, basis: MeshBasis, size: int,
                     frowns: bool = False, narrowing: np.ndarray | None = None) -> np.ndarray:
    """``[16]``: how much more each AU acts on the picture's left than on its right (negative: on its right) for the
    face whose mesh is ``source_points`` (478 points, crop pixels of a ``size`` crop) to show the asymmetries of the
    face whose mesh is ``like_points``; 0 for the AUs of asymmetries that differ by less than ``LOPSIDED``, and
    everywhere when either face has no mediapipe mesh (None: not aligned). At most 1 either way. ``frowns``: the face
    copied draws its corners down more than it smiles, so one corner lower is the lip corner depressor's (AU15) on
    that side, not the smile's on the other. ``narrowing``: the edited face's ``far_side_narrowing``, when read."""
    difference = np.zeros(NUM_AUS, np.float32)
    if source_points is None or like_points is None or not (has_mesh(source_points) and has_mesh(like_points)):
        return difference
    source, like = geometry_readings(source_points), geometry_readings(like_points)
    left = side_weights(source_points[:, 0], size, "left")[:, None]
    basis = face_basis(basis, source_points, narrowing)
    for reading, aus in ONE_SIDED_AUS.items():
        aus = (15,) if frowns and reading == "corner_asymmetry" else aus
        wanted = like[reading] - source[reading]
        if abs(wanted) < LOPSIDED:
            continue
        moved = source_points + left * basis.motion(np.zeros(NUM_AUS), au_vector({au: 1.0 for au in aus})) * size
        per_unit = geometry_readings(moved)[reading] - source[reading]  # the left side's AUs at 1, the right's at 0
        difference[subset_indices(aus)] = np.clip(wanted / per_unit, -1.0, 1.0)
    return difference


def frowns(like_aus: np.ndarray) -> bool:
    """Whether a face to copy, read as ``like_aus`` [16], draws its lip corners down (AU15) more than it smiles."""
    return bool(like_aus[au_index(15)] > like_aus[au_index(12)])


def copied_differences(request: TargetRequest, differences: np.ndarray) -> np.ndarray:
    """``differences`` ``[F, 16]`` as ``request`` takes them: a share of them as of the copy (``intensity``), none for
    the AUs it sets itself (``aus``) or outside its ``region``."""
    share = 1.0 if request.intensity is None else request.intensity
    kept = np.ones(NUM_AUS, bool)
    kept[subset_indices(list(au_settings(request.aus)))] = False
    if request.region is not None:
        kept &= np.isin(AU_IDS, REGION_AUS[request.region])
    return (np.asarray(differences, np.float32) * share * kept).astype(np.float32)


def split_sides(target_aus: np.ndarray, differences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right), each like ``target_aus`` ``[..., 16]``: the picture's left side's AUs and its right's, apart by
    ``differences`` (left minus right, within [-1, 1]) about the target where the 0-1 range allows, else as near it
    as it does; as the target where the difference is 0."""
    target = np.asarray(target_aus, np.float32)
    apart = np.abs(np.asarray(differences, np.float32))
    lower = np.clip(target - apart / 2, 0.0, 1.0 - apart)
    higher = lower + apart
    left = np.where(differences > 0, higher, np.where(differences < 0, lower, target))
    right = np.where(differences > 0, lower, np.where(differences < 0, higher, target))
    return left.astype(np.float32), right.astype(np.float32)
