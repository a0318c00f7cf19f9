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


def test_one_large_head_is_centred_and_one_too_large_is_refused(bench):
    """One face is laid in the middle (it was laid in a column of two, off the canvas for a head larger than half
    the photo's width); a head that fits no cell is a clear error, not a broadcasting traceback."""
    import pytest

    photo = bench.group_photo(0.3, 1, 400)
    rows, cols = np.nonzero(np.any(photo != 150, axis=2))
    height, width = photo.shape[:2]
    assert abs((cols.min() + cols.max()) / 2 - width / 2) <= 1 and abs((rows.min() + rows.max()) / 2 - height / 2) <= 1
    with pytest.raises(SystemExit, match="do not fit"):
        bench.group_photo(0.3, 1, height + 1)
