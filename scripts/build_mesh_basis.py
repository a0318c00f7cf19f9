"""Build the AU mesh basis (``lsgan.data.mesh_basis``): render SynthFACS identities neutral and with each AU alone,
read every render with mediapipe's face mesh, and fit each AU's mesh motion per unit of intensity.

The shipped basis, ``src/lsgan/assets/mesh_basis.safetensors``, was made with the defaults (30 identities, 256 px,
levels 0.5 and 1.0; about 2 minutes on one core). Run it again after changing the renderer:

    python scripts/build_mesh_basis.py --out src/lsgan/assets/mesh_basis.safetensors --overwrite
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lsgan.data.mesh_basis import MeshBasisSettings, build_mesh_basis
from lsgan.facs import AU_IDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--identities", type=int, default=MeshBasisSettings.identities)
    parser.add_argument("--size", type=int, default=MeshBasisSettings.size)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    args = parser.parse_args()
    if args.out.exists() and not args.overwrite:
        raise SystemExit(f"{args.out} exists: pass --overwrite to replace it")
    basis = build_mesh_basis(MeshBasisSettings(identities=args.identities, size=args.size), progress=True)
    basis.save(args.out)
    largest = np.linalg.norm(basis.displacements, axis=-1).max(axis=1)  # [16] crop-side fractions
    print(f"{args.out}: renderer version {basis.renderer_version}, {args.identities} identities at {args.size} px")
    print("AU   largest point motion (% of crop side)   agreement between identities")
    for au, move, agree in zip(AU_IDS, largest, basis.agreement):
        print(f"AU{au:<3} {100 * move:8.2f} {agree:8.2f}")


if __name__ == "__main__":
    main()
