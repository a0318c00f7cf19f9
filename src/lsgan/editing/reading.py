"""The crops G_exp reads a face through: the aligned crop and its neighbours (not in the paper; issue 11).

On photos G_exp's reading swings with a few pixels of alignment. George Clooney's resting face reads AU9 0.72 and
AU10 0.57 in a crop moved 3 % of its side, 0.06 and 0.10 as the median over the crops around it; Kim Kardashian's
AU1 0.33-0.9 over the same crops. An edit undoes what the source's reading says is there, so each swing becomes a
motion nobody asked for (and costs identity). ``view_crops`` gives ``VIEWS`` of a face (mirrored or not × three
scales × five shifts); the editor reads all of them and keeps the median of each AU (``steady_reading``).

A face in a dark photo is read brightened (``exposed``): G_exp read the portraits darkened to 0.3 with AU12 0.16 lower
on average (their smiles fainter; AU25 0.11, AU6 0.07), 0.03 brightened back.
"""

from __future__ import annotations

import numpy as np

from lsgan.data.faces import reduced_for_warp, warp_affine
from lsgan.editing.paint import LIT_BRIGHTEST

VIEW_SCALES = (0.95, 1.0, 1.05)  # about the crop's centre
VIEW_SHIFTS = ((0.0, 0.0), (-0.03, 0.0), (0.03, 0.0), (0.0, -0.03), (0.0, 0.03))  # fractions of the crop's side
MAX_EXPOSURE_GAIN = 4.0  # a face in a quarter of the light, or more, is read as one in a quarter of it
View = tuple[bool, float, float, float]  # (mirrored, scale, dx, dy)
VIEWS: tuple[View, ...] = tuple(
    (mirrored, scale, dx, dy) for mirrored in (False, True) for scale in VIEW_SCALES for dx, dy in VIEW_SHIFTS)


def view_matrix(size: int, scale: float, dx: float, dy: float) -> np.ndarray:
    """``[3, 3]`` crop -> view: ``scale`` about the centre of a ``size`` crop, then a shift of (dx, dy) sides."""
    centre = size / 2
    return np.array([[scale, 0.0, centre * (1 - scale) + dx * size],
                     [0.0, scale, centre * (1 - scale) + dy * size],
                     [0.0, 0.0, 1.0]])


def view_crops(photo: np.ndarray, matrix: np.ndarray, size: int, views: tuple[View, ...] = VIEWS) -> np.ndarray:
    """``[V, size, size, 3]`` uint8: the face that ``matrix`` (2×3, photo -> crop) aligns, seen through each view
    (the view (False, 1, 0, 0) is the aligned crop itself). A large photo is reduced once for all of them."""
    photo, matrix = reduced_for_warp(photo, matrix)
    to_crop = np.vstack([matrix, [0.0, 0.0, 1.0]])
    # a mirrored view is its unmirrored twin flipped: each (scale, dx, dy) is warped once
    warped = {place: warp_affine(photo, (view_matrix(size, *place) @ to_crop)[:2], size)
              for place in dict.fromkeys(view[1:] for view in views)}
    crops = [warped[view[1:]][:, ::-1] if view[0] else warped[view[1:]] for view in views]
    return np.ascontiguousarray(np.stack(crops))


def exposed(crops: np.ndarray, brightest: float) -> np.ndarray:
    """``crops`` (uint8 [..., 3]: one face's views) brightened until the face's ``brightest`` (``paint.brightest``,
    uint8 units) is ``paint.LIT_BRIGHTEST``, at most ``MAX_EXPOSURE_GAIN`` times; as they are where it is at least
    that (a photo in its light)."""
    gain = float(np.clip(LIT_BRIGHTEST / max(brightest, 1.0), 1.0, MAX_EXPOSURE_GAIN))
    if gain == 1.0:
        return crops
    return np.clip(np.round(crops.astype(np.float32) * gain), 0, 255).astype(np.uint8)
