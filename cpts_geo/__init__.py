"""cpts-geo: check, map and plan CPTS territories on the communes of France.

The public API is imported lazily (PEP 562): ``import cpts_geo`` is instant, and pandas,
geopandas and the rest load on first use of a function that needs them, so that
``cpts-geo --help`` and ``--version`` start at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that owns it.
_EXPORTS = {
    "AmbiguousNameError": "_errors",
    "CptsGeoError": "_errors",
    "InputError": "_errors",
    "ReferenceDataError": "_errors",
    "UnknownCommuneError": "_errors",
    "Coverage": "coverage",
    "coverage_summary": "coverage",
    "coverage_table": "coverage",
    "cpts_table": "coverage",
    "aggregate_indicators": "diagnostic",
    "territory_summary": "diagnostic",
    "white_zones": "diagnostic",
    "IndicatorTable": "inputs",
    "Proposal": "inputs",
    "read_indicators": "inputs",
    "read_proposal": "inputs",
    "read_register": "inputs",
    "Reference": "reference",
    "Resolution": "reference",
    "load_reference": "reference",
    "Register": "register",
    "as_register": "register",
    "register_from_frame": "register",
    "RULE_IDS": "rules",
    "RegisterReport": "rules",
    "Report": "rules",
    "RuleResult": "rules",
    "as_territory": "rules",
    "check_register": "rules",
    "check_territory": "rules",
    "SuggestResult": "suggest",
    "suggest_territories": "suggest",
    "ACI_SIZE_BOUNDS": "territory",
    "Territory": "territory",
    "aci_size_class": "territory",
}

__all__ = [
    "ACI_SIZE_BOUNDS",
    "AmbiguousNameError",
    "Coverage",
    "CptsGeoError",
    "IndicatorTable",
    "InputError",
    "Proposal",
    "RULE_IDS",
    "Reference",
    "ReferenceDataError",
    "Register",
    "RegisterReport",
    "Report",
    "Resolution",
    "RuleResult",
    "SuggestResult",
    "Territory",
    "UnknownCommuneError",
    "__version__",
    "aci_size_class",
    "aggregate_indicators",
    "as_register",
    "as_territory",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        try:  # a submodule: cpts_geo.maps, cpts_geo.reference, ...
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'cpts_geo' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # what type checkers and IDEs see
    from ._errors import AmbiguousNameError, CptsGeoError, InputError, ReferenceDataError, UnknownCommuneError
    from .coverage import Coverage, coverage_summary, coverage_table, cpts_table
    from .diagnostic import aggregate_indicators, territory_summary, white_zones
    from .inputs import IndicatorTable, Proposal, read_indicators, read_proposal, read_register
    from .reference import Reference, Resolution, load_reference
    from .register import Register, as_register, register_from_frame
    from .rules import (
        RULE_IDS,
        RegisterReport,
        Report,
        RuleResult,
        as_territory,
        check_register,
        check_territory,
    )
    from .suggest import SuggestResult, suggest_territories
    from .territory import ACI_SIZE_BOUNDS, Territory, aci_size_class
