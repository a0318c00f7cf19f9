import csv

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from lsgan.config import load_config
from lsgan.data.datasets import _FLIP_LUT, DataConfig, FaceAUDataset, UnpairedPairs, build_dataset, dataset_from_config
from lsgan.data.images import read_label_map, write_image
from lsgan.data.tables import AURecord
from lsgan.errors import DataError
from lsgan.parsing import CLASS_INDEX, NUM_PARSING_CLASSES


def test_items_have_the_documented_shapes_and_ranges(fake_synthfacs):
    root = fake_synthfacs(identities=3, per_identity=2, size=24)
    dataset = build_dataset("synthfacs", root, "train", 16, with_labels=True)
    assert len(dataset) == 4 and dataset.identities == ["0", "1"] and not dataset.report
    item = dataset[3]
    assert item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32
    assert item["image"].min() >= -1 and item["image"].max() <= 1
    assert item["aus"].shape == (16,) and item["aus"].min() >= 0 and item["aus"].max() <= 1
    assert item["au_mask"].tolist() == [1.0] * 16
    assert item["identity"].dtype == torch.long and item["identity"].item() == 1
    assert item["labels"].shape == (16, 16) and item["labels"].dtype == torch.long
    full = read_label_map(root / "labels/0003.png", NUM_PARSING_CLASSES)
    assert set(item["labels"].unique().tolist()) <= set(np.unique(full).tolist())  # nearest: no new classes
    assert item["path"].endswith("images/0003.png")
    assert len(build_dataset("synthfacs", root, "test", 16)) == 2
    assert len(build_dataset("synthfacs", root, "all", 16)) == 6


def test_batches_collate(fake_synthfacs):
    dataset = build_dataset("synthfacs", fake_synthfacs(), "all", 8)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    assert batch["image"].shape == (4, 3, 8, 8) and batch["aus"].shape == (4, 16) and len(batch["path"]) == 4


def set_cell(csv_path, row, column, value):
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[row][column] = value
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_bad_files_are_skipped_and_reported(fake_synthfacs):
    root = fake_synthfacs(identities=2, per_identity=3)
    (root / "images/0001.png").write_bytes((root / "images/0001.png").read_bytes()[:60])  # truncated
    write_image(root / "images/0002.png", np.zeros((2, 2, 3), np.uint8))  # too small
    (root / "images/0004.png").unlink()
    set_cell(root / "annotations.csv", row=5, column="AU01", value="nan")
    dataset = build_dataset("synthfacs", root, "all", 16)
    reasons = {item.file.rsplit("/", 1)[-1]: item.reason for item in dataset.report}
    assert [r.image.name for r in dataset.records] == ["0000.png", "0003.png"]
    assert "truncated" in reasons["0001.png"] and "smaller than" in reasons["0002.png"]
    assert "no such image file" in reasons["0004.png"] and "is 'nan'" in reasons["annotations.csv:7"]
    with pytest.raises(DataError, match="annotations.csv:7"):
        build_dataset("synthfacs", root, "all", 16, strict=True)


def test_empty_data_set_says_why(fake_synthfacs):
    root = fake_synthfacs(identities=1, per_identity=1)
    (root / "images/0000.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="no usable images.*0000.png"):
        build_dataset("synthfacs", root, "all", 16)


def test_labels_required_when_asked():
    record = AURecord(image=__file__, aus=np.zeros(16, np.float32))
    with pytest.raises(DataError, match="no label map"):
        FaceAUDataset([record], 16, with_labels=True)


def test_flip_augmentation_swaps_left_and_right_classes(tmp_path):
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :4] = 255
    labels = np.zeros((8, 8), np.uint8)
    labels[:, :4] = CLASS_INDEX["left_eye"]
    record = AURecord(image=write_image(tmp_path / "i.png", image), aus=np.zeros(16, np.float32),
                      labels=write_image(tmp_path / "l.png", labels))
    dataset = FaceAUDataset([record], 8, with_labels=True, augment=True, min_image_size=8)
    torch.manual_seed(0)
    items = [dataset[0] for _ in range(16)]
    flipped = [it for it in items if it["image"][0, 0, 0] < 0]
    assert 0 < len(flipped) < 16
    for item in flipped:
        assert (item["labels"][:, 4:] == CLASS_INDEX["right_eye"]).all() and (item["labels"][:, :4] == 0).all()
    assert _FLIP_LUT[_FLIP_LUT].tolist() == list(range(NUM_PARSING_CLASSES))


class _Indices(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        return index


def test_unpaired_pairs_are_deterministic_and_never_the_same_image():
    pairs = UnpairedPairs(_Indices(50), seed=3)
    targets = [pairs[i]["target"] for i in range(50)]
    assert all(pairs[i]["source"] == i != t for i, t in enumerate(targets))
    assert targets == [UnpairedPairs(_Indices(50), seed=3)[i]["target"] for i in range(50)]
    pairs.set_epoch(1)
    assert [pairs[i]["target"] for i in range(50)] != targets
    assert len(set(targets)) > 25  # spread over the data set, not a fixed shift


def test_unpaired_pairs_under_distributed_sampler():
    pairs = UnpairedPairs(_Indices(20), seed=0)
    seen = {}
    for rank in range(2):
        sampler = DistributedSampler(pairs, num_replicas=2, rank=rank, shuffle=True, seed=0)
        for batch in DataLoader(pairs, batch_size=5, sampler=sampler, num_workers=0):
            seen.update(zip(batch["source"].tolist(), batch["target"].tolist(), strict=True))
    assert sorted(seen) == list(range(20))
    assert all(seen[i] == pairs.target_index(i) for i in range(20))
    with pytest.raises(DataError, match="at least 2"):
        UnpairedPairs(_Indices(1))


def test_data_config_from_yaml_and_unknown_options(tmp_path, fake_synthfacs):
    root = fake_synthfacs()
    config_path = tmp_path / "data.yaml"
    config_path.write_text(f"kind: synthfacs\nroot: {root}\nimage_size: 8\nsplit: test\n")
    cfg = load_config(DataConfig, config_path)
    assert len(dataset_from_config(cfg)) == 2
    with pytest.raises(DataError, match="unknown data option.*colour"):
        build_dataset("synthfacs", root, "train", 8, colour=True)
    with pytest.raises(DataError, match="unknown split 'val'"):
        build_dataset("synthfacs", root, "val", 8)
    with pytest.raises(DataError, match="needs an AU table"):
        build_dataset("folder", tmp_path, "train", 8)


def test_reads_what_lsgan_data_synth_writes(tmp_path):
    from typer.testing import CliRunner

    from lsgan.cli import app
    from lsgan.cli.data import app as data_app

    if "synth" not in {command.name or command.callback.__name__ for command in data_app.registered_commands}:
        pytest.skip("`lsgan data synth` is not registered yet")
    out = tmp_path / "synth"
    args = ["data", "synth", "--out", str(out), "--identities", "3", "--per-identity", "2", "--size", "32",
            "--seed", "5", "--au-scale", "5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    dataset = build_dataset("synthfacs", out, "all", 32, with_labels=True)
    assert len(dataset) == 6 and not dataset.report and len(dataset.identities) == 3
    aus = torch.stack([dataset[i]["aus"] for i in range(6)])
    assert aus.min() >= 0 and aus.max() <= 1 and aus.max() > 0  # stored 0-5, read back on 0-1
    assert dataset[0]["labels"].max() < NUM_PARSING_CLASSES
