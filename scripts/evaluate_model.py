"""Score a model bundle on the test identities of a SynthFACS data set and print the figures as JSON:

- SMG: mIoU of its face parsing against the rendered label maps;
- G_exp: AU MSE on real renders (beside predicting the training mean and predicting zero);
- edits: every test image edited to the AUs of another test image (pairs with equal AUs skipped), scored against the *rendered true target*
  (the same person, pose and light with the target AUs): PSNR, SSIM, AU MSE read by G_exp, per-AU MSE and ICC,
  beside the identity baseline (the source returned unchanged); "change along truth": how much of the true change
  (true target - source) the edit makes, in its direction (0 for the unchanged source, 1 for the whole change);
  and self-reconstruction PSNR/SSIM. Edits get G_exp's reading of the source as its AUs, as ``Editor`` does.

    python scripts/evaluate_model.py --model src/lsgan/assets/default --data runs/data/synthfacs-64-60x40
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from lsgan.data.datasets import UnpairedPairs, build_dataset
from lsgan.metrics.au import au_agreement
from lsgan.metrics.image import change_along_truth, psnr, ssim
from lsgan.metrics.running import RunningMean
from lsgan.metrics.segmentation import ConfusionMatrix
from lsgan.nets.lsgan import ModelBundle, load_bundle
from lsgan.parsing import NUM_PARSING_CLASSES
from lsgan.training.synth_targets import with_true_targets


def smg_and_gexp_scores(bundle: ModelBundle, data: Path, batch_size: int) -> dict[str, float]:
    size = bundle.config.image_size
    train_aus = torch.stack([item["aus"] for item in build_dataset("synthfacs", data, "train", size)])
    test = build_dataset("synthfacs", data, "test", size, with_labels=True)
    confusion, means = ConfusionMatrix(NUM_PARSING_CLASSES), RunningMean()
    for batch in DataLoader(test, batch_size=batch_size):
        if bundle.generator.smg is not None:
            confusion.add(bundle.generator.smg(batch["image"]).argmax(1), batch["labels"])
        aus = batch["aus"]
        means.add("gexp_au_mse", (bundle.au_regressor(batch["image"]) - aus).pow(2).mean(1))
        means.add("gexp_au_mse_train_mean_baseline", (train_aus.mean(0) - aus).pow(2).mean(1))
        means.add("gexp_au_mse_zero_baseline", aus.pow(2).mean(1))
    scores = means.result()
    if bundle.generator.smg is not None:
        scores["smg_miou"] = confusion.mean_iou()
    return scores


def edit_scores(bundle: ModelBundle, data: Path, batch_size: int, seed: int) -> dict[str, float]:
    test = build_dataset("synthfacs", data, "test", bundle.config.image_size)
    pairs = with_true_targets(UnpairedPairs(test, seed), data)
    means, read_aus, target_aus = RunningMean(), [], []
    for batch in DataLoader(pairs, batch_size=batch_size):
        new = (batch["target"]["aus"] - batch["source"]["aus"]).abs().amax(1) > 1e-6  # skip same-AU pairs
        if not new.any():
            continue
        source, source_aus = batch["source"]["image"][new], batch["source"]["aus"][new]
        target, truth = batch["target"]["aus"][new], batch["true_target"][new]
        estimate = bundle.au_regressor(source).clamp(0, 1)  # the source AUs an edit is given, as in Editor
        edited = bundle.generator(source, target, estimate).image
        rebuilt = bundle.generator(source, estimate, estimate).image
        read = bundle.au_regressor(edited)
        means.add("edit_change_along_truth", change_along_truth(edited, source, truth))
        read_aus.append(read.numpy())
        target_aus.append(target.numpy())
        means.add("edit_psnr", psnr(edited, truth))
        means.add("edit_ssim", ssim(edited, truth))
        means.add("edit_au_mse", (read - target).pow(2).mean(1))
        means.add("identity_baseline_psnr", psnr(source, truth))
        means.add("identity_baseline_ssim", ssim(source, truth))
        means.add("identity_baseline_au_mse", (bundle.au_regressor(source) - target).pow(2).mean(1))
        means.add("true_target_au_mse", (bundle.au_regressor(truth) - target).pow(2).mean(1))
        means.add("self_reconstruction_psnr", psnr(rebuilt, source))
        means.add("self_reconstruction_ssim", ssim(rebuilt, source))
    agreement = au_agreement(np.concatenate(read_aus), np.concatenate(target_aus))
    return {**means.result(), "edit_au_icc_mean": agreement.mean_icc, "pairs": sum(len(a) for a in read_aus),
            "edit_per_au": agreement.as_rows()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model bundle folder")
    parser.add_argument("--data", type=Path, required=True, help="SynthFACS folder the model was trained on")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1, help="seed of the unpaired (source, target) draw")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    bundle = load_bundle(args.model)
    with torch.no_grad():
        scores = {**smg_and_gexp_scores(bundle, args.data, args.batch_size),
                  **edit_scores(bundle, args.data, args.batch_size, args.seed)}
    text = json.dumps(scores, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
