"""The histogram order statistics must equal numpy's, or flag decisions would shift."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ocr._stats import mad_sigma, percentile_u8

images = arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 60)),
                elements=st.integers(0, 255))


@settings(max_examples=300, deadline=None)
@given(images, st.floats(0, 100))
def test_percentile_equals_numpy(image: np.ndarray, q: float) -> None:
    assert abs(percentile_u8(image, q) - float(np.percentile(image, q))) < 1e-9


@settings(max_examples=300, deadline=None)
@given(images)
def test_mad_equals_numpy(image: np.ndarray) -> None:
    med = float(np.median(image))
    expected = 1.4826 * float(np.median(np.abs(image.astype(np.float64) - med)))
    assert abs(mad_sigma(image) - expected) < 1e-9


def test_constant_and_two_valued_images() -> None:
    flat = np.full((5, 7), 200, np.uint8)
    assert percentile_u8(flat, 90) == 200.0
    assert mad_sigma(flat) == 0.0
    two = np.array([[0, 255]], np.uint8)  # even count: the median is the mean of both
    assert percentile_u8(two, 50) == 127.5
    assert mad_sigma(two) == 1.4826 * 127.5
