"""scripts/bench_photo_edit.py: the synthetic group photos it times."""

from __future__ import annotations

import numpy as np
from script_support import script_fixture


bench = script_fixture("bench_photo_edit")


def test_group_photos_have_the_size_asked_and_each_head_apart(bench):
    photo = bench.group_photo(2.0, 5, 90)
    height, width = photo.shape[:2]
    assert abs(height * width / 2e6 - 1) < 0.01 and abs(width / height - 4 / 3) < 0.01
    from scipy import ndimage

    heads, count = ndimage.label(np.any(photo != 150, axis=2))
    sizes = ndimage.find_objects(heads)
    assert count == 5 and all(s[0].stop - s[0].start == 90 and s[1].stop - s[1].start == 90 for s in sizes)
