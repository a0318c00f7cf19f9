"""Training throughput per stage: images/s and peak memory (CPU RSS; CUDA max allocated on GPU).

    python scripts/bench_training.py --config configs/cpu64.yaml [--data DIR] [--steps 10] [--warmup 2]
        [--stages smg,aae,aux,lsgan] [--set key.path=value ...]

Each stage is built as training builds it (same networks, optimizers, precision, channels-last), timed over
``--steps`` real training steps after ``--warmup`` untimed ones, then checkpointed into a temporary run dir so
the next stage can load it. An image = one training sample (a (source, target) pair for lsgan).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lsgan.training.checkpoint import CHECKPOINT_NAME, TrainState, save_checkpoint
from lsgan.training.config import STAGE_NAMES, TrainConfig
from lsgan.training.distributed import init_distributed
from lsgan.training.loop import TrainingStage
from lsgan.training.pipeline import load_train_config, prepare_data, stage_class, stage_data
from lsgan.training.seeding import seed_everything


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data", type=Path, help="data folder (overrides data.root)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per stage")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per stage")
    parser.add_argument("--stages", default=",".join(STAGE_NAMES), help="comma-separated, in training order")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override key=value")
    return parser.parse_args()


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def bench_stage(stage: TrainingStage, steps: int, warmup: int) -> tuple[float, float | None]:
    """Images/s over ``steps`` timed steps, and CUDA max allocated (MiB) when on GPU."""
    loader = DataLoader(stage.data.train, batch_size=stage.settings.batch_size, shuffle=True, drop_last=True,
                        num_workers=stage.runtime.num_workers)
    batches = islice(cycle(loader), warmup + steps)
    on_cuda = stage.ctx.device.type == "cuda"
    if on_cuda:
        torch.cuda.reset_peak_memory_stats(stage.ctx.device)
    stage.train_mode(True)
    for index, batch in enumerate(batches):
        if index == warmup:
            if on_cuda:
                torch.cuda.synchronize(stage.ctx.device)
            started = time.perf_counter()
        stage.train_step(stage.to_device(batch))
    if on_cuda:
        torch.cuda.synchronize(stage.ctx.device)
    elapsed = time.perf_counter() - started
    cuda_peak = torch.cuda.max_memory_allocated(stage.ctx.device) / 2**20 if on_cuda else None
    return steps * stage.settings.batch_size / elapsed, cuda_peak


def main() -> None:
    args = parse_args()
    overrides = args.overrides + ([f"data.root={args.data}"] if args.data else [])
    config: TrainConfig = load_train_config(args.config, overrides)
    if config.runtime.num_threads:
        torch.set_num_threads(config.runtime.num_threads)
    ctx = init_distributed(config.runtime.device)
    prepare_data(config, ctx)
    print(f"config {args.config}, image size {config.model.image_size}, device {ctx.device}, "
          f"precision {config.runtime.precision}, channels-last {config.runtime.channels_last}, "
          f"threads {torch.get_num_threads()}")
    print(f"{'stage':<6} {'batch':>5} {'images/s':>9} {'peak RSS MiB':>13} {'CUDA peak MiB':>14}")
    with tempfile.TemporaryDirectory() as run_dir:
        for name in args.stages.split(","):
            seed_everything(config.runtime.seed)
            stage_cls = stage_class(name, config)
            stage = stage_cls(ctx, config, stage_data(stage_cls, config), Path(run_dir))
            images_per_s, cuda_peak = bench_stage(stage, args.steps, args.warmup)
            cuda_text = f"{cuda_peak:.0f}" if cuda_peak is not None else "-"
            print(f"{name:<6} {stage.settings.batch_size:>5} {images_per_s:>9.1f} {peak_rss_mib():>13.0f} {cuda_text:>14}")
            save_checkpoint(Path(run_dir) / name / CHECKPOINT_NAME, TrainState(stage=name),
                            stage.networks(), stage.optimizers())


if __name__ == "__main__":
    main()
