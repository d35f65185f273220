"""Coverage over time: CPTS and population covered at each stage, month by month.

What is known of a CPTS's past comes from two sources: the register's ``date_statut`` (the date
of its *current* stage) and an optional history table (one row per CPTS, stage and date). The
stage of a CPTS at month *m* is the most advanced stage whose date is on or before the end of
*m*; before its first dated stage, a CPTS is not counted. Hence:

- a CPTS whose current stage is dated but whose earlier stages are not is counted from the date
  of its current stage only (it may have existed, at an earlier stage, long before);
- a CPTS with no date at all is left out of the curve and counted in the "sans date" figure;
- a CPTS without stage but with a date counts, from that date, in "tout stade" only.

Levels are cumulative, as in :mod:`cpts_geo.steering.by_stage`: "projet de santé validé ou plus" counts the
CPTS under ACI too, and each inhabitant is counted once per level.

Examples
--------
>>> import pandas as pd
>>> links = pd.DataFrame({"cpts_id": ["A"], "code_insee": ["u1"]})
>>> cpts = pd.DataFrame({"cpts_nom": ["CPTS A"], "statut": ["aci"], "date_statut": ["15/03/2024"]},
...                     index=pd.Index(["A"], name="cpts_id"))
>>> h = coverage_history(links, cpts, pd.Series({"u1": 100, "u2": 50}), end="2024-04")
>>> h.frame["cpts_aci"].tolist(), h.frame["population_any"].tolist()
([1, 1], [100, 100])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_agree, fr_decimal, fr_int, fr_plural, fr_share
from cpts_geo.inputs.cells import CPTS_FIRST_YEAR, parse_date
from cpts_geo.inputs.history import history_from_frame, read_history
from cpts_geo.inputs.stages import LEVEL_LABELS, LEVELS, STAGE_RANK, stage_ranks

__all__ = ["CoverageHistory", "coverage_history", "register_history"]

_SHORT = {
    "aci": "ACI",
    "projet-sante": "≥ PS",
    "lettre-intention": "≥ LI",
    "pre-projet": "≥ PP",
    "any": "Tous",
}
#: Beyond this many months, the text shows one line per quarter.
MAX_MONTH_LINES = 36


# ---------------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------------
@dataclass
class CoverageHistory:
    """CPTS and population covered at each cumulative stage level, month by month.

    Attributes
    ----------
    frame
        One row per month (index ``"AAAA-MM"``): ``cpts_<level>`` and ``population_<level>`` for
        each level of :data:`cpts_geo.inputs.stages.LEVELS` (``aci``, ``projet-sante``,
        ``lettre-intention``, ``pre-projet``, ``any``).
    area
        ``{"code": ..., "nom": ...}`` of the area.
    population
        Population of the area.
    undated
        CPTS left out of the curve: no date at all.
    current_only
        CPTS counted from the date of their current stage only (earlier stages not dated).
    notes
        What cannot be known, in French.
    """

    frame: pd.DataFrame
    area: dict
    population: int
    undated: list[str] = field(default_factory=list)
    current_only: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The area's goal in number of CPTS (its population share of the national goal), if known.
    goal: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """The table with French column names, one row per month (for CSV or XLSX)."""
        out = pd.DataFrame({"Mois": self.frame.index})
        for level in LEVELS:
            out[f"CPTS {LEVEL_LABELS[level]}"] = self.frame[f"cpts_{level}"].to_numpy()
        for level in LEVELS:
            out[f"Population couverte {LEVEL_LABELS[level]}"] = self.frame[f"population_{level}"].to_numpy()
        share = self.frame["population_any"] / self.population if self.population else 0.0
        out["Part de la population couverte (tout stade)"] = np.round(np.asarray(share, dtype=float), 4)
        return out

    def to_dict(self) -> dict:
        """JSON: ``area``, ``population``, ``months`` (each with ``month``, ``cpts`` by level,
        ``population_covered_by_stage`` and ``population_covered``), ``undated_cpts``,
        ``current_stage_only_cpts`` and ``notes``."""
        months = []
        for month, r in self.frame.iterrows():
            months.append(
                {
                    "month": str(month),
                    "cpts": {lv: int(r[f"cpts_{lv}"]) for lv in LEVELS},
                    "population_covered_by_stage": {
                        lv: int(r[f"population_{lv}"]) for lv in LEVELS if lv != "any"
                    },
                    "population_covered": int(r["population_any"]),
                }
            )
        return {
            "area": self.area,
            "population": int(self.population),
            "goal": self.goal,
            "months": months,
            "undated_cpts": list(self.undated),
            "current_stage_only_cpts": list(self.current_only),
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (UTF-8 text, names not escaped)."""
        import json

        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_text(self) -> str:
        """A French table, one line per month (per quarter beyond 36 months), and the notes."""
        f = self.frame
        lines = [
            f"Couverture CPTS dans le temps — {self.area.get('nom') or self.area.get('code')}",
            f"Population : {fr_int(self.population)} habitants",
        ]
        if self.goal is not None:
            lines.append(f"Objectif : {fr_decimal(self.goal, 1).removesuffix(',0')} CPTS")
        if f.empty:
            lines.append("Aucune CPTS datée : pas de courbe.")
        else:
            quarterly = len(f) > MAX_MONTH_LINES
            shown = f
            if quarterly:
                keep = [m for m in f.index if int(m[5:7]) % 3 == 0 or m == f.index[-1]]
                shown = f.loc[keep]
                lines.append("Une ligne par trimestre (situation en fin de trimestre).")
            head = (
                f"{'Mois':<9}"
                + "".join(f"{_SHORT[lv]:>7}" for lv in LEVELS)
                + f"{'Pop. ACI':>13}{'Pop. tout stade':>17}{'Part':>9}"
            )
            lines += ["", head]
            for month, r in shown.iterrows():
                share = r["population_any"] / self.population if self.population else 0.0
                lines.append(
                    f"{month:<9}"
                    + "".join(f"{fr_int(r[f'cpts_{lv}']):>7}" for lv in LEVELS)
                    + f"{fr_int(r['population_aci']):>13}{fr_int(r['population_any']):>17}"
                    + f"{fr_share(share):>9}"
                )
            lines.append(
                "(ACI : contrat signé ; ≥ PS : projet de santé validé ou plus ; ≥ LI : lettre "
                "d'intention validée ou plus ; ≥ PP : pré-projet ou plus ; Tous : tout stade.)"
            )
        lines += ["", *(f"Note : {n}" for n in self.notes)]
        return "\n".join(lines)


def _month(value) -> pd.Period:
    """The last month of a history: ``AAAA-MM``, a date or a Period, within the period of CPTS
    (from 2016 to the end of next year: « 9999-12 » would build a table of 100,000 months)."""
    if isinstance(value, pd.Period):
        month = value.asfreq("M")
    else:
        try:
            month = pd.Period(value, freq="M")
        except (ValueError, TypeError):
            raise InputError(f"mois '{value}' illisible ; attendu AAAA-MM") from None
    if pd.isna(month):  # « » or « NaT »
        raise InputError(f"mois '{value}' illisible ; attendu AAAA-MM")
    last = pd.Timestamp.today().year + 1
    if not CPTS_FIRST_YEAR <= month.year <= last:
        raise InputError(f"mois '{value}' hors de la période des CPTS ({CPTS_FIRST_YEAR}-01 à {last}-12)")
    return month


def coverage_history(
    links: pd.DataFrame,
    cpts: pd.DataFrame,
    unit_pop: pd.Series,
    *,
    history: pd.DataFrame | None = None,
    unit_area: pd.Series | None = None,
    area: str | None = None,
    area_name: str = "",
    end=None,
) -> CoverageHistory:
    """CPTS and population covered at each stage, month by month.

    Parameters
    ----------
    links
        ``cpts_id``, ``code_insee`` of the register.
    cpts
        One row per CPTS indexed by ``cpts_id``, with ``statut`` and ``date_statut`` (the date of
        its current stage, ISO or jj/mm/aaaa, ``""`` when unknown).
    unit_pop
        Population by unit code.
    history
        A validated history (:func:`read_history`, :func:`history_from_frame`): earlier stages and
        their dates.
    unit_area, area
        Restrict to the units whose ``unit_area`` is ``area`` (a CPTS counts when it touches it);
        both ``None`` for the whole of ``unit_pop``.
    area_name
        The area's name, for the text.
    end
        Last month (``"AAAA-MM"``, a date or a :class:`pandas.Period`); default the current month.

    Returns
    -------
    CoverageHistory
        Months from the first dated stage to ``end``.

    Raises
    ------
    InputError
        A ``date_statut`` that is not a date, a stage that is not one, or a unit not in
        ``unit_pop``.
    """
    end_month = _month(end if end is not None else pd.Timestamp.today())
    pop_all = pd.Series(unit_pop.to_numpy(dtype=np.int64), index=unit_pop.index.astype(str))
    units = _area_units(pop_all, unit_area, area)
    label = {
        "code": str(area) if area is not None else "FR",
        "nom": area_name or ("France entière" if area is None else str(area)),
    }
    link_ids = links["cpts_id"].astype(str).to_numpy(dtype=object)
    link_codes = links["code_insee"].astype(str).to_numpy(dtype=object)
    unknown = pop_all.index.get_indexer(link_codes) < 0
    if unknown.any():
        bad = sorted(set(link_codes[unknown]))
        raise InputError("code(s) d'unité absent(s) du référentiel des populations : " + ", ".join(bad[:10]))
    upos = units.index.get_indexer(link_codes)
    here = upos >= 0
    ids = pd.Index(pd.unique(link_ids[here]))  # the CPTS touching the area

    ev, known = _events(ids, cpts, history)
    if len(ev):
        start = min(pd.Period(d, freq="M") for d in ev["date"])
        months = pd.period_range(min(start, end_month), end_month, freq="M")
    else:
        months = pd.period_range(end_month, end_month, freq="M")[:0]
    ranks, late = _rank_matrix(ev, len(ids), months)
    # Best rank of the CPTS covering each unit, month by month (-1: no CPTS yet).
    best = np.full((len(units), len(months)), -1, dtype=np.int8)
    if len(months) and here.any():
        np.maximum.at(best, upos[here], ranks[ids.get_indexer(link_ids[here])])
    pop = units.to_numpy(dtype=np.int64)
    out = {}
    for level in LEVELS:
        out[f"cpts_{level}"] = (ranks >= _level_rank(level)).sum(axis=0).astype(np.int64)
    for level in LEVELS:
        out[f"population_{level}"] = pop @ (best >= _level_rank(level)).astype(np.int64)
    frame = pd.DataFrame(out, index=pd.Index([str(p) for p in months], name="mois"))

    undated, current_only, notes = _unknowns(ids, known)
    if late:
        notes.insert(0, f"{fr_plural(late, 'date')} après {end_month} : non {fr_agree(late, 'comptée')}.")
    return CoverageHistory(
        frame=frame,
        area=label,
        population=int(units.sum()),
        undated=undated,
        current_only=current_only,
        notes=notes,
    )


def _level_rank(level: str) -> int:
    return 0 if level == "any" else STAGE_RANK[level]


def _area_units(pop_all: pd.Series, unit_area: pd.Series | None, area) -> pd.Series:
    """Population of the units of the area (all units when no area is given)."""
    if (unit_area is None) != (area is None):
        raise InputError("donnez à la fois les zones des unités et la zone retenue, ou ni l'une ni l'autre")
    if area is None or unit_area is None:
        return pop_all
    where = pd.Series(unit_area.to_numpy(dtype=object), index=unit_area.index.astype(str))
    return pop_all[where.reindex(pop_all.index).astype(str).to_numpy() == str(area)]


def _events(ids: pd.Index, cpts: pd.DataFrame, history: pd.DataFrame | None):
    """Dated stages of the CPTS ``ids``: the register's current stage and the history's rows.

    Returns the events (``c``: position in ``ids``, ``rank``, ``date``) and, per CPTS, what is
    known (``current`` rank, ``reg_dated``, ``hist_ranks``: ranks dated by the history)."""
    frame_ids = cpts.index.astype(str)
    current = pd.Series(stage_ranks(cpts["statut"].to_numpy()), index=frame_ids).reindex(ids).fillna(0)
    current = current.astype(np.int64).to_numpy()
    raw = cpts["date_statut"] if "date_statut" in cpts.columns else pd.Series("", index=cpts.index)
    dates = (
        pd.Series(raw.fillna("").astype(str).str.strip().to_numpy(), index=frame_ids).reindex(ids).fillna("")
    )
    rows, problems = [], []
    for k, (cid, text) in enumerate(zip(ids, dates.to_numpy())):
        if not text:
            continue
        try:
            rows.append((k, int(current[k]), parse_date(text)))
        except ValueError as exc:
            problems.append(f"registre : CPTS '{cid}' : date_statut : {exc}")
    if problems:
        raise InputError("\n".join(problems), [{"value": p, "message": p} for p in problems])
    hist_ranks: list[list[int]] = [[] for _ in ids]
    if history is not None and len(history):
        h = history[history["cpts_id"].astype(str).isin(ids)]
        for k, stage, d in zip(ids.get_indexer(h["cpts_id"].astype(str)), h["statut"], h["date"]):
            rows.append((int(k), STAGE_RANK[stage], d))
            hist_ranks[k].append(STAGE_RANK[stage])
    ev = pd.DataFrame(rows, columns=["c", "rank", "date"])
    known = {
        "current": current,
        "reg_dated": (dates != "").to_numpy(),
        "hist_ranks": hist_ranks,
        "dated": np.isin(np.arange(len(ids)), ev["c"].to_numpy()),
    }
    return ev, known


def _rank_matrix(ev: pd.DataFrame, n: int, months: pd.PeriodIndex) -> tuple[np.ndarray, int]:
    """Stage rank of each CPTS (rows) at the end of each month (columns), -1 before its first
    dated stage; and the number of events after the last month (left out)."""
    m = len(months)
    ranks = np.full((n, m), -1, dtype=np.int8)
    if not m or not len(ev):
        return ranks, 0
    mi = np.array([(d.year - months[0].year) * 12 + d.month - months[0].month for d in ev["date"]])
    ok = mi < m
    np.maximum.at(ranks, (ev["c"].to_numpy()[ok], mi[ok]), ev["rank"].to_numpy(dtype=np.int8)[ok])
    return np.maximum.accumulate(ranks, axis=1), int((~ok).sum())


def _unknowns(ids: pd.Index, known: dict) -> tuple[list[str], list[str], list[str]]:
    """The CPTS without date, those dated at their current stage only, and the notes saying what
    cannot be known."""
    current, reg_dated, hist, dated = (
        known["current"],
        known["reg_dated"],
        known["hist_ranks"],
        known["dated"],
    )
    top = [max(h, default=0) for h in hist]
    undated = [str(c) for c in ids[~dated]]
    current_only = [
        str(c)
        for k, c in enumerate(ids)
        if reg_dated[k] and current[k] >= 2 and not any(r < current[k] for r in hist[k])
    ]
    current_undated = [
        str(c) for k, c in enumerate(ids) if not reg_dated[k] and dated[k] and current[k] > top[k]
    ]
    ahead = [str(c) for k, c in enumerate(ids) if top[k] > current[k]]

    def n(items):
        return fr_plural(len(items), "CPTS", "CPTS")

    notes = []
    if undated:
        notes.append(
            f"{n(undated)} sans aucune date (sans date) : {fr_agree(len(undated), 'exclue')} de la courbe, leur date de création "
            f"et de passage à chaque stade étant inconnues ({_ids(undated)})."
        )
    if current_only:
        notes.append(
            f"{n(current_only)} dont seul le stade actuel est daté : {fr_agree(len(current_only), 'comptée')} à partir de cette date "
            "seulement ; on ne sait pas depuis quand elles existaient ni quand elles ont franchi les "
            f"stades antérieurs ({_ids(current_only)})."
        )
    if current_undated:
        notes.append(
            f"{n(current_undated)} dont le stade actuel n'est pas daté : {fr_agree(len(current_undated), 'comptée')} au dernier stade daté "
            f"de l'historique, jamais au stade actuel ({_ids(current_undated)})."
        )
    if ahead:
        notes.append(
            f"{n(ahead)} dont l'historique donne un stade plus avancé que le registre : le stade le plus "
            f"avancé daté est retenu ({_ids(ahead)})."
        )
    notes.append(
        "Le stade d'une CPTS un mois donné est le plus avancé dont la date est antérieure ou égale à la "
        "fin du mois (deux dates pour un même stade : la plus ancienne compte) ; les niveaux sont cumulés "
        "(« ou plus ») et chaque habitant est compté une fois par niveau. Les périmètres sont ceux du "
        "registre actuel, appliqués à tout le passé."
    )
    return undated, current_only, notes


def _ids(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" et {len(ids) - limit} autres" if len(ids) > limit else "")


def register_history(
    ref,
    register,
    *,
    history=None,
    region: str | None = None,
    departement: str | None = None,
    goal: float | None = None,
    end=None,
) -> CoverageHistory:
    """:func:`coverage_history` of a register (anything :func:`~cpts_geo.inputs.read.as_register`
    takes) for the nation, a région or a département.

    Parameters
    ----------
    ref
        The reference.
    register
        The register: its ``date_statut`` dates each CPTS's current stage.
    history
        Earlier stages: a history file (path), a DataFrame with ``cpts_id``, ``statut``, ``date``
        (checked by :func:`history_from_frame`), or ``None``.
    region, departement
        The area (code or name), as for :func:`cpts_geo.coverage_summary`; default the nation.
    goal
        The national goal (number of CPTS); the area's goal is its population share of it.
        ``None``: no goal.
    end
        Last month (default: the current month).

    Raises
    ------
    InputError
        An unknown area, a bad history, a ``date_statut`` that is not a date.
    """
    from cpts_geo.inputs.read import as_register
    from cpts_geo.reference.areas import resolve_scope

    register = as_register(ref, register)
    scope = resolve_scope(ref, region=region, departement=departement)
    ids = register.cpts.index
    if history is None or (isinstance(history, pd.DataFrame) and {"date", "line"} <= set(history.columns)):
        hist = history
    elif isinstance(history, pd.DataFrame):
        hist = history_from_frame(history, ids)
    else:
        hist = read_history(history, ids)
    units = ref.units
    area = unit_area = None
    if scope["level"] != "national":
        area, unit_area = scope["code"], units[scope["level"]]
    out = coverage_history(
        register.links,
        register.cpts,
        units["population"],
        history=hist,
        unit_area=unit_area,
        area=area,
        area_name=scope["nom"],
        end=end,
    )
    if goal is not None:
        total = int(units["population"].sum())
        share = out.population / total if total else 0.0
        out.goal = round(float(goal) * share, 1)
    return out
