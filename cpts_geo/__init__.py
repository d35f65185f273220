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
from .diagnostic import aggregate_indicators, read_indicators, territory_summary, white_zones
from .inputs import Proposal, Register, read_proposal, read_register, register_from_frame
from .reference import Reference, Resolution, load_reference
from .report import RegisterReport, Report, RuleResult
from .rules import RULE_IDS, check_register, check_territory
from .suggest import SuggestResult, suggest_territories
from .territory import ACI_SIZE_BOUNDS, Territory, aci_size_class

__version__ = "0.1.0"

__all__ = [
    "ACI_SIZE_BOUNDS",
    "RULE_IDS",
    "AmbiguousNameError",
    "Coverage",
    "CptsGeoError",
    "InputError",
    "Proposal",
    "Reference",
    "ReferenceDataError",
    "Register",
    "RegisterReport",
    "Report",
    "RuleResult",
    "Resolution",
    "SuggestResult",
    "Territory",
    "UnknownCommuneError",
    "__version__",
    "aggregate_indicators",
    "aci_size_class",
    "check_register",
    "check_territory",
    "coverage_summary",
    "coverage_table",
    "cpts_table",
    "load_reference",
    "read_indicators",
    "read_proposal",
    "read_register",
    "register_from_frame",
    "suggest_territories",
    "territory_summary",
    "white_zones",
]
