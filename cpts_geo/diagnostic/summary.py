"""Territorial diagnostics: what the notebooks of ``notebooks/`` compute.

The *diagnostic partagé* of a CPTS describes who lives in the territory and how it sits among
the EPCI, the départements and the neighbouring CPTS. This module gathers those figures so that
a notebook is narrative, calls and figures:

- :func:`territory_summary`: population, area, density, largest commune, ACI size class and the
  distance to the next class, EPCI composition, neighbouring CPTS and white-zone communes, and
  the check report; :func:`commune_table` for the communes one by one;
- :func:`read_indicators` and :func:`aggregate_indicators`: join a commune-level indicator table
  (keyed by INSEE code) and aggregate it to the territory (sums, population-weighted means,
  counts under statistical secrecy);
- :func:`white_zones`: the connected pieces of a région's or département's white zone, largest
  first;
- :func:`territory_figure`, :func:`population_chart`, :func:`aci_chart`: static figures (French
  labels) that do not depend on pyplot's state, so a notebook shows each exactly once;
  :func:`interactive_map` for the folium map of the territory with the findings of its checks;
- :func:`rules_table` and :func:`french_table`: the check report and any of these tables with
  French labels and number formats, for display.

Every population is the reference's population municipale (``ref.vintage["population"]``);
areas are measured in the zone's projected CRS (Lambert-93, or the DROM's CRS).

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.diagnostic import territory_summary
>>> ref = cg.load_reference()
>>> s = territory_summary(ref, ["56009", "56114", "56152", "56241"])
>>> s.population, s.largest["nom"], s.aci_size_class, s.aci_gap
(5607, 'Le Palais', 1, 34393)
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from cpts_geo._json import json_plain
from cpts_geo._text import fr_decimal, fr_int, fr_plural, fr_share
from cpts_geo.checks.report import RULE_LABELS, STATUS_LABELS, Report
from cpts_geo.checks.rules import as_territory, check_territory
from cpts_geo.checks.territory import ACI_SIZE_BOUNDS, Territory, aci_size_class
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.stages import STAGE_LABELS
from cpts_geo.reference.areas import resolve_scope
from cpts_geo.reference.units import Reference

__all__ = [
    "COLUMN_LABELS",
    "TerritorySummary",
    "aci_class_label",
    "aci_distance",
    "commune_table",
    "french_labels",
    "french_table",
    "interactive_map",
    "rules_table",
    "territory_summary",
    "white_zones",
]

log = logging.getLogger(__name__)


#: Display labels (French) of the columns of this module's tables and of
#: :meth:`cpts_geo.steering.coverage.Coverage.to_frame`; see :func:`french_labels`.
COLUMN_LABELS = {
    # communes, EPCI, neighbours
    "nom": "Nom",
    "population": "Population",
    "superficie_km2": "Superficie (km²)",
    "densite": "Densité (hab./km²)",
    "part_population": "Part de la population",
    "epci": "EPCI (SIREN)",
    "epci_nom": "EPCI",
    "departement": "Département",
    "departements": "Départements",
    "communes_dans_territoire": "Communes dans le territoire",
    "communes_epci": "Communes de l'EPCI",
    "population_dans_territoire": "Population dans le territoire",
    "population_epci": "Population de l'EPCI",
    "part_communes": "Part des communes",
    "part_population_epci": "Part de la population de l'EPCI",
    "entier": "EPCI entier",
    "cpts_id": "Identifiant CPTS",
    "cpts_nom": "CPTS",
    "statut": "Stade",
    "etat": "État",
    "communes_voisines": "Communes voisines",
    "communes_partagees": "Communes partagées",
    "n_communes": "Communes",
    "commune_principale": "Commune la plus peuplée",
    "communes": "Communes",
    "codes": "Codes des communes",
    # check report
    "regle": "Règle",
    "resultat": "Résultat",
    "message": "Constat",
    "line": "Ligne",
    "value": "Valeur lue",
    # indicators
    "indicateur": "Indicateur",
    "zone": "Zone blanche",
    "agregation": "Agrégation",
    "valeur": "Valeur",
    "secret": "Secret statistique",
    "communes_renseignees": "Communes renseignées",
    "part_population_renseignee": "Part de la population renseignée",
    "note": "Note",
    # coverage (Coverage.to_frame)
    "niveau": "Niveau",
    "code": "Code",
    "cpts": "CPTS",
    "cpts_pre-projet": "CPTS en pré-projet",
    "cpts_lettre-intention": "CPTS avec lettre d'intention validée",
    "cpts_projet-sante": "CPTS avec projet de santé validé",
    "cpts_aci": "CPTS avec contrat ACI signé",
    "cpts_non-renseigne": "CPTS au stade non renseigné",
    "population_covered": "Population couverte",
    "share_covered": "Part de la population couverte",
    "zone_population": "Population en zone",
    "population_covered_aci": "Population couverte (CPTS sous contrat ACI)",
    "share_covered_aci": "Part couverte par une CPTS sous contrat ACI",
    "white_zone_population": "Population en zone blanche",
    "white_zone_communes": "Communes en zone blanche",
    "overlap_communes": "Communes dans plusieurs CPTS",
    "overlap_population": "Population des communes dans plusieurs CPTS",
    "goal": "Objectif (part de l'objectif national)",
    "progress": "Avancement (CPTS / objectif)",
    "cpts_shared": "CPTS partagées avec une autre zone",
    "region": "Région",
    # suggestions (cpts_geo.suggest)
    "territoire_id": "Identifiant",
    "label": "Territoire proposé",
    "aci_size_class": "Taille ACI",
    "n_epci": "EPCI touchés",
    "reason": "Motif",
}


def french_labels(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its columns (and index name) relabelled in French for display.

    Uses :data:`COLUMN_LABELS`; a column it does not know, or whose label another column
    already has, keeps its name.

    >>> french_labels(pd.DataFrame({"population": [1], "densite": [2.0]})).columns.tolist()
    ['Population', 'Densité (hab./km²)']
    """
    used = set(map(str, table.columns))
    mapping = {}
    for c in table.columns:
        label = COLUMN_LABELS.get(c)
        if label is not None and label not in used:
            mapping[c] = label
            used.add(label)
    out = table.rename(columns=mapping)
    if out.index.name in COLUMN_LABELS:
        out.index = out.index.rename(COLUMN_LABELS[out.index.name])
    return out


#: Columns holding a share (0-1), shown as percentages by :func:`french_table`.
SHARE_COLUMNS = {
    "part_population",
    "part_communes",
    "part_population_epci",
    "part_population_renseignee",
    "share_covered",
    "share_covered_aci",
    "progress",
    "share_communes",
    "share_population",
}


def french_table(table: pd.DataFrame, *, digits: int = 1, index: bool = True, empty: str = "Aucune ligne."):
    """The table ready to read in a notebook: French column labels and French number formats.

    Integers with a space between thousands (``12 345``), decimals with a comma (``12,5``; a
    column of whole numbers stored as floats is shown as integers),
    shares (:data:`SHARE_COLUMNS`) as percentages (``48,2 %``), booleans as ``oui`` / ``non``,
    lists joined with commas, missing values as ``—``; an aggregated count under statistical
    secrecy (:func:`aggregate_indicators`) reads ``secret``. Cells and labels are HTML-escaped
    (names come from users' files).

    Parameters
    ----------
    table
        Any table of this module (or of :meth:`cpts_geo.steering.coverage.Coverage.to_frame`).
    digits
        Decimals shown for non-integer numbers.
    index
        Show the index.
    empty
        Caption shown when the table has no row.

    Returns
    -------
    pandas.io.formats.style.Styler
        Renders as HTML in a notebook (``.to_html()`` elsewhere).
    """
    shown = table.copy()
    secret = shown["secret"].to_numpy(dtype=bool) if "secret" in shown.columns else None

    def cell(column: str):
        share = column in SHARE_COLUMNS
        values = shown[column]
        whole = pd.api.types.is_float_dtype(values) and bool(
            np.all(np.isnan(values) | (values == np.round(values)))
        )

        def text(v) -> str:
            if isinstance(v, (list, tuple, np.ndarray)):
                return ", ".join(map(str, v))
            if isinstance(v, (bool, np.bool_)):
                return "oui" if v else "non"
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "—"
            if isinstance(v, (int, np.integer)):
                return fr_int(v)
            if isinstance(v, (float, np.floating)):
                if share:
                    return fr_share(float(v), digits)
                return (
                    fr_int(v)
                    if whole or (float(v).is_integer() and column == "valeur")
                    else fr_decimal(float(v), digits)
                )
            return str(v)

        return lambda v: html.escape(text(v))

    if secret is not None and "valeur" in shown.columns:
        shown["valeur"] = shown["valeur"].astype(object)
        shown.loc[secret, "valeur"] = "secret"
    labelled = french_labels(shown)
    formats = {label: cell(c) for c, label in zip(shown.columns, labelled.columns)}
    styler = (
        labelled.style.format(formats).format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    )
    if not index:
        styler = styler.hide(axis="index")
    if not len(table) and empty:
        styler = styler.set_caption(empty)
    return styler


# ---------------------------------------------------------------------------------------------
# A territory, its communes and what surrounds it
# ---------------------------------------------------------------------------------------------
@dataclass
class TerritorySummary:
    """The figures of a territory for its diagnostic.

    Attributes
    ----------
    name
        The territory's name (the proposal's), if any.
    codes
        Unit codes of the territory, sorted.
    population
        Population municipale (vintage ``vintage["population"]``).
    area_km2
        Area in km², measured in the zone's projected CRS.
    density
        Inhabitants per km².
    largest
        The most populous commune: ``code``, ``nom``, ``population``, ``share`` (0-1).
    aci_size_class
        ACI size class, 1 to 4 (:func:`cpts_geo.checks.territory.aci_size_class`).
    aci_next_bound
        Population from which the next size class starts (``None`` for taille 4).
    aci_gap
        Inhabitants missing to reach the next size class (``None`` for taille 4).
    aci_margin
        Inhabitants above the lowest population of the current class: how many the territory
        can lose before it drops a class (``None`` for taille 1).
    communes
        :func:`commune_table` of the territory.
    epci
        EPCI composition, indexed by SIREN: ``nom``, ``communes_dans_territoire``,
        ``communes_epci``, ``population_dans_territoire``, ``population_epci``,
        ``part_communes``, ``part_population_epci`` (0-1), ``entier``; largest population
        inside first. Units in no EPCI are left out (the ``epci_alignment`` rule names them).
    departements
        Départements spanned, indexed by code: ``nom``, ``region``, ``n_communes``,
        ``population``.
    neighbours
        Units outside the territory that share a land boundary with it, indexed by code:
        ``nom``, ``population``, ``departement``, ``epci_nom``, ``cpts_id`` and ``cpts_nom``
        (the CPTS of ``existing`` that include it, ``", "``-joined; ``""`` for none), ``etat``
        (``"zone blanche"``, ``"couverte"`` or ``"chevauchement"``); most populous first.
    neighbour_cpts
        The CPTS of ``existing`` that include a neighbour or a unit of the territory, indexed
        by ``cpts_id``: ``cpts_nom``, ``statut`` (French label), ``communes_voisines``,
        ``communes_partagees`` (units of the territory already in it), ``n_communes``,
        ``population`` (of the whole CPTS); those sharing units first, then most neighbours.
    white_zone_neighbours
        The rows of ``neighbours`` in no CPTS. Without ``existing`` no unit is known to be
        covered, so every neighbour is listed (as :func:`cpts_geo.coverage_summary` counts an
        empty register).
    report
        The checks of the territory (:func:`cpts_geo.check_territory`).
    min_population
        The minimum population the checks used.
    vintage
        ``{"cog": ..., "population": ...}`` of the reference.
    """

    name: str | None
    codes: list[str]
    population: int
    area_km2: float
    density: float
    largest: dict
    aci_size_class: int
    aci_next_bound: int | None
    aci_gap: int | None
    aci_margin: int | None
    communes: pd.DataFrame = field(repr=False)
    epci: pd.DataFrame = field(repr=False)
    departements: pd.DataFrame = field(repr=False)
    neighbours: pd.DataFrame = field(repr=False)
    neighbour_cpts: pd.DataFrame = field(repr=False)
    white_zone_neighbours: pd.DataFrame = field(repr=False)
    report: Report = field(repr=False)
    min_population: int | None = 20_000
    vintage: dict = field(default_factory=dict)

    def key_figures(self) -> pd.DataFrame:
        """The key figures as a two-column table in French (``Indicateur``, ``Valeur``)."""
        v = self.vintage
        rows = [
            ("Territoire", self.name or "(sans nom)"),
            ("Communes", fr_int(len(self.codes))),
            (
                f"Population municipale {v.get('population', '')}".strip(),
                f"{fr_int(self.population)} habitants",
            ),
            ("Superficie", f"{fr_decimal(self.area_km2, 1)}\u00a0km²"),
            ("Densité", f"{fr_decimal(self.density, 1)}\u00a0hab./km²"),
            (
                "Commune la plus peuplée",
                f"{self.largest['nom']} ({self.largest['code']}) : {fr_int(self.largest['population'])} "
                f"habitants, {fr_share(self.largest['share'])} du territoire",
            ),
            ("Taille ACI", aci_class_label(self.aci_size_class)),
            ("Vers la taille ACI suivante", self.aci_next_text()),
            ("Marge au-dessus du seuil de la taille", self.aci_margin_text()),
            (
                "EPCI touchés",
                _epci_count_text(len(self.epci), int(self.epci["entier"].sum())),
            ),
            ("Départements", ", ".join(f"{r.nom} ({c})" for c, r in self.departements.iterrows())),
            ("CPTS voisines", fr_int(len(self.neighbour_cpts))),
            (
                "Communes voisines en zone blanche",
                f"{fr_int(len(self.white_zone_neighbours))} "
                f"({fr_int(int(self.white_zone_neighbours['population'].sum()))} habitants)",
            ),
            ("Résultat des vérifications", STATUS_LABELS[self.report.status]),
            ("Millésimes", f"COG {v.get('cog', '')}, populations légales {v.get('population', '')}"),
        ]
        return pd.DataFrame(rows, columns=["Indicateur", "Valeur"]).set_index("Indicateur")

    def aci_next_text(self) -> str:
        """How far the population is from the next ACI size class, in French."""
        if self.aci_next_bound is None:
            return "taille maximale (taille 4, plus de 175 000 habitants)"
        return (
            f"taille {self.aci_size_class + 1} à partir de {fr_int(self.aci_next_bound)} habitants : "
            f"il manque {fr_int(self.aci_gap)} habitants"
        )

    def aci_margin_text(self) -> str:
        """How many inhabitants the territory can lose before dropping an ACI class, in French."""
        if self.aci_margin is None:
            return "taille 1 : pas de seuil inférieur"
        low = _ACI_LOWER[self.aci_size_class]
        return (
            f"{fr_int(self.aci_margin)} habitants au-dessus du seuil de la taille {self.aci_size_class} "
            f"({fr_int(low)} habitants)"
        )

    def to_dict(self) -> dict:
        """The scalar figures and the tables as plain types (JSON-ready)."""

        def records(df: pd.DataFrame) -> list[dict]:
            return json_plain(df.reset_index().to_dict(orient="records"))

        return {
            "name": self.name,
            "codes": list(self.codes),
            "population": int(self.population),
            "area_km2": float(self.area_km2),
            "density": float(self.density),
            "largest": json_plain(self.largest),
            "aci_size_class": int(self.aci_size_class),
            "aci_next_bound": self.aci_next_bound,
            "aci_gap": self.aci_gap,
            "aci_margin": self.aci_margin,
            "communes": records(self.communes),
            "epci": records(self.epci),
            "departements": records(self.departements),
            "neighbours": records(self.neighbours),
            "neighbour_cpts": records(self.neighbour_cpts),
            "report": self.report.to_dict(),
            "min_population": self.min_population,
            "vintage": dict(self.vintage),
        }


#: Lowest population of each ACI size class (taille 4 starts above 175,000).
_ACI_LOWER = {1: 0, 2: ACI_SIZE_BOUNDS[0], 3: ACI_SIZE_BOUNDS[1], 4: ACI_SIZE_BOUNDS[2] + 1}


def _epci_count_text(n: int, whole: int) -> str:
    """``'1, entier'``, ``'3, tous entiers'``, ``'4, dont 1 entier'``, ``'2, aucun entier'``."""
    if n and whole == n:
        return f"{fr_int(n)}, {'entier' if n == 1 else 'tous entiers'}"
    if not whole:
        return f"{fr_int(n)}, aucun entier" if n else "0"
    return f"{fr_int(n)}, dont {fr_plural(whole, 'entier')}"


def aci_class_label(size_class: int) -> str:
    """``'taille 2 (de 40 000 à 79 999 habitants)'``."""
    small, medium, large = (fr_int(b) for b in ACI_SIZE_BOUNDS)
    return {
        1: f"taille 1 (moins de {small} habitants)",
        2: f"taille 2 (de {small} à {fr_int(ACI_SIZE_BOUNDS[1] - 1)} habitants)",
        3: f"taille 3 (de {medium} à {large} habitants)",
        4: f"taille 4 (plus de {large} habitants)",
    }[int(size_class)]


def aci_distance(population: int) -> tuple[int | None, int | None, int | None]:
    """``(next_bound, gap, margin)`` of a population on the ACI size scale.

    ``next_bound`` is the population from which the next class starts, ``gap`` the inhabitants
    missing to reach it (both ``None`` in taille 4), ``margin`` the inhabitants above the lowest
    population of the current class (``None`` in taille 1).

    >>> aci_distance(28_413)
    (40000, 11587, None)
    >>> aci_distance(80_000), aci_distance(175_000), aci_distance(200_000)
    ((175001, 95001, 0), (175001, 1, 95000), (None, None, 24999))
    """
    p = int(population)
    c = aci_size_class(p)
    nxt = _ACI_LOWER.get(c + 1)
    return nxt, (None if nxt is None else nxt - p), (None if c == 1 else p - _ACI_LOWER[c])


def commune_table(ref: Reference, codes_or_proposal) -> pd.DataFrame:
    """The communes (units) of a territory with their population, area and density.

    Parameters
    ----------
    ref
        The reference.
    codes_or_proposal
        Unit codes, values :meth:`Reference.resolve` accepts, a
        :class:`cpts_geo.inputs.Proposal` or a :class:`cpts_geo.checks.territory.Territory`.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code (``code``), most populous first (then by name): ``nom``,
        ``population``, ``part_population`` (share of the territory, 0-1), ``superficie_km2``
        (zone's projected CRS), ``densite`` (inhabitants per km²), ``epci``, ``epci_nom``,
        ``departement``.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> t = commune_table(cg.load_reference(), ["56009", "56114", "56152", "56241"])
    >>> t.index[0], t.iloc[0]["nom"], int(t.iloc[0]["population"])
    ('56152', 'Le Palais', 2599)
    """
    territory = as_territory(ref, codes_or_proposal)
    return _commune_table(territory)


def _commune_table(territory: Territory) -> pd.DataFrame:
    u = territory.units
    pop = u["population"].fillna(0).astype(np.int64)
    area = u["area_km2"].astype(float) if "area_km2" in u else pd.Series(np.nan, index=u.index)
    total = int(pop.sum())
    epci = u["epci"].fillna("").astype(str)
    epci_nom = epci.map(territory.ref.epci["nom"]).fillna("")
    out = pd.DataFrame(
        {
            "nom": u["nom"].astype(str),
            "population": pop,
            "part_population": pop / total if total else 0.0,
            "superficie_km2": area.round(2),
            "densite": (pop / area.where(area > 0)).round(1),
            "epci": epci,
            "epci_nom": epci_nom.astype(str),
            "departement": u["departement"].astype(str),
        },
        index=pd.Index(u.index.astype(str), name="code"),
    )
    order = np.lexsort((out["nom"].to_numpy(), -out["population"].to_numpy()))
    return out.iloc[order]


def rules_table(report: Report) -> pd.DataFrame:
    """The check report as a table: one row per rule, in French.

    Returns
    -------
    pandas.DataFrame
        Indexed by rule id: ``regle`` (French name), ``resultat`` (``OK``, ``ATTENTION``,
        ``ÉCHEC``) and ``message``.
    """
    return pd.DataFrame(
        {
            "regle": [RULE_LABELS.get(r.id, r.id) for r in report.rules],
            "resultat": [STATUS_LABELS[r.status] for r in report.rules],
            "message": [r.message for r in report.rules],
        },
        index=pd.Index([r.id for r in report.rules], name="id"),
    )


def territory_summary(
    ref: Reference,
    codes_or_proposal,
    *,
    existing=None,
    min_population: int | None = 20_000,
    name: str | None = None,
) -> TerritorySummary:
    """Everything the diagnostic of one territory shows.

    Parameters
    ----------
    ref
        The reference.
    codes_or_proposal
        Unit codes, values :meth:`Reference.resolve` accepts, a
        :class:`cpts_geo.inputs.Proposal` or a :class:`cpts_geo.checks.territory.Territory`.
    existing
        The register of existing CPTS (:class:`cpts_geo.inputs.Register`, or any object with a
        ``table`` of ``cpts_id``, ``cpts_nom``, ``code_insee`` and optional ``statut``): gives
        the neighbouring CPTS, the white zones around and the ``overlap`` rule.
    min_population
        Minimum population of the ``population`` rule (``None`` or 0: none).
    name
        The territory's name (default: the proposal's).

    Returns
    -------
    TerritorySummary

    Raises
    ------
    UnknownCommuneError, AmbiguousNameError, InputError
        As :func:`cpts_geo.check_territory`.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> s = territory_summary(cg.load_reference(), ["49007", "49015"])  # Angers, Avrillé
    >>> s.population, s.aci_size_class, s.aci_gap
    (174273, 3, 728)
    """
    territory = as_territory(ref, codes_or_proposal, name=name)
    report = check_territory(
        ref, codes_or_proposal, name=name, existing=existing, min_population=min_population
    )
    communes = _commune_table(territory)
    population = territory.population
    area = territory.area_km2
    top = communes.iloc[0]
    largest = {
        "code": str(communes.index[0]),
        "nom": str(top["nom"]),
        "population": int(top["population"]),
        "share": float(top["population"] / population) if population else 0.0,
    }
    nxt, gap, margin = aci_distance(population)
    neighbours, neighbour_cpts = _surroundings(ref, territory, existing)
    return TerritorySummary(
        name=territory.name,
        codes=list(territory.codes),
        population=population,
        area_km2=area,
        density=population / area if area > 0 else math.nan,
        largest=largest,
        aci_size_class=territory.aci_size_class,
        aci_next_bound=nxt,
        aci_gap=gap,
        aci_margin=margin,
        communes=communes,
        epci=_epci_table(territory),
        departements=territory.departements.copy(),
        neighbours=neighbours,
        neighbour_cpts=neighbour_cpts,
        white_zone_neighbours=neighbours[neighbours["etat"] == "zone blanche"],
        report=report,
        min_population=min_population,
        vintage=dict(ref.vintage),
    )


def _epci_table(territory: Territory) -> pd.DataFrame:
    e = territory.epcis
    out = pd.DataFrame(
        {
            "nom": e["nom"].astype(str),
            "communes_dans_territoire": e["n_communes"].astype(np.int64),
            "communes_epci": e["n_communes_total"].astype(np.int64),
            "population_dans_territoire": e["population"].astype(np.int64),
            "population_epci": e["population_total"].astype(np.int64),
            "part_communes": e["share_communes"].astype(float),
            "part_population_epci": e["share_population"].astype(float),
            "entier": e["whole"].astype(bool),
        },
        index=e.index.rename("epci"),
    )
    return out.sort_values(["population_dans_territoire", "nom"], ascending=[False, True])


def _surroundings(ref: Reference, territory: Territory, existing) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The land neighbours of a territory with the CPTS covering them, and those CPTS."""
    a = ref.arrays
    inside = territory.positions
    around = np.setdiff1d(np.unique(a.neighbours_of(inside)), inside)
    links = as_register(ref, existing).named_links
    codes = a.codes[around].astype(str)
    u = ref.units.iloc[around]
    by_unit = links[links["code_insee"].isin(codes)].groupby("code_insee", sort=False)
    ids = by_unit["cpts_id"].agg(lambda s: ", ".join(sorted(s)))
    noms = by_unit["cpts_nom"].agg(lambda s: ", ".join(sorted(s)))
    n = by_unit.size()
    neighbours = pd.DataFrame(
        {
            "nom": u["nom"].astype(str).to_numpy(),
            "population": u["population"].fillna(0).astype(np.int64).to_numpy(),
            "departement": u["departement"].astype(str).to_numpy(),
            "epci_nom": u["epci"]
            .fillna("")
            .astype(str)
            .map(ref.epci["nom"])
            .fillna("")
            .astype(str)
            .to_numpy(),
            "cpts_id": ids.reindex(codes).fillna("").to_numpy(dtype=object),
            "cpts_nom": noms.reindex(codes).fillna("").to_numpy(dtype=object),
        },
        index=pd.Index(codes, name="code"),
    )
    count = n.reindex(codes).fillna(0).to_numpy()
    neighbours["etat"] = np.select([count == 0, count == 1], ["zone blanche", "couverte"], "chevauchement")
    neighbours = neighbours.iloc[
        np.lexsort((neighbours["nom"].to_numpy(), -neighbours["population"].to_numpy()))
    ]

    inside_codes = set(territory.codes)
    touching = links[links["code_insee"].isin(set(codes) | inside_codes)]
    ids_touching = list(dict.fromkeys(touching["cpts_id"]))
    cpts = links[links["cpts_id"].isin(ids_touching)]
    pop = ref.units["population"].reindex(cpts["code_insee"]).fillna(0).astype(np.int64).to_numpy()
    cpts = cpts.assign(
        population=pop,
        voisine=cpts["code_insee"].isin(set(codes)),
        partagee=cpts["code_insee"].isin(inside_codes),
    )
    g = cpts.groupby("cpts_id", sort=False)
    table = pd.DataFrame(
        {
            "cpts_nom": g["cpts_nom"].first(),
            "statut": g["statut"].first().map(lambda s: STAGE_LABELS.get(s, s)),
            "communes_voisines": g["voisine"].sum().astype(np.int64),
            "communes_partagees": g["partagee"].sum().astype(np.int64),
            "n_communes": g.size().astype(np.int64),
            "population": g["population"].sum().astype(np.int64),
        }
    )
    table.index = table.index.rename("cpts_id")
    table = table.sort_values(
        ["communes_partagees", "communes_voisines", "cpts_nom"], ascending=[False, False, True]
    )
    return neighbours, table


# ---------------------------------------------------------------------------------------------
# White zones of an area
# ---------------------------------------------------------------------------------------------
def white_zones(
    ref: Reference, register, *, region: str | None = None, departement: str | None = None
) -> pd.DataFrame:
    """The white zones of an area: connected pieces of the units no CPTS of ``register`` covers.

    Pieces are connected by land (an island is its own piece) and may cross a département
    boundary inside the area.

    Parameters
    ----------
    ref
        The reference.
    register
        A :class:`cpts_geo.inputs.Register` (or any object with a ``table`` of ``cpts_id`` and
        ``code_insee``); ``None`` for an empty register.
    region, departement
        The area (code or name); default: all of France.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``zone`` (1 for the most populous): ``commune_principale`` (most populous
        unit), ``departements`` (``", "``-joined codes), ``n_communes``, ``population``,
        ``superficie_km2``, ``codes`` (list of unit codes).

    Raises
    ------
    InputError
        Unknown région or département.
    """
    scope = resolve_scope(ref, region=region, departement=departement)
    units = ref.units
    if scope["level"] == "region":
        in_area = (units["region"] == scope["code"]).to_numpy()
    elif scope["level"] == "departement":
        in_area = (units["departement"] == scope["code"]).to_numpy()
    else:
        in_area = np.ones(len(units), dtype=bool)
    covered = units.index.isin(set(as_register(ref, register).named_links["code_insee"]))
    white = np.flatnonzero(in_area & ~covered)
    cols = ["commune_principale", "departements", "n_communes", "population", "superficie_km2", "codes"]
    if not len(white):
        return pd.DataFrame(columns=cols, index=pd.Index([], name="zone", dtype=np.int64))
    graph = ref.graph.tocsr()[white][:, white]
    _, label = csgraph.connected_components(graph, directed=False)
    a = ref.arrays
    rows = []
    for k in range(int(label.max()) + 1):
        pos = white[label == k]
        pop = a.pop[pos]
        rows.append(
            {
                "commune_principale": str(a.names[pos[np.argmax(pop)]]),
                "departements": ", ".join(sorted(set(units["departement"].iloc[pos].astype(str)))),
                "n_communes": int(len(pos)),
                "population": int(pop.sum()),
                "superficie_km2": round(float(a.area[pos].sum()), 1),
                "codes": [str(c) for c in a.codes[pos]],
            }
        )
    out = pd.DataFrame(rows)
    out = out.iloc[np.lexsort((out["commune_principale"].to_numpy(), -out["population"].to_numpy()))]
    out.index = pd.RangeIndex(1, len(out) + 1, name="zone")
    return out[cols]


# ---------------------------------------------------------------------------------------------
# Interactive map
# ---------------------------------------------------------------------------------------------
def interactive_map(
    ref: Reference,
    summary: TerritorySummary,
    *,
    existing=None,
    online: bool = False,
    offline: bool | None = None,
):
    """The folium map of a territory (:func:`cpts_geo.maps.territory`) with the findings of its
    checks: communes already in a CPTS, split EPCIs, enclaves, detached parts and the sea links
    that join them; the neighbouring CPTS of ``existing`` are drawn.

    Parameters
    ----------
    online
        Load Leaflet from the CDN and add basemaps. By default the map is self-contained
        (Leaflet embedded from the pip package): it shows in a notebook with no network.
    offline
        Deprecated and ignored (self-contained is the default).

    Returns
    -------
    folium.Map
    """
    from cpts_geo.checks.findings import contiguity_overlays, findings_by_unit
    from cpts_geo.maps.territory import territory_map

    sea, detached = contiguity_overlays(summary.report)
    return territory_map(
        ref,
        summary.codes,
        findings=findings_by_unit(ref, summary.report),
        existing=existing,
        name=summary.name,
        online=online,
        sea_links=sea,
        detached=detached,
    )
