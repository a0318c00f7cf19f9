"""Face-parsing classes (the per-pixel label maps SynthFACS writes and SMG predicts) and the grouping of
classes into the paper's three regions: eyes (+brows), mouth, and the rest of the face ("part").

"left"/"right" are as seen in the image (image-left), not the subject's own left.
"""

from __future__ import annotations

PARSING_CLASSES: tuple[str, ...] = (
    "background",      # 0
    "skin",            # 1 face skin, forehead, cheeks, chin
    "hair",            # 2
    "neck",            # 3
    "ear",             # 4
    "left_brow",       # 5
    "right_brow",      # 6
    "left_eye",        # 7 sclera + lids opening
    "right_eye",       # 8
    "left_iris",       # 9
    "right_iris",      # 10
    "nose",            # 11
    "upper_lip",       # 12
    "lower_lip",       # 13
    "mouth_interior",  # 14
    "teeth",           # 15
    "glasses",         # 16
    "clothes",         # 17
)
NUM_PARSING_CLASSES = len(PARSING_CLASSES)
CLASS_INDEX: dict[str, int] = {name: i for i, name in enumerate(PARSING_CLASSES)}

EYE_REGION_CLASSES: tuple[str, ...] = (
    "left_brow", "right_brow", "left_eye", "right_eye", "left_iris", "right_iris", "glasses",
)
MOUTH_REGION_CLASSES: tuple[str, ...] = ("upper_lip", "lower_lip", "mouth_interior", "teeth")
FACE_CLASSES: tuple[str, ...] = ("skin", "nose", "ear", *EYE_REGION_CLASSES, *MOUTH_REGION_CLASSES)


def class_ids(names: tuple[str, ...]) -> list[int]:
    return [CLASS_INDEX[n] for n in names]
