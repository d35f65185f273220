"""What changed between two versions of a register.

CPTS are matched (``match="auto"``, the default) by ``cpts_id`` when an id is in both registers
and its two CPTS have units in common; the others **by territory**: each CPTS is paired with the
CPTS of the other register that shares most of its population, when that is mutual and the two
share at least half of the population of one of them (two registers of one région written by two
offices rarely share ids: a table published with names only, ids derived from the names). A CPTS
left without a pair is *added* (new register only) or *removed* (old register only). With
``match="id"``, CPTS are matched by id only, as before: a CPTS given a new id is removed and added.
For each pair: a new name is a *renaming* (for a pair matched by territory: a *name alias*, the
two names of one CPTS), a new stage or stage date a *stage change*, a new list of units a
*perimeter change*, where a commune that left and a commune of the same name that entered are
reported as a probable *homonym* error. Every unit whose CPTS differ between the two registers
(after matching) is listed in ``reassigned``.

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
from cpts_geo._text import fr_agree, fr_int, fr_plural, fr_share
from cpts_geo.inputs.cells import parse_date
from cpts_geo.inputs.stages import STAGE_LABELS

__all__ = [
    "MATCH_MODES",
    "NOTE_MATCHING",
    "NOTE_MATCHING_TERRITORY",
    "RegisterChanges",
    "compare_registers",
    "register_changes",
]

NOTE_MATCHING = (
    "Les CPTS sont rapprochées par leur identifiant (cpts_id) : un identifiant présent dans un seul "
    "des deux registres est une CPTS ajoutée ou supprimée, même si une CPTS de l'autre registre porte "
    "le même nom ou couvre les mêmes communes ; gardez les identifiants d'une version à l'autre."
)
NOTE_MATCHING_TERRITORY = (
    "Les CPTS sont rapprochées par leur identifiant (cpts_id) quand il figure dans les deux registres "
    "et que ses deux CPTS ont des communes en commun, les autres par leur territoire : chacune avec la "
    "CPTS de l'autre registre avec laquelle elle partage le plus d'habitants, si c'est réciproque et "
    "qu'elles partagent au moins la moitié de la population de l'une d'elles ; une CPTS sans "
    "correspondante est ajoutée (nouveau registre) ou supprimée (ancien registre)."
)

NOTE_NO_STAGES = (
    "Un des deux registres ne donne aucun stade (ni date de stade) : les stades ne sont pas comparés."
)

#: Ways of matching the CPTS of two registers (see the module's docstring).
MATCH_MODES = ("auto", "id")

#: A pair matched by territory shares at least this share of the population of one of its CPTS.
MATCH_MIN_SHARE = 0.5


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


def _shared_population(old_links: pd.DataFrame, new_links: pd.DataFrame, unit_pop: pd.Series) -> pd.DataFrame:
    """Population and units each (old CPTS, new CPTS) pair has in common: ``old``, ``new``,
    ``population``, ``units``."""
    both = old_links.merge(new_links, on="code_insee", suffixes=("_old", "_new"))
    both["population"] = unit_pop.reindex(both["code_insee"]).to_numpy(dtype=np.int64)
    g = both.groupby(["cpts_id_old", "cpts_id_new"], sort=True)
    out = pd.DataFrame({"population": g["population"].sum(), "units": g.size()}).reset_index()
    return out.rename(columns={"cpts_id_old": "old", "cpts_id_new": "new"})


def _match(
    old_links: pd.DataFrame,
    new_links: pd.DataFrame,
    old_pop: pd.Series,
    new_pop: pd.Series,
    unit_pop: pd.Series,
    match: str,
) -> list[dict]:
    """The pairs of CPTS (``old``, ``new``, ``by`` — ``"id"`` or ``"territory"`` —,
    ``population_shared``, ``share_old``, ``share_new``), in the order of the new ids."""
    if match not in MATCH_MODES:
        raise InputError(f"rapprochement (match) '{match}' inconnu ; attendu {', '.join(MATCH_MODES)}")
    common = _shared_population(old_links, new_links, unit_pop)
    old_ids, new_ids = set(old_links["cpts_id"]), set(new_links["cpts_id"])

    def pair(o, n, by, shared):
        po, pn = int(old_pop.get(o, 0)), int(new_pop.get(n, 0))
        return {
            "old": o,
            "new": n,
            "by": by,
            "population_shared": int(shared),
            "share_old": round(shared / po, 4) if po else 0.0,
            "share_new": round(shared / pn, 4) if pn else 0.0,
        }

    shared_of = {(o, n): (int(p), int(u)) for o, n, p, u in common.itertuples(index=False)}
    pairs = []
    for cid in sorted(old_ids & new_ids):
        if match == "id" or (cid, cid) in shared_of:
            pairs.append(pair(cid, cid, "id", shared_of.get((cid, cid), (0, 0))[0]))
    if match == "auto":
        taken_old = {p["old"] for p in pairs}
        taken_new = {p["new"] for p in pairs}
        free = common[~common["old"].isin(taken_old) & ~common["new"].isin(taken_new)]
        # Best partner of each side: most population shared, then most units, then the smallest id.
        ranked = free.sort_values(["population", "units", "old", "new"], ascending=[False, False, True, True])
        best_of_old = ranked.drop_duplicates("old").set_index("old")["new"]
        best_of_new = ranked.drop_duplicates("new").set_index("new")["old"]
        for o, n in best_of_old.items():
            if best_of_new.get(n) != o:
                continue
            shared = shared_of[(o, n)][0]
            po, pn = int(old_pop.get(o, 0)), int(new_pop.get(n, 0))
            if shared >= MATCH_MIN_SHARE * min(po, pn) or (po == 0 and pn == 0):
                pairs.append(pair(o, n, "territory", shared))
    return sorted(pairs, key=lambda p: (p["new"], p["old"]))


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
    #: Pairs matched by territory (ids that differ): ``old_cpts_id``, ``old_name``, ``cpts_id``
    #: (new id), ``new_name``, ``population_shared``, ``share_old``, ``share_new``.
    matched: list[dict] = field(default_factory=list)
    #: Units whose CPTS differ between the registers once matched: ``code``, ``nom``,
    #: ``population``, ``old_cpts``, ``new_cpts``, ``old_names``, ``new_names``.
    reassigned: list[dict] = field(default_factory=list)
    match: str = "auto"

    @property
    def unchanged(self) -> bool:
        """True when nothing differs."""
        c = self.coverage
        return not (
            self.matched
            or self.reassigned
            or self.added
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
        ``coverage``, ``sources`` and ``notes``; ``match`` (the mode), ``matched_by_territory``
        and ``reassigned`` (added with the matching by territory). An item of a pair matched by
        territory has the new ``cpts_id`` and the ``old_cpts_id``; a perimeter change may list
        ``homonyms`` (``nom``, ``old_code``, ``new_code``)."""
        return {
            "added": self.added,
            "removed": self.removed,
            "renamed": self.renamed,
            "stage_changes": self.stage_changes,
            "perimeter_changes": self.perimeter_changes,
            "coverage": self.coverage,
            "sources": {"old": self.old_source, "new": self.new_source},
            "notes": self.notes,
            "match": self.match,
            "matched_by_territory": self.matched,
            "reassigned": self.reassigned,
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

        def with_extra(frame: pd.DataFrame, items: list[dict]) -> pd.DataFrame:
            """The old id of pairs matched by territory, and probable homonyms, when there are any."""
            if any("old_cpts_id" in r for r in items):
                frame["Ancien identifiant"] = [r.get("old_cpts_id", r["cpts_id"]) for r in items]
            if any(r.get("homonyms") for r in items):
                frame["Homonymes probables"] = [_homonym_text(r.get("homonyms", [])) for r in items]
            return frame

        frames = {
            "CPTS ajoutées": reg_rows(self.added),
            "CPTS supprimées": reg_rows(self.removed),
            "Renommages": with_extra(
                pd.DataFrame(
                    [[r["cpts_id"], r["old_name"], r["new_name"]] for r in self.renamed],
                    columns=["Identifiant", "Ancien nom", "Nouveau nom"],
                ),
                self.renamed,
            ),
            "Changements de stade": with_extra(
                pd.DataFrame(
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
                self.stage_changes,
            ),
            "Périmètres": with_extra(
                pd.DataFrame(
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
                self.perimeter_changes,
            ),
            "Zones blanches apparues": unit_rows(c.get("white_zones_appeared", [])),
            "Zones blanches résorbées": unit_rows(c.get("white_zones_disappeared", [])),
            "Nouveaux chevauchements": unit_rows(c.get("new_overlaps", []), with_cpts=True),
            "Chevauchements résolus": unit_rows(c.get("overlaps_resolved", []), with_cpts=True),
        }
        if self.match != "id":
            frames["CPTS rapprochées"] = pd.DataFrame(
                [
                    [
                        r["old_cpts_id"],
                        r["old_name"],
                        r["cpts_id"],
                        r["new_name"],
                        r["population_shared"],
                        r["share_old"],
                        r["share_new"],
                    ]
                    for r in self.matched
                ],
                columns=[
                    "Ancien identifiant",
                    "Ancien nom",
                    "Nouvel identifiant",
                    "Nouveau nom",
                    "Population en commun",
                    "Part de l'ancienne",
                    "Part de la nouvelle",
                ],
            )
            frames["Communes réaffectées"] = pd.DataFrame(
                [
                    [
                        r["code"],
                        r["nom"],
                        r["population"],
                        _cpts_names(r["old_cpts"], r["old_names"]),
                        _cpts_names(r["new_cpts"], r["new_names"]),
                    ]
                    for r in self.reassigned
                ],
                columns=[
                    "Code",
                    "Commune",
                    "Population",
                    "CPTS (ancien registre)",
                    "CPTS (nouveau registre)",
                ],
            )
        return frames

    def to_text(self) -> str:
        """A French account of the changes."""
        lines = ["Changements entre deux versions du registre"]
        if self.old_source or self.new_source:
            lines.append(f"Ancien : {self.old_source or '—'} ; nouveau : {self.new_source or '—'}")
        if self.unchanged:
            lines += ["", "Aucun changement.", "", *(f"Note : {n}" for n in self.notes)]
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

        def ident(r):
            return f"{r['old_cpts_id']} → {r['cpts_id']}" if "old_cpts_id" in r else r["cpts_id"]

        section(
            "CPTS rapprochées par leur territoire (identifiants différents), les moins semblables d'abord",
            sorted(self.matched, key=lambda r: (min(r["share_old"], r["share_new"]), r["cpts_id"])),
            lambda r: (
                f"« {r['old_name']} » ({r['old_cpts_id']}) ↔ « {r['new_name']} » ({r['cpts_id']}) : "
                f"{fr_int(r['population_shared'])} habitants en commun, {fr_share(r['share_old'])} de "
                f"l'ancienne, {fr_share(r['share_new'])} de la nouvelle"
            ),
        )
        section("CPTS ajoutées", self.added, cpts_line)
        section("CPTS supprimées", self.removed, cpts_line)
        section(
            "CPTS renommées",
            [r for r in self.renamed if "old_cpts_id" not in r],
            lambda r: f"{r['cpts_id']} : « {r['old_name']} » devient « {r['new_name']} »",
        )
        section(
            "Alias : noms différents d'une même CPTS (rapprochée par son territoire)",
            [r for r in self.renamed if "old_cpts_id" in r],
            lambda r: f"« {r['old_name']} » ({r['old_cpts_id']}) = « {r['new_name']} » ({r['cpts_id']})",
        )
        section(
            "Changements de stade",
            self.stage_changes,
            lambda r: (
                f"{r['cpts_nom']} ({ident(r)}) : {_stage_label(r['old_stage'])}"
                f"{_date(r['old_date'])} → {_stage_label(r['new_stage'])}{_date(r['new_date'])}"
            ),
        )

        def perimeter(r):
            parts = []
            if r["communes_in"]:
                parts.append(f"{fr_agree(len(r['communes_in']), 'entrée')} : {unit_list(r['communes_in'])}")
            if r["communes_out"]:
                parts.append(f"{fr_agree(len(r['communes_out']), 'sortie')} : {unit_list(r['communes_out'])}")
            homonyms = r.get("homonyms")
            return (
                f"{r['cpts_nom']} ({ident(r)}) : {' ; '.join(parts)} — population "
                f"{fr_int(r['population_before'])} → {fr_int(r['population_after'])} habitants"
                + (f" — homonyme probable : {_homonym_text(homonyms)}" if homonyms else "")
            )

        section("Changements de périmètre", self.perimeter_changes, perimeter)
        if self.match != "id":
            section(
                "Communes dont la CPTS diffère (hors CPTS ajoutées ou supprimées entières)",
                self.reassigned,
                lambda r: (
                    f"{r['nom']} ({r['code']}), {fr_int(r['population'])} hab. : "
                    f"{_cpts_names(r['old_cpts'], r['old_names'])} → {_cpts_names(r['new_cpts'], r['new_names'])}"
                ),
            )
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


def _homonym_text(homonyms: list[dict]) -> str:
    """« Saint-Martin : 04186 → 83112 » for each commune that left and its namesake that entered."""
    return " ; ".join(f"{h['nom']} : {h['old_code']} → {h['new_code']}" for h in homonyms)


def _cpts_names(ids: list[str], names: list[str]) -> str:
    """The CPTS of a unit in one register, « aucune » for none."""
    if not ids:
        return "aucune"
    return ", ".join(f"{n} ({i})" if n != i else i for i, n in zip(ids, names))


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
    match: str = "auto",
) -> RegisterChanges:
    """Compare two versions of a register (or two registers of one area).

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
    match
        ``"auto"``: by id when an id is in both registers and its CPTS have units in common, the
        others by territory; ``"id"``: by id only (see the module's docstring).

    Returns
    -------
    RegisterChanges

    Raises
    ------
    InputError
        A side that is not ``(links, cpts)``, a unit absent from ``unit_pop``, an unknown ``match``.
    """
    unit_pop = pd.Series(unit_pop.to_numpy(dtype=np.int64), index=unit_pop.index.astype(str))
    names = pd.Series(unit_names.to_numpy(dtype=object), index=unit_names.index.astype(str))
    old_tables_links, old, old_units, old_n, old_pop = _side(old_tables, unit_pop, "ancien")
    new_tables_links, new, new_units, new_n, new_pop = _side(new_tables, unit_pop, "nouveau")

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

    old_links, new_links = old_tables_links, new_tables_links
    pairs = _match(old_links, new_links, old_pop, new_pop, unit_pop, match)
    out = RegisterChanges(old_source=old_source, new_source=new_source, match=match)
    out.notes = [NOTE_MATCHING if match == "id" else NOTE_MATCHING_TERRITORY]
    # A register without any stage (a table published with names only) says nothing of them.
    compare_stages = bool((old["statut"] != "").any() or (old["date_statut"] != "").any()) and bool(
        (new["statut"] != "").any() or (new["date_statut"] != "").any()
    )
    if not compare_stages and len(old) and len(new):
        out.notes.append(NOTE_NO_STAGES)
    paired_old = {p["old"] for p in pairs}
    paired_new = {p["new"] for p in pairs}
    out.added = [summary(c, new_rows, new_units, new_pop) for c in sorted(set(new.index) - paired_new)]
    out.removed = [summary(c, old_rows, old_units, old_pop) for c in sorted(set(old.index) - paired_old)]
    for p in pairs:
        o_id, cid = p["old"], p["new"]
        o, n = old_rows[o_id], new_rows[cid]
        alias = {} if p["by"] == "id" else {"old_cpts_id": o_id}
        if p["by"] == "territory":
            out.matched.append(
                {
                    "old_cpts_id": o_id,
                    "old_name": o["cpts_nom"],
                    "cpts_id": cid,
                    "new_name": n["cpts_nom"],
                    "population_shared": p["population_shared"],
                    "share_old": p["share_old"],
                    "share_new": p["share_new"],
                }
            )
        if o["cpts_nom"] != n["cpts_nom"]:
            out.renamed.append(
                {"cpts_id": cid, **alias, "old_name": o["cpts_nom"], "new_name": n["cpts_nom"]}
            )
        if compare_stages and (o["statut"], o["date_statut"]) != (n["statut"], n["date_statut"]):
            out.stage_changes.append(
                {
                    "cpts_id": cid,
                    **alias,
                    "cpts_nom": n["cpts_nom"],
                    "old_stage": o["statut"],
                    "old_date": o["date_statut"],
                    "new_stage": n["statut"],
                    "new_date": n["date_statut"],
                }
            )
        before, after = set(old_units.get(o_id, [])), set(new_units.get(cid, []))
        if before != after:
            entered = [unit(c) for c in sorted(after - before)]
            left = [unit(c) for c in sorted(before - after)]
            change = {
                "cpts_id": cid,
                **alias,
                "cpts_nom": n["cpts_nom"],
                "communes_in": entered,
                "communes_out": left,
                "population_before": int(old_pop.get(o_id, 0)),
                "population_after": int(new_pop.get(cid, 0)),
            }
            homonyms = _homonyms(left, entered)
            if homonyms:
                change["homonyms"] = homonyms
            out.perimeter_changes.append(change)
    out.reassigned = _reassigned(old_links, new_links, pairs, unit_pop, names, old_rows, new_rows)

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


def _homonyms(left: list[dict], entered: list[dict]) -> list[dict]:
    """Communes that left a CPTS and communes of the same name that entered it: most often a name
    resolved to the wrong homonym in one of the files."""
    from cpts_geo.inputs.cells import fold

    by_name: dict[str, list[dict]] = {}
    for u in entered:
        by_name.setdefault(fold(u["nom"]), []).append(u)
    return [
        {"nom": u["nom"], "old_code": u["code"], "new_code": v["code"]}
        for u in left
        for v in by_name.get(fold(u["nom"]), [])
    ]


def _reassigned(old_links, new_links, pairs, unit_pop, names, old_rows, new_rows) -> list[dict]:
    """Every unit whose CPTS differ between the two registers once the CPTS are matched (but a
    unit in no CPTS on one side and only in CPTS added or removed whole on the other): ``code``,
    ``nom``, ``population``, ``old_cpts``/``new_cpts`` (ids in their register) and
    ``old_names``/``new_names``, in code order."""
    to_new = {p["old"]: p["new"] for p in pairs}
    old_sets = old_links.assign(key=old_links["cpts_id"].map(lambda c: to_new.get(c, "\0" + c)))
    o = old_sets.groupby("code_insee").agg(
        old_cpts=("cpts_id", sorted), old_keys=("key", lambda k: sorted(k))
    )
    n = new_links.groupby("code_insee").agg(new_cpts=("cpts_id", sorted))
    both = o.join(n, how="outer")
    both["old_cpts"] = [x if isinstance(x, list) else [] for x in both["old_cpts"]]
    both["old_keys"] = [x if isinstance(x, list) else [] for x in both["old_keys"]]
    both["new_cpts"] = [x if isinstance(x, list) else [] for x in both["new_cpts"]]
    matched_new = set(to_new.values())
    # A commune of a whole CPTS added (or removed) that was (or is left) in no CPTS: said by the
    # added (removed) CPTS and the white zones, not a commune given to another CPTS.
    whole = [
        (not a and all(c not in matched_new for c in b)) or (not b and all(k.startswith("\0") for k in a))
        for a, b in zip(both["old_keys"], both["new_cpts"])
    ]
    differ = [a != b and not w for a, b, w in zip(both["old_keys"], both["new_cpts"], whole)]
    rows = both[differ]
    return [
        {
            "code": str(code),
            "nom": str(names.get(code, "")),
            "population": int(unit_pop.get(code, 0)),
            "old_cpts": r.old_cpts,
            "new_cpts": r.new_cpts,
            "old_names": [old_rows[c]["cpts_nom"] or c for c in r.old_cpts],
            "new_names": [new_rows[c]["cpts_nom"] or c for c in r.new_cpts],
        }
        for code, r in zip(rows.index.tolist(), rows.itertuples(index=False))
    ]


def register_changes(ref, old, new, *, match: str = "auto") -> RegisterChanges:
    """:func:`compare_registers` of two registers (anything
    :func:`~cpts_geo.inputs.read.as_register` takes: a Register, a DataFrame, a path) on ``ref``.

    CPTS are matched as ``match`` says (:func:`compare_registers`): by default by id when an id
    is in both registers and its CPTS have units in common, the others by territory.
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
        match=match,
    )
