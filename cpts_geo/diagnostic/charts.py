"""Charts of a territorial diagnostic (matplotlib, in French): population by commune, position in
the ACI size classes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cpts_geo._text import fr_decimal, fr_int, fr_share, plain
from cpts_geo.checks.territory import ACI_SIZE_BOUNDS
from cpts_geo.outputs.figures import new_figure

if TYPE_CHECKING:
    from cpts_geo.diagnostic.summary import TerritorySummary

__all__ = ["aci_chart", "population_chart"]


def population_chart(summary: TerritorySummary, *, top: int = 25, figsize: tuple[float, float] | None = None):
    """Population and density of the territory's communes: sorted horizontal bars, in French.

    The most populous commune and its share of the territory are named in the title; beyond
    ``top`` communes, the rest are summed in one bar (``Autres communes``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    c = summary.communes
    shown = c.head(top)
    names = shown["nom"].tolist()
    pops = shown["population"].to_numpy(dtype=float)
    dens = shown["densite"].to_numpy(dtype=float)
    if len(c) > top:
        rest = c.iloc[top:]
        names.append(f"Autres communes ({len(rest)})")
        pops = np.append(pops, rest["population"].sum())
        area = rest["superficie_km2"].sum()
        dens = np.append(dens, rest["population"].sum() / area if area > 0 else np.nan)
    y = np.arange(len(names))[::-1]
    fig = new_figure(figsize or (10, 1.6 + 0.28 * max(len(names), 5)))
    ax1, ax2 = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    colors = ["#08519c"] + ["#6baed6"] * (len(names) - 1)
    ax1.barh(y, pops, color=colors)
    end = float(pops.max()) if len(pops) else 1.0
    for yy, p in zip(y, pops):
        ax1.text(
            p + 0.01 * end,
            yy,
            plain(f"{fr_int(p)} ({fr_share(p / summary.population, 1)})"),
            va="center",
            fontsize=7,
            color="#333",
        )
    ax1.set_xlim(0, end * 1.3)
    ax1.set_yticks(y, names, fontsize=8)
    ax1.set_xlabel(f"Population municipale {summary.vintage.get('population', '')}")
    ax2.barh(y, dens, color="#74c476")
    for yy, d in zip(y, dens):
        if np.isfinite(d):
            ax2.text(d, yy, plain(f" {fr_decimal(d, 0)}"), va="center", fontsize=7, color="#333")
    ax2.set_xlim(0, (np.nanmax(dens) if np.isfinite(dens).any() else 1.0) * 1.25)
    ax2.set_xlabel("Densité (habitants par km²)")
    for ax in (ax1, ax2):
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_formatter(lambda x, _pos: plain(fr_int(x)))
        ax.tick_params(axis="x", labelsize=8)
    big = summary.largest
    fig.suptitle(
        plain(
            f"Population par commune — {summary.name or 'territoire'} : "
            f"{fr_int(summary.population)} habitants, {fr_decimal(summary.density, 0)} hab./km²\n"
            f"commune la plus peuplée : {big['nom']}, {fr_share(big['share'])} de la population"
        ),
        fontsize=10.5,
    )
    return fig


def aci_chart(summary: TerritorySummary, *, figsize: tuple[float, float] = (9.0, 2.2)):
    """The territory's population on the scale of the ACI size classes, in French.

    The classes as bands, the territory's population as a red line, the inhabitants missing
    to reach the next class as an arrow, and the minimum population of the checks (dashed).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(figsize)
    ax = fig.add_subplot()
    pop = summary.population
    end = max(200_000, pop * 1.1)
    lows = [0, *ACI_SIZE_BOUNDS, end]
    shades = ["#deebf7", "#9ecae1", "#4292c6", "#08519c"]
    for k in range(4):
        ax.barh(0, lows[k + 1] - lows[k], left=lows[k], color=shades[k], height=0.6)
        ax.text(
            (lows[k] + lows[k + 1]) / 2,
            -0.18,
            f"taille {k + 1}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if k >= 2 else "#08306b",
        )
    if summary.min_population:
        ax.plot([summary.min_population] * 2, [-0.3, 0.3], color="#d95f0e", linestyle="--", linewidth=1.2)
        ax.text(
            summary.min_population,
            -0.36,
            plain(f"minimum {fr_int(summary.min_population)}"),
            fontsize=7,
            color="#d95f0e",
            ha="center",
            va="top",
        )
    ax.plot([pop, pop], [-0.3, 0.3], color="#d7191c", linewidth=2.5)
    ax.text(
        pop,
        0.36,
        plain(f"{fr_int(pop)} habitants"),
        ha="center",
        va="bottom",
        fontsize=8,
        color="#d7191c",
        weight="bold",
    )
    if summary.aci_next_bound is not None:
        ax.annotate(
            "",
            xy=(summary.aci_next_bound, 0.12),
            xytext=(pop, 0.12),
            arrowprops={"arrowstyle": "->", "color": "#d7191c", "linewidth": 1.2},
        )
        ax.text(
            (pop + summary.aci_next_bound) / 2,
            0.16,
            plain(f"+{fr_int(summary.aci_gap)}"),
            ha="center",
            va="bottom",
            fontsize=7.5,
            color="#d7191c",
        )
    ax.set_xlim(0, end)
    ax.set_ylim(-0.6, 0.7)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(lambda x, _pos: plain(fr_int(x)))
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_title(plain(f"Taille ACI {summary.aci_size_class} — {summary.aci_next_text()}"), fontsize=9.5)
    return fig
