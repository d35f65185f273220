"""Plain JSON values from what numpy and pandas hand back (numpy scalars and arrays, NaN)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["json_plain"]


def json_plain(value):
    """``value`` with numpy scalars and arrays made plain Python, NaN made ``None``, recursively
    through dicts (keys made text), lists and tuples (made lists).

    Examples
    --------
    >>> json_plain({1: np.int64(3), "a": [np.float64("nan"), np.array([1, 2])]})
    {'1': 3, 'a': [None, [1, 2]]}
    """
    if isinstance(value, dict):
        return {str(k): json_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
