"""Coverage of a CPTS register: by unit, by département, région and nation; progress to the goal.

A unit (commune, or arrondissement municipal in Paris, Lyon and Marseille) is *covered* when at
least one CPTS of the register includes it, a *white zone* when none does, and an *overlap* when
two or more do. Every inhabitant is counted once, whatever the number of CPTS covering him. A CPTS
is counted once in each area (nation, région, département) it touches: a CPTS spanning two régions
counts once nationally and once in each of the two régions.

Examples
--------
>>> import pandas as pd
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> reg = pd.DataFrame({"cpts_id": ["A", "A"], "cpts_nom": ["CPTS A", "CPTS A"],
...                     "code_insee": ["49007", "49015"], "statut": ["aci", "aci"]})
>>> cov = cg.coverage_summary(ref, reg, departement="49")
>>> cov.departements[0]["cpts"]
1
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._limits import check_param
from cpts_geo._text import cut, fr_goal, fr_number, fr_plural, fr_share
from cpts_geo.checks.territory import aci_size_class
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.register import Register, register_from_frame
from cpts_geo.inputs.stages import LEVEL_LABELS, LEVELS, STAGE_LABELS, STAGES, stage_key
from cpts_geo.inputs.zones import as_zone_layers
from cpts_geo.reference.areas import resolve_scope
from cpts_geo.reference.units import Reference
from cpts_geo.steering.by_stage import covered_by_stage_levels, population_covered_by_stage
from cpts_geo.steering.zones import NOTE_ZONE_POLYGONS, NOTE_ZONES, zone_coverage, zone_coverage_lines

__all__ = [
    "DEFAULT_GOAL",
    "Coverage",
    "as_coverage",
    "at_least_stage",
    "coverage_summary",
    "coverage_table",
    "cpts_table",
    "with_funding",
]

log = logging.getLogger(__name__)

#: The national goal of the plan "Ma santé 2022".
DEFAULT_GOAL = 1000


NOTE_MULTI = (
    "Une CPTS qui s'étend sur plusieurs régions (ou départements) est comptée une fois au niveau "
    "national et une fois dans chaque région (ou département) qu'elle touche : la somme des "
    "lignes peut dépasser le total national."
)
NOTE_UNITS = (
    "Les communes comptées sont les unités du référentiel : communes, et arrondissements "
    "municipaux à Paris, Lyon et Marseille (le texte dit « unités » et détaille les arrondissements "
    "quand il en compte)."
)

NOTE_BY_STAGE = (
    "Population couverte par stade : cumulée depuis le stade le plus avancé (une commune d'une CPTS "
    "sous contrat ACI compte aussi dans « projet de santé validé ou plus », etc.) ; chaque habitant est "
    "compté une fois par niveau, quel que soit le nombre de CPTS qui le couvrent. Une CPTS sans stade "
    "renseigné ne compte que dans la population couverte tout stade."
)


NOTE_SHARED_STAGE = (
    "Communes partagées déclarées (commune_partagee) sans découpage plus fin : la part de leurs "
    "habitants dans chaque CPTS qui les partage n'est pas connue ; chacun est compté une fois, au stade "
    "le plus avancé de ces CPTS (une commune partagée entre une CPTS sous contrat ACI et un pré-projet "
    "compte entière sous « contrat ACI signé »)."
)


def note_min_stage(stage: str) -> str:
    """The note of a coverage restricted to the CPTS at ``stage`` or beyond."""
    return (
        f"Seules les CPTS au stade « {STAGE_LABELS[stage]} » ou plus avancé sont comptées : tous les "
        "chiffres (CPTS, population couverte, zones blanches, chevauchements) portent sur elles ; les "
        "autres CPTS, et celles sans stade renseigné, sont ignorées."
    )


def coverage_table(ref: Reference, register) -> pd.DataFrame:
    """Which CPTS cover each unit of the reference.

    Parameters
    ----------
    ref
        The reference.
    register
        A :class:`cpts_geo.inputs.Register`.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code, in reference order, with ``nom``, ``commune``, ``departement``,
        ``region``, ``population``, ``cpts`` (list of the CPTS ids covering the unit, sorted),
        ``n_cpts``, ``commune_partagee`` (declared shared by several CPTS below the commune
        level: not an overlap) and ``etat`` (``"zone blanche"``, ``"couverte"``,
        ``"partagée déclarée"`` or ``"chevauchement"``).
    """
    return _coverage_table(ref, as_register(ref, register))


def _coverage_table(ref: Reference, register: Register) -> pd.DataFrame:
    """:func:`coverage_table` of a :class:`Register` of ``ref``."""
    out = ref.units[["nom", "commune", "departement", "region", "population"]].copy()
    out["cpts"] = [list(c) for c in register.unit_cpts]
    out["n_cpts"] = register.n_cpts_by_unit
    out["commune_partagee"] = register.shared_mask
    out["etat"] = np.select(
        [out["n_cpts"].to_numpy() == 0, out["n_cpts"].to_numpy() == 1, register.shared_mask],
        ["zone blanche", "couverte", "partagée déclarée"],
        "chevauchement",
    )
    return out


def cpts_table(ref: Reference, register) -> pd.DataFrame:
    """One row per CPTS of a register with its figures.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cpts_id``: ``cpts_nom``, ``statut``, ``date_statut``, ``codes`` (unit codes),
        ``n_units``, ``n_communes`` (distinct communes: the arrondissements of a city count as
        one), ``population`` (of all its units, shared ones included), ``aci_size_class``,
        ``departements`` and ``regions`` (sorted lists of codes it touches); and, for a CPTS
        sharing units declared shared (``commune_partagee``) without a finer mesh, what is known
        of its population: ``population_min`` and ``aci_size_class_min`` (without the shared
        units; equal to ``population`` and ``aci_size_class`` when nothing is shared) and
        ``shared_units`` (their codes).
    """
    return _cpts_table(ref, as_register(ref, register))


def _cpts_table(ref: Reference, register: Register) -> pd.DataFrame:
    """:func:`cpts_table` of a :class:`Register` of ``ref``."""
    frame = register.cpts[["cpts_nom", "statut", "date_statut"]]
    links = register.links
    units = ref.units
    attrs = units.loc[links["code_insee"], ["commune", "population", "departement", "region"]]
    t = pd.concat([links.reset_index(drop=True), attrs.reset_index(drop=True)], axis=1)
    g = t.groupby("cpts_id", sort=False)
    out = frame.copy()
    codes: dict[str, list[str]] = {}
    for cid, code in zip(t["cpts_id"].tolist(), t["code_insee"].tolist()):
        codes.setdefault(cid, []).append(code)
    out["codes"] = [codes.get(c, []) for c in out.index]
    out["n_units"] = [len(c) for c in out["codes"]]
    out["n_communes"] = g["commune"].nunique().reindex(out.index).fillna(0).astype(int)
    out["population"] = g["population"].sum().reindex(out.index).fillna(0).astype(np.int64)
    out["aci_size_class"] = [aci_size_class(int(p)) for p in out["population"]]
    known = register.population_range.reindex(out.index)
    out["population_min"] = known["population_min"].fillna(0).astype(np.int64)
    out["aci_size_class_min"] = [aci_size_class(int(p)) for p in out["population_min"]]
    out["shared_units"] = [list(x) if isinstance(x, list) else [] for x in known["shared"]]
    for col, name in (("departement", "departements"), ("region", "regions")):
        pairs = t[["cpts_id", col]].drop_duplicates().sort_values(["cpts_id", col])
        lists: dict[str, list[str]] = {}
        for cid, value in zip(pairs["cpts_id"].tolist(), pairs[col].tolist()):
            lists.setdefault(cid, []).append(value)
        out[name] = [lists.get(c, []) for c in out.index]
    return out


@dataclass
class Coverage:
    """Coverage of a register, nationally and by région and département.

    Each entry (``national``, each element of ``regions`` and ``departements``) is a dict with
    ``code``, ``nom``, ``cpts``, ``by_stage``, ``population``, ``population_covered``,
    ``population_covered_by_stage`` (cumulative from the most advanced stage, keyed ``aci``,
    ``projet-sante``, ``lettre-intention``, ``pre-projet``), ``share_covered``,
    ``white_zone_population``, ``white_zone_communes``, ``overlap_communes``,
    ``overlap_population``, ``communes`` (these three count units: arrondissements municipaux
    separately), ``goal`` and ``progress`` (``cpts / goal``); régions and départements also have
    ``cpts_shared`` (how many of their CPTS also touch another région or département).
    ``min_stage`` is the stage the CPTS counted were restricted to (``None``: every CPTS);
    ``funding`` an ACI funding estimate (:func:`with_funding`), or ``None``. With zone layers,
    each entry also has ``zones`` (:func:`cpts_geo.steering.zones.zone_coverage`): for each
    layer and category, ``population``, ``population_covered``, ``share_covered`` and
    ``population_covered_by_stage``.
    """

    national: dict
    regions: list[dict]
    departements: list[dict]
    scope: dict
    goal: float
    vintage: dict
    source: str = ""
    notes: list[str] = field(default_factory=lambda: [NOTE_MULTI, NOTE_UNITS])
    #: The register it was computed from, its reference and the per-unit table
    #: (:func:`coverage_table`): what maps and figures draw, without computing it again.
    register: Register | None = field(default=None, repr=False, compare=False)
    units: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    min_stage: str | None = None
    funding: Any = field(default=None, repr=False, compare=False)
    #: The zone layers whose coverage each entry's ``zones`` gives (what maps draw over it).
    zone_layers: list = field(default_factory=list, repr=False, compare=False)

    @property
    def ref(self) -> Reference:
        assert self.register is not None, "Coverage built without its register"
        return self.register.ref

    @property
    def in_scope(self) -> np.ndarray:
        """Boolean per unit (reference order): inside the area asked for."""
        units = self.ref.units
        if self.scope["level"] == "national":
            return np.ones(len(units), dtype=bool)
        col = "region" if self.scope["level"] == "region" else "departement"
        return (units[col] == self.scope["code"]).to_numpy()

    @functools.cached_property
    def cpts_frame(self) -> pd.DataFrame:
        """:func:`cpts_table` of the register."""
        assert self.register is not None, "Coverage built without its register"
        return _cpts_table(self.ref, self.register)

    def to_dict(self) -> dict:
        """The JSON contract: ``{"national": ..., "regions": [...], "departements": [...]}`` and
        ``scope``, ``goal``, ``min_stage``, ``vintage``, ``source``, ``notes``; ``funding`` (the
        estimate's :meth:`~cpts_geo.steering.funding.FundingEstimate.to_dict`) when it was asked for."""
        out = {
            "national": self.national,
            "regions": self.regions,
            "departements": self.departements,
            "scope": self.scope,
            "goal": self.goal,
            "min_stage": self.min_stage,
            "vintage": self.vintage,
            "source": self.source,
            "notes": self.notes,
        }
        if self.funding is not None:
            out["funding"] = self.funding.to_dict()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (UTF-8 text, names not escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @property
    def area(self) -> dict:
        """The entry of the area asked for (the nation, the région or the département)."""
        level = self.scope["level"]
        if level == "national":
            return self.national
        rows = self.regions if level == "region" else self.departements
        return next(r for r in rows if r["code"] == self.scope["code"])

    def default_by(self) -> str:
        """The detail level shown by default: régions nationally, départements otherwise."""
        return "region" if self.scope["level"] == "national" else "departement"

    def to_frame(self, by: str | None = None) -> pd.DataFrame:
        """One row for the area and one per région or département (``by``), stages as columns."""
        by = by or self.default_by()
        if by not in ("region", "departement"):
            raise InputError(f"niveau de détail (by) '{by}' inconnu ; attendu 'region' ou 'departement'")
        rows = [("national", self.national)] if self.scope["level"] == "national" else []
        if self.scope["level"] == "departement" and by == "region":
            rows = []
        detail = self.regions if by == "region" else self.departements
        rows += [(by, r) for r in detail]
        records = []
        for level, r in rows:
            rec = {"niveau": level}
            for k, v in r.items():
                if k == "zones":
                    rec.update(_zone_columns(v))
                elif k == "by_stage":
                    rec.update({f"cpts_{s}": n for s, n in v.items()})
                elif k == "population_covered_by_stage":
                    rec.update({f"population_covered_{s}": n for s, n in v.items()})
                elif k == "shared_population_by_stage":
                    rec.update({f"shared_population_{s}": n for s, n in v.items()})
                else:
                    rec[k] = v
            rec.update(self._funding_columns(level, r["code"]))
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def _funding_columns(self, level: str, code: str) -> dict:
        """The estimate's figures of one row of :meth:`to_frame` (none without estimate)."""
        if self.funding is None:
            return {}
        f = self.funding
        if level == "national":
            row = f.national
        else:
            table = f.by_region if level == "region" else f.by_departement
            row = table.loc[code].to_dict() if code in table.index else {"cpts": 0, "montant_max_eur": 0}
        amount = row["montant_max_eur"]
        out = {
            "financement_aci_cpts": int(row["cpts"]),
            "financement_aci_estime_eur": None if amount is None or pd.isna(amount) else float(amount),
        }
        if f.national.get("cpts_taille_inconnue"):
            # A range when sizes are unknown (communes declared shared): its low end too.
            low = row.get("montant_max_eur_bas", amount)
            out["financement_aci_estime_eur_bas"] = None if low is None or pd.isna(low) else float(low)
            out["financement_aci_cpts_taille_inconnue"] = int(row.get("cpts_taille_inconnue", 0))
        return out

    def to_csv(self, by: str | None = None) -> str:
        """:meth:`to_frame` as CSV text (comma-separated, UTF-8), text cells that a spreadsheet
        would evaluate neutralised (:func:`cpts_geo._csv.neutralize_frame`)."""
        from cpts_geo._csv import neutralize_frame

        return neutralize_frame(self.to_frame(by)).to_csv(index=False, lineterminator="\n")

    def to_text(self, by: str | None = None) -> str:
        """A French summary: the area's figures, then one line per région or département."""
        by = by or self.default_by()
        if by not in ("region", "departement"):
            raise InputError(f"niveau de détail (by) '{by}' inconnu ; attendu 'region' ou 'departement'")
        a = self.area
        v = self.vintage
        where = {
            "national": "France entière",
            "region": f"région {a['nom']} ({a['code']})",
            "departement": f"département {a['nom']} ({a['code']})",
        }[self.scope["level"]]
        stages = " ; ".join(
            f"{STAGE_LABELS[s]} {fr_number(a['by_stage'][stage_key(s)])}"
            for s in STAGE_LABELS
            if s or a["by_stage"][stage_key(s)]
        )
        lines = [
            f"Couverture CPTS — {where}" + (f" (registre : {self.source})" if self.source else ""),
            f"Millésimes : COG {v['cog']}, populations légales {v['population']} (population municipale)",
            *(
                [f"CPTS retenues : stade « {STAGE_LABELS[self.min_stage]} » ou plus avancé"]
                if self.min_stage
                else []
            ),
            f"CPTS : {fr_number(a['cpts'])} pour un objectif de {fr_goal(a['goal'])} ({fr_share(a['progress'])})"
            + (
                ""
                if self.scope["level"] == "national"
                else f" — part de l'objectif national de {fr_goal(self.goal)} au prorata de la population"
            ),
            f"  dont {stages}",
            *self._shared_line(a),
            f"Population couverte : {fr_number(a['population_covered'])} sur {fr_number(a['population'])} habitants "
            f"({fr_share(a['share_covered'])})",
            *self._by_stage_lines(a),
            f"Zones blanches : {self.units_phrase('white')}, "
            f"{fr_number(a['white_zone_population'])} habitants",
            f"Chevauchements : {self.units_phrase('overlap')} dans plusieurs CPTS "
            f"({fr_number(a['overlap_population'])} habitants, comptés une seule fois)",
            *(
                [
                    f"Communes partagées déclarées : {fr_plural(a['shared_communes'], 'commune')} "
                    f"({fr_number(a['shared_population'])} habitants, comptés une seule fois ; pas des "
                    "chevauchements)"
                ]
                if a.get("shared_communes")
                else []
            ),
        ]
        detail = self.regions if by == "region" else self.departements
        if self.scope["level"] == "departement" and by == "region":
            detail = []
        if detail:
            head = "Région" if by == "region" else "Département"
            lines += [
                "",
                f"{'Code':<5}{head:<28}{'CPTS':>6}{'Objectif':>10}{'Part couverte':>15}"
                f"{'Pop. zones blanches':>21}{'Communes blanches':>19}{'Chevauch.':>11}{'À cheval':>10}",
            ]
            for r in detail:
                lines.append(
                    f"{r['code']:<5}{cut(r['nom'], 27):<28}{fr_number(r['cpts']):>6}{fr_goal(r['goal']):>10}"
                    f"{fr_share(r['share_covered']):>15}{fr_number(r['white_zone_population']):>21}"
                    f"{fr_number(r['white_zone_communes']):>19}{fr_number(r['overlap_communes']):>11}"
                    f"{fr_number(r['cpts_shared']):>10}"
                )
            other = "une autre région" if by == "region" else "un autre département"
            lines.append(f"(À cheval : CPTS qui touchent aussi {other} ; comptées dans chaque ligne.)")
        if "zones" in a:
            lines += ["", *zone_coverage_lines(a["zones"])]
        lines += ["", *(f"Note : {n}" for n in self.notes)]
        if self.funding is not None:
            lines += ["", self.funding.to_text()]
        return "\n".join(lines)

    def _by_stage_lines(self, a: dict) -> list[str]:
        """The "Population couverte par stade" block, and how many CPTS have no stage."""
        pop = a["population"]
        by = {**a["population_covered_by_stage"], "any": a["population_covered"]}
        lines = ["Population couverte par stade (cumulée, chaque habitant compté une fois) :"]
        for level in LEVELS:
            share = by[level] / pop if pop else 0.0
            lines.append(f"  {LEVEL_LABELS[level]} : {fr_number(by[level])} habitants ({fr_share(share)})")
        shared = a.get("shared_population_by_stage")
        if shared and a.get("shared_population"):
            # At each stage exactly (the levels are cumulative from the most advanced one).
            cumulative = [shared[level] for level in LEVELS if level != "any"]
            exact = [c - p for c, p in zip(cumulative, [0, *cumulative[:-1]])]
            levels = [
                f"{fr_number(n)} au stade « {STAGE_LABELS[level]} »"
                for level, n in zip([x for x in LEVELS if x != "any"], exact)
                if n
            ]
            lines.append(
                f"  dont communes partagées déclarées : {fr_number(a['shared_population'])} habitants, "
                "comptés une fois au stade le plus avancé des CPTS qui les partagent"
                + (f" ({' ; '.join(levels)})" if levels else "")
            )
        n = a["by_stage"][stage_key("")]
        lines.append(
            "  aucune CPTS sans stade renseigné"
            if not n
            else f"  {fr_plural(n, 'CPTS', 'CPTS')} sans stade renseigné : "
            + ("comptée" if n < 2 else "comptées")
            + " seulement dans « tout stade »"
        )
        return lines

    def units_mask(self, what: str) -> np.ndarray:
        """Units of the area (reference order) that are white zones (``"white"``) or in several
        CPTS (``"overlap"``)."""
        assert self.units is not None, "Coverage built without its per-unit table"
        n = self.units["n_cpts"].to_numpy()
        if what == "white":
            return self.in_scope & (n == 0)
        shared = (
            self.units["commune_partagee"].to_numpy(dtype=bool) if "commune_partagee" in self.units else False
        )
        return self.in_scope & (n >= 2) & ~shared  # a declared share is not an overlap

    def units_phrase(self, what: str) -> str:
        """How many units of the area are white zones (``"white"``) or in several CPTS
        (``"overlap"``), in French: ``'12 communes'``, or ``'14 unités (12 communes et 2
        arrondissements municipaux)'`` when arrondissements are among them."""
        assert self.units is not None
        units = self.units[self.units_mask(what)]
        kind = self.ref.units["type"].reindex(units.index).to_numpy(dtype=object)
        parts = [
            (int((kind == "arrondissement").sum()), "arrondissement municipal", "arrondissements municipaux"),
            (int((kind == "infracommunal").sum()), "unité infracommunale", "unités infracommunales"),
        ]
        parts = [(k, one, many) for k, one, many in parts if k]
        n = len(units)
        n_communes = n - sum(k for k, _, _ in parts)
        if not parts:
            return fr_plural(n, "commune")
        named = ([fr_plural(n_communes, "commune")] if n_communes else []) + [
            fr_plural(k, one, many) for k, one, many in parts
        ]
        if len(named) == 1:
            return named[0]
        return f"{fr_plural(n, 'unité')} ({' et '.join(named)})"

    def _shared_line(self, a: dict) -> list[str]:
        """For a région or département: how many of its CPTS also touch another one."""
        level = self.scope["level"]
        if level == "national" or not a.get("cpts_shared"):
            return []
        other = "une autre région" if level == "region" else "un autre département"
        return [f"  dont {fr_number(a['cpts_shared'])} à cheval sur {other}"]


def _zone_columns(zones: list[dict]) -> dict:
    """The zones of an entry as columns of :meth:`Coverage.to_frame`:
    ``zones:<layer>:<category>:population``, ``...:population_covered``, ``...:population_covered_<stage>``."""
    out: dict[str, Any] = {}
    for z in zones:
        key = f"zones:{z['layer']}:{z['category']}"
        out[f"{key}:population"] = z["population"]
        out[f"{key}:population_covered"] = z["population_covered"]
        out.update({f"{key}:population_covered_{s}": n for s, n in z["population_covered_by_stage"].items()})
    return out


def _aggregate(
    units: pd.DataFrame, links: pd.DataFrame, stages: pd.Series, key: str, goal: float, national_pop: int
) -> pd.DataFrame:
    """Figures by ``key`` (a column of ``units``: 'departement', 'region' or '_nation').

    Sums over integer area codes with :func:`numpy.bincount` (a pandas groupby on the string
    columns costs ten times more nationally)."""
    area, names = pd.factorize(units[key].to_numpy(dtype=object), sort=True)
    k = len(names)

    def count(where: np.ndarray, weights: np.ndarray | None = None, at: np.ndarray = area) -> np.ndarray:
        w = None if weights is None else weights[where]
        return np.bincount(at[where], weights=w, minlength=k).round().astype(np.int64)

    n = units["n_cpts"].to_numpy()
    pop = units["population"].to_numpy(dtype=np.int64)
    every = np.ones(len(n), dtype=bool)
    declared = (
        units["commune_partagee"].to_numpy(dtype=bool)
        if "commune_partagee" in units
        else np.zeros(len(n), bool)
    ) & (n >= 2)
    agg = pd.DataFrame(
        {
            "population": count(every, pop),
            "population_covered": count(n > 0, pop),
            "white_zone_communes": count(n == 0),
            "overlap_communes": count((n >= 2) & ~declared),
            "overlap_population": count((n >= 2) & ~declared, pop),
            "shared_communes": count(declared),
            "shared_population": count(declared, pop),
            "communes": count(every),
        },
        index=pd.Index(names, name=key),
    )
    agg["white_zone_population"] = agg["population"] - agg["population_covered"]
    # Each CPTS once per area it touches.
    rows = units.index.get_indexer(links["code_insee"].to_numpy(dtype=object))
    touched = pd.DataFrame({"cpts_id": links["cpts_id"].to_numpy(dtype=object), "area": area[rows]})
    touched = touched.drop_duplicates()
    t_area = touched["area"].to_numpy()
    t_all = np.ones(len(touched), dtype=bool)
    agg["cpts"] = count(t_all, at=t_area)
    shared = (touched.groupby("cpts_id")["area"].transform("size") > 1).to_numpy()
    agg["cpts_shared"] = count(shared, at=t_area)
    t_stage = stages.reindex(touched["cpts_id"]).fillna("").to_numpy(dtype=object)
    for s in STAGE_LABELS:
        agg[f"stage:{stage_key(s)}"] = count(t_stage == s, at=t_area)
    agg["goal"] = goal * agg["population"] / national_pop if national_pop else 0.0
    return agg


def _entries(
    agg: pd.DataFrame,
    names: pd.Series | None,
    by_stage: pd.DataFrame,
    extra: dict | None = None,
    *,
    shared_by_stage: pd.DataFrame | None = None,
) -> list[dict]:
    out = []
    for code, r in agg.iterrows():
        pop = int(r["population"])
        covered = int(r["population_covered"])
        goal = round(float(r["goal"]), 1)
        entry: dict[str, Any] = {
            "code": str(code) if names is not None else "FR",
            "nom": str(names.get(code, "")) if names is not None else "France entière",
        }
        if extra:
            entry.update({k: str(v.get(code, "")) for k, v in extra.items()})
        entry.update(
            {
                "cpts": int(r["cpts"]),
                "by_stage": {stage_key(s): int(r[f"stage:{stage_key(s)}"]) for s in STAGE_LABELS},
                "population": pop,
                "population_covered": covered,
                "population_covered_by_stage": population_covered_by_stage(by_stage.loc[code]),
                "share_covered": round(covered / pop, 4) if pop else 0.0,
                "white_zone_population": int(r["white_zone_population"]),
                "white_zone_communes": int(r["white_zone_communes"]),
                "overlap_communes": int(r["overlap_communes"]),
                "overlap_population": int(r["overlap_population"]),
                "shared_communes": int(r["shared_communes"]),
                "shared_population": int(r["shared_population"]),
                "communes": int(r["communes"]),
                "goal": goal,
                "progress": round(int(r["cpts"]) / goal, 4) if goal else 0.0,
            }
        )
        if names is not None:
            entry["cpts_shared"] = int(r["cpts_shared"])
        if shared_by_stage is not None:
            entry["shared_population_by_stage"] = population_covered_by_stage(shared_by_stage.loc[code])
        out.append(entry)
    return out


def as_coverage(
    ref: Reference,
    obj,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float | None = None,
    min_stage: str | None = None,
) -> Coverage:
    """A :class:`Coverage` as given, or the coverage of a register (anything :func:`as_register`
    takes) for the area, goal and minimum stage asked."""
    if isinstance(obj, Coverage):
        if obj.register is None or obj.register.ref is not ref:
            raise InputError(
                "couverture calculée sur un autre référentiel ; recalculez-la avec coverage_summary()"
            )
        return obj
    return coverage_summary(
        ref,
        obj,
        region=region,
        departement=departement,
        goal=DEFAULT_GOAL if goal is None else goal,
        min_stage=min_stage,
    )


def at_least_stage(ref: Reference, register, stage: str) -> Register:
    """The register restricted to its CPTS at ``stage`` or a more advanced one.

    A CPTS without stage is dropped for every ``stage``.

    Raises
    ------
    InputError
        An unknown stage.
    """
    return _at_least_stage(ref, as_register(ref, register), stage)


def _at_least_stage(ref: Reference, register: Register, stage: str) -> Register:
    """:func:`at_least_stage` of a :class:`Register` of ``ref``."""
    if stage not in STAGES:
        raise InputError(f"stade minimal '{stage}' inconnu ; attendu {', '.join(STAGES)}")
    rank = {s: i for i, s in enumerate(STAGES)}
    t = register.table
    keep = t["statut"].map(lambda s: rank.get(s, -1) >= rank[stage]).to_numpy(dtype=bool)
    t = t[keep]
    out = register_from_frame(t.drop(columns="line"), ref, source=register.source, lines=t["line"].tolist())
    return out.with_warnings(register.warnings)


def coverage_summary(
    ref: Reference,
    register,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float = DEFAULT_GOAL,
    table: pd.DataFrame | None = None,
    min_stage: str | None = None,
    zones=None,
) -> Coverage:
    """Coverage of a register nationally, by région and by département.

    Parameters
    ----------
    ref
        The reference.
    register
        A :class:`cpts_geo.inputs.Register` (an empty one gives a France of white zones), or
        anything :func:`~cpts_geo.inputs.read.as_register` takes (coerced once, here).
    region, departement
        Restrict ``regions`` and ``departements`` to one région or département (code or name);
        ``national`` is always the whole of France, for context.
    goal
        The national goal (number of CPTS); a région's or département's goal is its share of it,
        weighted by population.
    table
        The register's :func:`coverage_table`, when already computed (of the register restricted
        to ``min_stage`` when it is given).
    min_stage
        Count only the CPTS at this stage or a more advanced one (one of :data:`STAGES`): every
        figure, white zones and overlaps included, is then about them (:func:`at_least_stage`).
    zones
        Zone layers (:class:`~cpts_geo.inputs.zones.ZoneLayer`, paths, or a list of them): each
        entry gets ``zones``, for each layer and category the population in the zone (each
        inhabitant once), covered by a CPTS and covered by stage
        (:func:`cpts_geo.steering.zones.zone_coverage`).

    Each entry's ``population_covered_by_stage`` is cumulative from the most advanced stage
    (:mod:`cpts_geo.steering.by_stage`): ``aci`` counts the inhabitants of units in at least one CPTS under
    ACI, ``projet-sante`` those in a CPTS under ACI or with a validated projet de santé, and so
    on; each inhabitant is counted once per level. A CPTS without stage counts only in
    ``population_covered``.

    Returns
    -------
    Coverage

    Raises
    ------
    InputError
        Unknown région or département, a goal that is not positive, an unknown stage.
    """
    scope = resolve_scope(ref, region=region, departement=departement)
    goal = float(check_param("goal", goal))
    register = as_register(ref, register)  # the one coercion: what follows takes a Register
    if min_stage is not None:
        register = _at_least_stage(ref, register, min_stage)
    table = (_coverage_table(ref, register) if table is None else table).copy()
    links = register.links
    stages = register.cpts["statut"]
    by_stage = covered_by_stage_levels(table, links, stages)
    declared = table["commune_partagee"].to_numpy(dtype=bool) & (table["n_cpts"].to_numpy() >= 2)
    shared_by_stage = None
    if declared.any():
        # The inhabitants of the declared shares alone, each at the best stage of its CPTS.
        only = table.assign(population=table["population"].where(declared, 0))
        shared_by_stage = covered_by_stage_levels(only, links, stages)
    table["_nation"] = "FR"
    nat_pop = int(table["population"].sum())
    nat = _aggregate(table, links, stages, "_nation", goal, nat_pop)
    regs = _aggregate(table, links, stages, "region", goal, nat_pop)
    deps = _aggregate(table, links, stages, "departement", goal, nat_pop)
    region_of = ref.departements["region"]
    if scope["level"] == "region":
        regs = regs.loc[[scope["code"]]]
        deps = deps[region_of.reindex(deps.index).to_numpy() == scope["code"]]
    elif scope["level"] == "departement":
        regs = regs.loc[[str(region_of[scope["code"]])]]
        deps = deps.loc[[scope["code"]]]
    national = _entries(
        nat,
        None,
        by_stage["national"].set_axis(nat.index),
        shared_by_stage=None if shared_by_stage is None else shared_by_stage["national"].set_axis(nat.index),
    )[0]
    national["goal"] = round(goal, 1) if not float(goal).is_integer() else int(goal)
    regions = _entries(
        regs,
        ref.regions["nom"],
        by_stage["regions"],
        shared_by_stage=None if shared_by_stage is None else shared_by_stage["regions"],
    )
    departements = _entries(
        deps,
        ref.departements["nom"],
        by_stage["departements"],
        extra={"region": region_of},
        shared_by_stage=None if shared_by_stage is None else shared_by_stage["departements"],
    )
    layers = as_zone_layers(ref, zones)
    notes = (
        [NOTE_MULTI, NOTE_UNITS, NOTE_BY_STAGE]
        + ([NOTE_SHARED_STAGE] if shared_by_stage is not None else [])
        + ([note_min_stage(min_stage)] if min_stage else [])
    )
    if layers:
        figures = zone_coverage(table, links, stages, layers)
        national["zones"] = figures["national"]["FR"]
        for r in regions:
            r["zones"] = figures["regions"][r["code"]]
        for r in departements:
            r["zones"] = figures["departements"][r["code"]]
        notes.append(NOTE_ZONES)
        if any(z.kind == "polygones" for z in layers):
            notes.append(NOTE_ZONE_POLYGONS)
    return Coverage(
        register=register,
        units=table.drop(columns="_nation"),
        national=national,
        regions=regions,
        departements=departements,
        scope=scope,
        goal=national["goal"],
        vintage=ref.vintage,
        source=str(getattr(register, "source", "") or ""),
        min_stage=min_stage,
        notes=notes,
        zone_layers=layers,
    )


NOTE_FUNDING_TABLE = (
    "Limites du tableau livré (data/financement_aci.csv, version du 01/12/2026, sources et lacunes "
    "dans data/financement_aci.md) : les montants par mission et par part (fixe, variable) n'ont pas "
    "été trouvés ; seul le maximum annuel de l'ACI de 2019 est connu pour les quatre tailles, et un "
    "seul maximum de l'avenant 2 (taille 4 : 580 000 €)."
)


def with_funding(coverage: Coverage, table=None, *, stages=("aci",), version: str | None = None) -> Coverage:
    """The coverage with an estimate of the ACI funding of its CPTS (:mod:`cpts_geo.steering.funding`).

    Parameters
    ----------
    coverage
        A :class:`Coverage` (its register's CPTS are estimated).
    table
        A funding table (path or :func:`~cpts_geo.steering.funding.read_funding_table` frame); default
        the shipped ``data/financement_aci.csv``.
    stages
        The stages counted: default the CPTS under ACI; all four stages to project the envelope
        of the CPTS in preparation.
    version
        The version of the table (default: the latest one with a figure for every size class).

    Returns
    -------
    Coverage
        A copy whose ``funding`` holds the estimate: per CPTS touching the area, totals by
        département and région (those of the coverage) and nationally (every CPTS of the
        register), with the table's source, version and limits in its notes.
    """
    from cpts_geo.steering.funding import funding_estimate as _estimate
    from cpts_geo.steering.funding import read_funding_table

    shipped = table is None
    if table is None or isinstance(table, str | Path):
        table = read_funding_table(table)
    est = _estimate(coverage.cpts_frame, table, stages=stages, version=version)
    regs = [r["code"] for r in coverage.regions]
    deps = [r["code"] for r in coverage.departements]
    est.by_region = est.by_region[est.by_region.index.isin(regs)]
    est.by_departement = est.by_departement[est.by_departement.index.isin(deps)]
    if coverage.scope["level"] != "national":
        col = "regions" if coverage.scope["level"] == "region" else "departements"
        est.per_cpts = est.per_cpts[[coverage.scope["code"] in a for a in est.per_cpts[col]]]
        word = "région" if coverage.scope["level"] == "region" else "département"
        est.area = f"{word} {coverage.area['nom']} ({coverage.area['code']})"
        est.area_key = (coverage.scope["level"], str(coverage.area["code"]))
    est.notes = [*est.notes, *([NOTE_FUNDING_TABLE] if shipped else [])]
    if est.table_source and not shipped:
        est.notes.append(f"Tableau de financement lu : {est.table_source}.")
    return replace(coverage, funding=est)
