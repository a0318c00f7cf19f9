"""``--region`` follows the face's landmarks, not the SMG parser's masks, on a real photo (``editor._region_masks``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lsgan.data.faces import FaceAligner
from lsgan.editing import Editor


@pytest.mark.parametrize("region", ["eyes", "mouth"])
def test_an_edit_to_a_region_moves_that_region_of_a_real_face_whatever_the_parser_finds(astronaut, region):
    """The SMG parser, trained on SynthFACS, found no eyes on some real portraits (and no mouth on another): their
    ``--region eyes`` edit changed no pixel. The region now comes from the face's landmarks: with the parser's masks
    emptied (everything "part"), the edit still changes the region asked for, and nothing on the other side of the
    nose tip."""
    with Editor.from_pretrained() as editor:
        generate = editor._generate

        def without_regions(*args, **kwargs):
            edited, masks, flows, colours = generate(*args, **kwargs)
            masks = masks * 0
            masks[:, 2] = 1.0
            return edited, masks, flows, colours

        editor._generate = without_regions
        result = editor.edit(astronaut, emotion="surprised", region=region)
    with FaceAligner(64) as aligner:
        face = aligner.align(astronaut)
    to_photo = cv2.invertAffineTransform(face.matrix)
    nose_row = float(face.landmarks.points[1] @ to_photo[1, :2] + to_photo[1, 2])
    changed = np.abs(result.image.astype(int) - astronaut.astype(int)).max(axis=-1) > 10
    rows = np.flatnonzero(changed.any(axis=1))
    assert changed.sum() > 500
    assert rows.max() < nose_row if region == "eyes" else rows.min() > nose_row - 0.05 * astronaut.shape[0]
    channel = {"eyes": 0, "mouth": 1}[region]
    assert result.masks[0][..., channel].max() > 0.99  # the masks returned are the ones the edit used
