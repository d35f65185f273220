"""Units below the commune (IRIS, city sectors) for the reference build.

A layer of polygons gives, per feature, a unit code, a name, the INSEE code of its commune and a
population (in the layer, or in a table such as INSEE's population by IRIS). The communes it
lists are replaced in the built reference by these units, as the arrondissements municipaux
replace Paris, Lyon and Marseille: type ``infracommunal``, ``commune`` = the INSEE code of the
commune, EPCI, département, région, zone and EPSG inherited.

The layer is refused, with every problem named at once, unless for each commune:

- its sub-units tile it: the symmetric difference between their union and the commune is at
  most :data:`AREA_TOLERANCE` (1 %) of the commune's area, and the sum of their areas exceeds the
  area of their union by at most :data:`OVERLAP_TOLERANCE` (0.5 %), both measured in the zone's
  projected CRS; within these tolerances the sub-units are clipped to the commune and what the
  layer leaves uncovered is given to the sub-unit that borders it most;
- their populations sum to the commune's population légale within
  :data:`POPULATION_TOLERANCE` (2 %). The sub-units' populations are then scaled to the
  population légale (integers, largest remainders), so that every total of the reference stays of
  one vintage;
- codes are unique and no code is that of another unit or commune.

A commune with a single feature (an IRIS-less commune of CONTOURS-IRIS, coded ``<INSEE>0000``) is
kept as it is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cpts_geo._errors import ReferenceDataError
from cpts_geo._text import fr_int, fr_share
from cpts_geo.reference.unit_types import SUBUNIT_TYPE

log = logging.getLogger(__name__)

__all__ = [
    "AREA_TOLERANCE",
    "OVERLAP_TOLERANCE",
    "POPULATION_TOLERANCE",
    "Subdivision",
    "read_population_by_code",
    "read_subdivision",
    "subdivide_units",
    "subdivided_unites",
    "subdivision_metadata",
]

#: Largest symmetric difference between the union of a commune's sub-units and the commune, as a
#: share of its area.
AREA_TOLERANCE = 0.01
#: Largest overlap of a commune's sub-units (sum of their areas minus the area of their union), as
#: a share of its area.
OVERLAP_TOLERANCE = 0.005
#: Largest difference between the sum of the sub-units' populations and the commune's
#: population légale, as a share of the latter.
POPULATION_TOLERANCE = 0.02

_CODE_COLUMNS = ("CODE_IRIS", "IRIS", "CODE")
_NAME_COLUMNS = ("NOM_IRIS", "LIBIRIS", "NOM", "LIBELLE")
_COMMUNE_COLUMNS = ("INSEE_COM", "CODE_INSEE", "DEPCOM", "COM", "CODGEO")
_POP_RE = re.compile(r"P(\d\d)_POP")


@dataclass(frozen=True)
class Subdivision:
    """A layer of sub-units read by :func:`read_subdivision`.

    ``units`` has columns ``code``, ``nom``, ``parent`` (the unit of the reference it divides: a
    commune, or an arrondissement municipal), ``population`` (float, as the source gives it) and
    its geometry in the layer's CRS; ``source`` names the files, ``population_column`` the column
    the populations come from (``P21_POP``...).
    """

    units: gpd.GeoDataFrame
    source: str
    population_column: str


def _pick(columns, given: str | None, names: tuple[str, ...], what: str, where: str) -> str:
    """The column named ``given`` (any case), else the first of ``names`` present."""
    upper = {str(c).upper(): c for c in columns}
    if given is not None:
        if given.upper() in upper:
            return upper[given.upper()]
        raise ReferenceDataError(
            f"{where} : colonne « {given} » ({what}) absente ; colonnes : {', '.join(map(str, columns))}"
        )
    found = next((upper[n] for n in names if n in upper), None)
    if found is None:
        raise ReferenceDataError(
            f"{where} : aucune colonne {what} (attendu : {', '.join(names)}, ou indiquez-la) ; "
            f"colonnes : {', '.join(map(str, columns))}"
        )
    return found


def _codes(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.upper().str.replace(r"\.0$", "", regex=True)


def _table_rows(spec: str) -> pd.DataFrame:
    """All cells of a CSV (``;`` or ``,``) or XLSX sheet (``path::sheet``) as strings, no header."""
    path, _, sheet = str(spec).partition("::")
    if Path(path).suffix.lower() in (".xlsx", ".xls"):
        rows = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
    else:
        with open(path, encoding="utf-8-sig") as f:
            first = f.readline()
        sep = ";" if first.count(";") >= first.count(",") else ","
        rows = pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False)
    return rows.fillna("")


def read_population_by_code(
    spec: str, *, code_column: str | None = None, population_column: str | None = None
) -> tuple[pd.Series, str]:
    """Populations by sub-unit code from a table such as INSEE's population by IRIS.

    The header row is the first one with a code column (``IRIS``, ``CODE_IRIS`` or
    ``code_column``) and a population column (``population_column``, else the latest ``Pyy_POP``
    such as ``P21_POP``); title rows above it (INSEE's XLSX) are skipped. Returns the populations
    (float, indexed by code) and the name of the population column.
    """
    rows = _table_rows(spec)
    codes = tuple(c.upper() for c in ((code_column,) if code_column else ("IRIS", "CODE_IRIS")))
    for i, row in rows.iterrows():
        header = [str(v).strip().upper() for v in row]
        code_at = next((header.index(c) for c in codes if c in header), None)
        if population_column:
            pops = [population_column.upper()] if population_column.upper() in header else []
        else:
            pops = sorted((h for h in header if _POP_RE.fullmatch(h)), reverse=True)
        if code_at is not None and pops:
            body = rows.iloc[int(str(i)) + 1 :]
            col = pops[0]
            values = pd.to_numeric(
                body.iloc[:, header.index(col)].str.replace(",", ".").str.replace("\u00a0", ""),
                errors="coerce",
            )
            out = pd.Series(values.to_numpy(), index=_codes(body.iloc[:, code_at]).to_numpy())
            out = out[out.index != ""]
            dup = sorted(set(out.index[out.index.duplicated()]))
            if dup:
                raise ReferenceDataError(f"{spec} : codes en double : {', '.join(dup[:10])}")
            return out, col
    raise ReferenceDataError(
        f"{spec} : aucun tableau de populations trouvé : attendu une colonne {' ou '.join(codes)} "
        f"et une colonne {population_column or 'Pyy_POP (P21_POP…)'}"
    )


def read_subdivision(
    spec: str,
    *,
    population: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
    commune_column: str | None = None,
    population_column: str | None = None,
    communes=None,
) -> Subdivision:
    """Read a layer of sub-units (GeoPackage ``path::layer``, Shapefile, GeoJSON).

    IGN CONTOURS-IRIS is read as it is (``CODE_IRIS``, ``NOM_IRIS``, ``INSEE_COM``); another
    layer names its columns with the ``*_column`` parameters. Populations come from the table
    ``population`` (see :func:`read_population_by_code`) or, without it, from the layer's
    ``population_column``. ``communes`` (INSEE codes) keeps only the features of these communes
    (a national CONTOURS-IRIS file for a few cities).

    Raises
    ------
    ReferenceDataError
        No CRS, a missing column, a code without population, a feature that is not a polygon,
        or duplicate codes (all named).
    """
    path, _, layer = spec.partition("::")
    try:
        gdf = gpd.read_file(path, layer=layer or None)
    except Exception as e:  # pyogrio's errors are not one class
        raise ReferenceDataError(f"{spec} : couche illisible ({e})") from e
    if gdf.crs is None:
        raise ReferenceDataError(f"{spec} : la couche n'a pas de système de coordonnées (CRS)")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    code = _codes(gdf[_pick(cols, code_column, _CODE_COLUMNS, "de code", spec)])
    nom = gdf[_pick(cols, name_column, _NAME_COLUMNS, "de nom", spec)].astype(str).str.strip()
    parent = _codes(gdf[_pick(cols, commune_column, _COMMUNE_COLUMNS, "de code commune", spec)])
    parent = parent.where(~parent.str.fullmatch(r"\d{4}"), "0" + parent)
    if communes is not None:
        wanted = {str(c).strip().upper() for c in communes}
        absent = sorted(wanted - set(parent))
        if absent:
            raise ReferenceDataError(f"{spec} : aucune unité pour les communes {', '.join(absent)}")
        keep = parent.isin(wanted).to_numpy()
        gdf, code, nom, parent = gdf[keep], code[keep], nom[keep], parent[keep]
    problems = []
    if population is not None:
        table, pop_col = read_population_by_code(population, population_column=population_column)
        pop = code.map(table)
        source = f"{Path(path).name} ; {Path(str(population).partition('::')[0]).name}"
    else:
        if population_column is None:
            raise ReferenceDataError(
                f"{spec} : populations absentes : donnez le tableau des populations par unité "
                "ou la colonne de population de la couche"
            )
        pop_col = _pick(cols, population_column, (), "de population", spec)
        pop = pd.to_numeric(gdf[pop_col], errors="coerce")
        source = Path(path).name
    lacking = code[pop.isna().to_numpy()].tolist()
    if lacking:
        problems.append(
            f"{len(lacking)} unité(s) sans population ({', '.join(lacking[:10])}"
            f"{', …' if len(lacking) > 10 else ''})"
        )
    dup = sorted(code[code.duplicated()].unique())
    if dup:
        problems.append(f"codes en double : {', '.join(dup[:10])}")
    geoms = gdf.geometry.to_numpy()
    bad = code[~np.isin(shapely.get_type_id(geoms), (3, 6)) | shapely.is_empty(geoms)].tolist()
    if bad:
        problems.append(f"géométries absentes ou non surfaciques : {', '.join(bad[:10])}")
    if problems:
        raise ReferenceDataError(f"{spec} : " + " ; ".join(problems))
    units = gpd.GeoDataFrame(
        {"code": code.to_numpy(), "nom": nom.to_numpy(), "parent": parent.to_numpy(), "population": pop},
        geometry=shapely.make_valid(geoms),
        crs=gdf.crs,
    )
    return Subdivision(units=units, source=source, population_column=str(pop_col))


def _scaled(pops: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``pops`` summing to ``total`` (largest remainders).

    >>> _scaled(np.array([2100.4, 1899.6, 2000.0, 2000.5]), 8000).tolist()
    [2100, 1900, 2000, 2000]
    """
    if pops.sum() <= 0:
        share = np.full(len(pops), total / len(pops))
    else:
        share = pops / pops.sum() * total  # weights first: total / a tiny sum would overflow
    out = np.floor(share).astype("int64")
    order = np.argsort(-(share - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def _fit(parts: np.ndarray, commune) -> np.ndarray:
    """Clip the sub-units to their commune and give each uncovered piece to the sub-unit that
    borders it most (the tiling was checked)."""
    parts = shapely.make_valid(shapely.intersection(parts, commune))
    left = shapely.difference(commune, shapely.union_all(parts))
    for piece in shapely.get_parts(left):
        if piece.is_empty or piece.area == 0:
            continue
        touch = shapely.length(shapely.intersection(parts, piece.buffer(1e-6 * max(1.0, piece.length))))
        k = int(np.argmax(touch))
        parts[k] = shapely.union(parts[k], piece)
    return parts


def _commune_checks(
    code: str, nom: str, legal: int, parts: np.ndarray, commune, pops
) -> tuple[list[str], dict]:
    """The problems of one commune's sub-units, and the figures checked (shares of its area)."""
    area = float(commune.area)
    union = shapely.union_all(parts)
    sym = float(shapely.symmetric_difference(union, commune).area) / area
    overlap = (float(shapely.area(parts).sum()) - float(union.area)) / area
    problems = []
    if sym > AREA_TOLERANCE:
        problems.append(
            f"{nom} ({code}) : les unités ne recouvrent pas la commune (écart de surface "
            f"{fr_share(sym, 2)} de la commune, tolérance {fr_share(AREA_TOLERANCE, 0)})"
        )
    if overlap > OVERLAP_TOLERANCE:
        problems.append(
            f"{nom} ({code}) : les unités se chevauchent ({fr_share(overlap, 2)} de la surface de la "
            f"commune, tolérance {fr_share(OVERLAP_TOLERANCE)})"
        )
    total = float(np.sum(pops))
    gap = (total - legal) / legal if legal else 0.0
    if abs(gap) > POPULATION_TOLERANCE:
        problems.append(
            f"{nom} ({code}) : population des unités {fr_int(total)} pour une population légale de "
            f"{fr_int(legal)} ({'+' if gap > 0 else ''}{fr_share(gap)}, tolérance "
            f"{fr_share(POPULATION_TOLERANCE, 0)})"
        )
    return problems, {"ecart_surface": round(sym, 6), "chevauchement": round(overlap, 6)}


def subdivide_units(units: gpd.GeoDataFrame, sub: Subdivision) -> tuple[gpd.GeoDataFrame, dict]:
    """Replace the units the layer divides by its sub-units.

    ``units`` is the build's table indexed by code (geometry in EPSG:4326, ``epsg`` the zone's
    projected CRS). Returns the new table (sorted by code) and, by divided unit, the figures of
    the checks (for ``metadata.json``).

    Raises
    ------
    ReferenceDataError
        A layer that does not tile its communes, whose populations are off, or whose codes
        collide (every commune and figure named).
    """
    layer = sub.units
    problems = []
    unknown = sorted(set(layer["parent"]) - set(units.index))
    if unknown:
        problems.append(f"communes absentes du référentiel : {', '.join(unknown[:10])}")
    arm = sorted(set(layer["parent"]) & set(units.index[units["type"] == "arrondissement"]))
    if arm:
        problems.append(
            f"arrondissements municipaux non découpables ({', '.join(arm[:10])}) : Paris, Lyon et "
            "Marseille sont déjà représentées par leurs arrondissements"
        )
    taken = sorted(set(layer["code"]) & (set(units.index) | set(units["commune"])))
    if taken:
        problems.append(f"codes déjà pris par une commune ou une unité : {', '.join(taken[:10])}")
    if problems:
        raise ReferenceDataError(f"{sub.source} : " + " ; ".join(problems))

    rows, report = [], {}
    divided = [p for p, n in layer["parent"].value_counts().sort_index().items() if n > 1]
    for parent in divided:
        part = layer[layer["parent"] == parent].sort_values("code")
        unit = units.loc[parent]
        if unit.geometry is None:
            problems.append(f"{unit['nom']} ({parent}) : commune sans contour dans la source, non découpable")
            continue
        epsg = int(unit["epsg"])
        commune = gpd.GeoSeries([unit.geometry], crs=4326).to_crs(epsg).iloc[0]
        geoms = shapely.make_valid(part.geometry.to_crs(epsg).to_numpy())
        pops = part["population"].to_numpy(dtype=float)
        legal = int(unit["population"])
        found, figures = _commune_checks(parent, str(unit["nom"]), legal, geoms, commune, pops)
        if found:
            problems += found
            continue
        fitted = gpd.GeoSeries(_fit(geoms, commune), crs=epsg).to_crs(4326).to_numpy()
        new = pd.DataFrame([unit.drop("geometry")] * len(part), index=part["code"].to_numpy())
        new["nom"] = part["nom"].to_numpy()
        new["type"] = SUBUNIT_TYPE
        new["population"] = _scaled(pops, legal)
        new["anciens_codes"] = ""
        rows.append(gpd.GeoDataFrame(new, geometry=fitted, crs=4326))
        report[parent] = {
            "nom": str(unit["nom"]),
            "unites": int(len(part)),
            "population_legale": legal,
            "population_source": round(float(pops.sum()), 1),
            "ecart_population": round((float(pops.sum()) - legal) / legal, 4) if legal else 0.0,
            **figures,
            "codes": part["code"].tolist(),
        }
    if problems:
        raise ReferenceDataError(f"{sub.source} : découpage refusé : " + " ; ".join(problems))
    kept = units.drop(index=divided)
    out = pd.concat([kept, *rows])
    out.index.name = units.index.name
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=4326).sort_index(kind="stable")
    for col in ("population", "epsg"):
        out[col] = out[col].astype("int64")
    log.info("%d communes subdivided into %d units", len(divided), sum(len(r) for r in rows))
    return out, report


def subdivided_unites(unites: pd.Series, report: dict) -> list[str]:
    """``communes.csv`` ``unites`` after :func:`subdivide_units`: a divided commune gives way to
    its sub-units."""
    out = []
    for listed in unites.astype(str):
        codes: list[str] = []
        for u in listed.split(";"):
            codes += report[u]["codes"] if u in report else [u]
        out.append(";".join(sorted(codes)))
    return out


def subdivision_metadata(sub: Subdivision, report: dict) -> dict:
    """The ``subdivisions`` entry of ``metadata.json``: sources, tolerances, figures by commune."""
    return {
        "source": sub.source,
        "population_column": sub.population_column,
        "population_note": (
            f"populations des unités infracommunales ({sub.population_column}) ramenées à la "
            "population légale de leur commune (plus forts restes), pour un seul millésime"
        ),
        "tolerances": {
            "area": AREA_TOLERANCE,
            "overlap": OVERLAP_TOLERANCE,
            "population": POPULATION_TOLERANCE,
        },
        "communes": {k: {f: v for f, v in r.items() if f != "codes"} for k, r in sorted(report.items())},
    }


def subdivision_sources_md(meta: dict) -> str:
    """The section of ``SOURCES.md`` on the units below the commune ("" without any)."""
    sub = meta.get("subdivisions")
    if not sub:
        return ""
    tol = sub["tolerances"]
    lines = [
        f"  - `{code}` {c['nom']}: {c['unites']} units; {c['population_source']:,} inhabitants in the "
        f"source for a population légale of {c['population_legale']:,} ({c['ecart_population']:+.2%})"
        for code, c in sub["communes"].items()
    ]
    return (
        "\n## Units below the commune\n\n"
        f"{len(sub['communes'])} commune(s) are replaced by units below the commune (type "
        f"`infracommunal`) from {sub['source']}: "
        "the commune's EPCI, département, région, zone and EPSG are inherited, `commune` is its "
        "INSEE code, and `communes.csv` lists them in `unites`. Each commune was checked: the "
        f"union of its units differs from it by at most {tol['area']:.0%} of its area (symmetric "
        f"difference) and they overlap by at most {tol['overlap']:.1%} (sum of their areas minus the "
        "area of their union), in the zone's projected CRS; they were then clipped to the commune "
        "and what they left uncovered given to the unit bordering it most. Their populations "
        f"(`{sub['population_column']}`) are of another vintage than the populations légales: they "
        f"were checked to sum to the commune's within {tol['population']:.0%}, then scaled to its "
        "population légale (integers, largest remainders), so that every total stays of one "
        "vintage.\n\n" + "\n".join(lines) + "\n"
    )
