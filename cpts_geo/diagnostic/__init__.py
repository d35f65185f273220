"""Territorial diagnostics: what the notebooks of ``notebooks/`` compute and export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "TerritorySummary": "summary",
        "aci_class_label": "summary",
        "aci_distance": "summary",
        "commune_table": "summary",
        "french_labels": "summary",
        "french_table": "summary",
        "interactive_map": "summary",
        "rules_table": "summary",
        "territory_summary": "summary",
        "white_zones": "summary",
        "aggregate_indicators": "indicators",
        "export_html": "export",
        "aci_chart": "charts",
        "population_chart": "charts",
    },
    moved={
        "read_indicators": "cpts_geo.inputs.read",
        "IndicatorTable": "cpts_geo.inputs.read",
        "territory_figure": "cpts_geo.outputs.figures",
    },
)

if TYPE_CHECKING:
    from cpts_geo.diagnostic.charts import aci_chart as aci_chart
    from cpts_geo.diagnostic.charts import population_chart as population_chart
    from cpts_geo.diagnostic.export import export_html as export_html
    from cpts_geo.diagnostic.indicators import aggregate_indicators as aggregate_indicators
    from cpts_geo.diagnostic.summary import TerritorySummary as TerritorySummary
    from cpts_geo.diagnostic.summary import aci_class_label as aci_class_label
    from cpts_geo.diagnostic.summary import aci_distance as aci_distance
    from cpts_geo.diagnostic.summary import commune_table as commune_table
    from cpts_geo.diagnostic.summary import french_labels as french_labels
    from cpts_geo.diagnostic.summary import french_table as french_table
    from cpts_geo.diagnostic.summary import interactive_map as interactive_map
    from cpts_geo.diagnostic.summary import rules_table as rules_table
    from cpts_geo.diagnostic.summary import territory_summary as territory_summary
    from cpts_geo.diagnostic.summary import white_zones as white_zones
