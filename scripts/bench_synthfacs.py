"""SynthFACS rendering speed: prints images/s of one process at each size, by wall clock and by CPU time
(CPU time is what one free core would give when the machine is shared).

Usage: python scripts/bench_synthfacs.py [--count 40] [--sizes 64 128]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lsgan.data.synthfacs import (
    render,
    sample_expression,
    sample_identity,
    sample_pose_light,
)


def images_per_second(size: int, count: int, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    jobs = []
    for index in range(count):
        expression = sample_expression(rng)
        jobs.append((sample_identity(index % 8, seed), expression, *sample_pose_light(rng)))
    render(jobs[0][0], jobs[0][1].aus, size)  # warm-up: imports, caches
    wall, cpu = time.perf_counter(), time.process_time()
    for identity, expression, pose, light in jobs:
        render(identity, expression.aus, size, pose, light, expression.unilateral)
    return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args()
    for size in args.sizes:
        wall, cpu = images_per_second(size, args.count)
        print(f"{size}x{size}: {wall:.1f} images/s (wall clock), {cpu:.1f} images/s (CPU time)")


if __name__ == "__main__":
    main()
