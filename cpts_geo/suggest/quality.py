"""How good a :class:`~cpts_geo.suggest.SuggestResult` is, in figures and in French text.

:func:`quality` gives the figures both modes report (territories, how many are whole EPCIs or
unions of whole EPCIs, EPCIs split and why, the population's median and range, the max-count
figures and their upper bound for comparison, and, for all of France, existing CPTS plus
proposed against the national goal); :func:`quality_lines` says them in French (text output
and map panel); :func:`result_text` is the whole summary ``cpts-geo suggest`` prints.
"""

from __future__ import annotations

import statistics
from typing import Any

from cpts_geo._text import NBSP, fr_int, fr_plural, fr_share, others
from cpts_geo.suggest.epci_model import KIND_PART, KIND_SPLIT, KIND_UNION, KIND_WHOLE

MODE_EPCI = "epci"
MODE_MAX_COUNT = "max-count"
UNION, UNIONS = "union d'EPCI entiers", "unions d'EPCI entiers"
#: EPCIs split for size listed in the text (the most populous first); the JSON lists them all.
SPLIT_SHOWN = 10


def quality(result: Any) -> dict:
    """The figures of the module docstring, JSON-ready."""
    t = result.territories
    comp = result.components
    pops = [int(p) for p in t["population"]] if len(t) else []
    nature = t["nature"].value_counts().to_dict() if len(t) else {}
    a = result.assignment
    in_epci = a[a["epci"] != ""]
    cut = int((in_epci.groupby("epci")["territoire_id"].nunique() > 1).sum())
    out: dict = {
        "mode": result.mode,
        "territories": int(len(t)),
        "whole_epci": int(nature.get(KIND_WHOLE, 0)),
        "union_epci": int(nature.get(KIND_UNION, 0)),
        "split_for_size": int(nature.get(KIND_SPLIT, 0)),
        "epci_part": int(nature.get(KIND_PART, 0)),
        "epci_cut": cut,
        "epci_split": [dict(v, epci=k) for k, v in sorted(result.split_epci.items())],
        "population_median": float(statistics.median(pops)) if pops else 0.0,
        "population_min": min(pops) if pops else 0,
        "population_max": max(pops) if pops else 0,
        "max_count_territories": int(comp["p"].sum()) if len(comp) else 0,
        "max_count_bound": int(comp["tight_bound"].sum()) if len(comp) else 0,
        "national": None,
    }
    if result.national_goal:
        total = int(result.existing_cpts) + int(len(t))
        out["national"] = {
            "existing_cpts": int(result.existing_cpts),
            "proposed": int(len(t)),
            "total": total,
            "goal": int(result.national_goal),
            "progress": round(total / result.national_goal, 4),
        }
    return out


def quality_lines(result: Any) -> list[str]:
    """The figures of :func:`quality` as French sentences (text output and map panel)."""
    q = quality(result)
    n = q["territories"]
    lines = []
    if q["mode"] == MODE_EPCI:
        lines.append(
            f"Territoires proposés : {fr_int(n)} — {fr_plural(q['whole_epci'], 'EPCI entier', 'EPCI entiers')}, "
            f"{fr_plural(q['union_epci'], UNION, UNIONS)}, "
            f"{fr_int(q['split_for_size'])} avec un EPCI découpé (taille), "
            f"{fr_int(q['epci_part'])} avec une partie d'EPCI (le reste couvert ou dans un autre département)"
        )
        if q["epci_split"]:
            lines.append(f"EPCI découpés : {fr_int(len(q['epci_split']))}")
            largest = sorted(q["epci_split"], key=lambda s: (-s["population"], s["epci"]))
            lines += [
                f"  {s['reason']}, en {fr_plural(s['pieces'], 'territoire')}" for s in largest[:SPLIT_SHOWN]
            ]
            if len(largest) > SPLIT_SHOWN:
                lines.append(f"  … et {others(len(largest) - SPLIT_SHOWN)}")
        else:
            lines.append("EPCI découpés : aucun (aucun au-dessus du maximum)")
    else:
        lines.append(
            f"Dont {fr_plural(q['whole_epci'], 'EPCI entier', 'EPCI entiers')}, "
            f"{fr_plural(q['union_epci'], UNION, UNIONS)}, "
            f"{fr_int(q['epci_part'])} avec une partie d'EPCI ; "
            f"{fr_plural(q['epci_cut'], 'EPCI coupé', 'EPCI coupés')} entre plusieurs territoires"
        )
    if n:
        lines.append(
            f"Population des territoires : médiane {fr_int(q['population_median'])} habitants, "
            f"de {fr_int(q['population_min'])} à {fr_int(q['population_max'])}"
        )
    if q["mode"] == MODE_EPCI:
        lines.append(
            f"Pour comparaison, le mode max-count (le plus de territoires d'au moins "
            f"{fr_int(result.min_population)} habitants) en ferait {fr_int(q['max_count_territories'])} "
            f"(borne supérieure {fr_int(q['max_count_bound'])})"
        )
    nat = q["national"]
    if nat:
        lines.append(
            f"France : {fr_int(nat['existing_cpts'])} CPTS existantes + {fr_int(nat['proposed'])} "
            f"territoires proposés = {fr_int(nat['total'])} pour l'objectif national de "
            f"{fr_int(nat['goal'])} ({fr_share(nat['progress'])})"
        )
    return lines


def result_text(result: Any) -> str:
    """The French summary ``cpts-geo suggest`` prints."""
    s = result.summary()
    v = s["vintage"]
    if result.mode == MODE_EPCI:
        sizes = (
            f"Mode EPCI : territoires de {fr_int(s['min_population'])} à {fr_int(s['max_population'])} "
            f"habitants, cible {fr_int(s['target_population'])}"
        )
    else:
        sizes = f"Mode max-count — seuil : {fr_int(s['min_population'])} habitants"
    lines = [
        f"Territoires proposés pour les zones blanches — {result.area}",
        f"{sizes} ; graine {s['seed']} ; COG {v['cog']}, populations légales {v['population']}",
    ]
    if s["units"] == 0:
        lines.append(
            f"Toutes les communes de la zone ({fr_int(s['covered_units'])}) sont déjà couvertes "
            "par une CPTS : aucun territoire à proposer."
        )
        return "\n".join(lines)
    covered = f" ({fr_plural(s['covered_units'], 'commune déjà couverte', 'communes déjà couvertes')})"
    lines.append(
        f"Zones blanches : {fr_plural(s['units'], 'commune')}, {fr_int(s['population'])} habitants"
        + (covered if s["covered_units"] else "")
    )
    if result.mode != MODE_EPCI:
        share = (
            f" ({100 * s['territories'] / s['tight_bound']:.0f}{NBSP}% de la borne)"
            if s["tight_bound"]
            else ""
        )
        lines.append(
            f"Territoires supplémentaires possibles : {fr_int(s['territories'])}"
            f" — borne supérieure {fr_int(s['tight_bound'])}{share}"
        )
    lines += quality_lines(result)
    lines += _departement_lines(result)
    lines += _territory_lines(result)
    lines += _leftover_lines(result, s)
    return "\n".join(lines)


def _departement_lines(result: Any) -> list[str]:
    if len(result.departements) <= 1:
        return []
    by = result.components.groupby("departement")[["p", "tight_bound"]].sum()
    proposed = result.territories.groupby("departement").size()
    epci = result.mode == MODE_EPCI
    head = (
        "territoires proposés, max-count (borne supérieure)"
        if epci
        else "territoires proposés (borne supérieure)"
    )
    lines = ["", f"Par département : {head}"]
    for d in sorted(set(by.index) | set(proposed.index)):
        p = int(by["p"].get(d, 0))
        bound = int(by["tight_bound"].get(d, 0))
        mine = int(proposed.get(d, 0))
        figures = f"{mine:>5}, {p:>4} ({bound})" if epci else f"{mine:>5} ({bound})"
        lines.append(f"  {d:<4}{result.departement_names.get(d, d):<28}{figures}")
    return lines


def _territory_lines(result: Any) -> list[str]:
    t = result.territories
    if not 0 < len(t) <= 60:
        return []
    from cpts_geo.suggest._epci_groups import NATURE_LABELS

    lines = [""]
    width = max(len(label) for label in t["label"]) + 1
    for _, row in t.iterrows():
        lines.append(
            f"  {row['territoire_id']:<9}{row['label']:<{width}} {fr_int(row['population']):>9} hab."
            f"  taille {row['aci_size_class']}  {fr_plural(row['n_communes'], 'commune')}"
            f"  {row['n_epci']} EPCI  {NATURE_LABELS.get(row['nature'], row['nature'])}"
        )
        more = list(row["raisons"]) + list(row["notes"])
        if result.mode == MODE_EPCI and more:
            lines.append(f"{'':11}{' ; '.join(more)}")
    return lines


def _leftover_lines(result: Any, s: dict) -> list[str]:
    lines = []
    if len(result.extensions):
        lines += [
            "",
            f"Extensions de CPTS existantes : {len(result.extensions)} "
            f"({fr_int(s['extension_population'])} habitants)",
        ]
        for _, row in result.extensions.iterrows():
            nom = f" ({row['cpts_nom']})" if row["cpts_nom"] else ""
            lines.append(
                f"  {row['territoire_id']:<9}→ CPTS {row['cpts_id']}{nom} : {fr_plural(row['n_communes'], 'commune')}, "
                f"{fr_int(row['population'])} hab. — {names(result, row['communes'])}"
            )
    if len(result.orphans):
        lines += [
            "",
            f"Zones blanches non rattachables : {len(result.orphans)} "
            f"({fr_int(s['orphan_population'])} habitants)",
        ]
        for _, row in result.orphans.iterrows():
            lines.append(f"  {row['territoire_id']:<9}{names(result, row['communes'])} : {row['reason']}")
    return lines


def names(result: Any, codes: list[str], limit: int = 8) -> str:
    """'Valréas (84138), Visan (84150) … et 3 autres' for the first ``limit`` units."""
    noms = result.assignment["nom"]
    shown = ", ".join(f"{noms.get(c, c)} ({c})" for c in codes[:limit])
    return shown + (f" … et {others(len(codes) - limit)}" if len(codes) > limit else "")
