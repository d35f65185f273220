"""Territories for the white zones. The solvers (:mod:`.maxp`, :mod:`.epci_mode`) work on arrays
and know no Reference."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SuggestResult": "territories",
        "suggest_territories": "territories",
        "result_features": "territories",
        "MaxPSolver": "maxp",
        "max_p_upper_bound": "maxp",
        "epci_partition": "epci_mode",
    },
    moved={
        "resolve_area": "cpts_geo.reference.areas",
        "area_name": "cpts_geo.reference.areas",
        "write_result": "cpts_geo.outputs.suggestions",
    },
)

if TYPE_CHECKING:
    from cpts_geo.suggest.epci_mode import epci_partition as epci_partition
    from cpts_geo.suggest.maxp import MaxPSolver as MaxPSolver
    from cpts_geo.suggest.maxp import max_p_upper_bound as max_p_upper_bound
    from cpts_geo.suggest.territories import SuggestResult as SuggestResult
    from cpts_geo.suggest.territories import result_features as result_features
    from cpts_geo.suggest.territories import suggest_territories as suggest_territories
