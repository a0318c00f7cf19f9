"""Parameter counts and forward+backward time of the LSGAN networks at a config's image size.

python scripts/bench_nets.py --size 128 --batch 8 --device cuda [--bf16]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from lsgan.losses import reconstruction_loss
from lsgan.nets.auxiliary import AURegressor
from lsgan.nets.discriminator import AUDiscriminator
from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator


def millions(module: nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def time_step(step, device: str, repeats: int = 5) -> float:
    step()  # warm-up (cuDNN autotuning, allocator)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()
    config = LSGANConfig(image_size=args.size)
    generator = LSGANGenerator(config).to(args.device).train()
    aud = AUDiscriminator(config.aud, args.size).to(args.device)
    regressor = AURegressor(config.aux).to(args.device)
    image = torch.rand(args.batch, 3, args.size, args.size, device=args.device) * 2 - 1
    aus = torch.rand(args.batch, 16, device=args.device)
    autocast = torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.bf16)

    def generator_step() -> None:
        with autocast:
            out = generator(image, aus)
            adv, _ = aud(out.image)
            loss = (
                reconstruction_loss(out.image.float(), image) + adv.float().mean() + regressor(out.image).float().mean()
            )
        loss.backward()

    def edit_step() -> None:
        with torch.no_grad(), autocast:
            generator.edit(image, aus)

    for name, module in [
        ("SMG", generator.smg),
        ("E", generator.encoder),
        ("TG", generator.tg),
        ("AUD", aud),
        ("G_exp", regressor),
    ]:
        print(f"{name}: {millions(module):.2f} M parameters")
    print(
        f"generator+AUD+G_exp forward/backward, B={args.batch} at {args.size}px: {time_step(generator_step, args.device):.1f} ms"
    )
    print(f"edit (inference), B={args.batch}: {time_step(edit_step, args.device):.1f} ms")
    if args.device == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
