"""The paint of an edit: what a warp cannot make, [4, P, P] (RGB in [-1, 1] and alpha), drawn at P = scale × S for
an S×S crop, the scale as many paint pixels per crop pixel as the photo has (``paint_scale``: 4 to 12) so that the
paint is as sharp as the photo around it.

Above all the inside of a mouth that opens (``mouth_paint``): where the moved inner-lip contour (drawn as a smooth
curve through its points, ``opening_coverage``) encloses pixels that were not already open in the source, an RGB
colour (dark cavity, upper teeth in the top part) and its alpha. A source opening that the warp would stretch past
``MAX_STRETCH`` times its area or its height is painted over too (stretched
teeth read as a pale tongue, or as long teeth). How much upper tooth shows follows FACS: the upper lip raiser (AU10)
and the smile (AU12) bare the upper teeth, which then fill most of even a narrow opening (a smile's gap between the
lips is its teeth); lips parted by the jaw alone (AU25, AU26) show only their edges. Lower teeth show at the bottom of
an opening whose lower lip is stretched tight over them (AU20) or pulled down off them (AU16, not among the 16, for
which AU15 stands in). The teeth are drawn apart, their gaps placed by real tooth widths either side of the lips'
midline, darkest at the teeth's edge (where real teeth part; at the gum they meet), and the upper lip shades the teeth
under it. Their edge runs level across the mouth (the upper teeth's with a slight smile arc), not parallel to the lip:
towards the corners of a round opening the lip comes down below it and hides them. Bared upper teeth (AU10 and AU12
draw the upper lip up against them) are drawn up to the inner-lip contour (a smile's narrow gap is teeth from lip to
lip); otherwise the cavity and the teeth stay half a crop pixel inside it, where the warped inner lip shows, except
where the lips are taut (``lips_taut``: the smile's AU12 and the lip stretcher AU20 pull them tight to the corners,
``open_part``): there the opening tapers into the corners, where relaxed lips parted by the jaw close first. Their
colour is the face's own teeth's where its mouth shows them, else half the eyes' own whites', half a fixed ivory in
the face's light (``teeth_colour``). Where an edit closes the lips, the line where they meet (``meeting``, from
``mesh_motion.lips_stay_lips``) is drawn in the shade of the lips' own red (``meeting_line_colour``), over what lies
round it where the closed lips show the source's opening by it (``_meeting_paint``: a photo finer than the field
reads it between the field's rows), and where the moved lips show what was not lip in the source (a broad smile's
thin lips closed: skin and teeth) the lips' colour is laid on (``lip_paint``, ``lip_colour``: the redder half of the
mesh's lips). And what a raised lid uncovers (``eye_paint``: AU5 shows the sclera above the iris; in an eye that
shows its white, the band of eyeball that was in the lid's shade too, which the warp would leave as a dark line
across the opened eye): the eye's own iris, ring by ring, inside the iris's circle (mediapipe's iris points), its
sclera elsewhere, shaded under the lid, the colours read in the photo at the paint's resolution (``detail_view``)
where the editor passes it.

And the mesh regions it is drawn in: an eye's opening (``eye_contour``), the gap between the lips (``lip_gap``),
a polygon's coverage at the paint's resolution (``polygon_coverage``). ``editing.mesh_motion`` moves the face;
this module paints what the motion uncovers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lsgan.data.faces import MEDIAPIPE478, FaceTemplate, crop_per_photo, warp_antialiased
from lsgan.data.images import LUMA
from lsgan.data.mesh_basis import LIP_CONTOURS, LOWER_LIDS, UPPER_LIDS
from lsgan.editing.fields import resample_field
from lsgan.facs import au_index

PAINT_SCALE = 4  # paint pixels per crop pixel at least ...
MAX_PAINT_SCALE = 12  # ... and at most: as many as the photo has (``paint_scale``), up to a 768-pixel paint
SOFT_EDGE = 1.0  # paint pixels: the Gaussian sigma that softens the painted eyeball's and teeth's edges
CAVITY_RGB = np.array([52, 24, 26], np.float32)  # uint8 units: a dark, reddish mouth
TEETH_RGB = np.array([228, 220, 204], np.float32)
# The line where closed lips meet (scripts/meeting_line.py: real faces at rest against smiles edited to neutral):
# the lips' own colour MEETING_LINE_SHADE times as light, laid on MEETING_LINE_ALPHA deep, ...
MEETING_LINE_SHADE = 0.4
MEETING_LINE_ALPHA = 0.7
# ... in the lips' hue at this share of their chroma (CIELAB), as far as a colour so dark holds it: real closed lips'
# line keeps 1.06 of it (31 faces at rest); between an edit's lips, thinner and paler than at rest, a line that red
# stood out as a lipstick's line on red lips. Scaled in RGB (half the chroma) it was a grey line drawn on the lips.
MEETING_LINE_CHROMA = 0.8
# Lips whose colour cannot be read (under a thousandth of the paint in the mesh's lips): a red whose shade is the
# fixed dark red the line was drawn in before it took the lips' own colour (blue-purple on warm skin)
LIP_RGB = np.array([254, 117, 127], np.float32)
LIP_TINT = 0.7  # how much of the lips' colour is laid where an edit's lips show what was not lip in the source
# Painted teeth take this share of their colour from the eyes' own sclera (both near white, in the same light and
# colour cast), brightened SCLERA_TO_TEETH times (real teeth's brightest quarter against the sclera's, least squares
# over 34 selection faces with teeth showing), the rest from TEETH_RGB in the face's light: either alone erred more on
# the selection faces (docs/real_photos.md, "Teeth in the eyes' light")
TEETH_FROM_SCLERA = 0.5
SCLERA_TO_TEETH = 1.34
SCLERA_MIN_LUMA = 0.6  # ... where the sclera is at least this bright against the face (not behind dark glasses)
# ... or the face's own teeth, where its parted lips (SHOWN_TEETH) show something this much brighter than the face
# (real teeth's brightest quarter: 1.06-1.52 times the face's brightness on the 34 selection faces)
OWN_TEETH_LUMA = 1.1
TEETH_SHARE = 0.36  # at most this top share of an opening's height shows upper teeth (lips parted by the jaw)
BARED_TEETH_SHARE = 0.7  # ... and when bared (AU10 or AU12 at 1): the upper lip is drawn up off the teeth
# Where one upper tooth meets the next, seen from the front, from the midline out (central and lateral incisors,
# canine, two premolars), in inter-ocular distances: their widths (8.5, 6.5, 7.5, 7, 7 mm for a 63 mm inter-ocular
# distance) foreshortened as the dental arch turns away
TOOTH_EDGES = (0.0, 0.135, 0.225, 0.30, 0.355, 0.40)
# ... and of the lower teeth (central and lateral incisors, canine, first premolar: 5.5, 6, 7, 7 mm)
LOWER_TOOTH_EDGES = (0.0, 0.087, 0.18, 0.27, 0.34)
# The teeth's edge: a curve through the middle teeth's edge that rises this many inter-ocular distances per squared
# distance from the midline (the upper teeth's smile arc; the lower incisors' edges are level), not the lip's contour:
# where a rounded opening's lip comes down below it towards the corners, the lip hides the teeth there
UPPER_EDGE_ARC = 0.25
LOWER_EDGE_ARC = 0.0
LOWER_TEETH_HEIGHT = 0.09  # visible lower teeth at full exposure, in inter-ocular distances
LOWER_TEETH_LIGHT = 0.85  # the lower teeth are in the upper lip's and the upper teeth's shade
TOOTH_GAP = 0.12  # crop pixels: the Gaussian sigma of the dark gap between two teeth
TOOTH_GAP_DEPTH = 0.35  # how much of the tooth the gap lets the dark cavity through, at the teeth's edge
LIP_SHADOW = 0.8  # the teeth's brightness at the lip (its shadow), rising to full halfway to their edge
TEETH_HEIGHT = 0.15  # visible upper teeth when bared (AU10 or AU12 at 1), in inter-ocular distances
LIP_TEETH_EXPOSURE = 0.3  # the share of that a parted mouth shows with neither AU10 nor AU12
MIN_TEETH_HEIGHT = 2.5  # openings lower than this (crop pixels) show no teeth ...
MIN_BARED_TEETH_HEIGHT = 1.0  # ... or than this where the teeth are bared (a smile's narrow gap is teeth)
MAX_STRETCH = 1.5  # a source opening warped to more than this times its area or height is painted over
# crop pixels: how far past where the lips are apart the opening of fully taut lips (``lips_taut`` 1) reaches into
# their corners (``open_part``). Only eroded, the contour's narrow corners were cut back 1-2 crop pixels a side: a
# fear's stretched mouth came out rounder and narrower than its moved mesh, read as surprise (docs/real_photos.md)
TAUT_REACH = 1.5
SHOWN_TEETH = 0.1  # inter-ocular distances: a source's lip gap at least this tall shows its teeth (two pixels at 64)
# The middle of the inner lips: lower-lip points and the upper-lip points above them (the lip gap is measured there)
LOWER_INNER, UPPER_INNER = (87, 14, 317), (82, 13, 312)
OUTLINE_SAMPLES = 8  # points per side of a smoothed contour (``smooth_outline``)
INNER_LIP_MIDDLE = (13, 14)  # the upper and lower inner lip on the face's midline: where the teeth are centred
REFERENCE_LUMA = 150.0  # teeth are as bright as TEETH_RGB on a face this bright; darker on a darker face, ...
# ... as the square root of the face's brightness: a face is darker for its skin as well as its light, and teeth are
# pale on every face (scaled with the face's luma itself, teeth on darker skin came out grey)
TEETH_LIGHT_RANGE = (0.75, 1.0)
# A dark (underexposed) photo: painted teeth no brighter than this times the face's brightest (``brightest``: the
# 99th percentile of its luma inside the mesh hull, its highlights and the eyes' white); on the photo sets' faces
# they lie at 0.6-1.25 times it, on those faces darkened to 0.3 at 2 times it (teeth that glow); a painted eyeball's
# white (the plain ``SCLERA_RGB`` where an eye shows too little of its own) no brighter than the brightest itself ...
TEETH_OVER_BRIGHTEST = 1.25
# ... and the inside of a mouth that opens as dark as ``CAVITY_RGB`` on a face whose brightest is at least this,
# darker in proportion below (on a face darkened to 0.3, the fixed dark red was as light as its lips: a patch)
LIT_BRIGHTEST = 150.0
# Eyes, image-left first: mediapipe's inner and outer corner and its iris (centre, ring)
EYE_CORNERS = ((133, 33), (362, 263))
IRISES = ((468, MEDIAPIPE478.left_iris), (473, MEDIAPIPE478.right_iris))
LID_MARGIN = 0.3  # crop pixels below a raised lid's contour left to its own lash line (not painted over)
LID_SHADOW = (0.06, 0.8)  # newly shown eyeball is shaded over this many IODs below the lid, to this brightness at it
LID_SHADE_DEPTH = 0.02  # IODs: the band of eyeball in a lid's shade, repainted where the lid rises (a warp leaves it
# behind as a dark line across the opened eye) ...
WHITE_EYE = 0.85  # ... where the eye's sclera is at least this bright against the face (an eye too small, dark or
# shaded to show its white reads lids and skin as its sclera, and painted them in a ring round the eye)
SCLERA_RGB = np.array([222, 212, 206], np.float32)  # when an eye shows too little of its own to sample
IRIS_RGB = np.array([70, 50, 40], np.float32)
IRIS_RINGS = 6  # an iris is painted ring by ring from its centre out (``_iris_by_radius``) ...
MIN_RING_PIXELS = 8  # ... each as light as the eye shows it where it shows this many of its pixels ...
IRIS_RING_LIGHT = (0.3, 1.3)  # ... within these factors on the iris's median colour
SUBPIXEL_BITS = 4  # fixed-point bits of the sub-pixel vertices drawn with OpenCV (``paint_vertices``)


def stretched(was_open: np.ndarray, seen_open: np.ndarray) -> bool:
    """Whether a source opening ``was_open`` [P, P] (coverage) seen in the edit as ``seen_open`` grew past
    ``MAX_STRETCH`` times its area or its height (``grown_taller``): teeth stretched that much read as a pale
    tongue, or as long teeth (a surprise opened from a smile)."""
    return float(seen_open.sum()) > MAX_STRETCH * max(float(was_open.sum()), 1.0) or grown_taller(was_open, seen_open)


def grown_taller(was_open: np.ndarray, seen_open: np.ndarray) -> bool:
    """Whether a source opening ``was_open`` [P, P] (coverage) seen in the edit as ``seen_open`` grew past
    ``MAX_STRETCH`` times its height (its tallest column)."""
    height = float(was_open.sum(axis=0).max(initial=0.0))
    return float(seen_open.sum(axis=0).max(initial=0.0)) > MAX_STRETCH * max(height, 1.0)


def lip_gap(points: np.ndarray) -> float:
    """Mean vertical gap between the inner lips' middles (lower minus upper) of a mesh [478, 2]."""
    return float((points[list(LOWER_INNER), 1] - points[list(UPPER_INNER), 1]).mean())


def shows_teeth(points: np.ndarray, size: int) -> bool:
    """Whether the lips of a mesh [478, 2] (crop pixels of an S×S crop, ``size`` S) are ``SHOWN_TEETH`` apart: a
    mouth that shows its teeth."""
    return lip_gap(points) >= SHOWN_TEETH * FaceTemplate().eye_distance * size


def eye_contour(points: np.ndarray, eye: int) -> np.ndarray:
    """``[16, 2]`` the opening of ``eye`` (0: image-left) in a mesh [478, 2]: inner corner, upper lid, outer corner,
    lower lid back."""
    inner, outer = EYE_CORNERS[eye]
    order = [inner, *UPPER_LIDS[eye], outer, *LOWER_LIDS[eye][::-1]]
    return points[order]


def eye_paint(crop: np.ndarray, points: np.ndarray, targets: np.ndarray, scale: int,
              detail: np.ndarray | None = None) -> np.ndarray:
    """``[4, P, P]`` the eyeball a lid raise newly shows (the edit's opening, less the lid's own margin and the
    source's opening, less that opening's band in the lid's shade where the eye shows its white), its iris where the
    iris's circle is, the sclera elsewhere, in this eye's own colours (read in ``detail``, P×P×3, or in ``crop``
    enlarged: at a 64-pixel crop's resolution lashes and lids blur the sclera grey) and shaded under the lid; alpha
    0 where no lid rises."""
    size = crop.shape[0]
    side = size * scale
    big = paint_view(crop, scale, detail).astype(np.float32)
    rows = np.arange(side, dtype=np.float32)[:, None]
    margin = np.ones((2 * round(LID_MARGIN * scale) + 1,) * 2, np.uint8)
    rgb, alpha = np.zeros((3, side, side), np.float32), np.zeros((side, side), np.float32)
    face_luma = _face_luma(crop, points)
    light = _face_light(face_luma)
    most = brightest(big, points, scale)
    for eye in range(2):
        shown = polygon_coverage(eye_contour(points, eye), side, scale)
        opened = polygon_coverage(eye_contour(targets, eye), side, scale)
        below_lid = cv2.erode(opened, margin)
        if np.clip(below_lid - shown, 0.0, 1.0).max() < 0.5:
            continue
        distance, radius = _iris_radius(points, eye, scale, side)
        iris = _disc(distance, radius)
        sclera_rgb, iris_rgb = _eye_colours(big, shown > 0.5, iris > 0.5, light)
        sclera_rgb = _at_most(sclera_rgb, most)  # a plain white no brighter than a dark photo's brightest
        if float(sclera_rgb @ LUMA) >= WHITE_EYE * face_luma:
            shown = _without_lid_shade(shown, opened, LID_SHADE_DEPTH * FaceTemplate().eye_distance * side)
        new = np.clip(below_lid - shown, 0.0, 1.0)
        iris_map = _iris_by_radius(big, shown > 0.5, distance / max(radius, 1e-6), iris_rgb)
        colour = sclera_rgb[:, None, None] * (1 - iris) + iris_map * iris
        depth = (rows - column_extent(opened).top[None]) / (LID_SHADOW[0] * FaceTemplate().eye_distance * side)
        colour = colour * (LID_SHADOW[1] + (1 - LID_SHADOW[1]) * np.clip(depth, 0.0, 1.0))[None]
        alpha_eye = cv2.GaussianBlur(new, (0, 0), SOFT_EDGE)
        rgb = rgb * (1 - alpha_eye) + colour * alpha_eye
        alpha = np.maximum(alpha, alpha_eye)
    return np.concatenate([rgb / 127.5 - 1.0, alpha[None]]).astype(np.float32)


def _without_lid_shade(shown: np.ndarray, opened: np.ndarray, depth: float) -> np.ndarray:
    """``shown`` [P, P] (an eye's opening in the source) less its top ``depth`` paint pixels (the eyeball in the
    lid's shade) in each column where the lid rises (``opened``: the edit's opening), by at most the rise."""
    was, will = column_extent(shown), column_extent(opened)
    rise = np.where(was.columns & will.columns, was.top - will.top, 0)  # paint pixels
    rows = np.arange(shown.shape[0], dtype=np.float32)[:, None]
    return shown * (rows >= was.top[None] + np.clip(rise, 0, depth)[None])


def paint_view(crop: np.ndarray, scale: int, detail: np.ndarray | None) -> np.ndarray:
    """The crop at the paint's resolution: ``detail`` (``detail_view``) where given, else ``crop`` enlarged."""
    side = crop.shape[0] * scale
    if detail is None:
        return cv2.resize(crop, (side, side), interpolation=cv2.INTER_CUBIC)
    if detail.shape[:2] != (side, side):
        raise ValueError(f"detail is {detail.shape[:2]}, the paint {side}x{side}")
    return detail


def paint_scale(matrix: np.ndarray) -> int:
    """Paint pixels per crop pixel for a face whose photo -> crop matrix (2×3) is ``matrix``: as many as the photo
    has pixels per crop pixel, so that the paint is as sharp as the photo around it, within ``PAINT_SCALE`` and
    ``MAX_PAINT_SCALE``."""
    photo_per_crop = 1.0 / crop_per_photo(matrix)
    return int(np.clip(np.ceil(photo_per_crop - 1e-6), PAINT_SCALE, MAX_PAINT_SCALE))


def detail_view(photo: np.ndarray, matrix: np.ndarray, size: int, scale: int = PAINT_SCALE) -> np.ndarray:
    """``photo`` (H×W×3) in the frame of the S×S crop that ``matrix`` (2×3, photo -> crop) makes, at ``scale``
    times its resolution: crop pixel c is the view's pixels around (c + 0.5) × scale − 0.5."""
    return warp_antialiased(photo, view_matrix(matrix, scale), size * scale)


def view_matrix(matrix: np.ndarray, scale: int) -> np.ndarray:
    """2×3: from the photo to ``detail_view`` at ``scale`` of the crop that ``matrix`` (photo -> crop) makes."""
    return np.column_stack([matrix[:, :2] * scale, matrix[:, 2] * scale + (scale - 1) / 2])


def over(top: np.ndarray, below: np.ndarray) -> np.ndarray:
    """Paint ``top`` [4, P, P] laid over paint ``below`` (RGB in [-1, 1] and alpha each)."""
    alpha = top[3:] + below[3:] * (1 - top[3:])
    rgb = (top[:3] * top[3:] + below[:3] * below[3:] * (1 - top[3:])) / np.maximum(alpha, 1e-6)
    return np.concatenate([rgb, alpha]).astype(np.float32)


def _iris_radius(points: np.ndarray, eye: int, scale: int, side: int) -> tuple[np.ndarray, float]:
    """([P, P] each paint pixel's distance from ``eye``'s iris centre, the iris's radius), in paint pixels."""
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
    centre_index, ring = IRISES[eye]
    centre = (points[centre_index] + 0.5) * scale - 0.5
    radius = float(np.linalg.norm(points[list(ring)] - points[centre_index], axis=1).mean()) * scale
    return np.hypot(cols - centre[0], rows - centre[1]), radius


def _iris_by_radius(image: np.ndarray, shown: np.ndarray, out: np.ndarray, iris_rgb: np.ndarray) -> np.ndarray:
    """[3, P, P] the iris in ``iris_rgb`` [3] (its median colour), lighter or darker ring by ring from its centre
    out (``out`` [P, P]: each paint pixel's distance from the iris's centre over its radius) as what ``image``
    [P, P, 3] shows of each ring is (``shown``: the eye's opening; its dark rim, its pupil), its brightest tenth left
    out (catchlights, red eye) and only the brightness taken (a ring's own colour carried a red eye's red to the
    painted top); one colour where a ring shows too little: it read as a cap on the iris below."""
    ring = np.minimum((out * IRIS_RINGS).astype(int), IRIS_RINGS - 1)
    luma = image @ LUMA
    iris_luma = max(float(iris_rgb @ LUMA), 1.0)
    inside = shown & (out < 1.0)
    factors = np.ones(IRIS_RINGS, np.float32)
    if inside.sum() >= MIN_RING_PIXELS:
        inside &= luma <= np.percentile(luma[inside], 90)
        for index in range(IRIS_RINGS):
            lumas = luma[inside & (ring == index)]
            if len(lumas) >= MIN_RING_PIXELS:
                factors[index] = np.median(lumas) / iris_luma
    middles = (np.arange(IRIS_RINGS) + 0.5) / IRIS_RINGS
    factor = np.interp(out, middles, np.clip(factors, *IRIS_RING_LIGHT)).astype(np.float32)
    return iris_rgb.astype(np.float32)[:, None, None] * factor[None]


def _iris_disc(points: np.ndarray, eye: int, scale: int, side: int) -> np.ndarray:
    """[P, P] in [0, 1]: the anti-aliased disc of ``eye``'s iris (mediapipe's iris points) at the paint's grid."""
    return _disc(*_iris_radius(points, eye, scale, side))


def _disc(distance: np.ndarray, radius: float) -> np.ndarray:
    """[P, P] in [0, 1]: the anti-aliased disc of ``radius`` round the centre ``distance`` [P, P] is measured from."""
    return np.clip(radius - distance + 0.5, 0.0, 1.0)


def _sclera_shown(image: np.ndarray, opening: np.ndarray, iris: np.ndarray) -> np.ndarray | None:
    """RGB of an eye's sclera in ``image`` [P, P, 3]: the median of the brightest quarter of its ``opening`` outside
    the ``iris`` (bool [P, P] each; the rest is mixed with lashes and lids at a crop's resolution); None where too
    little shows."""
    return _brightest_quarter(image[opening & ~iris])


def _brightest_quarter(pixels: np.ndarray) -> np.ndarray | None:
    """RGB [3]: the median of the brightest quarter of ``pixels`` [N, 3]; None for fewer than 8."""
    if len(pixels) < 8:
        return None
    luma = pixels @ LUMA
    return np.median(pixels[luma >= np.percentile(luma, 75)], axis=0).astype(np.float32)


def _eye_colours(image: np.ndarray, opening: np.ndarray, iris: np.ndarray, light: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(sclera, iris) RGB of an eye in ``image`` [P, P, 3]: its sclera as shown (``_sclera_shown``) and the median
    inside the ``iris`` (bool [P, P] each); where too little shows, the defaults in the face's ``light``."""
    iris_pixels = image[opening & iris]
    sclera_rgb, iris_rgb = _sclera_shown(image, opening, iris), IRIS_RGB * light
    if sclera_rgb is None:
        sclera_rgb = SCLERA_RGB * light
    if len(iris_pixels) >= 8:
        iris_rgb = np.median(iris_pixels, axis=0)
    return sclera_rgb.astype(np.float32), iris_rgb.astype(np.float32)


def teeth_colour(view: np.ndarray, points: np.ndarray, scale: int, light: float, face_luma: float,
                 opening: np.ndarray | None = None) -> np.ndarray:
    """``[3]`` RGB (uint8 units) of painted teeth on the face of ``view`` (the crop at the paint's resolution, P×P×3)
    whose mesh is ``points`` (crop pixels): the face's own teeth where its mouth shows them (``opening``, bool
    [P, P]: the brightest quarter of it, where that is at least ``OWN_TEETH_LUMA`` times as bright as the face's mean
    ``face_luma``, uint8 units; a darker one is the mouth's inside or the lips), so that teeth painted beside real
    ones match them; else ``TEETH_FROM_SCLERA`` of its eyes' sclera as shown,
    brightened ``SCLERA_TO_TEETH`` times, and the rest ``TEETH_RGB`` in the face's ``light``; that alone where
    neither eye shows enough sclera, or the sclera is darker than ``SCLERA_MIN_LUMA`` times the face's mean: eyes in
    shadow or behind dark glasses."""
    side = view.shape[0]
    image = view.astype(np.float32)
    own = _brightest_quarter(image[opening]) if opening is not None else None
    if own is not None and float(own @ LUMA) >= OWN_TEETH_LUMA * face_luma:
        return own
    shown = [_sclera_shown(image, polygon_coverage(eye_contour(points, eye), side, scale) > 0.5,
                           _iris_disc(points, eye, scale, side) > 0.5) for eye in range(2)]
    shown = [rgb for rgb in shown if rgb is not None]
    fixed = TEETH_RGB * light
    sclera = np.mean(shown, axis=0) if shown else None
    if sclera is None or float(sclera @ LUMA) < SCLERA_MIN_LUMA * face_luma:
        return fixed.astype(np.float32)
    from_sclera = np.clip(SCLERA_TO_TEETH * sclera, 0.0, 255.0)
    return ((1 - TEETH_FROM_SCLERA) * fixed + TEETH_FROM_SCLERA * from_sclera).astype(np.float32)


def lower_teeth_exposure(target_aus: np.ndarray) -> float:
    """Share of ``LOWER_TEETH_HEIGHT`` that an open mouth showing ``target_aus`` [16] bares: the lip stretcher (AU20)
    draws the lower lip flat and tight across the lower teeth; the lip corner depressor (AU15) stands in for the lower
    lip depressor (AU16, not among the 16), which pulls the lower lip down off them."""
    return float(np.clip(max(float(target_aus[au_index(20)]), float(target_aus[au_index(15)])), 0.0, 1.0))


def lips_taut(aus: np.ndarray) -> float:
    """How taut (0-1) the lips of a face showing ``aus`` [16] are drawn to their corners: the smile (AU12) and the lip
    stretcher (AU20) pull them tight sideways, so parted they open into the corners (``open_part``)."""
    return float(np.clip(max(float(aus[au_index(12)]), float(aus[au_index(20)])), 0.0, 1.0))


def open_part(coverage: np.ndarray, scale: int, taut: float = 0.0) -> np.ndarray:
    """``[P, P]``: what of an inner-lip contour's ``coverage`` (``opening_coverage``, ``scale`` paint pixels per crop
    pixel) shows as an open mouth. Lips that touch still enclose a sliver: open is where the lips are apart, from half
    a crop pixel inside the contour; and, for lips ``taut`` (``lips_taut``), the whole contour within ``taut`` ×
    ``TAUT_REACH`` crop pixels of that, the tapering corners."""
    apart = cv2.erode(coverage, np.ones((scale + 1,) * 2, np.uint8))
    reach = int(round(taut * TAUT_REACH * scale))
    if reach == 0:
        return apart
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
    near = cv2.dilate((apart > 0.5).astype(np.uint8), disc) > 0
    return np.where(near, coverage, apart)


def teeth_exposure(target_aus: np.ndarray) -> float:
    """Share of ``TEETH_HEIGHT`` that an open mouth showing ``target_aus`` [16] bares."""
    bared = max(float(target_aus[au_index(10)]), float(target_aus[au_index(12)]))
    return LIP_TEETH_EXPOSURE + (1.0 - LIP_TEETH_EXPOSURE) * float(np.clip(bared, 0.0, 1.0))


def mouth_paint(crop: np.ndarray, points: np.ndarray, targets: np.ndarray, flow: np.ndarray, scale: int,
                exposure: float = 1.0, lower_exposure: float = 0.0, detail: np.ndarray | None = None,
                meeting: np.ndarray | None = None, lip_rgb: np.ndarray = LIP_RGB,
                taut: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """``[4, P, P]`` the newly opened mouth (see the module docstring); alpha 0 where nothing opens. The teeth's
    colour is read in ``detail`` (as ``eye_paint``'s eyes are; without it, ``crop`` enlarged). ``meeting`` (over the
    crop at any resolution, in [0, 1]): where closed lips meet (``mesh_motion.lips_stay_lips``), drawn as the line
    between them in the shade of the lips' colour ``lip_rgb`` [3] (``lip_colour``). ``taut``: how taut the source's
    and the edit's lips are (``lips_taut``), how far each opening reaches into its corners (``open_part``)."""
    size = crop.shape[0]
    side = size * scale
    # The cavity is the opening's open part (``open_part``; the warped inner lip shows around it); bared upper teeth
    # reach the contour wherever the opening is more than a crop pixel high (a smile's gap of two crop pixels is
    # teeth from lip to lip)
    sliver = np.ones((scale + 1,) * 2, np.uint8)
    opened = opening_coverage(targets, side, scale)
    will_open = open_part(opened, scale, taut[1])
    to_the_lips = without_slivers(opened, will_open, sliver)
    was_shown = opening_coverage(points, side, scale)
    was_apart, was_open = open_part(was_shown, scale), open_part(was_shown, scale, taut[0])
    sample_x, sample_y = sampled_at(flow, size, scale)

    def seen(coverage: np.ndarray) -> np.ndarray:
        return cv2.remap(coverage, sample_x, sample_y, cv2.INTER_LINEAR, borderValue=0.0)

    seen_open, seen_to_the_lips = seen(was_open), seen(without_slivers(was_shown, was_open, sliver))
    eye_distance = FaceTemplate().eye_distance * size * scale  # paint pixels
    bared_px = TEETH_HEIGHT * eye_distance  # fully bared upper teeth
    teeth_px = bared_px * exposure
    # the area measured where the lips are apart, not in corners they taper into; the height of all the opening
    # shows: a taut smile's rim of teeth, drawn up the height of a round opening, reads as long teeth
    if stretched(was_apart, seen(was_apart)) or grown_taller(was_open, seen_open):
        seen_open, seen_to_the_lips = np.zeros_like(seen_open), np.zeros_like(seen_open)
        # the teeth the source showed stay as tall as they were (at most what a bared smile shows)
        teeth_px = max(teeth_px, min(float(was_apart.sum(axis=0).max()), bared_px))
    alpha = np.clip(will_open - seen_open, 0.0, 1.0)
    # a source opening kept (a smile parted a little further) leaves only a sliver between its warped inside and the
    # new contour: painted, it drew a dark outline round the mouth (a white one with teeth to the lips); the warp
    # shows the lips' own inner edge there instead
    by_seen = np.clip(cv2.dilate(np.maximum(seen_open, seen_to_the_lips), sliver), 0.0, 1.0)
    alpha = alpha - _rim(alpha, by_seen, sliver)
    extent = column_extent(opened)
    midline = (float(targets[list(INNER_LIP_MIDDLE), 0].mean()) + 0.5) * scale - 0.5  # paint pixels
    bared = _bared(exposure)
    upper = _teeth(extent, scale, teeth_px, bared, midline, eye_distance)
    teeth = upper.coverage * upper.light
    lower_px = LOWER_TEETH_HEIGHT * eye_distance * lower_exposure
    if lower_px > 0:
        lower = _teeth(_flipped(extent), scale, lower_px, 0.0, midline, eye_distance, LOWER_TOOTH_EDGES,
                       LOWER_EDGE_ARC)
        teeth = np.maximum(teeth, LOWER_TEETH_LIGHT * (lower.coverage * lower.light)[::-1])
    # bared upper teeth (AU10, AU12: the upper lip drawn up against them) reach the lips, shaded there as next to
    # them (in the lip's shadow, not a bright rim); unbared ones stay inside
    at_the_lips = upper.coverage * bared * np.clip(np.clip(to_the_lips - seen_to_the_lips, 0.0, 1.0) - alpha, 0.0, 1.0)
    at_the_lips = at_the_lips - _rim(at_the_lips, by_seen, sliver)
    own_teeth = was_apart > 0.5 if shows_teeth(points, size) else None  # where the source may show its own
    face_luma = _face_luma(crop, points)
    view = paint_view(crop, scale, detail)
    most = brightest(view, points, scale)
    teeth_rgb = teeth_colour(view, points, scale, _face_light(face_luma), face_luma, own_teeth)
    teeth_rgb = _at_most(teeth_rgb, TEETH_OVER_BRIGHTEST * most)[:, None, None]
    cavity = CAVITY_RGB[:, None, None] * _cavity_shade(extent)[None] * min(1.0, most / LIT_BRIGHTEST)
    inside = cavity * (1 - teeth) + teeth_rgb * teeth
    by_the_lips = cavity * (1 - upper.light) + teeth_rgb * upper.light
    painted, rgb = alpha + at_the_lips, inside * alpha + by_the_lips * at_the_lips
    if meeting is not None:
        line = resample_field(meeting[None], side)[0]
        by_the_line = cv2.dilate((line > 0).astype(np.float32), np.ones((scale + 1, 1), np.uint8))
        shown = cv2.dilate(seen(was_shown) - will_open, np.ones((3, 3), np.uint8))  # its anti-aliased edge too
        shown = np.clip(np.minimum(shown, by_the_line), 0.0, 1.0)
        round_it = np.zeros((3, side, side), np.float32)  # laid nowhere where the lips show nothing by the line
        if shown.any():
            round_it = _filled_from_round(cv2.remap(view, sample_x, sample_y, cv2.INTER_LINEAR,
                                                    borderMode=cv2.BORDER_REFLECT_101), shown > 0, scale)
        met = _meeting_paint(line, shown, lip_rgb, round_it, painted)
        painted, rgb = painted + met[3], rgb + met[:3]
    rgb = rgb / np.maximum(painted, 1e-6)
    return np.concatenate([rgb / 127.5 - 1.0, painted[None]]).astype(np.float32)


def _meeting_paint(meeting: np.ndarray, seen_inside: np.ndarray, lip_rgb: np.ndarray, round_it: np.ndarray,
                   taken: np.ndarray) -> np.ndarray:
    """``[4, P, P]`` (RGB premultiplied by its alpha, uint8 units; alpha) where closed lips meet: the line ``meeting``
    [P, P] in the shade of the lips' colour ``lip_rgb`` [3] (``meeting_line_colour``, ``MEETING_LINE_ALPHA`` deep), over
    ``round_it`` [3, P, P] (what lies round it, ``_filled_from_round``) wherever the closed lips show the source's
    opening by the line (``seen_inside`` [P, P]). The field squeezes the lips to meet at its own pixels; a photo finer
    than the field reads the opening between its rows, a staircase of teeth or dark pixels along the line (a grey band
    between Kim Kardashian's closed lips). Less what the mouth's own paint has ``taken`` [P, P]."""
    line = np.clip(meeting * MEETING_LINE_ALPHA - taken, 0.0, 1.0)
    covered = np.clip(seen_inside - taken - line, 0.0, 1.0)
    rgb = meeting_line_colour(lip_rgb)[:, None, None] * line + round_it * covered
    return np.concatenate([rgb, (line + covered)[None]])


def meeting_line_colour(lip_rgb: np.ndarray) -> np.ndarray:
    """``[3]`` RGB (uint8 units): the line where closed lips meet, as light as the lips' colour ``lip_rgb`` [3]
    darkened ``MEETING_LINE_SHADE`` times, in the lips' own hue at ``MEETING_LINE_CHROMA`` of their chroma (CIELAB
    a*, b*), less where sRGB holds no colour so dark and so red."""
    lab = cv2.cvtColor(np.float32([[lip_rgb / 255.0, MEETING_LINE_SHADE * lip_rgb / 255.0]]), cv2.COLOR_RGB2LAB)[0]
    chroma = np.linspace(MEETING_LINE_CHROMA, 0.0, 21, dtype=np.float32)[:, None]  # kept as far as sRGB holds it
    wanted = np.concatenate([np.full_like(chroma, lab[1, 0]), chroma * lab[0, 1:]], axis=1)[None]  # [1, 21, 3]
    rgb = cv2.cvtColor(wanted, cv2.COLOR_LAB2RGB)  # clipped to sRGB
    held = np.linalg.norm(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB) - wanted, axis=2)[0] < 1.0
    return rgb[0, int(np.argmax(held))] * 255.0


def _filled_from_round(image: np.ndarray, where: np.ndarray, scale: int) -> np.ndarray:
    """``[3, P, P]`` float: ``image`` (uint8 P×P×3, the edit as the paint's grid samples the photo) with the
    pixels ``where`` (bool [P, P]) filled from round them (OpenCV's inpainting, a crop pixel round, ``scale`` paint
    pixels): the lips above and below, the skin by the corners."""
    filled = image.astype(np.float32)
    rows, columns = np.nonzero(where)
    if rows.size:
        margin = 2 * scale
        box = np.s_[max(rows.min() - margin, 0):rows.max() + margin + 1,
                    max(columns.min() - margin, 0):columns.max() + margin + 1]
        filled[box] = cv2.inpaint(np.ascontiguousarray(image[box]), where[box].astype(np.uint8), scale,
                                  cv2.INPAINT_TELEA)
    return filled.transpose(2, 0, 1)


def _rim(paint: np.ndarray, by_seen: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The parts of ``paint`` [P, P] (coverage) thinner than ``kernel`` that lie ``by_seen`` (the source's opening as
    the edit shows it, grown by ``kernel``)."""
    thin = np.clip(paint - without_slivers(paint, cv2.erode(paint, kernel), kernel), 0.0, 1.0)
    return thin * by_seen


def sampled_at(flow: np.ndarray, size: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) [P, P] each: where each pixel of the paint's grid (``scale`` per crop pixel of an S×S crop, ``size``
    S) samples the source under ``flow`` [2, F, F] (grid units), in paint pixels (``cv2.remap``'s maps)."""
    side = size * scale
    grid = paint_grid(side, scale)
    xs, ys = np.meshgrid(grid, grid)
    fine_flow = resample_field(flow, side)
    return (xs + fine_flow[0] * size / 2 + 0.5) * scale - 0.5, (ys + fine_flow[1] * size / 2 + 0.5) * scale - 0.5


def lips_coverage(points: np.ndarray, side: int, scale: int) -> np.ndarray:
    """``[P, P]`` in [0, 1] (P = ``side``): the lips of a mesh [478, 2] (crop pixels), inside their outer contour and
    outside their inner one (``LIP_CONTOURS``)."""
    outer = points[list(LIP_CONTOURS[0]) + list(LIP_CONTOURS[3][::-1])]
    inner = points[list(LIP_CONTOURS[1]) + list(LIP_CONTOURS[2][::-1])]
    return np.clip(polygon_coverage(outer, side, scale) - polygon_coverage(inner, side, scale), 0.0, 1.0)


def lip_colour(view: np.ndarray, points: np.ndarray, scale: int) -> np.ndarray:
    """``[3]`` RGB (uint8 units): the lips' red on the face of ``view`` (the crop at the paint's resolution, P×P×3)
    whose mesh is ``points`` (crop pixels), the mean of the redder half (CIELAB a*) of the mesh's lips, without the
    teeth or the skin a contour may take in; ``LIP_RGB`` where the lips cover under a thousandth of the paint."""
    lips = lips_coverage(points, view.shape[0], scale) > 0.5
    if lips.sum() < 1e-3 * lips.size:
        return LIP_RGB
    redness = cv2.cvtColor(view, cv2.COLOR_RGB2LAB)[..., 1][lips].astype(np.float32)
    return view[lips][redness >= np.median(redness)].astype(np.float32).mean(axis=0)


def lip_paint(points: np.ndarray, targets: np.ndarray, flow: np.ndarray, size: int, scale: int,
              lip_rgb: np.ndarray) -> np.ndarray:
    """``[4, P, P]``: the lips' colour ``lip_rgb`` [3] (``lip_colour``) laid ``LIP_TINT`` deep where the edit's lips
    (the moved mesh ``targets``, crop pixels of an S×S crop, ``size`` S) sample what was not lip in the source's mesh
    ``points`` under ``flow`` [2, F, F]. A broad smile's lips are stretched thin over its teeth: closed to neutral,
    they came out as a line on the skin, the upper lip's place filled with skin (docs/real_photos.md). Alpha 0 where
    the edit's lips are the source's, or differ by slivers under half a crop pixel (an edit that moves no lip paints
    nothing)."""
    side = size * scale
    sample_x, sample_y = sampled_at(flow, size, scale)
    seen_lips = cv2.remap(lips_coverage(points, side, scale), sample_x, sample_y, cv2.INTER_LINEAR, borderValue=0.0)
    new = (lips_coverage(targets, side, scale) - seen_lips > 0.5).astype(np.float32)
    sliver = np.ones((scale // 2 + 1,) * 2, np.uint8)  # half a crop pixel: a contour's sub-pixel shift is not lip
    new = without_slivers(new, cv2.erode(new, sliver), sliver)
    alpha = LIP_TINT * cv2.GaussianBlur(new, (0, 0), SOFT_EDGE)
    rgb = np.broadcast_to(lip_rgb[:, None, None], (3, side, side))
    return np.concatenate([rgb / 127.5 - 1.0, alpha[None]]).astype(np.float32)


def without_slivers(coverage: np.ndarray, eroded: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``coverage`` [P, P] less every part thinner than ``kernel``: ``eroded`` (``coverage`` eroded by ``kernel``)
    dilated back, never beyond ``coverage``."""
    return np.minimum(cv2.dilate(eroded, kernel), coverage)


def paint_grid(side: int, scale: int) -> np.ndarray:
    """``[side]`` the centres of a paint grid's pixels (``scale`` per crop pixel) in crop pixels."""
    return (np.arange(side, dtype=np.float32) + 0.5) / scale - 0.5


def opening_coverage(points: np.ndarray, side: int, scale: int) -> np.ndarray:
    """Float [side, side] coverage of the lips' opening of a mesh [478, 2] (crop pixels): inside its inner-lip
    contour, drawn as a smooth curve through the contour's points (``smooth_outline``): as a polygon, a painted
    mouth's dark inside showed the contour's corners and straight sides (a hexagon for anger's)."""
    return polygon_coverage(smooth_outline(points[list(MEDIAPIPE478.inner_lips)]), side, scale)


def smooth_outline(outline: np.ndarray, per_side: int = OUTLINE_SAMPLES) -> np.ndarray:
    """``[K × per_side, 2]``: a closed outline [K, 2] as the centripetal Catmull-Rom spline through its points
    (no cusp or loop, and little overshoot, at a sharp corner such as a mouth's), ``per_side`` points per side."""
    before, after, next_after = (np.roll(outline, shift, axis=0) for shift in (1, -1, -2))
    knots = [np.zeros(len(outline), np.float32)]
    for start, end in ((before, outline), (outline, after), (after, next_after)):
        knots.append(knots[-1] + np.maximum(np.linalg.norm(end - start, axis=1), 1e-4) ** 0.5)
    t0, t1, t2, t3 = (knot[:, None, None] for knot in knots)
    t = t1 + (t2 - t1) * (np.arange(per_side, dtype=np.float32) / per_side)[None, :, None]
    p0, p1, p2, p3 = (corner[:, None, :] for corner in (before, outline, after, next_after))
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    return (((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)).reshape(-1, 2).astype(np.float32)


def polygon_coverage(outline: np.ndarray, side: int, scale: int) -> np.ndarray:
    """Float [side, side] coverage (anti-aliased) of a closed outline given in crop pixels."""
    canvas = np.zeros((side, side), np.uint8)
    cv2.fillPoly(canvas, [paint_vertices(outline, scale)], 255, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)
    return canvas.astype(np.float32) / 255.0


def paint_vertices(points: np.ndarray, scale: int) -> np.ndarray:
    """int32 [..., 2]: ``points`` (crop pixels) on a paint grid of ``scale`` as OpenCV's fixed-point vertices
    (``SUBPIXEL_BITS``; draw them with ``shift=SUBPIXEL_BITS``)."""
    return np.round(((points + 0.5) * scale - 0.5) * (1 << SUBPIXEL_BITS)).astype(np.int32)


@dataclass(frozen=True)
class ColumnExtent:
    """Where an opening [P, P] lies in each paint column: ``inside`` [P, P] bool, ``columns`` [P] (any inside), and
    per column its ``top`` and ``bottom`` row (0 and P - 1 where the column is empty)."""

    inside: np.ndarray
    columns: np.ndarray
    top: np.ndarray
    bottom: np.ndarray


def column_extent(opened: np.ndarray) -> ColumnExtent:
    inside = opened > 0.5
    return ColumnExtent(inside, inside.any(axis=0), inside.argmax(axis=0),
                         inside.shape[0] - 1 - inside[::-1].argmax(axis=0))


def _cavity_shade(extent: ColumnExtent) -> np.ndarray:
    """[P, P]: the cavity's brightness factor, darkest under the upper teeth and towards the corners, lighter where
    the tongue sits above the lower lip (a flat colour reads as a hole cut in the face)."""
    rows = np.arange(extent.inside.shape[0], dtype=np.float32)[:, None]
    span = np.maximum(extent.bottom - extent.top, 1)[None]
    depth = np.clip((rows - extent.top[None]) / span, 0.0, 1.0)  # 0 at the top edge, 1 at the bottom
    edge = cv2.distanceTransform(extent.inside.astype(np.uint8), cv2.DIST_L2, 3)
    centre = np.clip(edge / max(float(edge.max()), 1.0), 0.0, 1.0)
    return (0.55 + 0.6 * depth**2) * (0.8 + 0.2 * centre)


def _bared(exposure: float) -> float:
    """0 for a mouth parted by the jaw alone, 1 for teeth bared by AU10 or AU12 at 1 (``teeth_exposure``)."""
    return float(np.clip((exposure - LIP_TEETH_EXPOSURE) / (1.0 - LIP_TEETH_EXPOSURE), 0.0, 1.0))


def _flipped(extent: ColumnExtent) -> ColumnExtent:
    """The same opening upside down (the lower teeth drawn as upper ones, then flipped back)."""
    last = extent.inside.shape[0] - 1
    return ColumnExtent(extent.inside[::-1], extent.columns, last - extent.bottom, last - extent.top)


@dataclass(frozen=True)
class _Teeth:
    """Painted teeth, [P, P] each in [0, 1]: where they are (``coverage``) and how light they are there
    (``light``: 1 the teeth's colour, 0 the cavity's)."""

    coverage: np.ndarray
    light: np.ndarray


def _teeth(extent: ColumnExtent, scale: int, teeth_px: float, bared: float, midline: float,
           eye_distance: float, tooth_edges: tuple[float, ...] = TOOTH_EDGES, edge_arc: float = UPPER_EDGE_ARC
           ) -> _Teeth:
    """The top ``teeth_px`` paint pixels of each column of the opening (at most a share of its height that grows
    from ``TEETH_SHARE`` to ``BARED_TEETH_SHARE`` with ``bared``), no lower than the teeth's edge (``edge_arc``,
    through the middle column's), darker towards the corners and in the upper lip's shadow, as separate teeth
    (``TOOTH_EDGES`` either side of ``midline``, paint pixels; ``eye_distance`` in paint pixels) whose gaps let the
    cavity through, most at the gum."""
    inside, columns, top, bottom = extent.inside, extent.columns, extent.top, extent.bottom
    if not columns.any():
        return _Teeth(np.zeros(inside.shape, np.float32), np.zeros(inside.shape, np.float32))
    height = np.where(columns, bottom - top + 1, 0).astype(np.float32)
    rows = np.arange(inside.shape[0], dtype=np.float32)[:, None]
    share = TEETH_SHARE + (BARED_TEETH_SHARE - TEETH_SHARE) * bared
    band_end = top + np.maximum(np.minimum(share * height, teeth_px), 1.0)
    xs = np.flatnonzero(columns)
    columns_x = np.arange(inside.shape[1], dtype=np.float32)
    middle = xs[np.argmin(np.abs(xs - midline))]
    edge = band_end[middle] - edge_arc * (columns_x - midline) ** 2 / eye_distance
    band_height = (np.minimum(band_end, edge) - top)[None]
    from_gum = (rows - top[None]) / np.maximum(band_height, 1.0)  # 0 at the upper lip, 1 at the teeth's edge
    least = MIN_TEETH_HEIGHT + (MIN_BARED_TEETH_HEIGHT - MIN_TEETH_HEIGHT) * bared  # crop pixels
    band = ((rows - top[None] < band_height) & (band_height > 0) & (height[None] >= least * scale)).astype(np.float32)
    across = (np.arange(inside.shape[1]) - (xs[0] + xs[-1]) / 2) / max((xs[-1] - xs[0]) / 2, 1.0)
    shade = np.clip(1.0 - 0.6 * across**2, 0.3, 1.0)[None]
    edges = midline + eye_distance * np.concatenate([-np.array(tooth_edges[1:]), tooth_edges])
    closeness = np.exp(-0.5 * ((columns_x[:, None] - edges[None]) / (TOOTH_GAP * scale)) ** 2).max(axis=1)
    edge_ward = np.clip(from_gum, 0.0, 1.0)
    gaps = 1.0 - TOOTH_GAP_DEPTH * closeness[None] * (0.4 + 0.6 * edge_ward)
    lip_shadow = LIP_SHADOW + (1.0 - LIP_SHADOW) * np.clip(2.0 * edge_ward, 0.0, 1.0)
    light = np.broadcast_to(shade * gaps * lip_shadow, band.shape).astype(np.float32)
    return _Teeth(cv2.GaussianBlur(band, (0, 0), SOFT_EDGE), cv2.GaussianBlur(light, (0, 0), SOFT_EDGE))


def _face_light(face_luma: float) -> float:
    """How bright the light on a face of mean luma ``face_luma`` is, as a factor on teeth and eyeball colours
    (``TEETH_LIGHT_RANGE``)."""
    return float(np.clip(np.sqrt(face_luma / REFERENCE_LUMA), *TEETH_LIGHT_RANGE))


def brightest(view: np.ndarray, points: np.ndarray, scale: int) -> float:
    """The 99th percentile of the luma (uint8 units) of ``view`` (the crop at the paint's resolution, P×P×3) inside
    the hull of the mesh ``points`` (crop pixels): how bright the face's brightest is, its highlights and the eyes'
    white (a gauge of the photo's exposure that the skin's own shade does not move much)."""
    luma = hull_luma(view, points, scale)
    return float(np.percentile(luma, 99)) if luma.size else LIT_BRIGHTEST


def hull_luma(image: np.ndarray, points: np.ndarray, scale: int = 1) -> np.ndarray:
    """[N] the luma (uint8 units) of the pixels of ``image`` (the crop at ``scale`` pixels per crop pixel, H×W×3)
    inside the convex hull of the mesh ``points`` (crop pixels)."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round((points + 0.5) * scale - 0.5).astype(np.int32)), 1)
    return image[mask > 0].astype(np.float32) @ LUMA


def _at_most(rgb: np.ndarray, luma: float) -> np.ndarray:
    """``rgb`` [3] scaled down (its hue kept) to at most ``luma``."""
    return rgb * min(1.0, luma / max(float(rgb @ LUMA), 1e-6))


def _face_luma(crop: np.ndarray, points: np.ndarray) -> float:
    """Mean luma of the face inside its mesh hull (how bright the light on this face is)."""
    luma = hull_luma(crop, points)
    return float(luma.mean()) if luma.size else REFERENCE_LUMA
