"""Face geometry: the identity's 2D layout deformed by the action units.

Every AU is a displacement of named control points (brows, lids, lip corners, jaw, nose wings...) scaled by its
intensity, plus "grooves" (wrinkles, folds) and "bumps" (cheeks, chin boss) for the height model. Displacements
of different AUs add. Each side of the face reads its own AU vector so one-sided actions (contempt) are possible;
midline features read the mean of both sides.

Frame: the head's own ("face") frame in image units, x right, y down, before pose; side -1 is image-left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lsgan.data.synthfacs.identity import Identity
from lsgan.data.synthfacs.raster import catmull_rom
from lsgan.facs import AU_IDS

SIDES = (-1, 1)  # image-left, image-right

# The folds the height model draws (``Groove.kind``)
GROOVE_KINDS = ("lid_crease", "lower_lid", "infraorbital", "crows_feet", "forehead", "glabella", "nose_ridge", "ala",
                "nose_wrinkle", "lip_rim", "nasolabial", "dimple", "depressor", "sulcus")

HEAD_RADII = (0.62, 0.95)  # the ellipsoid that stands in for the skull (x, y half-axes)
HEAD_DEPTH = 0.55
HEAD_CENTRE_Y = -0.05


def head_depth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Height of the head ellipsoid above the image plane (0 outside it)."""
    r2 = (x / HEAD_RADII[0]) ** 2 + ((y - HEAD_CENTRE_Y) / HEAD_RADII[1]) ** 2
    return HEAD_DEPTH * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))


class AUs:
    """Intensity lookup by AU number: ``aus[12]``."""

    def __init__(self, vector: np.ndarray):
        self.vector = np.asarray(vector, dtype=np.float64)

    def __getitem__(self, au: int) -> float:
        return float(self.vector[AU_IDS.index(au)])


@dataclass(frozen=True)
class Groove:
    """A crease in the height field along ``line`` (negative depth makes a ridge); depth tapers at both ends."""

    line: np.ndarray
    depth: float
    width: float
    darken: float = 1.0  # how much the crease also darkens the albedo (folds trap shadow whatever the light)
    rest: float = 0.0  # the part of ``depth`` a neutral face has (the rest is what its AUs make)
    kind: str = ""  # which fold it is (GROOVE_KINDS), so that its shading can be chosen apart from the others


@dataclass(frozen=True)
class Bump:
    """A Gaussian bump of the height field."""

    centre: tuple[float, float]
    sigma: tuple[float, float]
    amplitude: float


@dataclass(frozen=True)
class Eye:
    opening: np.ndarray  # closed outline of the visible eyeball between the lids
    lashes: np.ndarray  # closed outline of the dark lash line along the upper lid
    iris_centre: tuple[float, float]
    iris_radius: float
    centre: tuple[float, float]


@dataclass(frozen=True)
class Mouth:
    upper_lip: np.ndarray
    lower_lip: np.ndarray
    interior: np.ndarray  # degenerate (zero area) when the lips are closed
    upper_teeth: np.ndarray
    lower_teeth: np.ndarray
    corners: tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Nose:
    outline: np.ndarray
    tip: tuple[float, float]
    nostrils: tuple[tuple[float, float], tuple[float, float]]
    wings: tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Glasses:
    rims_outer: tuple[np.ndarray, np.ndarray]
    rims_inner: tuple[np.ndarray, np.ndarray]
    bars: tuple[np.ndarray, ...]  # bridge and temple arms as closed stroke outlines


@dataclass(frozen=True)
class FaceShape:
    """All outlines of one face, in the face frame (the pose moves them all, neck and shoulders included)."""

    face: np.ndarray
    hair_back: np.ndarray
    hair_front: tuple[np.ndarray, ...]
    ears: tuple[np.ndarray, np.ndarray]
    brows: tuple[np.ndarray, np.ndarray]
    eyes: tuple[Eye, Eye]
    nose: Nose
    mouth: Mouth
    glasses: Glasses | None
    neck: np.ndarray
    clothes: np.ndarray
    grooves: list[Groove] = field(default_factory=list)
    bumps: list[Bump] = field(default_factory=list)
    hair_volume: float = 0.0  # how far the hair stands off the skull (shading puts the hair on a dome this much larger)
    chin_dimpling: float = 0.0
    chin_centre: tuple[float, float] = (0.0, 0.6)


def stroke(line: np.ndarray, widths: np.ndarray | float) -> np.ndarray:
    """Closed outline of a polyline [N, 2] drawn with a (per-point) width."""
    line = np.asarray(line, dtype=np.float64)
    tangent = np.gradient(line, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    half = np.broadcast_to(np.asarray(widths, dtype=np.float64) / 2, (len(line),))[:, None]
    return np.concatenate([line + normal * half, (line - normal * half)[::-1]])


def ellipse(centre: tuple[float, float], radii: tuple[float, float], count: int = 40, power: float = 2.0) -> np.ndarray:
    """Closed outline of an ellipse (``power`` > 2 gives a rounded rectangle / superellipse)."""
    angle = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    c, s = np.cos(angle), np.sin(angle)
    x = np.sign(c) * np.abs(c) ** (2 / power)
    y = np.sign(s) * np.abs(s) ** (2 / power)
    return np.stack([centre[0] + radii[0] * x, centre[1] + radii[1] * y], axis=1)


def _bell(t: np.ndarray, power: float = 1.0) -> np.ndarray:
    return np.sin(np.pi * np.clip(t, 0.0, 1.0)) ** power


# ----------------------------------------------------------------------------------------------------- brows / eyes
def brow_outline(ident: Identity, side: int, au: AUs) -> np.ndarray:
    t = np.linspace(0.0, 1.0, 9)
    thickness = ident.brow_thickness * (1.05 - 0.6 * t**1.2) * (1 + 0.2 * au[4])
    centre = brow_centre(ident, side, au)
    return stroke(centre, np.interp(np.linspace(0, 1, len(centre)), t, thickness))


def brow_centre(ident: Identity, side: int, au: AUs) -> np.ndarray:
    """``[K, 2]`` a brow's centre line, inner to outer end (face frame): the stroke ``brow_outline`` draws around."""
    return catmull_rom(_brow_controls(ident, side, au), samples=4)


def _brow_controls(ident: Identity, side: int, au: AUs) -> np.ndarray:
    """``[9, 2]`` the control points of a brow's centre line, inner to outer end (face frame)."""
    t = np.linspace(0.0, 1.0, 9)
    inner_x = side * (ident.eye_spacing - ident.eye_half_width * 0.95)
    outer_x = side * (ident.eye_spacing + ident.eye_half_width * 1.3)
    x = inner_x + (outer_x - inner_x) * t
    y = ident.eye_y - ident.brow_gap - ident.brow_arch * _bell(t**0.75) + 0.014 * t
    inner_weight, outer_weight = (1 - t) ** 1.6, t**1.3
    y = y - 0.07 * au[1] * inner_weight - 0.065 * au[2] * outer_weight
    # FACS 1+4: the inner brow raiser holds the inner end up against the lowerer, which still knits the brows and
    # lowers their outer part (the oblique brow of sadness and fear), so AU1 cancels AU4's inner share of lowering
    y = y + 0.068 * au[4] * (0.35 + (0.65 - au[1]) * inner_weight) + 0.03 * au[9] * (0.3 + 0.7 * inner_weight)
    y = y + 0.01 * au[7] * (1 - inner_weight)  # the tightened lids drag the brow down a little
    x = x - side * (0.042 * au[4] + 0.012 * au[9]) * inner_weight
    return np.stack([x, y], axis=1)


def eye_shape(ident: Identity, side: int, au: AUs) -> tuple[Eye, list[Groove], list[Bump]]:
    cx, cy, half, opening = side * ident.eye_spacing, ident.eye_y, ident.eye_half_width, ident.eye_opening
    t = np.linspace(0.0, 1.0, 25)  # inner corner -> outer corner
    x = cx + side * half * (2 * t - 1)
    base = cy + ident.eye_tilt * (0.5 - t)
    # AU6 (orbicularis, orbital part) pushes the lower lid up from below and narrows the eye to a crescent;
    # AU7 (palpebral part) tightens both lids and raises and straightens the lower lid
    upper_h = opening * max(0.25, 1 + 0.8 * au[5] - 0.45 * au[7] - 0.12 * au[6] - 0.25 * au[4] - 0.15 * au[9])
    lower_h = opening * 0.72 * max(0.08, 1 - 0.62 * au[6] - 0.75 * au[7] - 0.2 * au[9] + 0.1 * au[5])
    upper = np.stack([x, base - upper_h * _bell(t**0.85, 0.85)], axis=1)
    # the cheek pushes the middle of the lower lid up further than its corners: the eye becomes a crescent
    crescent = 0.25 * opening * au[6] * _bell(t**1.1, 1.5)
    lower = np.stack([x, base + lower_h * _bell(t**1.15, 1.0 - 0.5 * au[7]) - crescent], axis=1)
    lash_width = 0.006 + 0.012 * t**0.8 * _bell(t * 0.9 + 0.05, 0.3)
    lash_line = np.concatenate([upper, [[x[-1] + side * 0.012, base[-1] - 0.006]]])
    lashes = stroke(lash_line - [0, 0.003], np.append(lash_width, 0.002))
    iris = (cx - side * 0.004, cy - 0.1 * opening)
    eye = Eye(np.concatenate([upper, lower[::-1]]), lashes, iris, ident.iris_radius, (cx, cy))

    crease_t = t[3:-2]
    crease_lift = opening * 0.95 + 0.03 - 0.3 * 0.045 * au[4]
    crease = np.stack([x[3:-2], base[3:-2] - crease_lift * _bell(crease_t**0.85, 0.8)], axis=1)
    under_lid = np.stack([x[4:-3], base[4:-3] + (lower_h + 0.02) * _bell(t[4:-3] ** 1.15)], axis=1)
    # infra-orbital furrow: the cheek pushed up against the lid leaves a fold below the lower lid
    fold_t = t[2:-1]
    cheek_fold = np.stack(
        [x[2:-1], base[2:-1] + lower_h + 0.05 - 0.012 * au[6] + 0.012 * _bell(fold_t, 1.0) - 0.006 * fold_t], axis=1
    )
    grooves = [
        Groove(crease, 0.010, 0.007, darken=1.5, rest=0.010, kind="lid_crease"),
        Groove(under_lid, 0.005 + 0.006 * au[7], 0.006, darken=1.5, rest=0.005, kind="lower_lid"),
        Groove(cheek_fold, 0.02 * au[6] + 0.01 * au[7] + 0.008 * au[9], 0.009, kind="infraorbital"),
        *crows_feet(side, (x[-1], base[-1]), au[6] + 0.3 * au[7]),
    ]
    bumps = []
    if au[7] > 0:  # the tensed lower lid rolls into a ridge under the lashes
        bumps.append(Bump((cx, base[12] + lower_h + 0.012), (half * 0.6, 0.01), 0.012 * au[7]))
    if au[6] > 0:  # the bulge of the lower-lid skin and cheek, pushed up under the eye
        bumps.append(Bump((cx + side * 0.01, base[12] + lower_h + 0.035), (half * 0.85, 0.022), 0.02 * au[6]))
    return eye, grooves, bumps


def crows_feet(side: int, corner: tuple[float, float], amount: float) -> list[Groove]:
    if amount <= 0:
        return []
    grooves = []
    for angle, length in zip(np.deg2rad((-38.0, -16.0, 4.0, 24.0)), (0.07, 0.085, 0.09, 0.075)):
        direction = np.array([side * np.cos(angle), np.sin(angle)])
        line = np.array(corner) + np.outer(np.linspace(0.015, length, 4), direction)
        grooves.append(Groove(line, 0.014 * amount, 0.0055, darken=1.5, kind="crows_feet"))
    return grooves


def forehead_and_glabella(ident: Identity, left: AUs, right: AUs, mean: AUs) -> list[Groove]:
    brow_top = ident.eye_y - ident.brow_gap - ident.brow_thickness
    grooves = []
    for k in range(3):
        y0 = brow_top - 0.075 - 0.05 * k
        if mean[1] > 0:
            x = np.linspace(-0.16, 0.16, 7)
            grooves.append(Groove(np.stack([x, y0 - 0.06 * mean[1] + 0.6 * x**2], axis=1), 0.011 * mean[1], 0.008,
                                  kind="forehead"))
        for side, au in zip(SIDES, (left, right)):
            if au[2] > 0:
                x = side * np.linspace(0.1, 0.36, 7)
                y = y0 - 0.05 * au[2] - 0.02 * np.sin(np.pi * (np.abs(x) - 0.1) / 0.26)
                grooves.append(Groove(np.stack([x, y], axis=1), 0.011 * au[2], 0.008, kind="forehead"))
    if mean[4] > 0:
        inner_brow_y = ident.eye_y - ident.brow_gap + 0.04 * mean[4]
        for x0 in (-0.026, 0.026):  # vertical glabellar lines, bowing out towards the brows
            points = [[x0 * 0.8, inner_brow_y - 0.075], [x0 * 1.1, inner_brow_y - 0.025]]
            points.append([x0 * 1.3, inner_brow_y + 0.02])
            line = catmull_rom(np.array(points), 3)
            grooves.append(Groove(line, 0.016 * mean[4], 0.0065, darken=1.1, kind="glabella"))
    return grooves


# ------------------------------------------------------------------------------------------------------------ nose
def nose_shape(ident: Identity, mean: AUs) -> tuple[Nose, list[Groove], list[Bump]]:
    tip_y = ident.nose_tip_y - 0.014 * mean[9] - 0.004 * mean[10]
    half = ident.nose_half_width * (1 + 0.14 * mean[9] + 0.05 * mean[10])
    wing_y = tip_y - 0.005 - 0.035 * mean[9] - 0.015 * mean[10]
    left_side = np.array(
        [
            [-0.03, ident.eye_y + 0.0],
            [-0.038, (ident.eye_y + tip_y) / 2],
            [-half * 0.75, tip_y - 0.06],
            [-half, wing_y],
            [-half * 0.8, wing_y + 0.032],
            [-0.03, tip_y + 0.03],
        ]
    )
    bottom_mid = [[0.0, tip_y + 0.033]]
    outline = catmull_rom(np.concatenate([left_side, bottom_mid, left_side[::-1] * [-1, 1]]), samples=5, closed=False)
    nostrils = tuple((s * (0.032 + 0.006 * mean[9]), tip_y + 0.015 - 0.014 * mean[9]) for s in SIDES)
    wings = tuple((s * half * 0.8, wing_y) for s in SIDES)
    ridge = np.array([[0.0, ident.eye_y - 0.02], [0.0, tip_y - 0.02]])
    grooves = [Groove(ridge, -0.05 * ident.nose_height, 0.05, darken=0.0, rest=-0.05 * ident.nose_height,
                      kind="nose_ridge")]
    for s in SIDES:
        ala = catmull_rom(
            np.array(
                [[s * half * 0.6, wing_y - 0.045], [s * half * 1.02, wing_y - 0.005], [s * half * 0.75, wing_y + 0.03]]
            ),
            4,
        )
        grooves.append(Groove(ala, 0.014, 0.007, darken=1.2, rest=0.014, kind="ala"))
    if mean[9] > 0:  # wrinkles across the root and bridge of the nose, and oblique ones down its sides
        for k in range(4):
            y = ident.eye_y - 0.005 + 0.026 * k
            w = 0.045 + 0.006 * k
            grooves.append(
                Groove(np.array([[-w, y + 0.008], [0.0, y], [w, y + 0.008]]), 0.018 * mean[9], 0.0055, darken=1.8,
                       kind="nose_wrinkle")
            )
        for s in SIDES:
            for k in range(2):
                top = (s * (0.035 + 0.012 * k), ident.eye_y + 0.035 + 0.03 * k)
                line = np.array([top, (top[0] + s * 0.035, top[1] + 0.035)])
                grooves.append(Groove(line, 0.014 * mean[9], 0.0055, darken=1.6, kind="nose_wrinkle"))
    bumps = [Bump((0.0, tip_y - 0.015), (0.04, 0.035), 0.075 * ident.nose_height)]
    bumps += [Bump(w, (0.022, 0.02), 0.03) for w in wings]
    bumps += [Bump(n, (0.013, 0.007), -0.03) for n in nostrils]
    nose = Nose(
        np.concatenate([outline, [[-0.03, ident.eye_y - 0.01], [0.03, ident.eye_y - 0.01]]]),
        (0.0, tip_y),
        nostrils,
        wings,
    )
    return nose, grooves, bumps


# ----------------------------------------------------------------------------------------------------------- mouth
def lip_corner(ident: Identity, side: int, au: AUs) -> tuple[float, float]:
    # AU12 (version 3): calibrated so that the happy prototype widens the mouth by ~0.25 inter-ocular distances,
    # as a real broad smile does (docs/synthfacs.md, "AU12 and AU25 calibrated to a real smile")
    dx = 0.065 * au[12] + 0.06 * au[20] - 0.04 * au[14] - 0.032 * au[23] + 0.006 * au[15] - 0.025 * au[26]
    dy = -0.078 * au[12] - 0.012 * au[14] + 0.045 * au[15] + 0.015 * au[20] - 0.012 * au[10] - 0.006 * au[9]
    dy += 0.03 * au[26] - 0.006 * au[17]
    return side * (ident.mouth_half_width + dx), ident.mouth_y + dy


MIN_LIP = 0.2  # thinnest a lip gets, as a share of the identity's (AU23 alone leaves 0.25)


def jaw_drop(mean: AUs) -> float:
    return 0.16 * mean[26]


def mouth_shape(ident: Identity, left: AUs, right: AUs, mean: AUs) -> tuple[Mouth, list[Groove], list[Bump]]:
    corners = (lip_corner(ident, -1, left), lip_corner(ident, 1, right))
    t = np.linspace(0.0, 1.0, 41)
    x = corners[0][0] + (corners[1][0] - corners[0][0]) * t
    base = corners[0][1] + (corners[1][1] - corners[0][1]) * t
    bell = _bell(t)
    # the lip line bends: smiling corners rise more than its middle (a U), depressed corners sink more (a frown)
    bend = 0.006 + 0.07 * mean[12] - 0.03 * mean[15] - 0.026 * mean[17] - 0.005 * mean[23]
    stomion = base + bend * bell - 0.012 * mean[17] * bell  # AU17 pushes the lower lip, and the lip line, up
    # AU10 (and AU9 with it) draws the upper lip up, its middle squarish: the upper teeth show
    raise_up = (0.045 * mean[10] + 0.022 * mean[9]) * bell**0.8  # an inverted U: the middle rises most
    # a smile with parted lips retracts the upper lip off the upper teeth, which stay where they are; the lips
    # need only part a little for it (saturates at AU25 1); with AU25 0.5 it is most of the happy prototype's gap
    retract = 0.047 * mean[12] * mean[25] * (2 - mean[25]) * bell**0.8
    gap_up = (0.016 * mean[25] + 0.004 * mean[26]) * bell**0.8 + raise_up + retract
    gap_down = (0.035 * mean[25]) * bell**0.8 + 0.9 * jaw_drop(mean) * bell**0.55 - 0.01 * mean[17] * bell
    # AU23 presses the red of the lips into a thin line; stretched by AU12 or AU20 as well, a line still shows
    upper_thick = ident.upper_lip * max(
        MIN_LIP, 1 - 0.75 * mean[23] - 0.2 * mean[20] - 0.25 * mean[12] + 0.1 * mean[10] - 0.15 * mean[10] * mean[23]
    )
    lower_thick = ident.lower_lip * max(
        MIN_LIP, 1 - 0.72 * mean[23] - 0.2 * mean[20] - 0.1 * mean[12] + 0.2 * mean[17]
    )
    bow = bell**0.55 * (1 - 0.3 * np.exp(-(((t - 0.5) / 0.05) ** 2))) + 0.12 * np.exp(
        -(((np.abs(t - 0.5) - 0.1) / 0.05) ** 2)
    )
    upper_inner = stomion - gap_up
    lower_inner = stomion + np.maximum(gap_down, 0.0)
    upper_outer = upper_inner - upper_thick * bow
    lower_outer = lower_inner + lower_thick * bell**0.6

    def curve(y: np.ndarray, lo: int = 0, hi: int = len(t)) -> np.ndarray:
        return np.stack([x[lo:hi], y[lo:hi]], axis=1)

    upper_teeth_lo, upper_teeth_hi = 6, 35
    teeth_t = (t - 0.5) / 0.36
    teeth_top = curve(upper_inner - 0.02, upper_teeth_lo, upper_teeth_hi)
    teeth_bottom = curve(upper_inner + retract + 0.034 - 0.018 * teeth_t**2, upper_teeth_lo, upper_teeth_hi)[::-1]
    lower_top = curve(lower_inner - 0.016 + 0.01 * ((t - 0.5) / 0.3) ** 2, 9, 32)
    lower_bottom = curve(lower_inner + 0.02, 9, 32)[::-1]
    mouth = Mouth(
        upper_lip=np.concatenate([curve(upper_outer), curve(upper_inner)[::-1]]),
        lower_lip=np.concatenate([curve(lower_inner), curve(lower_outer)[::-1]]),
        interior=np.concatenate([curve(upper_inner), curve(lower_inner)[::-1]]),
        upper_teeth=np.concatenate([teeth_top, teeth_bottom]),
        lower_teeth=np.concatenate([lower_top, lower_bottom]),
        corners=corners,
    )
    grooves, bumps = mouth_folds(ident, corners, (left, right), float(lower_outer[20]), mean)
    if mean[23] > 0:  # tightened lips: the skin rims around the red of the lips stand out
        grooves.append(Groove(curve(upper_outer - 0.008, 6, 35), -0.01 * mean[23], 0.008, darken=0.0, kind="lip_rim"))
        grooves.append(Groove(curve(lower_outer + 0.008, 8, 33), -0.01 * mean[23], 0.008, darken=0.0, kind="lip_rim"))
    return mouth, grooves, bumps


def mouth_folds(
    ident: Identity,
    corners: tuple[tuple[float, float], tuple[float, float]],
    side_aus: tuple[AUs, AUs],
    lower_lip_bottom: float,
    mean: AUs,
) -> tuple[list[Groove], list[Bump]]:
    """Nasolabial folds, dimples (AU14), depressor furrows (AU15), cheek bulges and the mentolabial sulcus."""
    grooves, bumps = [], []
    wing_y = ident.nose_tip_y - 0.01
    for s, corner, au in zip(SIDES, corners, side_aus):
        cx, cy = corner
        fold = catmull_rom(
            np.array(
                [
                    [s * (ident.nose_half_width + 0.01), wing_y - 0.02],
                    [s * (ident.nose_half_width + 0.045 + 0.02 * au[12]), (wing_y + cy) / 2],
                    [cx + s * 0.03, cy + 0.035],
                    [cx + s * 0.025, cy + 0.08],
                ]
            ),
            5,
        )
        depth = 0.003 + 0.013 * (au[12] + 1.1 * au[10] + 0.8 * au[9] + 0.4 * au[6] + 0.3 * au[20] + 0.3 * au[14])
        grooves.append(Groove(fold, depth, 0.015, darken=0.6, rest=0.003, kind="nasolabial"))
        if au[14] > 0:  # dimpler: a pit lateral to the tightened corner, the corner skin bunched around it
            grooves.append(
                Groove(np.array([[cx + s * 0.012, cy - 0.02], [cx + s * 0.02, cy + 0.016]]), 0.024 * au[14], 0.006,
                       kind="dimple")
            )
            bumps.append(Bump((cx + s * 0.03, cy + 0.002), (0.009, 0.012), -0.035 * au[14]))
            bumps.append(Bump((cx + s * 0.05, cy - 0.004), (0.022, 0.026), 0.012 * au[14]))
        if au[15] > 0:
            grooves.append(
                Groove(np.array([[cx + s * 0.004, cy + 0.02], [cx + s * 0.022, cy + 0.075]]), 0.012 * au[15], 0.007,
                       kind="depressor")
            )
        cheek = (s * (0.27 - 0.02 * au[6]), ident.nose_tip_y - 0.02 - 0.075 * au[6])
        bumps.append(Bump(cheek, (0.12, 0.095 - 0.012 * au[6]), 0.03 + 0.045 * au[6]))
        if au[12] > 0:  # the smile bunches the cheek above the nasolabial fold
            bumps.append(Bump((cx + s * 0.055, cy - 0.075), (0.06, 0.05), 0.04 * au[12]))
    x = np.linspace(-0.07, 0.07, 5)
    sulcus = lower_lip_bottom + 0.03 - 0.008 * mean[17] + 2.0 * x**2
    grooves.append(Groove(np.stack([x, sulcus], axis=1), 0.007 + 0.014 * mean[17], 0.01, rest=0.007, kind="sulcus"))
    return grooves, bumps


# ------------------------------------------------------------------------------------------------- outline and hair
def face_outline(ident: Identity, mean: AUs) -> np.ndarray:
    fw, jw, cw, eye_y = ident.face_half_width, ident.jaw_half_width, ident.chin_half_width, ident.eye_y
    drop = jaw_drop(mean)
    jaw_y = ident.mouth_y + 0.03
    left = np.array(
        [
            [-fw * 0.96, eye_y - 0.22],
            [-fw, eye_y + 0.07],
            [-(fw * 0.55 + jw * 0.45), (eye_y + 0.07 + jaw_y) / 2 + 0.1 * drop],
            [-jw, jaw_y + 0.35 * drop],
            [-(cw + (jw - cw) * 0.45), ident.chin_y - 0.09 + 0.8 * drop],
            [-cw, ident.chin_y - 0.015 + drop],
        ]
    )
    chin = [[0.0, ident.chin_y + drop - 0.006 * mean[17]]]
    dome_centre_y = eye_y - 0.22
    angle = np.linspace(0.15, np.pi - 0.15, 9)
    dome = np.stack(
        [fw * 0.96 * np.cos(angle), dome_centre_y - (dome_centre_y - ident.head_top_y - 0.03) * np.sin(angle)], axis=1
    )
    return catmull_rom(np.concatenate([left, chin, left[::-1] * [-1, 1], dome]), samples=6, closed=True)


HAIR_VOLUME = {"short": 1.0, "long": 1.0, "bob": 1.2, "buzz": 0.15, "curly": 2.2}


def hair_shapes(ident: Identity, face: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Hair behind the head (back) and over it (front: the cap down to the temples, plus side locks)."""
    fw, eye_y = ident.face_half_width, ident.eye_y
    volume = ident.hair_volume * HAIR_VOLUME[ident.hair_style]
    centre_y = eye_y - 0.1
    rx, ry = fw * 1.04 + volume, centre_y - ident.head_top_y + volume
    angle = np.linspace(np.pi, 2 * np.pi, 25)
    # an irregular silhouette: a few random low-frequency ripples of the cap's radius, fixed per identity
    phases = np.random.default_rng(ident.texture_seed).uniform(0, 2 * np.pi, 3)
    ripple = 1 + sum(0.025 / k * np.sin(k * 3 * angle + phases[k - 1]) for k in (1, 2, 3))
    ripple *= 1 + 0.06 * ident.hair_parting * np.cos(angle)  # more volume on the side away from the parting
    cap = np.stack([rx * ripple * np.cos(angle), centre_y + ry * ripple * np.sin(angle)], axis=1)
    part = ident.hair_parting * 0.15
    ear_top = eye_y + 0.02
    hairline = catmull_rom(
        np.array(
            [
                [fw * 0.99, ear_top],
                [fw * 0.93, eye_y - 0.16],
                [fw * 0.8, eye_y - 0.3],
                [fw * 0.45 + part, ident.hairline_y + 0.035],
                [part, ident.hairline_y + 0.012 * abs(ident.hair_parting)],
                [-fw * 0.45 + part, ident.hairline_y + 0.035],
                [-fw * 0.8, eye_y - 0.3],
                [-fw * 0.93, eye_y - 0.16],
                [-fw * 0.99, ear_top],
            ]
        ),
        5,
    )
    front = [np.concatenate([[[-rx, ear_top]], cap, [[rx, ear_top]], hairline])]
    bottom = {"long": 1.3, "bob": ident.chin_y + 0.02}.get(ident.hair_style, eye_y + 0.25)
    outer = rx + (0.06 if ident.hair_style in ("long", "bob") else 0.0)
    ends = np.array(
        [[outer, centre_y + 0.1], [outer + 0.02, bottom - 0.06], [outer - 0.06, bottom], [0.0, bottom + 0.02]]
    )
    back = catmull_rom(np.concatenate([cap[::4], ends, ends[-2::-1] * [-1, 1]]), samples=5, closed=True)
    if ident.hair_style in ("long", "bob"):
        for s in SIDES:  # locks framing the face: inner edge follows the face outline, just overlapping it
            side = face[(face[:, 0] * s > 0) & (face[:, 1] > eye_y - 0.12) & (face[:, 1] < ident.mouth_y + 0.02)]
            side = side[np.argsort(side[:, 1])] * [0.97, 1.0]
            lower = [[side[-1, 0] + s * 0.02, min(bottom, ident.mouth_y + 0.2)], [side[-1, 0] + s * 0.06, bottom]]
            tip = [
                [s * (outer + 0.01), bottom - 0.04],
                [s * (outer + 0.01), centre_y + 0.3],
                [s * outer, centre_y + 0.05],
            ]
            front.append(catmull_rom(np.concatenate([side[::2], lower, tip]), samples=4))
    return back, tuple(front)


def ear_outline(ident: Identity, side: int) -> np.ndarray:
    centre = (side * (ident.face_half_width - 0.005), (ident.eye_y + ident.nose_tip_y) / 2 + 0.01)
    return ellipse(centre, (0.055, 0.115), 30)


def glasses_shape(ident: Identity) -> Glasses:
    power = 2.0 if ident.glasses_round else 5.0
    radii = (ident.eye_half_width * 1.45, 0.078)
    outer, inner = [], []
    for s in SIDES:
        centre = (s * ident.eye_spacing, ident.eye_y + 0.008)
        outer.append(ellipse(centre, (radii[0] + 0.012, radii[1] + 0.012), 48, power))
        inner.append(ellipse(centre, radii, 48, power))
    inner_edge = ident.eye_spacing - radii[0] - 0.006
    bridge = stroke(
        np.array([[-inner_edge, ident.eye_y - 0.01], [0.0, ident.eye_y - 0.025], [inner_edge, ident.eye_y - 0.01]]),
        0.014,
    )
    arms = tuple(
        stroke(
            np.array(
                [
                    [s * (ident.eye_spacing + radii[0]), ident.eye_y - 0.02],
                    [s * ident.face_half_width, ident.eye_y - 0.03],
                ]
            ),
            0.016,
        )
        for s in SIDES
    )
    return Glasses((outer[0], outer[1]), (inner[0], inner[1]), (bridge, *arms))


def body_shapes(ident: Identity) -> tuple[np.ndarray, np.ndarray]:
    """Neck and clothes outlines."""
    neck_half = ident.jaw_half_width * 0.62
    neck = np.array(
        [
            [-neck_half, ident.mouth_y - 0.1],
            [-neck_half * 1.02, ident.chin_y + 0.12],
            [-neck_half * 1.15, 1.1],
            [neck_half * 1.15, 1.1],
            [neck_half * 1.02, ident.chin_y + 0.12],
            [neck_half, ident.mouth_y - 0.1],
        ]
    )
    shoulder_y = ident.chin_y + 0.14
    half_side = np.array(
        [[-1.1, 1.1], [-1.1, shoulder_y + 0.16], [-0.75, shoulder_y + 0.05], [-neck_half - 0.06, shoulder_y]]
    )
    neckline = [[0.0, shoulder_y + 0.12]]
    clothes = np.concatenate(
        [
            half_side,
            catmull_rom(np.concatenate([half_side[-1:], neckline, half_side[-1:] * [-1, 1]]), 6)[1:-1],
            half_side[::-1] * [-1, 1],
        ]
    )
    return neck, clothes


def face_shape(ident: Identity, left: np.ndarray, right: np.ndarray) -> FaceShape:
    """The face of ``ident`` with AU vectors ``left``/``right`` (16-vectors, 0-1) acting on each image side."""
    side_aus = (AUs(left), AUs(right))
    mean = AUs((np.asarray(left) + np.asarray(right)) / 2)
    eyes, grooves, eye_bump_list = [], [], []
    for s, au in zip(SIDES, side_aus):
        eye, eye_grooves, eye_bumps = eye_shape(ident, s, au)
        eyes.append(eye)
        grooves += eye_grooves
        eye_bump_list.extend(eye_bumps)
    nose, nose_grooves, bumps = nose_shape(ident, mean)
    bumps += eye_bump_list
    if mean[4] > 0:  # corrugator / procerus: the skin between the brows bunches into a bulge
        inner_brow_y = ident.eye_y - ident.brow_gap + 0.03 * mean[4]
        bumps += [Bump((s * 0.075, inner_brow_y - 0.01), (0.03, 0.022), 0.012 * mean[4]) for s in SIDES]
    mouth, mouth_grooves, mouth_bumps = mouth_shape(ident, *side_aus, mean)
    grooves += nose_grooves + mouth_grooves + forehead_and_glabella(ident, *side_aus, mean)
    drop = jaw_drop(mean)
    for eye, au in zip(eyes, side_aus):  # eye sockets under a brow ridge (AU4 pulls the brow tissue down over them)
        bumps.append(Bump((eye.centre[0], eye.centre[1] + 0.005), (0.085, 0.05), -0.025))
        ridge_y = eye.centre[1] - ident.brow_gap - 0.01 + 0.04 * au[4] + 0.012 * au[9]
        bumps.append(Bump((eye.centre[0] * 0.9, ridge_y), (0.1, 0.03), 0.012 + 0.012 * au[4]))
    chin_boss = (0.0, ident.chin_y - 0.07 + drop - 0.035 * mean[17])  # AU17 pushes it up and forward
    bumps += mouth_bumps + [Bump(chin_boss, (0.1, 0.06 - 0.01 * mean[17]), 0.015 + 0.04 * mean[17])]
    outline = face_outline(ident, mean)
    hair_back, hair_front = hair_shapes(ident, face_outline(ident, AUs(np.zeros(len(AU_IDS)))))
    neck, clothes = body_shapes(ident)
    return FaceShape(
        face=outline,
        hair_back=hair_back,
        hair_front=hair_front,
        ears=(ear_outline(ident, -1), ear_outline(ident, 1)),
        brows=(brow_outline(ident, -1, side_aus[0]), brow_outline(ident, 1, side_aus[1])),
        eyes=(eyes[0], eyes[1]),
        nose=nose,
        mouth=mouth,
        glasses=glasses_shape(ident) if ident.glasses else None,
        neck=neck,
        clothes=clothes,
        grooves=[g for g in grooves if g.depth != 0],
        bumps=bumps,
        hair_volume=ident.hair_volume * HAIR_VOLUME[ident.hair_style],
        chin_dimpling=0.008 * mean[17],
        chin_centre=(0.0, ident.chin_y - 0.065 + drop - 0.03 * mean[17]),
    )
