"""Editing speed on CPU: latency (batch 1) and throughput (batch 32) of ``edit(image, target_aus)`` in PyTorch
and onnxruntime, and each backend's peak memory (every backend runs in its own process, so peaks are separate).

    python scripts/bench_edit.py                       # the shipped model
    python scripts/bench_edit.py --model runs/bundle   # a trained bundle
    python scripts/bench_edit.py --random-size 128     # random weights, default (paper) widths, 128x128

Times cover the networks only (SMG + E + TG), not face detection / alignment / paste-back.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class BenchResult:
    backend: str
    latency_ms: float  # median, batch 1
    throughput: float  # images / s at the large batch
    peak_rss_mb: float


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    run()  # warm-up (allocations, one-time graph optimisations)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def bench_backend(backend: str, bundle: str, onnx_path: str, threads: int, batch: int, repeats: int, queue) -> None:
    """Runs in a child process; puts a BenchResult on ``queue``."""
    import torch

    from lsgan.editing.export import example_inputs, onnx_session, run_onnx
    from lsgan.nets.lsgan import load_bundle

    torch.set_num_threads(threads)
    generator = load_bundle(bundle).generator
    size = generator.config.image_size
    inputs = {n: example_inputs(size, n) for n in (1, batch)}
    if backend == "torch":
        def run(n: int):
            with torch.inference_mode():
                return generator.edit_field(*inputs[n])
    else:
        session = onnx_session(onnx_path, threads=threads)

        def run(n: int):
            return run_onnx(session, *(tensor.numpy() for tensor in inputs[n]))
    latency = statistics.median(timed(lambda: run(1), repeats))
    large = statistics.median(timed(lambda: run(batch), max(2, repeats // 5)))
    queue.put(BenchResult(backend, latency * 1000, batch / large, peak_rss_mb()))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork + exec, so a
    child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB on most systems


def random_bundle(size: int, directory: Path) -> Path:
    import torch

    from lsgan.nets.auxiliary import AURegressor
    from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator, save_bundle

    config = LSGANConfig(image_size=size)
    torch.manual_seed(0)
    return save_bundle(directory, config, LSGANGenerator(config), AURegressor(config.aux))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model bundle folder (default: the shipped model)")
    parser.add_argument("--random-size", type=int, help="benchmark a random-init model of this image size instead")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=max(1, multiprocessing.cpu_count()))
    args = parser.parse_args()

    from lsgan.editing.editor import resolve_model_dir
    from lsgan.editing.export import export_onnx
    from lsgan.nets.lsgan import load_bundle

    with tempfile.TemporaryDirectory(prefix="bench-edit-") as work:
        bundle = random_bundle(args.random_size, Path(work) / "bundle") if args.random_size else resolve_model_dir(args.model)
        generator = load_bundle(bundle).generator
        report = export_onnx(generator, generator.config.image_size, Path(work) / "editor.onnx")
        size = generator.config.image_size
        params = sum(p.numel() for p in generator.parameters()) / 1e6
        print(f"model {bundle}: {size}x{size}, generator {params:.1f} M parameters; "
              f"onnx parity max abs diff {report.max_abs_diff:.2e}; {args.threads} CPU thread(s)")
        context = multiprocessing.get_context("spawn")
        print(f"{'backend':<12} {'latency b=1 (ms)':>17} {f'throughput b={args.batch} (img/s)':>26} {'peak RSS (MB)':>14}")
        for backend in ("torch", "onnxruntime"):
            queue = context.Queue()
            child = context.Process(target=bench_backend, args=(backend, str(bundle), str(report.path), args.threads,
                                                                 args.batch, args.repeats, queue))
            child.start()
            result = queue.get()
            child.join()
            print(f"{result.backend:<12} {result.latency_ms:>17.1f} {result.throughput:>26.1f} {result.peak_rss_mb:>14.0f}")


if __name__ == "__main__":
    main()
