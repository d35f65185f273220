"""What is handed to people: the HTML/PDF report, static figures, workbooks, GeoPackages styled for
QGIS, provenance, and the files of ``suggest`` and ``register migrate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "report_html": "html_report",
        "coverage_bar_chart": "figures",
        "coverage_figure": "figures",
        "save_figure": "figures",
        "territory_figure": "figures",
        "coverage_workbook": "spreadsheets",
        "register_workbook": "spreadsheets",
        "report_workbook": "spreadsheets",
        "suggest_workbook": "spreadsheets",
        "write_coverage_gpkg": "geopackages",
        "write_suggest_gpkg": "geopackages",
        "write_territory_gpkg": "geopackages",
        "Provenance": "provenance",
        "html_to_pdf": "pdf",
        "write_result": "suggestions",
        "write_migration": "migration",
        "copy_examples": "examples",
    },
)

if TYPE_CHECKING:
    from cpts_geo.outputs.examples import copy_examples as copy_examples
    from cpts_geo.outputs.figures import coverage_bar_chart as coverage_bar_chart
    from cpts_geo.outputs.figures import coverage_figure as coverage_figure
    from cpts_geo.outputs.figures import save_figure as save_figure
    from cpts_geo.outputs.figures import territory_figure as territory_figure
    from cpts_geo.outputs.geopackages import write_coverage_gpkg as write_coverage_gpkg
    from cpts_geo.outputs.geopackages import write_suggest_gpkg as write_suggest_gpkg
    from cpts_geo.outputs.geopackages import write_territory_gpkg as write_territory_gpkg
    from cpts_geo.outputs.html_report import report_html as report_html
    from cpts_geo.outputs.migration import write_migration as write_migration
    from cpts_geo.outputs.pdf import html_to_pdf as html_to_pdf
    from cpts_geo.outputs.provenance import Provenance as Provenance
    from cpts_geo.outputs.spreadsheets import coverage_workbook as coverage_workbook
    from cpts_geo.outputs.spreadsheets import register_workbook as register_workbook
    from cpts_geo.outputs.spreadsheets import report_workbook as report_workbook
    from cpts_geo.outputs.spreadsheets import suggest_workbook as suggest_workbook
    from cpts_geo.outputs.suggestions import write_result as write_result
