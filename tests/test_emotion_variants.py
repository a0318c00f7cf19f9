"""scripts/emotion_variants.py: the frames it edits, the candidates it reads, how it counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lsgan.evaluation.photos import BenchmarkResult, ClassifierRead, EditRow
from lsgan.facs import EDIT_PROTOTYPES, EMOTION_PROTOTYPES, au_index
from script_support import script_fixture


script = script_fixture("emotion_variants")


def test_the_selection_is_every_strideth_frame_of_each_video(script, tmp_path):
    for video, _ in script.SELECTION_STRIDES:
        folder = tmp_path / "video_frames" / video
        folder.mkdir(parents=True)
        for i in range(45):
            (folder / f"{i * 10:05d}.png").write_bytes(b"")
    frames = script.selection_frames(tmp_path)
    franck = [f.name for f in frames if f.parent.name == "franck"]
    assert franck == ["00000.png", "00400.png"]  # stride 40 of 45 frames
    assert [f.name for f in frames if f.parent.name == "cap13_edit2"] == [f"{i * 100:05d}.png" for i in range(5)]
    assert len(frames) == 2 + 3 + 5


def test_the_edit_table_is_among_the_candidates_and_each_posed_prototype_comes_first(script):
    for emotion, candidates in script.CANDIDATES.items():
        assert candidates[0] == EMOTION_PROTOTYPES[emotion]
        assert EDIT_PROTOTYPES[emotion] in candidates
        assert len({tuple(sorted(c.items())) for c in candidates}) == len(candidates)  # none twice


def test_the_table_pairs_are_the_posed_and_the_edit_prototype_where_they_differ(script):
    pairs = script.table_pairs()
    assert set(pairs) == {"angry", "fearful", "disgusted", "sad", "happy"}
    assert pairs["angry"] == [EMOTION_PROTOTYPES["angry"], EDIT_PROTOTYPES["angry"]]


def test_a_variant_editor_asks_for_the_candidates_aus(script):
    asked = []

    class Recorder:
        def edit(self, images, aus=None, **kwargs):
            asked.append((np.asarray(aus), kwargs))
            return "result"

    editor = script.VariantEditor(Recorder(), {"angry": {10: 1.0, 25: 0.5}})
    assert editor.edit("photo", emotion="angry", intensity=0.5) == "result"
    aus, kwargs = asked[0]
    assert aus[au_index(10)] == pytest.approx(0.5) and aus[au_index(25)] == pytest.approx(0.25)
    assert np.count_nonzero(aus) == 2 and kwargs == {}
    editor.edit("photo", emotion="angry", intensity=0.0)
    assert not asked[1][0].any()  # intensity 0 is no change, not the full candidate


def test_variants_from_json_are_checked(script, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"angry": [{"4": 1, "25": 0.5}]}))
    assert script.read_variants(good) == {"angry": [{4: 1.0, 25: 0.5}]}
    for bad in ({"bored": [{"4": 1}]}, {"angry": [{"4": 1.5}]}, {"angry": [{"3": 1}]}):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        with pytest.raises((SystemExit, ValueError)):
            script.read_variants(path)


def test_the_summary_counts_only_edits_whose_source_was_not_already_read_so(script):
    def row(source_top, edit_top, identity, status="edited"):
        return EditRow("p.png", "angry", status=status, identity_distance=identity,
                       reads={"faceapi": ClassifierRead(source_top, 0.1, edit_top, 0.9)})

    rows = [row("neutral", "angry", 0.3), row("neutral", "sad", 0.5), row("angry", "angry", 0.4),
            row("neutral", "angry", 0.9, status="failed"), EditRow("p.png", "sad", identity_distance=0.2)]
    result = BenchmarkResult(rows, [], ("angry", "sad"), ("faceapi",), 1.0, "")
    summary = script.variant_summaries(result)["angry"]
    assert summary["faceapi"] == (1, 2)
    assert summary["identity"] == pytest.approx((0.4, 0.5))
