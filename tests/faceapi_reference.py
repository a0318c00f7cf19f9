"""The inputs of face-api's recorded reference outputs (``tests/data/faceapi_reference.json``), rebuilt from data that
ships with scikit-image and a fixed seed, so no face image is kept in the repository.

    python tests/faceapi_reference.py DIR    # writes DIR/inputs.json and DIR/inputs.bin for the node script

then ``node scripts/reference_faceapi.mjs DIR tests/data/faceapi_reference.json`` (see its header) runs the original
face-api on them. The tests rebuild the same photos with ``reference_inputs()`` and compare.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).parent / "data" / "faceapi_reference.json"
LFW_FACES = (0, 1, 2)  # indices in skimage.data.lfw_subset() (the first 100 are faces)
LFW_UPSCALE = 4  # 25×25 -> 100×100, by repeating pixels
NOISE_SEED = 0


@dataclass(frozen=True)
class ReferenceInput:
    name: str
    built: str  # how the photo is made, in words
    photo: np.ndarray  # uint8 H×W×3 RGB
    box: tuple[float, float, float, float]  # x0, y0, x1, y1; face-api gets Rect(x0, y0, x1 - x0, y1 - y0)


def reference_inputs() -> list[ReferenceInput]:
    """Every recorded input: astronaut crops (detected box, padded, clipped, exactly 112), upscaled LFW faces,
    seeded noise with a fractional box, and a uniform grey 112×112 face (the converter's parity check)."""
    from skimage import data

    astronaut = data.astronaut()
    inputs = [
        ReferenceInput("astronaut_detected", "skimage.data.astronaut(), mediapipe's box (rounded to 0.01 px)",
                       astronaut, (173.66, 67.78, 277.59, 171.7)),
        ReferenceInput("astronaut_wide", "skimage.data.astronaut(), a loose box wider than tall (padded)",
                       astronaut, (150.0, 50.0, 310.0, 190.0)),
        ReferenceInput("astronaut_clipped", "skimage.data.astronaut(), a tall box over the top edge (clipped)",
                       astronaut, (175.0, -30.0, 275.0, 180.0)),
        ReferenceInput("astronaut_112", "skimage.data.astronaut(), a 112×112 box (no resizing)",
                       astronaut, (170.0, 64.0, 282.0, 176.0)),
    ]
    faces = data.lfw_subset()
    for index in LFW_FACES:
        grey = np.round(faces[index] * 255).astype(np.uint8).repeat(LFW_UPSCALE, 0).repeat(LFW_UPSCALE, 1)
        photo = np.repeat(grey[:, :, None], 3, axis=2)
        side = float(photo.shape[0])
        inputs.append(ReferenceInput(
            f"lfw_{index}", f"skimage.data.lfw_subset()[{index}] * 255 rounded, pixels repeated {LFW_UPSCALE}×, grey "
            "to RGB; the whole image", photo, (0.0, 0.0, side, side)))
    noise = np.random.default_rng(NOISE_SEED).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    inputs.append(ReferenceInput(
        "noise",
        f"np.random.default_rng({NOISE_SEED}).integers(0, 256, (90, 120, 3), dtype=np.uint8); a fractional box",
        noise, (10.5, 5.25, 110.75, 88.9)))
    grey = np.full((112, 112, 3), 128, np.uint8)
    inputs.append(ReferenceInput("grey112", "np.full((112, 112, 3), 128, np.uint8); the whole image",
                                 grey, (0.0, 0.0, 112.0, 112.0)))
    return inputs


def write_inputs(folder: Path) -> None:
    """``inputs.json`` (names, descriptions, shapes, boxes, byte offsets) and ``inputs.bin`` (the raw photos)."""
    folder.mkdir(parents=True, exist_ok=True)
    records, offset = [], 0
    with open(folder / "inputs.bin", "wb") as raw:
        for item in reference_inputs():
            raw.write(item.photo.tobytes())
            records.append({"name": item.name, "built": item.built, "shape": list(item.photo.shape),
                            "box": list(item.box), "offset": offset})
            offset += item.photo.nbytes
    (folder / "inputs.json").write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    write_inputs(Path(sys.argv[1]))
