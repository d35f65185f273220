"""A territory's diagnostic as one self-contained HTML file, to attach to a mail or a file.

:func:`export_html` writes what notebook 01 shows (key figures, checks, the tables and figures
the caller passes) into a single page: tables as HTML, figures as embedded PNG images, no
script and nothing loaded from elsewhere, so that it opens the same anywhere, offline.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

__all__ = ["export_html"]


def _table_html(table) -> str:
    from cpts_geo.diagnostic.summary import french_table

    if isinstance(table, pd.DataFrame):
        table = french_table(table)
    return table.to_html()


def export_html(
    path: str | Path,
    summary,
    *,
    tables: Sequence[tuple[str, object]] = (),
    figures: Sequence[tuple[str, object]] = (),
    title: str | None = None,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write a diagnostic to a self-contained HTML file.

    Parameters
    ----------
    path
        The ``.html`` file to write (atomically; never one of ``inputs``).
    summary
        A :class:`cpts_geo.diagnostic.TerritorySummary` (its key figures and checks come first).
    tables
        ``(title, table)`` pairs shown after them, in order: a DataFrame (shown through
        :func:`cpts_geo.diagnostic.french_table`) or a pandas Styler (e.g. ``french_table(...)``).
    figures
        ``(caption, matplotlib Figure)`` pairs, embedded as PNG images.
    title
        The page's title (default: "Diagnostic du territoire : <name>").
    inputs
        Files the diagnostic was computed from, never overwritten.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, cpts_geo as cg
    >>> from cpts_geo import diagnostic as dg
    >>> ref = cg.load_reference()
    >>> s = dg.territory_summary(ref, ["56009", "56152"])
    >>> out = export_html(Path(tempfile.mkdtemp()) / "diagnostic.html", s)
    >>> "Chiffres clés" in out.read_text(encoding="utf-8")
    True
    """
    from cpts_geo._io import atomic_write_text
    from cpts_geo.diagnostic.summary import french_table, rules_table
    from cpts_geo.maps.static import html_tag
    from cpts_geo.outputs.printing import png_data_uri

    v = summary.vintage
    heading = title or f"Diagnostic du territoire : {summary.name or '(sans nom)'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>{html.escape(heading)}</title>{html_tag('diagnostic.css')}</head><body>",
        f"<h1>{html.escape(heading)}</h1>",
        f'<p class="source">COG {html.escape(str(v.get("cog", "")))}, populations légales '
        f"{html.escape(str(v.get('population', '')))} — cpts-geo, le "
        f"{dt.datetime.now():%d/%m/%Y à %H:%M}</p>",
        "<h2>Chiffres clés</h2>",
        french_table(summary.key_figures()).to_html(),
        "<h2>Vérifications</h2>",
        french_table(rules_table(summary.report), index=False).to_html(),
    ]
    for name, table in tables:
        parts += [f"<h2>{html.escape(name)}</h2>", _table_html(table)]
    for caption, fig in figures:
        parts += [
            f"<h2>{html.escape(caption)}</h2>",
            f'<figure><img src="{png_data_uri(fig)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>",
        ]
    parts.append("</body></html>")
    return atomic_write_text(Path(path), "\n".join(parts) + "\n", inputs=inputs)
