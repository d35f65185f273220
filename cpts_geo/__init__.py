"""cpts-geo: check, map and plan CPTS territories on the communes of France.

The public API is imported lazily (PEP 562): ``import cpts_geo`` is instant, and pandas,
geopandas and the rest load on first use of a function that needs them, so that
``cpts-geo --help`` and ``--version`` start at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cpts_geo._version import __version__

#: Public name -> module that owns it.
_EXPORTS = {
    "AmbiguousNameError": "_errors",
    "CptsGeoError": "_errors",
    "InputError": "_errors",
    "ReferenceDataError": "_errors",
    "UnknownCommuneError": "_errors",
    "Coverage": "steering.coverage",
    "coverage_summary": "steering.coverage",
    "coverage_table": "steering.coverage",
    "cpts_table": "steering.coverage",
    "aggregate_indicators": "diagnostic.indicators",
    "territory_summary": "diagnostic.summary",
    "white_zones": "diagnostic.summary",
    "IndicatorTable": "inputs.read",
    "Proposal": "inputs.read",
    "read_indicators": "inputs.read",
    "read_proposal": "inputs.read",
    "read_register": "inputs.read",
    "ZoneLayer": "inputs.zones",
    "read_zones": "inputs.zones",
    "zone_layer_from_codes": "inputs.zones",
    "Reference": "reference.units",
    "Resolution": "reference.resolve",
    "load_reference": "reference.units",
    "Register": "inputs.register",
    "as_register": "inputs.read",
    "register_from_frame": "inputs.register",
    "RULE_IDS": "checks.rules",
    "RegisterReport": "checks.report",
    "Report": "checks.report",
    "RuleResult": "checks.report",
    "as_territory": "checks.rules",
    "check_register": "checks.rules",
    "check_territory": "checks.rules",
    "SuggestResult": "suggest.territories",
    "suggest_territories": "suggest.territories",
    "ACI_SIZE_BOUNDS": "checks.territory",
    "Territory": "checks.territory",
    "aci_size_class": "checks.territory",
    "atelier_page": "maps.atelier",
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
    "ZoneLayer",
    "__version__",
    "aci_size_class",
    "aggregate_indicators",
    "as_register",
    "as_territory",
    "atelier_page",
    "check_register",
    "check_territory",
    "coverage_summary",
    "coverage_table",
    "cpts_table",
    "load_reference",
    "read_indicators",
    "read_proposal",
    "read_register",
    "read_zones",
    "register_from_frame",
    "suggest_territories",
    "territory_summary",
    "white_zones",
    "zone_layer_from_codes",
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
    from cpts_geo._errors import (
        AmbiguousNameError,
        CptsGeoError,
        InputError,
        ReferenceDataError,
        UnknownCommuneError,
    )
    from cpts_geo.checks.report import RegisterReport, Report, RuleResult
    from cpts_geo.checks.rules import RULE_IDS, as_territory, check_register, check_territory
    from cpts_geo.checks.territory import ACI_SIZE_BOUNDS, Territory, aci_size_class
    from cpts_geo.diagnostic.indicators import aggregate_indicators
    from cpts_geo.diagnostic.summary import territory_summary, white_zones
    from cpts_geo.inputs.read import (
        IndicatorTable,
        Proposal,
        as_register,
        read_indicators,
        read_proposal,
        read_register,
    )
    from cpts_geo.inputs.register import Register, register_from_frame
    from cpts_geo.inputs.zones import ZoneLayer, read_zones, zone_layer_from_codes
    from cpts_geo.maps.atelier import atelier_page
    from cpts_geo.reference.resolve import Resolution
    from cpts_geo.reference.units import Reference, load_reference
    from cpts_geo.steering.coverage import Coverage, coverage_summary, coverage_table, cpts_table
    from cpts_geo.suggest.territories import SuggestResult, suggest_territories
