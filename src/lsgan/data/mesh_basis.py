"""The AU mesh basis: how each AU moves the 478 points of mediapipe's face mesh, measured on SynthFACS.

mediapipe's mesh is a model trained on real faces that finds the same points on a render and on a photo. Rendering
one SynthFACS face neutral and then with one AU at a time, and reading both with the mesh, gives that AU's motion in
terms a photo shares. ``build_mesh_basis`` does this for ``identities`` frontal faces at ``levels`` of each AU, puts
every mesh in the aligned crop's frame (the similarity that takes the neutral face's anchors, eye centres and mouth
centre, to ``FaceTemplate``: the frame ``FaceAligner`` gives a photo's crop) and fits, per AU and point, the
displacement per unit of intensity (least squares through zero over the levels, averaged over identities).

AUs the renderer draws together differently from apart are measured as pairs too (``PAIRS``: a smile with parted
lips retracts the upper lip off the teeth, SynthFACS v3's calibration to a real smile): the pair's motion at 1 and 1
less both singles'. ``MeshBasis.motion(source_aus, target_aus)`` is then the mesh motion ``[478, 2]`` of an edit,
f(target) − f(source) with f(a) = Σ_k a_k B_k + Σ_(i,j) a_i a_j B_ij, in fractions of the crop's side; ``lsgan.editing.mesh_motion`` turns it into a displacement field over a photo's face. The basis is a
fixed asset (``lsgan/assets/mesh_basis.safetensors``, rebuilt by ``python scripts/build_mesh_basis.py``), not a
trained network: nothing in it is fitted to photos.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from tqdm import tqdm

from lsgan.atomic import write_bytes
from lsgan.data.faces import FaceTemplate, Landmarks, MediapipeDetector, similarity_matrix
from lsgan.data.synthfacs import render, sample_identity
from lsgan.data.synthfacs.writer import FORMAT_VERSION
from lsgan.errors import CheckpointError
from lsgan.facs import AU_IDS, NUM_AUS, au_index, au_vector

MESH_POINTS = 478
PAIRS: tuple[tuple[int, int], ...] = ((12, 25),)  # AU pairs whose joint motion is not the sum of their own
DEFAULT_BASIS_PATH = Path(__file__).resolve().parents[1] / "assets" / "mesh_basis.safetensors"


@dataclass(frozen=True)
class MeshBasisSettings:
    identities: int = 30
    size: int = 256  # render side: the mesh needs the face large
    levels: tuple[float, ...] = (0.5, 1.0)
    seed: int = 0
    first_identity: int = 100  # identities first_identity .. first_identity + identities - 1 of sample_identity


@dataclass(frozen=True)
class MeshBasis:
    """``displacements`` ``[16, 478, 2]``: per unit of each AU (``facs.AU_IDS`` order), each mesh point's motion
    (x, y) in fractions of the aligned crop's side. ``agreement`` ``[16]``: mean cosine between each identity's
    motion and the mean (1: every face moves the same way). ``pair_displacements`` ``[len(PAIRS), 478, 2]``: each
    pair's motion at (1, 1) beyond the sum of its two AUs'. ``settings`` and ``renderer_version`` say how it was
    made."""

    displacements: np.ndarray
    agreement: np.ndarray
    pair_displacements: np.ndarray
    settings: MeshBasisSettings = field(default_factory=MeshBasisSettings)
    renderer_version: int = 0

    def shape_of(self, aus: np.ndarray) -> np.ndarray:
        """``[478, 2]``: how far the mesh of a face showing ``aus`` [16] lies from its neutral mesh."""
        aus = np.asarray(aus, np.float32)
        pair_weights = np.array([aus[au_index(a)] * aus[au_index(b)] for a, b in PAIRS], np.float32)
        return (np.tensordot(aus, self.displacements, axes=1)
                + np.tensordot(pair_weights, self.pair_displacements, axes=1))

    def motion(self, source_aus: np.ndarray, target_aus: np.ndarray) -> np.ndarray:
        """``[478, 2]`` mesh motion (crop-side fractions) of an edit from ``source_aus`` to ``target_aus``."""
        return self.shape_of(target_aus) - self.shape_of(source_aus)

    def save(self, path: str | Path) -> Path:
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name), np.float32))
                   for name in ("displacements", "agreement", "pair_displacements")}
        metadata = {"settings": json.dumps(asdict(self.settings)), "renderer_version": str(self.renderer_version),
                    "au_ids": json.dumps(list(AU_IDS)), "pairs": json.dumps([list(pair) for pair in PAIRS])}
        return write_bytes(path, save(tensors, metadata), durable=True)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_BASIS_PATH) -> MeshBasis:
        path = Path(path)
        try:
            with safe_open(str(path), framework="np") as handle:
                meta = handle.metadata() or {}
                displacements, agreement = handle.get_tensor("displacements"), handle.get_tensor("agreement")
                pairs = handle.get_tensor("pair_displacements")
        except (SafetensorError, OSError, KeyError) as err:
            raise CheckpointError(f"{path}: not a readable mesh basis ({err})") from None
        if displacements.shape != (NUM_AUS, MESH_POINTS, 2) or not np.isfinite(displacements).all():
            raise CheckpointError(f"{path}: a mesh basis holds finite [{NUM_AUS}, {MESH_POINTS}, 2] displacements, "
                                  f"got shape {displacements.shape}")
        if json.loads(meta.get("au_ids", "[]")) != list(AU_IDS):
            raise CheckpointError(f"{path}: the basis's AUs are not lsgan's {list(AU_IDS)}")
        if json.loads(meta.get("pairs", "[]")) != [list(pair) for pair in PAIRS]:
            raise CheckpointError(f"{path}: the basis's AU pairs are not {list(PAIRS)}: rebuild it "
                                  "(scripts/build_mesh_basis.py)")
        settings = json.loads(meta.get("settings", "{}"))
        settings["levels"] = tuple(settings.get("levels", MeshBasisSettings.levels))
        return cls(displacements, agreement, pairs, MeshBasisSettings(**settings),
                   int(meta.get("renderer_version", 0)))


def build_mesh_basis(settings: MeshBasisSettings | None = None, progress: bool = False) -> MeshBasis:
    """Render, mesh and fit (see the module docstring). About 3 s per identity on one core at the defaults."""
    settings = settings or MeshBasisSettings()
    levels = np.asarray(settings.levels, np.float32)
    template = FaceTemplate().points(1.0)  # the crop frame, side 1
    slopes, joints = [], []  # per identity [16, 478, 2] and [len(PAIRS), 478, 2]
    detector = MediapipeDetector()
    try:
        ids = range(settings.first_identity, settings.first_identity + settings.identities)
        for identity_id in tqdm(ids, desc="mesh basis", disable=not progress):
            identity = sample_identity(identity_id, settings.seed)
            neutral = _mesh(detector, render(identity, np.zeros(NUM_AUS), settings.size).image)
            if neutral is None:
                continue
            to_crop = similarity_matrix(neutral.anchors(), template)
            start = neutral.transformed(to_crop).points
            moves = np.zeros((len(levels), NUM_AUS, MESH_POINTS, 2), np.float32)
            complete = True
            for li, level in enumerate(levels):
                for k, au in enumerate(AU_IDS):
                    posed = _mesh(detector, render(identity, au_vector({au: float(level)}), settings.size).image)
                    if posed is None:
                        complete = False
                        break
                    moves[li, k] = posed.transformed(to_crop).points - start
            pair_meshes = [_mesh(detector, render(identity, au_vector({a: 1.0, b: 1.0}), settings.size).image)
                           for a, b in PAIRS]
            if complete and all(pair is not None for pair in pair_meshes):
                slope = np.tensordot(levels, moves, axes=1) / float(levels @ levels)  # least squares through zero
                slopes.append(slope)
                joints.append(np.stack([pair.transformed(to_crop).points - start - slope[au_index(a)] - slope[au_index(b)]
                                        for pair, (a, b) in zip(pair_meshes, PAIRS)]))
    finally:
        detector.close()
    if not slopes:
        raise CheckpointError("mesh basis: the face mesh found none of the rendered faces")
    per_identity = np.stack(slopes)  # [I, 16, 478, 2]
    mean = per_identity.mean(axis=0)
    pairs = np.stack(joints).mean(axis=0).astype(np.float32)
    return MeshBasis(mean.astype(np.float32), _agreement(per_identity, mean), pairs, settings, FORMAT_VERSION)


def _mesh(detector: MediapipeDetector, image: np.ndarray) -> Landmarks | None:
    """The largest face's 478-point mesh (the detector keeps only faces it meshed), or None."""
    faces = detector.detect(image)
    return faces[0].landmarks if faces else None


def _agreement(per_identity: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``[16]`` mean cosine between each identity's flattened motion and the mean motion."""
    flat = per_identity.reshape(*per_identity.shape[:2], -1)
    reference = mean.reshape(mean.shape[0], -1)
    cosine = (flat * reference).sum(-1) / (np.linalg.norm(flat, axis=-1) * np.linalg.norm(reference, axis=-1) + 1e-12)
    return cosine.mean(axis=0).astype(np.float32)
