"""cpts-geo: check, map and plan CPTS territories on the communes of France."""

from __future__ import annotations

from ._errors import (
    AmbiguousNameError,
    CptsGeoError,
    InputError,
    ReferenceDataError,
    UnknownCommuneError,
)
from .reference import Reference, Resolution, load_reference

__version__ = "0.1.0"

__all__ = [
    "AmbiguousNameError",
    "CptsGeoError",
    "InputError",
    "Reference",
    "ReferenceDataError",
    "Resolution",
    "UnknownCommuneError",
    "__version__",
    "load_reference",
]
