"""Face-parsing classes (the per-pixel label maps SynthFACS writes and SMG predicts) and the grouping of
classes into the paper's three regions: eyes (+brows), mouth, and the rest of the face ("part").

"left"/"right" are as seen in the image (image-left), not the subject's own left.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

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


def _class_membership(labels: Tensor, names: tuple[str, ...]) -> Tensor:
    """[B,H,W] integer labels -> [B,1,H,W] float, 1 where the label is one of ``names``."""
    ids = torch.tensor(class_ids(names), device=labels.device).view(1, -1, 1, 1)
    return (labels.unsqueeze(1) == ids).any(dim=1, keepdim=True).float()


def _grow(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation by a (2r+1)^2 square (max-pool)."""
    return F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius) if radius > 0 else mask


def _soften(mask: Tensor, radius: int) -> Tensor:
    """Box blur of radius r (average pool, edges averaged over the valid pixels only)."""
    if radius <= 0:
        return mask
    return F.avg_pool2d(mask, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def region_masks(logits_or_labels: Tensor, dilation: float = 0.06, blur: float = 0.02) -> Tensor:
    """Soft region masks [B,3,H,W] (eye, mouth, part), summing to 1 per pixel, from parsing logits [B,K,H,W]
    or label maps [B,H,W] (integers indexing ``parsing.PARSING_CLASSES``).

    eye = brows+eyes+irises+glasses and mouth = lips+interior+teeth, each dilated by ``dilation`` x side pixels
    (the paper's "enlarged" regions) and blurred by ``blur`` x side; where they overlap the eye wins; part is the
    rest. Not differentiable (argmax), computed batched on the tensor's device.
    """
    labels = logits_or_labels.argmax(dim=1) if logits_or_labels.dim() == 4 else logits_or_labels
    side = int(max(labels.shape[-2:]))  # a constant when traced for ONNX
    grow_px, blur_px = round(dilation * side), round(blur * side)
    eye = _soften(_grow(_class_membership(labels, EYE_REGION_CLASSES), grow_px), blur_px)
    mouth = _soften(_grow(_class_membership(labels, MOUTH_REGION_CLASSES), grow_px), blur_px)
    mouth = torch.minimum(mouth, 1.0 - eye)
    return torch.cat([eye, mouth, 1.0 - eye - mouth], dim=1)
