"""Labels of a static map placed so that they never collide (greedy, most populous first).

Each label is tried at a few positions inside its polygon (its pole of inaccessibility, then
around it), in the figure's display coordinates, and kept at the first one that overlaps no
label already placed, no obstacle (an inset's frame) and stays inside its axes; a label that
fits nowhere is tried again with a shorter text (the CPTS's id instead of its name) and at a
smaller size, and otherwise left out: the caller says so.

>>> short_name("CPTS du Pays Saumurois")
'Pays Saumurois'
>>> print(short_name("Communauté professionnelle territoriale de santé de l'Agglomération d'Agen"))
Agglomération
d'Agen
>>> print(short_name("CPTS des Portes de l'Anjou, du Layon et de la Loire"))
Portes de l'Anjou,
du Layon et de la…
>>> short_name("CPTS")
'CPTS'
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["Label", "place_labels", "short_name"]

_PREFIX = re.compile(
    r"^\s*(?:CPTS|communaut[ée] professionnelle territoriale de sant[ée])\b[\s:–—-]*"
    r"(?:(?:du|des|de la|de l'|de l’|de|d'|d’)\s*)?",
    re.I,
)


def short_name(name: str, *, width: int = 18, lines: int = 2) -> str:
    """A CPTS name as a map label: without "CPTS (du, de la…)", on at most ``lines`` lines of
    about ``width`` characters (cut with "…" beyond)."""
    text = " ".join(str(name).split())
    short = _PREFIX.sub("", text, count=1).strip() or text
    short = short[:1].upper() + short[1:]
    wrapped = textwrap.wrap(short, width=width, break_long_words=True) or [short]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


@dataclass
class Label:
    """One label to place: ``key`` (the CPTS id), its ``texts`` from the preferred to the
    shortest, and the projected ``geometry`` (in the axes' data coordinates) it names."""

    key: str
    texts: list[str]
    geometry: object


#: Where a label is tried around its polygon's pole, in label widths (x) and heights (y): the pole,
#: then one step away in eight directions, then two.
_STEPS = np.array(
    [(0.0, 0.0)]
    + [
        (i * k, j * k)
        for k in (1, 2)
        for i, j in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
    ]
)


def _centres(geom, pole, w: float, h: float, trans) -> np.ndarray:
    """Display positions to try for a label of ``w`` × ``h`` pixels on ``geom``: around its pole
    (:data:`_STEPS`), then a grid over the polygon, nearest to the pole first."""
    around = pole + _STEPS * [w * 0.55, h * 0.9]
    x0, y0, x1, y1 = geom.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
    grid = trans.transform(np.column_stack([gx.ravel(), gy.ravel()]))
    grid = grid[np.argsort(np.hypot(*(grid - pole).T), kind="stable")]
    return np.vstack([around, grid])


def _anchor(geom) -> tuple[float, float]:
    """The pole of inaccessibility of the largest part (the point farthest inside it)."""
    from shapely.ops import polylabel

    parts = list(getattr(geom, "geoms", [geom]))
    part = max(parts, key=lambda g: g.area)
    tol = max(part.area**0.5 / 25, 1.0)
    p = polylabel(part, tolerance=tol)
    return p.x, p.y


def _renderer(fig):
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def place_labels(
    ax,
    labels: list[Label],
    *,
    sizes: tuple[float, ...] = (7.5, 6.5),
    obstacles: Sequence[tuple[float, float, float, float]] = (),
    **text_kw,
) -> dict[str, str]:
    """Draw the labels on ``ax`` where they collide with nothing; returns ``{key: text}`` of
    the labels drawn (a key absent was left out).

    Parameters
    ----------
    ax
        Axes whose limits and position are final (its aspect is applied here).
    labels
        In order of priority.
    sizes
        Font sizes tried, largest first, for each text of a label.
    obstacles
        Boxes in display coordinates (x0, y0, x1, y1) no label may overlap.
    """
    fig = ax.figure
    renderer = _renderer(fig)
    ax.apply_aspect()
    area = ax.get_window_extent(renderer)
    boxes = np.array(list(obstacles), dtype=float).reshape(-1, 4)
    to_data = ax.transData.inverted()
    placed: dict[str, str] = {}
    for lab in labels:
        if lab.geometry is None or shapely.is_empty(lab.geometry):
            continue
        ax_pt = ax.transData.transform([_anchor(lab.geometry)])[0]
        done = False
        for text in lab.texts:
            for size in sizes:
                t = ax.text(0, 0, text, fontsize=size, ha="center", va="center", **text_kw)
                bb = t.get_window_extent(renderer)
                w, h = bb.width + 4, bb.height + 3  # a little air between labels
                centres = _centres(lab.geometry, ax_pt, w, h, ax.transData)
                data = to_data.transform(centres)
                inside = shapely.contains_xy(lab.geometry, data[:, 0], data[:, 1])
                inside[0] = True  # the pole is inside, or as near as the polygon allows
                cand = np.column_stack(
                    [
                        centres[:, 0] - w / 2,
                        centres[:, 1] - h / 2,
                        centres[:, 0] + w / 2,
                        centres[:, 1] + h / 2,
                    ]
                )
                ok = (
                    inside
                    & (cand[:, 0] >= area.x0)
                    & (cand[:, 1] >= area.y0)
                    & (cand[:, 2] <= area.x1)
                    & (cand[:, 3] <= area.y1)
                )
                if len(boxes):
                    hit = (
                        (cand[:, None, 0] < boxes[None, :, 2])
                        & (cand[:, None, 2] > boxes[None, :, 0])
                        & (cand[:, None, 1] < boxes[None, :, 3])
                        & (cand[:, None, 3] > boxes[None, :, 1])
                    ).any(axis=1)
                    ok &= ~hit
                if ok.any():
                    k = int(np.argmax(ok))
                    t.set_position(tuple(data[k]))
                    boxes = np.vstack([boxes, cand[k]])
                    placed[lab.key] = text
                    done = True
                    break
                t.remove()
            if done:
                break
    return placed
