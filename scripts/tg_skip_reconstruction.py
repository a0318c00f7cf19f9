"""How much the TG's encoder skips (``tg.skip_levels``) help keep a face: train E + TG only on
self-reconstruction (Eq. 8, source AUs as target) on a few SynthFACS faces, with region masks from the
ground-truth label maps, and print the PSNR on held-out identities for each ``skip_levels``.

    python scripts/tg_skip_reconstruction.py --size 64 --steps 150 --skip-levels 0 7 [--device cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lsgan.data.synthfacs.identity import sample_identity
from lsgan.data.synthfacs.renderer import render
from lsgan.losses import reconstruction_loss
from lsgan.metrics.image import psnr
from lsgan.nets.aae import AAEConfig
from lsgan.nets.generator import TGConfig
from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator
from lsgan.nets.smg import region_masks


def faces(identities: range, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    images, labels, aus = [], [], []
    for identity in identities:
        vector = (rng.random(16) * (rng.random(16) < 0.3)).astype(np.float32)
        out = render(sample_identity(identity, seed), vector, size=size)
        images.append(torch.from_numpy(out.image).permute(2, 0, 1).float() / 127.5 - 1)
        labels.append(torch.from_numpy(out.labels.astype(np.int64)))
        aus.append(torch.from_numpy(vector))
    return torch.stack(images), torch.stack(labels), torch.stack(aus)


def train(skip_levels: int, data, test, size: int, steps: int, width: int, device: str) -> tuple[float, float]:
    torch.manual_seed(0)
    config = LSGANConfig(
        image_size=size,
        use_smg=False,
        aae=AAEConfig(width=width, max_channels=8 * width),
        tg=TGConfig(width=width, max_channels=8 * width, skip_levels=skip_levels),
    )
    generator = LSGANGenerator(config).to(device)
    optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    images, labels, aus = (t.to(device) for t in data)
    masks = region_masks(labels)
    for step in range(steps):
        index = torch.randint(0, len(images), (8,), device=device)
        codes = generator.encode_regions(images[index], masks[index])
        output = generator.tg(codes, aus[index], masks[index], images[index]).image
        loss = reconstruction_loss(output, images[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        test_images, test_labels, test_aus = (t.to(device) for t in test)
        test_masks = region_masks(test_labels)
        codes = generator.encode_regions(test_images, test_masks)
        output = generator.tg(codes, test_aus, test_masks, test_images).image
    return loss.item(), float(psnr(output, test_images).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--skip-levels", type=int, nargs="+", default=[0, 7])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    data = faces(range(32), args.size, seed=1)
    test = faces(range(100, 108), args.size, seed=2)
    for levels in args.skip_levels:
        start = time.time()
        loss, test_psnr = train(levels, data, test, args.size, args.steps, args.width, args.device)
        print(
            f"skip_levels={levels}: final train L_rec {loss:.3f}, held-out PSNR {test_psnr:.2f} dB "
            f"({time.time() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
