"""cpts-geo: check, map and plan CPTS territories on the communes of France."""

from __future__ import annotations

from ._errors import (
    AmbiguousNameError,
    CptsGeoError,
    InputError,
    ReferenceDataError,
    UnknownCommuneError,
)
from .coverage import Coverage, coverage_summary, coverage_table, cpts_table
from .reference import Reference, Resolution, load_reference
from .suggest import SuggestResult, suggest_territories

__version__ = "0.1.0"

__all__ = [
    "AmbiguousNameError",
    "Coverage",
    "CptsGeoError",
    "InputError",
    "Reference",
    "ReferenceDataError",
    "Resolution",
    "SuggestResult",
    "UnknownCommuneError",
    "__version__",
    "coverage_summary",
    "coverage_table",
    "cpts_table",
    "load_reference",
    "suggest_territories",
]
