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

import difflib
import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._errors import InputError
from ._params import check_param
from ._text import cut, fr_number, fr_share
from .reference import Reference, normalize_name
from .register import STAGE_LABELS, Register, as_register
from .territory import aci_size_class

__all__ = [
    "DEFAULT_GOAL",
    "STAGE_LABELS",
    "Coverage",
    "as_coverage",
    "coverage_summary",
    "coverage_table",
    "cpts_table",
    "resolve_scope",
]

log = logging.getLogger(__name__)

#: The national goal of the plan "Ma santé 2022".
DEFAULT_GOAL = 1000

_STAGE_KEYS = {"": "non-renseigne"}

NOTE_MULTI = (
    "Une CPTS qui s'étend sur plusieurs régions (ou départements) est comptée une fois au niveau "
    "national et une fois dans chaque région (ou département) qu'elle touche : la somme des "
    "lignes peut dépasser le total national."
)
NOTE_UNITS = (
    "Les communes comptées sont les unités du référentiel : communes, et arrondissements "
    "municipaux à Paris, Lyon et Marseille."
)


def _stage_key(stage: str) -> str:
    return _STAGE_KEYS.get(stage, stage)


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
        ``n_cpts`` and ``etat`` (``"zone blanche"``, ``"couverte"`` or ``"chevauchement"``).
    """
    register = as_register(ref, register)
    out = ref.units[["nom", "commune", "departement", "region", "population"]].copy()
    out["cpts"] = [list(c) for c in register.unit_cpts]
    out["n_cpts"] = register.n_cpts_by_unit
    out["etat"] = np.select(
        [out["n_cpts"].to_numpy() == 0, out["n_cpts"].to_numpy() == 1],
        ["zone blanche", "couverte"],
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
        ``departements`` and ``regions`` (sorted lists of codes it touches).
    """
    register = as_register(ref, register)
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
    for col, name in (("departement", "departements"), ("region", "regions")):
        pairs = t[["cpts_id", col]].drop_duplicates().sort_values(["cpts_id", col])
        lists: dict[str, list[str]] = {}
        for cid, value in zip(pairs["cpts_id"].tolist(), pairs[col].tolist()):
            lists.setdefault(cid, []).append(value)
        out[name] = [lists.get(c, []) for c in out.index]
    return out


def resolve_scope(ref: Reference, *, region: str | None = None, departement: str | None = None) -> dict:
    """Check a région or département given by code (or name) and return it.

    Returns
    -------
    dict
        ``{"level": "national"|"region"|"departement", "code": ..., "nom": ...}``.

    Raises
    ------
    InputError
        For an unknown code, listing the valid codes or the closest matches.
    """
    if region is not None and departement is not None:
        raise InputError("choisissez soit --region, soit --departement, pas les deux")
    if region is None and departement is None:
        return {"level": "national", "code": "FR", "nom": "France entière"}
    if region is not None:
        table, level, value, word = ref.regions, "region", str(region).strip(), "région"
        code = value.zfill(2) if value.isdigit() and len(value) < 2 else value
    else:
        table, level, value, word = ref.departements, "departement", str(departement).strip(), "département"
        code = value.upper()
        code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
    if code not in table.index:
        by_name = {normalize_name(n): c for c, n in table["nom"].items()}
        match = by_name.get(normalize_name(value))
        if match is None:
            raise InputError(
                f"{word} '{value}' inconnu(e) du COG {ref.vintage['cog']} ; "
                + _scope_hint(table, level, code, value, by_name)
            )
        code = match
    return {"level": level, "code": code, "nom": str(table.at[code, "nom"])}


def _scope_hint(table: pd.DataFrame, level: str, code: str, value: str, by_name: dict) -> str:
    """How to fix an unknown région or département: the closest names, or the valid codes."""
    if level == "departement" and code == "20":
        return "la Corse a deux départements : 2A (Corse-du-Sud) et 2B (Haute-Corse)"
    close = difflib.get_close_matches(normalize_name(value), list(by_name), n=3, cutoff=0.6)
    if close:
        return (
            "vouliez-vous dire "
            + ", ".join(f"{by_name[c]} ({table.at[by_name[c], 'nom']})" for c in close)
            + " ?"
        )
    if level == "region":
        return "codes valides : " + ", ".join(f"{c} ({n})" for c, n in table["nom"].items())
    return "codes valides : " + ", ".join(table.index) + " (ou le nom du département)"


@dataclass
class Coverage:
    """Coverage of a register, nationally and by région and département.

    Each entry (``national``, each element of ``regions`` and ``departements``) is a dict with
    ``code``, ``nom``, ``cpts``, ``by_stage``, ``population``, ``population_covered``,
    ``share_covered``, ``white_zone_population``, ``white_zone_communes``, ``overlap_communes``,
    ``overlap_population``, ``communes``, ``goal`` and ``progress`` (``cpts / goal``); régions and
    départements also have ``cpts_shared`` (how many of their CPTS also touch another région or
    département).
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
        return cpts_table(self.ref, self.register)

    def to_dict(self) -> dict:
        """The JSON contract: ``{"national": ..., "regions": [...], "departements": [...]}`` and
        ``scope``, ``goal``, ``vintage``, ``source``, ``notes``."""
        return {
            "national": self.national,
            "regions": self.regions,
            "departements": self.departements,
            "scope": self.scope,
            "goal": self.goal,
            "vintage": self.vintage,
            "source": self.source,
            "notes": self.notes,
        }

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
            raise InputError(f"--by '{by}' inconnu ; attendu 'region' ou 'departement'")
        rows = [("national", self.national)] if self.scope["level"] == "national" else []
        if self.scope["level"] == "departement" and by == "region":
            rows = []
        detail = self.regions if by == "region" else self.departements
        rows += [(by, r) for r in detail]
        records = []
        for level, r in rows:
            rec = {"niveau": level}
            for k, v in r.items():
                if k == "by_stage":
                    rec.update({f"cpts_{s}": n for s, n in v.items()})
                else:
                    rec[k] = v
            records.append(rec)
        return pd.DataFrame.from_records(records)

    def to_csv(self, by: str | None = None) -> str:
        """:meth:`to_frame` as CSV text (comma-separated, UTF-8), text cells that a spreadsheet
        would evaluate neutralised (:func:`cpts_geo._xlsx.neutralize_frame`)."""
        from ._xlsx import neutralize_frame

        return neutralize_frame(self.to_frame(by)).to_csv(index=False, lineterminator="\n")

    def to_text(self, by: str | None = None) -> str:
        """A French summary: the area's figures, then one line per région or département."""
        by = by or self.default_by()
        if by not in ("region", "departement"):
            raise InputError(f"--by '{by}' inconnu ; attendu 'region' ou 'departement'")
        a = self.area
        v = self.vintage
        where = {
            "national": "France entière",
            "region": f"région {a['nom']} ({a['code']})",
            "departement": f"département {a['nom']} ({a['code']})",
        }[self.scope["level"]]
        stages = " ; ".join(
            f"{STAGE_LABELS[s]} {fr_number(a['by_stage'][_stage_key(s)])}"
            for s in STAGE_LABELS
            if s or a["by_stage"][_stage_key(s)]
        )
        lines = [
            f"Couverture CPTS — {where}" + (f" (registre : {self.source})" if self.source else ""),
            f"Millésimes : COG {v['cog']}, populations légales {v['population']} (population municipale)",
            f"CPTS : {fr_number(a['cpts'])} pour un objectif de {fr_number(a['goal'])} ({fr_share(a['progress'])})"
            + (
                ""
                if self.scope["level"] == "national"
                else f" — part de l'objectif national de {fr_number(self.goal)} au prorata de la population"
            ),
            f"  dont {stages}",
            *self._shared_line(a),
            f"Population couverte : {fr_number(a['population_covered'])} sur {fr_number(a['population'])} habitants "
            f"({fr_share(a['share_covered'])})",
            f"Zones blanches : {fr_number(a['white_zone_communes'])} commune(s), "
            f"{fr_number(a['white_zone_population'])} habitants",
            f"Chevauchements : {fr_number(a['overlap_communes'])} commune(s) dans plusieurs CPTS "
            f"({fr_number(a['overlap_population'])} habitants, comptés une seule fois)",
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
                    f"{r['code']:<5}{cut(r['nom'], 27):<28}{fr_number(r['cpts']):>6}{fr_number(r['goal']):>10}"
                    f"{fr_share(r['share_covered']):>15}{fr_number(r['white_zone_population']):>21}"
                    f"{fr_number(r['white_zone_communes']):>19}{fr_number(r['overlap_communes']):>11}"
                    f"{fr_number(r['cpts_shared']):>10}"
                )
            other = "une autre région" if by == "region" else "un autre département"
            lines.append(f"(À cheval : CPTS qui touchent aussi {other} ; comptées dans chaque ligne.)")
        lines += ["", *(f"Note : {n}" for n in self.notes)]
        return "\n".join(lines)

    def _shared_line(self, a: dict) -> list[str]:
        """For a région or département: how many of its CPTS also touch another one."""
        level = self.scope["level"]
        if level == "national" or not a.get("cpts_shared"):
            return []
        other = "une autre région" if level == "region" else "un autre département"
        return [f"  dont {fr_number(a['cpts_shared'])} à cheval sur {other}"]


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
    agg = pd.DataFrame(
        {
            "population": count(every, pop),
            "population_covered": count(n > 0, pop),
            "white_zone_communes": count(n == 0),
            "overlap_communes": count(n >= 2),
            "overlap_population": count(n >= 2, pop),
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
        agg[f"stage:{_stage_key(s)}"] = count(t_stage == s, at=t_area)
    agg["goal"] = goal * agg["population"] / national_pop if national_pop else 0.0
    return agg


def _entries(agg: pd.DataFrame, names: pd.Series | None, extra: dict | None = None) -> list[dict]:
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
                "by_stage": {_stage_key(s): int(r[f"stage:{_stage_key(s)}"]) for s in STAGE_LABELS},
                "population": pop,
                "population_covered": covered,
                "share_covered": round(covered / pop, 4) if pop else 0.0,
                "white_zone_population": int(r["white_zone_population"]),
                "white_zone_communes": int(r["white_zone_communes"]),
                "overlap_communes": int(r["overlap_communes"]),
                "overlap_population": int(r["overlap_population"]),
                "communes": int(r["communes"]),
                "goal": goal,
                "progress": round(int(r["cpts"]) / goal, 4) if goal else 0.0,
            }
        )
        if names is not None:
            entry["cpts_shared"] = int(r["cpts_shared"])
        out.append(entry)
    return out


def as_coverage(
    ref: Reference,
    obj,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float | None = None,
) -> Coverage:
    """A :class:`Coverage` as given, or the coverage of a register (anything :func:`as_register`
    takes) for the area and goal asked."""
    if isinstance(obj, Coverage):
        if obj.register is None or obj.register.ref is not ref:
            raise InputError(
                "couverture calculée sur un autre référentiel ; recalculez-la avec coverage_summary()"
            )
        return obj
    return coverage_summary(
        ref, obj, region=region, departement=departement, goal=DEFAULT_GOAL if goal is None else goal
    )


def coverage_summary(
    ref: Reference,
    register,
    *,
    region: str | None = None,
    departement: str | None = None,
    goal: float = DEFAULT_GOAL,
    table: pd.DataFrame | None = None,
) -> Coverage:
    """Coverage of a register nationally, by région and by département.

    Parameters
    ----------
    ref
        The reference.
    register
        A :class:`cpts_geo.inputs.Register` (an empty one gives a France of white zones).
    region, departement
        Restrict ``regions`` and ``departements`` to one région or département (code or name);
        ``national`` is always the whole of France, for context.
    goal
        The national goal (number of CPTS); a région's or département's goal is its share of it,
        weighted by population.
    table
        The register's :func:`coverage_table`, when already computed.

    Returns
    -------
    Coverage

    Raises
    ------
    InputError
        Unknown région or département, or a goal that is not positive.
    """
    scope = resolve_scope(ref, region=region, departement=departement)
    goal = float(check_param("goal", goal))
    register = as_register(ref, register)
    table = (coverage_table(ref, register) if table is None else table).copy()
    links = register.links
    stages = register.cpts["statut"]
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
    national = _entries(nat, None)[0]
    national["goal"] = round(goal, 1) if not float(goal).is_integer() else int(goal)
    return Coverage(
        register=register,
        units=table.drop(columns="_nation"),
        national=national,
        regions=_entries(regs, ref.regions["nom"]),
        departements=_entries(deps, ref.departements["nom"], extra={"region": region_of}),
        scope=scope,
        goal=national["goal"],
        vintage=ref.vintage,
        source=str(getattr(register, "source", "") or ""),
    )
