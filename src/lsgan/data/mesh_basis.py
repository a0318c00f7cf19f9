"""The AU mesh basis: how each AU moves the 478 points of mediapipe's face mesh, measured on SynthFACS.

mediapipe's mesh is a model trained on real faces that finds the same points on a render and on a photo. Rendering
one SynthFACS face neutral and then with one AU at a time, and reading both with the mesh, gives that AU's motion in
terms a photo shares. ``build_mesh_basis`` does this for ``identities`` frontal faces at ``levels`` of each AU, puts
every mesh in the aligned crop's frame (the similarity that takes the neutral face's anchors, eye centres and mouth
centre, to ``FaceTemplate``: the frame ``FaceAligner`` gives a photo's crop) and fits, per AU and point, the
displacement per unit of intensity (least squares through zero over the levels, averaged over identities).

mediapipe's mesh keeps a real face's shape where a render's drawn parts move further: its lid points barely follow
a rendered lid (they read the lash line of a real eye; a render's is drawn), its brows did not draw together for the
brow lowerer (AU4) and rose by about half the rendered brow, its lips missed most of the lip stretcher (AU20) and
the chin raiser's lift (AU17) and narrowed the mouth for AU9, AU10 and AU15, and its chin moved for AUs that leave
the rendered jaw where it is and fell by two thirds of the rendered jaw drop (AU26). So those parts take their
motion from the renderer's own curves: each mesh lid point moves as the rendered lid does at its place along the eye
(``rendered_lid_motion``); each lip contour point as its rendered contour at its place between the corners, and each
point in the red of a lip as the lip's two contours (``rendered_lip_motion``); each point between the lower lip and
the jaw as the two, by its place between them (``rendered_chin_motion``); the brows, the jaw and the skin around them
and around the lips take the motion of the nearest place on the rendered brow, jaw or outer lip, weighted by a
Gaussian of the distance (``carried_motion``), the rest of each point's motion staying as measured. Without the lids
the upper lid raiser (AU5) moved the mesh by a fifth of the render's lid.

AUs the renderer draws together differently from apart are measured as pairs too (``PAIRS``: a smile with parted
lips retracts the upper lip off the teeth, SynthFACS v3's calibration to a real smile; the inner brow raiser holds
the inner brows up against the lowerer, v4's FACS 1+4): the pair's motion at 1 and 1 less both singles'.
``MeshBasis.motion(source_aus, target_aus)`` is then the mesh motion ``[478, 2]`` of an edit, f(target) − f(source)
with f(a) = Σ_k a_k B_k + Σ_(i,j) a_i a_j B_ij, in fractions of the crop's side; ``lsgan.editing.mesh_motion`` turns
it into a displacement field over a photo's face.

SynthFACS's AUs act on both sides of the face alike, so the fitted motion is made mirror-symmetric (``symmetric``:
each point's motion averaged with its mirror point's, mirrored; ``mirror_pairs`` pairs mediapipe's points across the
face's midline): the part that differed between the two sides, about 7 % of it, was mediapipe's noise, such as the
nose tip drifting sideways for the smile. The basis is a fixed asset (``lsgan/assets/mesh_basis.safetensors``,
rebuilt by ``python scripts/build_mesh_basis.py``), not a trained network: nothing in it is fitted to photos.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from tqdm import tqdm

from lsgan.atomic import write_bytes
from lsgan.data.faces import MEDIAPIPE478, FaceTemplate, Landmarks, MediapipeDetector, affine_points, similarity_matrix
from lsgan.data.synthfacs import Identity, Pose, render, sample_identity
from lsgan.data.synthfacs.geometry import AUs, brow_centre, face_shape
from lsgan.data.synthfacs.raster import Canvas
from lsgan.data.synthfacs.writer import FORMAT_VERSION
from lsgan.errors import CheckpointError
from lsgan.facs import AU_IDS, NUM_AUS, au_index, au_vector

MESH_POINTS = 478
PAIRS: tuple[tuple[int, int], ...] = ((12, 25), (1, 4))  # AU pairs whose joint motion is not the sum of their own
# mediapipe's lid contours without the corners, inner to outer: image-left eye (the subject's right), then image-right
UPPER_LIDS: tuple[tuple[int, ...], ...] = ((173, 157, 158, 159, 160, 161, 246), (398, 384, 385, 386, 387, 388, 466))
LOWER_LIDS: tuple[tuple[int, ...], ...] = ((155, 154, 153, 145, 144, 163, 7), (382, 381, 380, 374, 373, 390, 249))
EYE_POINTS: tuple[int, ...] = (MEDIAPIPE478.left_eye + MEDIAPIPE478.right_eye + MEDIAPIPE478.left_iris
                                + MEDIAPIPE478.right_iris)
# mediapipe's lip contours, image-left corner to image-right: upper outer, upper inner, lower inner, lower outer
LIP_CONTOURS: tuple[tuple[int, ...], ...] = (
    (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291),
    (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
    (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),
)
IRIS_START = 468  # mediapipe's points 468 - 477 are the irises' centres and rings
RENDERED_REACH = 0.1  # inter-ocular distances: the Gaussian sigma over which a rendered part's motion reaches skin
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
    made; ``mirror`` ``[478]``: each point's mirror point (``mirror_pairs``), None in a basis made before the motion was
    made symmetric."""

    displacements: np.ndarray
    agreement: np.ndarray
    pair_displacements: np.ndarray
    settings: MeshBasisSettings = field(default_factory=MeshBasisSettings)
    renderer_version: int = 0
    mirror: np.ndarray | None = None

    def shape_of(self, aus: np.ndarray) -> np.ndarray:
        """``[478, 2]``: how far the mesh of a face showing ``aus`` [16] lies from its neutral mesh."""
        aus = np.asarray(aus, np.float32)
        pair_weights = np.array([aus[au_index(a)] * aus[au_index(b)] for a, b in PAIRS], np.float32)
        return (np.tensordot(aus, self.displacements, axes=1)
                + np.tensordot(pair_weights, self.pair_displacements, axes=1))

    def with_gains(self, gains: Mapping[int, float]) -> MeshBasis:
        """This basis with each AU acting ``gains[AU]`` times as strongly (an AU not named: 1): the shape of AUs
        ``a`` becomes this basis's shape of ``a`` × gains, each AU's own motion scaled by its gain and a pair's joint
        term (the product of the two intensities) by the product of the two gains."""
        scale = np.ones(NUM_AUS, np.float32)
        for au, gain in gains.items():
            scale[au_index(au)] = gain
        pair_scale = np.array([scale[au_index(a)] * scale[au_index(b)] for a, b in PAIRS], np.float32)
        return replace(self, displacements=self.displacements * scale[:, None, None],
                       pair_displacements=self.pair_displacements * pair_scale[:, None, None])

    def turned(self, rotation: np.ndarray) -> MeshBasis:
        """This basis in a face's own frame: each motion ``(x, y)`` of the crop's frame becomes ``(x, y) @ rotation``,
        ``rotation`` [2, 2] a rotation whose rows are the face's across and down directions in the crop."""
        rotation = np.asarray(rotation, np.float32)
        return replace(self, displacements=self.displacements @ rotation,
                       pair_displacements=self.pair_displacements @ rotation)

    def foreshortened(self, across: np.ndarray, factors: np.ndarray) -> MeshBasis:
        """This basis with each point's motion along ``across`` [2] (a unit vector: the face's across direction in
        the crop) scaled by ``factors`` [478], its motion at right angles to it kept."""
        across = np.asarray(across, np.float32)
        change = (np.asarray(factors, np.float32) - 1.0)[:, None] * across  # [478, 2]

        def scaled(displacements: np.ndarray) -> np.ndarray:  # [K, 478, 2]
            return displacements + (displacements @ across)[..., None] * change

        return replace(self, displacements=scaled(self.displacements),
                       pair_displacements=scaled(self.pair_displacements))

    def motion(self, source_aus: np.ndarray, target_aus: np.ndarray) -> np.ndarray:
        """``[478, 2]`` mesh motion (crop-side fractions) of an edit from ``source_aus`` to ``target_aus``."""
        return self.shape_of(target_aus) - self.shape_of(source_aus)

    def save(self, path: str | Path) -> Path:
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name), np.float32))
                   for name in ("displacements", "agreement", "pair_displacements")}
        if self.mirror is not None:
            tensors["mirror"] = torch.from_numpy(np.asarray(self.mirror, np.int64))
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
                mirror = handle.get_tensor("mirror") if "mirror" in handle.keys() else None
        except (SafetensorError, OSError, KeyError) as err:
            raise CheckpointError(f"{path}: not a readable mesh basis ({err})") from None
        if displacements.shape != (NUM_AUS, MESH_POINTS, 2) or not np.isfinite(displacements).all():
            raise CheckpointError(f"{path}: a mesh basis holds finite [{NUM_AUS}, {MESH_POINTS}, 2] displacements, "
                                  f"got shape {displacements.shape}")
        if mirror is not None and not _is_pairing(mirror):
            raise CheckpointError(f"{path}: the basis's mirror is not a pairing of the {MESH_POINTS} mesh points")
        if json.loads(meta.get("au_ids", "[]")) != list(AU_IDS):
            raise CheckpointError(f"{path}: the basis's AUs are not lsgan's {list(AU_IDS)}")
        if json.loads(meta.get("pairs", "[]")) != [list(pair) for pair in PAIRS]:
            raise CheckpointError(f"{path}: the basis's AU pairs are not {list(PAIRS)}: rebuild it "
                                  "(scripts/build_mesh_basis.py)")
        settings = json.loads(meta.get("settings", "{}"))
        settings["levels"] = tuple(settings.get("levels", MeshBasisSettings.levels))
        return cls(displacements, agreement, pairs, MeshBasisSettings(**settings),
                   int(meta.get("renderer_version", 0)), mirror)


def build_mesh_basis(settings: MeshBasisSettings | None = None, progress: bool = False) -> MeshBasis:
    """Render, mesh and fit (see the module docstring). About 3 s per identity on one core at the defaults."""
    settings = settings or MeshBasisSettings()
    levels = np.asarray(settings.levels, np.float32)
    template = FaceTemplate().points(1.0)  # the crop frame, side 1
    slopes, joints, starts = [], [], []  # per identity [16, 478, 2], [len(PAIRS), 478, 2] and its neutral [478, 2]
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
                    moves[li, k] = with_rendered_parts(moves[li, k], start, identity, au_vector({au: float(level)}),
                                                      settings.size, to_crop)
            pair_aus = [au_vector({a: 1.0, b: 1.0}) for a, b in PAIRS]
            pair_meshes = [_mesh(detector, render(identity, au_vector({a: 1.0, b: 1.0}), settings.size).image)
                           for a, b in PAIRS]
            if complete and all(pair is not None for pair in pair_meshes):
                slope = np.tensordot(levels, moves, axes=1) / float(levels @ levels)  # least squares through zero
                slopes.append(slope)
                starts.append(start)
                joints.append(np.stack([
                    with_rendered_parts(pair.transformed(to_crop).points - start, start, identity, aus, settings.size,
                                       to_crop) - slope[au_index(a)] - slope[au_index(b)]
                    for pair, aus, (a, b) in zip(pair_meshes, pair_aus, PAIRS)]))
    finally:
        detector.close()
    if not slopes:
        raise CheckpointError("mesh basis: the face mesh found none of the rendered faces")
    per_identity = np.stack(slopes)  # [I, 16, 478, 2]
    mean = per_identity.mean(axis=0)
    mirror = mirror_pairs(np.mean(starts, axis=0), float(template[:2, 0].mean()))  # the eyes' midpoint
    return MeshBasis(symmetric(mean, mirror), _agreement(per_identity, mean),
                     symmetric(np.stack(joints).mean(axis=0), mirror), settings, FORMAT_VERSION, mirror)


def mirror_pairs(points: np.ndarray, midline: float) -> np.ndarray:
    """``[478]``: each point of a frontal mesh ``points`` [478, 2]'s mirror point across the vertical line x =
    ``midline`` (a point on the midline is its own): the one-to-one pairing of the points with their reflections that
    moves them least, irises with irises (an iris's lowest point lies on the lower lid's middle)."""
    reflected = np.stack([2 * midline - points[:, 0], points[:, 1]], axis=1)
    iris = np.arange(len(points)) >= IRIS_START
    apart = iris[:, None] != iris[None]
    rows, cols = linear_sum_assignment(np.linalg.norm(points[:, None] - reflected[None], axis=-1) + 10.0 * apart)
    return cols[np.argsort(rows)].astype(np.int64)


def _is_pairing(mirror: np.ndarray) -> bool:
    """Whether ``mirror`` maps the mesh's points onto each other in pairs (each point the mirror of its mirror)."""
    if mirror.dtype.kind not in "iu" or mirror.shape != (MESH_POINTS,):
        return False
    if mirror.min() < 0 or mirror.max() >= MESH_POINTS:
        return False
    return bool((mirror[mirror] == np.arange(MESH_POINTS)).all())


def symmetric(motion: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """``motion`` [..., 478, 2] averaged with its mirror image: each point's motion with its ``mirror`` point's, x
    negated (float32)."""
    mirrored = motion[..., mirror, :] * np.array([-1.0, 1.0], np.float32)
    return ((motion + mirrored) / 2).astype(np.float32)


def frontal_pixels(curves: Sequence[np.ndarray], size: int) -> np.ndarray:
    """``[C, K, 2]``: face-frame ``curves`` (each [K, 2]) where a frontal ``size``-pixel render draws them, in pixels."""
    pose, canvas = Pose(), Canvas(size, 1)
    return np.asarray([canvas.to_pixels(pose.forward(curve)) for curve in curves], np.float32)


def rendered_lids(identity: Identity, aus: np.ndarray, size: int) -> np.ndarray:
    """``[2, 2, 25, 2]``: per eye (image-left first), the upper and lower lid curves, inner to outer corner, of a
    frontal render of ``identity`` showing ``aus``, in render pixels."""
    lids = []
    for eye in face_shape(identity, aus, aus).eyes:
        half = len(eye.opening) // 2
        lids.append(frontal_pixels([eye.opening[:half], eye.opening[half:][::-1]], size))
    return np.asarray(lids, np.float32)


def rendered_lid_motion(start: np.ndarray, identity: Identity, aus: np.ndarray, size: int, to_crop: np.ndarray
                        ) -> dict[int, np.ndarray]:
    """Mesh lid point -> its motion ``[2]`` (crop fractions) when ``identity`` shows ``aus``: the rendered lid's
    motion at the point's place along the eye. ``start``: the neutral mesh in the crop frame; ``to_crop``: the
    similarity (2×3) from render pixels to it."""
    neutral = in_crop(rendered_lids(identity, np.zeros(NUM_AUS, np.float32), size), to_crop)
    posed = in_crop(rendered_lids(identity, aus, size), to_crop)
    motion = {}
    for eye in range(2):
        for lid, indices in enumerate((UPPER_LIDS[eye], LOWER_LIDS[eye])):
            xs, delta = neutral[eye, lid, :, 0], posed[eye, lid] - neutral[eye, lid]
            order = np.argsort(xs)
            for index in indices:
                motion[index] = _motion_at(start[index, 0], xs[order], delta[order]).astype(np.float32)
    return motion


def in_crop(points: np.ndarray, to_crop: np.ndarray) -> np.ndarray:
    """``points`` [..., 2] in render pixels, taken by the similarity ``to_crop`` (2×3) into crop fractions."""
    return affine_points(points.reshape(-1, 2), to_crop).reshape(points.shape)


def rendered_brows(identity: Identity, aus: np.ndarray, size: int) -> np.ndarray:
    """``[2, K, 2]``: per brow (image-left first), its centre line, inner to outer end, of a frontal render of
    ``identity`` showing ``aus``, in render pixels."""
    return frontal_pixels([brow_centre(identity, side, AUs(aus)) for side in (-1, 1)], size)


def rendered_lips(identity: Identity, aus: np.ndarray, size: int) -> np.ndarray:
    """``[4, K, 2]``: the upper lip's outer and inner contours, then the lower lip's inner and outer ones, each from
    the image-left corner to the image-right one (``LIP_CONTOURS``'s order), of a frontal render of ``identity``
    showing ``aus``, in render pixels."""
    mouth = face_shape(identity, aus, aus).mouth
    half = len(mouth.upper_lip) // 2
    contours = (mouth.upper_lip[:half], mouth.upper_lip[half:][::-1], mouth.lower_lip[:half],
                mouth.lower_lip[half:][::-1])
    return frontal_pixels(contours, size)


def rendered_jaw(identity: Identity, aus: np.ndarray, size: int) -> np.ndarray:
    """``[K, 2]``: the face outline below the eyes (jaw and chin, one cheek round to the other) of a frontal render
    of ``identity`` showing ``aus``, in render pixels. Only the jaw drop (AU26) and the chin raiser (AU17) move it."""
    outline = face_shape(identity, aus, aus).face
    below = outline[outline[:, 1] > identity.eye_y]
    return frontal_pixels([below[np.argsort(below[:, 0])]], size)[0]


def carried_motion(start: np.ndarray, neutral: list[np.ndarray], posed: list[np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Rendered curves' motion carried to the skin around them: ``weight`` [478] in [0, 1] and the weighted
    ``motion`` [478, 2]. ``start``: the neutral mesh; ``neutral``, ``posed``: curves [K, 2] (K per curve); all in
    crop fractions. Each point takes the motion of the nearest place on each curve, weighted by a Gaussian of its
    distance to it (``RENDERED_REACH`` inter-ocular distances): 1 on a curve, fading over the skin around it; where
    two curves reach (between the brows) they share the point. The eye contours and irises take none (their lids
    move as rendered)."""
    reach = RENDERED_REACH * FaceTemplate().eye_distance
    weights = np.zeros((len(neutral), MESH_POINTS), np.float32)
    motion = np.zeros((len(neutral), MESH_POINTS, 2), np.float32)
    for k, (curve, moved) in enumerate(zip(neutral, posed)):
        distance = np.linalg.norm(start[:, None] - curve[None], axis=-1)  # [478, K]
        weights[k] = np.exp(-0.5 * (distance.min(axis=1) / reach) ** 2)
        motion[k] = (moved - curve)[distance.argmin(axis=1)]
    weights[:, list(EYE_POINTS)] = 0.0
    weights = weights / np.maximum(weights.sum(axis=0), 1.0)
    return weights.sum(axis=0), (weights[..., None] * motion).sum(axis=0)


def rendered_lip_motion(start: np.ndarray, neutral: np.ndarray, posed: np.ndarray) -> dict[int, np.ndarray]:
    """Mesh point on or inside the lips -> its motion ``[2]``, from the rendered contours (``rendered_lips``
    [4, K, 2], crop fractions, neutral and posed) at the point's place between the corners: a contour point
    (``LIP_CONTOURS``) moves as its contour does; a point in the red of a lip (mediapipe's rings between the contours)
    as the lip's outer and inner contours do, mixed by its place between them (else the inner contour of an opening
    mouth passes the points beside it: a fold). mediapipe's lips keep a real mouth's shape: on renders they missed
    most of the lip stretcher (AU20) and the chin raiser's lift (AU17), and narrowed the mouth for AU9, AU10 and
    AU15, which widen it or leave it."""
    along = (neutral[0, :, 0] - neutral[0, 0, 0]) / (neutral[0, -1, 0] - neutral[0, 0, 0])  # 0 at the image-left
    delta = posed - neutral  # corner, 1 at the other; the four contours share their x

    def change_at(t: float) -> np.ndarray:  # [4, 2]: each contour's motion at place t between the corners
        return np.stack([_motion_at(t, along, d) for d in delta])

    motion = {index: change_at(_lip_place(start, index, indices))[k].astype(np.float32)
              for k, indices in enumerate(LIP_CONTOURS) for index in indices}
    for index, (upper, share) in _inside_the_lips(start, set(motion)).items():
        outer, inner = (0, 1) if upper else (3, 2)
        change = change_at(_lip_place(start, index, LIP_CONTOURS[0]))
        motion[index] = ((1 - share) * change[outer] + share * change[inner]).astype(np.float32)
    return motion


def rendered_chin_motion(start: np.ndarray, lips: Sequence[np.ndarray], jaw: Sequence[np.ndarray]
                         ) -> dict[int, np.ndarray]:
    """Mesh point between the lower lip and the jaw (below the lips, between the mouth corners) -> its motion ``[2]``:
    the rendered lower lip's and jaw's motions at its x, mixed by its place between the two (``lips``:
    ``rendered_lips`` neutral and posed, ``jaw``: ``rendered_jaw`` neutral and posed, crop fractions). On renders
    mediapipe's chin fell 0.25 inter-ocular distances for the jaw drop (AU26) where the rendered jaw falls 0.36 and
    the rendered lower lip 0.39: the skin between them was squeezed into a short chin under every open mouth."""
    lip, lip_change = lips[0][3], lips[1][3] - lips[0][3]  # the lower lip's outer contour, left to right
    left, right = lip[0, 0], lip[-1, 0]
    chin, chin_change = _chin_arc(jaw[0], jaw[1] - jaw[0], left, right, lip[:, 1].max())
    motion = {}
    for index in range(MESH_POINTS):
        x, y = start[index]
        lip_y, chin_y = np.interp(x, lip[:, 0], lip[:, 1]), np.interp(x, chin[:, 0], chin[:, 1])
        if left < x < right and lip_y < y < chin_y:
            share = (y - lip_y) / (chin_y - lip_y)
            motion[index] = ((1 - share) * _motion_at(x, lip[:, 0], lip_change)
                             + share * _motion_at(x, chin[:, 0], chin_change)).astype(np.float32)
    return motion


def _chin_arc(jaw: np.ndarray, change: np.ndarray, left: float, right: float, lip_bottom: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """The part of the jaw ``[K, 2]`` (and of its ``change``) under the mouth, from a little left of its corner
    ``left`` to a little right of ``right`` and below ``lip_bottom``: one height per x."""
    under = (jaw[:, 0] > left - 0.05) & (jaw[:, 0] < right + 0.05) & (jaw[:, 1] > lip_bottom)
    return jaw[under], change[under]


def _motion_at(x: float, xs: np.ndarray, change: np.ndarray) -> np.ndarray:
    """``[2]``: a curve's ``change`` ``[K, 2]`` at ``x``, interpolated along its points' ``xs`` (increasing)."""
    return np.array([np.interp(x, xs, change[:, 0]), np.interp(x, xs, change[:, 1])])


def _lip_place(start: np.ndarray, index: int, contour: tuple[int, ...]) -> float:
    """Where mesh point ``index`` lies between the first and last points of ``contour``, along x (0 to 1)."""
    left, right = start[contour[0], 0], start[contour[-1], 0]
    return float((start[index, 0] - left) / (right - left))


def _inside_the_lips(start: np.ndarray, contour_points: set[int]) -> dict[int, tuple[bool, float]]:
    """Mesh point (not on a contour) in the red of a lip -> (in the upper lip, its place from the lip's outer
    contour, 0, to its inner one, 1), judged by the mesh's own contours at its place between the corners."""
    corners = LIP_CONTOURS[0]
    contours = []  # each contour's (places, heights), in order of place
    for indices in LIP_CONTOURS:
        places = np.array([_lip_place(start, i, corners) for i in indices])
        order = np.argsort(places)
        contours.append((places[order], start[list(indices), 1][order]))
    inside = {}
    for index in sorted(set(range(MESH_POINTS)) - contour_points):
        t = _lip_place(start, index, corners)
        if not 0.0 < t < 1.0:
            continue
        heights = [np.interp(t, places, ys) for places, ys in contours]
        for upper, (outer, inner) in ((True, (0, 1)), (False, (3, 2))):
            low, high = sorted((heights[outer], heights[inner]))
            if low < start[index, 1] < high:
                inside[index] = (upper, float((start[index, 1] - heights[outer]) / (heights[inner] - heights[outer])))
    return inside


def with_rendered_parts(move: np.ndarray, start: np.ndarray, identity: Identity, aus: np.ndarray, size: int,
                        to_crop: np.ndarray) -> np.ndarray:
    """``move`` [478, 2] (a measured mesh motion) with the brows, lips, jaw and the skin around them moved as the
    rendered ones are (``carried_motion``), the lip contours as the rendered lips, the chin between the lower lip and
    the jaw as the two (``rendered_chin_motion``) and the lids as the rendered lids."""
    zero = np.zeros(NUM_AUS, np.float32)
    brows = [in_crop(rendered_brows(identity, a, size), to_crop) for a in (zero, aus)]
    lips = [in_crop(rendered_lips(identity, a, size), to_crop) for a in (zero, aus)]
    jaw = [in_crop(rendered_jaw(identity, a, size), to_crop) for a in (zero, aus)]
    outer = [0, 3]  # the skin around the mouth follows the outer lip contours
    weight, carried = carried_motion(start, [*brows[0], *lips[0][outer], jaw[0]], [*brows[1], *lips[1][outer], jaw[1]])
    move = (1 - weight[:, None]) * move + carried
    parts = (rendered_chin_motion(start, lips, jaw) | rendered_lip_motion(start, *lips)
             | rendered_lid_motion(start, identity, aus, size, to_crop))
    for index, delta in parts.items():
        move[index] = delta
    return move.astype(np.float32)


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
