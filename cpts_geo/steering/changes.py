"""What changed between two versions of a register.

CPTS are matched by ``cpts_id`` only: a CPTS whose id is in the new register and not in the old
one is *added*, one whose id is only in the old one is *removed*, even if a CPTS of the other file
has the same name or the same communes (a CPTS given a new id is reported as removed and added;
keep ids stable from one version to the next). For the CPTS in both files: a new name is a
*renaming*, a new stage or stage date a *stage change*, a new list of units a *perimeter change*.

The effect on coverage compares the units covered by each version: white zones that appeared
(units covered by the old register and by no CPTS of the new one), white zones that disappeared,
new overlaps (units in two or more CPTS in the new register and not in the old one) and overlaps
resolved.

Each side is given as the register's views: ``links`` (``cpts_id``, ``code_insee``) and ``cpts``
(one row per CPTS indexed by ``cpts_id``: ``cpts_nom``, ``statut``, ``date_statut``).

Examples
--------
>>> import pandas as pd
>>> def side(rows):
...     links = pd.DataFrame(rows, columns=["cpts_id", "code_insee"])
...     cpts = pd.DataFrame({"cpts_nom": ["CPTS A"], "statut": ["aci"], "date_statut": [""]},
...                         index=pd.Index(["A"], name="cpts_id"))
...     return links, cpts
>>> ch = compare_registers(side([("A", "u1")]), side([("A", "u1"), ("A", "u2")]),
...                        pd.Series({"u1": 10, "u2": 5}), pd.Series({"u1": "Un", "u2": "Deux"}))
>>> ch.perimeter_changes[0]["communes_in"], ch.perimeter_changes[0]["population_after"]
([{'code': 'u2', 'nom': 'Deux'}], 15)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_agree, fr_int, fr_plural
from cpts_geo.inputs.cells import parse_date
from cpts_geo.inputs.stages import STAGE_LABELS

__all__ = ["NOTE_MATCHING", "RegisterChanges", "compare_registers", "register_changes"]

NOTE_MATCHING = (
    "Les CPTS sont rapprochées par leur identifiant (cpts_id) : un identifiant présent dans un seul "
    "des deux registres est une CPTS ajoutée ou supprimée, même si une CPTS de l'autre registre porte "
    "le même nom ou couvre les mêmes communes ; gardez les identifiants d'une version à l'autre."
)


def _side(tables, unit_pop: pd.Series, what: str):
    try:
        links, cpts = tables
    except (TypeError, ValueError):
        raise InputError(f"registre {what} : attendu (links, cpts)") from None
    links = links[["cpts_id", "code_insee"]].astype(str).drop_duplicates()
    cpts = cpts.copy()
    cpts.index = cpts.index.astype(str)
    for c in ("cpts_nom", "statut", "date_statut"):
        cpts[c] = cpts[c].fillna("").astype(str) if c in cpts.columns else ""
    cpts["date_statut"] = cpts["date_statut"].map(_iso)
    unknown = unit_pop.index.get_indexer(links["code_insee"].to_numpy(dtype=object)) < 0
    if unknown.any():
        bad = sorted(set(links.loc[unknown, "code_insee"]))
        raise InputError(
            f"registre {what} : code(s) d'unité absent(s) du référentiel : " + ", ".join(bad[:10])
        )
    units = {cid: sorted(g) for cid, g in links.groupby("cpts_id")["code_insee"]}
    n_cpts = links.groupby("code_insee")["cpts_id"].nunique()
    population = (
        pd.Series(unit_pop.reindex(links["code_insee"]).to_numpy(), index=links["cpts_id"].to_numpy())
        .groupby(level=0)
        .sum()
    )
    return links, cpts, units, n_cpts, population


@dataclass
class RegisterChanges:
    """The differences between an old and a new register.

    Every list holds dicts with ``cpts_id`` (``to_dict`` gives the JSON keys): ``added`` and
    ``removed`` (``cpts_nom``, ``statut``, ``date_statut``, ``communes``, ``population``),
    ``renamed`` (``old_name``, ``new_name``), ``stage_changes`` (``cpts_nom``, ``old_stage``,
    ``old_date``, ``new_stage``, ``new_date``; dates AAAA-MM-JJ when they are dates), ``perimeter_changes`` (``cpts_nom``,
    ``communes_in``, ``communes_out`` as lists of ``{"code", "nom"}``, ``population_before``,
    ``population_after``). ``coverage`` holds ``white_zones_appeared``,
    ``white_zones_disappeared``, ``new_overlaps``, ``overlaps_resolved`` (lists of units with
    ``code``, ``nom``, ``population``; overlaps also with ``cpts``) and the population covered
    before and after.
    """

    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    renamed: list[dict] = field(default_factory=list)
    stage_changes: list[dict] = field(default_factory=list)
    perimeter_changes: list[dict] = field(default_factory=list)
    coverage: dict = field(default_factory=dict)
    old_source: str = ""
    new_source: str = ""
    notes: list[str] = field(default_factory=lambda: [NOTE_MATCHING])

    @property
    def unchanged(self) -> bool:
        """True when nothing differs."""
        c = self.coverage
        return not (
            self.added
            or self.removed
            or self.renamed
            or self.stage_changes
            or self.perimeter_changes
            or c.get("white_zones_appeared")
            or c.get("white_zones_disappeared")
            or c.get("new_overlaps")
            or c.get("overlaps_resolved")
        )

    def to_dict(self) -> dict:
        """JSON: ``added``, ``removed``, ``renamed``, ``stage_changes``, ``perimeter_changes``,
        ``coverage``, ``sources`` and ``notes``."""
        return {
            "added": self.added,
            "removed": self.removed,
            "renamed": self.renamed,
            "stage_changes": self.stage_changes,
            "perimeter_changes": self.perimeter_changes,
            "coverage": self.coverage,
            "sources": {"old": self.old_source, "new": self.new_source},
            "notes": self.notes,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """One table per kind of change, with French column names (sheet name → frame)."""

        def units(items):
            return ", ".join(f"{u['nom']} ({u['code']})" for u in items)

        cols_reg = ["Identifiant", "Nom", "Stade", "Date du stade", "Communes", "Population"]

        def reg_rows(items):
            return pd.DataFrame(
                [
                    [
                        r["cpts_id"],
                        r["cpts_nom"],
                        _stage_label(r["statut"]),
                        r["date_statut"],
                        r["communes"],
                        r["population"],
                    ]
                    for r in items
                ],
                columns=cols_reg,
            )

        c = self.coverage

        def unit_rows(items, with_cpts=False):
            cols = ["Code", "Commune", "Population"] + (["CPTS"] if with_cpts else [])
            return pd.DataFrame(
                [
                    [u["code"], u["nom"], u["population"]] + ([", ".join(u["cpts"])] if with_cpts else [])
                    for u in items
                ],
                columns=cols,
            )

        return {
            "CPTS ajoutées": reg_rows(self.added),
            "CPTS supprimées": reg_rows(self.removed),
            "Renommages": pd.DataFrame(
                [[r["cpts_id"], r["old_name"], r["new_name"]] for r in self.renamed],
                columns=["Identifiant", "Ancien nom", "Nouveau nom"],
            ),
            "Changements de stade": pd.DataFrame(
                [
                    [
                        r["cpts_id"],
                        r["cpts_nom"],
                        _stage_label(r["old_stage"]),
                        r["old_date"],
                        _stage_label(r["new_stage"]),
                        r["new_date"],
                    ]
                    for r in self.stage_changes
                ],
                columns=[
                    "Identifiant",
                    "Nom",
                    "Ancien stade",
                    "Ancienne date",
                    "Nouveau stade",
                    "Nouvelle date",
                ],
            ),
            "Périmètres": pd.DataFrame(
                [
                    [
                        r["cpts_id"],
                        r["cpts_nom"],
                        units(r["communes_in"]),
                        units(r["communes_out"]),
                        r["population_before"],
                        r["population_after"],
                    ]
                    for r in self.perimeter_changes
                ],
                columns=[
                    "Identifiant",
                    "Nom",
                    "Communes entrées",
                    "Communes sorties",
                    "Population avant",
                    "Population après",
                ],
            ),
            "Zones blanches apparues": unit_rows(c.get("white_zones_appeared", [])),
            "Zones blanches résorbées": unit_rows(c.get("white_zones_disappeared", [])),
            "Nouveaux chevauchements": unit_rows(c.get("new_overlaps", []), with_cpts=True),
            "Chevauchements résolus": unit_rows(c.get("overlaps_resolved", []), with_cpts=True),
        }

    def to_text(self) -> str:
        """A French account of the changes."""
        lines = ["Changements entre deux versions du registre"]
        if self.old_source or self.new_source:
            lines.append(f"Ancien : {self.old_source or '—'} ; nouveau : {self.new_source or '—'}")
        if self.unchanged:
            lines += ["", "Aucun changement.", "", f"Note : {NOTE_MATCHING}"]
            return "\n".join(lines)

        def unit_list(items, limit=15):
            shown = ", ".join(f"{u['nom']} ({u['code']})" for u in items[:limit])
            return shown + (f" et {len(items) - limit} autres" if len(items) > limit else "")

        def section(title, items, render):
            if items:
                lines.extend(["", f"{title} : {fr_int(len(items))}"])
                lines.extend(f"  - {render(r)}" for r in items)

        def cpts_line(r):
            return (
                f"{r['cpts_nom']} ({r['cpts_id']}) — {_stage_label(r['statut'])}, "
                f"{fr_plural(r['communes'], 'commune')}, {fr_int(r['population'])} habitants"
            )

        section("CPTS ajoutées", self.added, cpts_line)
        section("CPTS supprimées", self.removed, cpts_line)
        section(
            "CPTS renommées",
            self.renamed,
            lambda r: f"{r['cpts_id']} : « {r['old_name']} » devient « {r['new_name']} »",
        )
        section(
            "Changements de stade",
            self.stage_changes,
            lambda r: (
                f"{r['cpts_nom']} ({r['cpts_id']}) : {_stage_label(r['old_stage'])}"
                f"{_date(r['old_date'])} → {_stage_label(r['new_stage'])}{_date(r['new_date'])}"
            ),
        )

        def perimeter(r):
            parts = []
            if r["communes_in"]:
                parts.append(f"{fr_agree(len(r['communes_in']), 'entrée')} : {unit_list(r['communes_in'])}")
            if r["communes_out"]:
                parts.append(f"{fr_agree(len(r['communes_out']), 'sortie')} : {unit_list(r['communes_out'])}")
            return (
                f"{r['cpts_nom']} ({r['cpts_id']}) : {' ; '.join(parts)} — population "
                f"{fr_int(r['population_before'])} → {fr_int(r['population_after'])} habitants"
            )

        section("Changements de périmètre", self.perimeter_changes, perimeter)
        c = self.coverage
        lines += [
            "",
            "Effet sur la couverture",
            f"  Population couverte : {fr_int(c['population_covered_before'])} → "
            f"{fr_int(c['population_covered_after'])} habitants",
        ]
        for key, title in (
            ("white_zones_appeared", "Zones blanches apparues"),
            ("white_zones_disappeared", "Zones blanches résorbées"),
            ("new_overlaps", "Nouveaux chevauchements"),
            ("overlaps_resolved", "Chevauchements résolus"),
        ):
            items = c.get(key, [])
            if items:
                pop = sum(u["population"] for u in items)
                lines.append(
                    f"  {title} : {fr_plural(len(items), 'commune')}, {fr_int(pop)} habitants — "
                    f"{unit_list(items)}"
                )
        lines += ["", *(f"Note : {n}" for n in self.notes)]
        return "\n".join(lines)


def _stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def _date(text: str) -> str:
    """A stage date for the text, jj/mm/aaaa."""
    if not text:
        return ""
    try:
        return f" ({parse_date(text).strftime('%d/%m/%Y')})"
    except ValueError:
        return f" ({text})"


def _iso(text: str) -> str:
    """A stage date as AAAA-MM-JJ when it is one (so that 01/05/2022 and 2022-05-01 compare equal)."""
    try:
        return parse_date(text).isoformat() if text.strip() else ""
    except ValueError:
        return text.strip()


def compare_registers(
    old_tables,
    new_tables,
    unit_pop: pd.Series,
    unit_names: pd.Series,
    *,
    old_source: str = "",
    new_source: str = "",
    old_shared=(),
    new_shared=(),
) -> RegisterChanges:
    """Compare two versions of a register.

    Parameters
    ----------
    old_tables, new_tables
        Each ``(links, cpts)``: the register's ``links`` (``cpts_id``, ``code_insee``) and ``cpts``
        (indexed by ``cpts_id``, with ``cpts_nom``, ``statut``, ``date_statut``).
    unit_pop
        Population by unit code (all units of the reference: the white zones are counted on it).
    unit_names
        Name of each unit, for the lists of communes.
    old_source, new_source
        The files compared, for the text.
    old_shared, new_shared
        The unit codes each register declares shared on purpose by its CPTS
        (``commune_partagee``): never an overlap, new or resolved.

    Returns
    -------
    RegisterChanges

    Raises
    ------
    InputError
        A side that is not ``(links, cpts)``, or a unit absent from ``unit_pop``.
    """
    unit_pop = pd.Series(unit_pop.to_numpy(dtype=np.int64), index=unit_pop.index.astype(str))
    names = pd.Series(unit_names.to_numpy(dtype=object), index=unit_names.index.astype(str))
    _, old, old_units, old_n, old_pop = _side(old_tables, unit_pop, "ancien")
    _, new, new_units, new_n, new_pop = _side(new_tables, unit_pop, "nouveau")

    def unit(code):
        return {"code": code, "nom": str(names.get(code, ""))}

    old_rows, new_rows = old.to_dict("index"), new.to_dict("index")

    def summary(cid, rows, units, population):
        r = rows[cid]
        return {
            "cpts_id": cid,
            "cpts_nom": r["cpts_nom"],
            "statut": r["statut"],
            "date_statut": r["date_statut"],
            "communes": len(units.get(cid, [])),
            "population": int(population.get(cid, 0)),
        }

    old_ids, new_ids = set(old.index), set(new.index)
    out = RegisterChanges(old_source=old_source, new_source=new_source)
    out.added = [summary(c, new_rows, new_units, new_pop) for c in sorted(new_ids - old_ids)]
    out.removed = [summary(c, old_rows, old_units, old_pop) for c in sorted(old_ids - new_ids)]
    for cid in sorted(old_ids & new_ids):
        o, n = old_rows[cid], new_rows[cid]
        if o["cpts_nom"] != n["cpts_nom"]:
            out.renamed.append({"cpts_id": cid, "old_name": o["cpts_nom"], "new_name": n["cpts_nom"]})
        if (o["statut"], o["date_statut"]) != (n["statut"], n["date_statut"]):
            out.stage_changes.append(
                {
                    "cpts_id": cid,
                    "cpts_nom": n["cpts_nom"],
                    "old_stage": o["statut"],
                    "old_date": o["date_statut"],
                    "new_stage": n["statut"],
                    "new_date": n["date_statut"],
                }
            )
        before, after = set(old_units.get(cid, [])), set(new_units.get(cid, []))
        if before != after:
            out.perimeter_changes.append(
                {
                    "cpts_id": cid,
                    "cpts_nom": n["cpts_nom"],
                    "communes_in": [unit(c) for c in sorted(after - before)],
                    "communes_out": [unit(c) for c in sorted(before - after)],
                    "population_before": int(old_pop.get(cid, 0)),
                    "population_after": int(new_pop.get(cid, 0)),
                }
            )

    n_old = old_n.reindex(unit_pop.index).fillna(0).to_numpy()
    n_new = new_n.reindex(unit_pop.index).fillna(0).to_numpy()
    codes = unit_pop.index.to_numpy(dtype=object)

    def units_where(mask, side_units=None):
        items = []
        for code in codes[mask]:
            item = {**unit(code), "population": int(unit_pop[code])}
            if side_units is not None:
                item["cpts"] = sorted(cid for cid, us in side_units.items() if code in us)
            items.append(item)
        return items

    old_over = (n_old >= 2) & ~np.isin(codes, list(old_shared))
    new_over = (n_new >= 2) & ~np.isin(codes, list(new_shared))
    new_overlap_mask = new_over & ~old_over
    resolved_mask = old_over & ~new_over
    new_sets = {cid: set(us) for cid, us in new_units.items()}
    old_sets = {cid: set(us) for cid, us in old_units.items()}
    out.coverage = {
        "population_covered_before": int(unit_pop[n_old > 0].sum()),
        "population_covered_after": int(unit_pop[n_new > 0].sum()),
        "white_zones_appeared": units_where((n_old > 0) & (n_new == 0)),
        "white_zones_disappeared": units_where((n_old == 0) & (n_new > 0)),
        "new_overlaps": units_where(new_overlap_mask, new_sets),
        "overlaps_resolved": units_where(resolved_mask, old_sets),
    }
    return out


def register_changes(ref, old, new) -> RegisterChanges:
    """:func:`compare_registers` of two registers (anything
    :func:`~cpts_geo.inputs.read.as_register` takes: a Register, a DataFrame, a path) on ``ref``.

    CPTS are matched by id (:data:`NOTE_MATCHING`): an id in one register only is an added or a
    removed CPTS.
    """
    from cpts_geo.inputs.read import as_register

    old, new = as_register(ref, old), as_register(ref, new)
    units = ref.units
    return compare_registers(
        (old.links, old.cpts),
        (new.links, new.cpts),
        units["population"],
        units["nom"],
        old_source=old.source,
        new_source=new.source,
        old_shared=old.shared_units,
        new_shared=new.shared_units,
    )
