"""HSE FaceRes, the face descriptor of npm ``@vladmandic/human@3.3.6`` (tfjs graph model ``models/faceres``), in
PyTorch: a second identity judge beside dlib's (``lsgan.metrics.photo.FaceResDescriber``).

The net is Savchenko's MobileNet v1 (width 1, 224×224 RGB) trained to tell the people of VGGFace2 apart, with age
and gender heads fine-tuned on top (https://github.com/HSE-asavchenko/HSE_FaceRec_tf); Human keeps its global
average pool, a 1024-d vector, as the descriptor it compares faces by. Only that part is ported: the age and gender
heads are left out. As in the graph, every conv has its batch norm folded in (a depthwise conv's as a per-channel
scale, folded into the kernel by the conversion) and is followed by ReLU6; stride-2 convs pad like TF's ``'same'``
(the odd pixel after the image, ``SamePadConv``). The input is RGB in 0-255, unnormalised (Human multiplies its 0-1
face tensor by 255).

Weights: ``lsgan.nets.weight_conversion.faceres_tensors`` (checked against descriptors recorded with tfjs).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lsgan.nets.expression.faceapi import SamePadConv

INPUT_SIZE = 224
FIRST_CHANNELS = 32
# MobileNet v1's depthwise-separable blocks: (output channels of the pointwise conv, stride of the depthwise conv)
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)
DESCRIPTOR_SIZE = BLOCKS[-1][0]


class SeparableBlock(nn.Module):
    """A 3×3 depthwise conv (its batch norm folded in), ReLU6, a 1×1 conv, ReLU6."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.depthwise = SamePadConv(channels_in, channels_in, 3, stride, groups=channels_in)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.pointwise(F.relu6(self.depthwise(x))))


class FaceResNet(nn.Module):
    """``forward(faces [B, 3, 224, 224] RGB 0-255) -> descriptors [B, 1024]`` (the global average pool)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = SamePadConv(3, FIRST_CHANNELS, 3, 2)
        channels_in = (FIRST_CHANNELS, *(channels for channels, _ in BLOCKS[:-1]))
        self.blocks = nn.Sequential(*(SeparableBlock(cin, cout, stride)
                                      for cin, (cout, stride) in zip(channels_in, BLOCKS, strict=True)))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self.conv1(faces))  # [B, 32, 112, 112]
        return self.blocks(x).mean(dim=(2, 3))  # [B, 1024, 7, 7] -> [B, 1024]
