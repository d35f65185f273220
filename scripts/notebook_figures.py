#!/usr/bin/env python
"""Write the README's picture of each notebook into ``notebooks/figures/``.

Each picture is drawn by the functions the notebook calls, on the notebook's default inputs (the
shipped example proposal, the FICTITIOUS register of the Pays de la Loire):

- ``01_diagnostic_territoire.png``: the static map of the territory and its surroundings, next to
  the population by commune and the ACI size scale (``cpts_geo.outputs.figures.territory_figure``
  of the summary's check report, ``cpts_geo.diagnostic.charts``);
- ``02_couverture_region.png``: the coverage of région 52 by stage with the white zones
  (``cpts_geo.outputs.figures.coverage_figure``).

Re-run it when a figure function changes. Usage: ``python scripts/notebook_figures.py
[-o notebooks/figures] [--dpi 110]``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cpts_geo as cg
from cpts_geo.diagnostic.charts import aci_chart, population_chart
from cpts_geo.diagnostic.summary import territory_summary
from cpts_geo.outputs.figures import coverage_figure, territory_figure

EXAMPLES = cg.reference.default_data_dir() / "examples"
# The notebooks' defaults.
PROPOSITION = EXAMPLES / "proposition_valide.csv"
REGISTRE = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"
REGION = "52"


def _image(fig, dpi: int):
    """A matplotlib figure as a PIL image (white background)."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _side_by_side(left, right_column, gap: int = 20):
    """``left`` next to the images of ``right_column`` stacked, on a white page."""
    from PIL import Image

    right_w = max(im.width for im in right_column)
    right_h = sum(im.height for im in right_column) + gap * (len(right_column) - 1)
    page = Image.new("RGB", (left.width + gap + right_w, max(left.height, right_h)), "white")
    page.paste(left, (0, 0))
    y = max(0, (left.height - right_h) // 2)
    for im in right_column:
        page.paste(im, (left.width + gap, y))
        y += im.height + gap
    return page


def diagnostic_picture(ref, dpi: int):
    registre = cg.read_register(REGISTRE, ref)
    proposition = cg.read_proposal(PROPOSITION, ref)
    synthese = territory_summary(ref, proposition, existing=registre)
    return _side_by_side(
        _image(territory_figure(ref, synthese.report, existing=registre), dpi),
        [_image(population_chart(synthese), dpi), _image(aci_chart(synthese), dpi)],
    )


def coverage_picture(ref, dpi: int):
    registre = cg.read_register(REGISTRE, ref)
    return _image(coverage_figure(ref, registre, region=REGION), dpi)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "notebooks" / "figures")
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    ref = cg.load_reference()
    for name, draw in (
        ("01_diagnostic_territoire.png", diagnostic_picture),
        ("02_couverture_region.png", coverage_picture),
    ):
        path = args.output / name
        draw(ref, args.dpi).save(path, optimize=True)
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
