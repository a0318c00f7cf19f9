"""The paper's rivals (Table 1), built inside lsgan's framework: StarGAN (Choi et al. 2018) and GANimation
(Pumarola et al. 2018). ``LSGANGenerator`` builds them for ``model.generator: stargan | ganimation``, so model
bundles, the Editor, full-resolution editing and ONNX export take them unchanged (docs/rivals.md)."""

from __future__ import annotations

RIVALS: tuple[str, ...] = ("stargan", "ganimation")
