"""Reading proposals and registers as users send them.

A *proposal* is the list of communes of a CPTS territory: a CSV or TXT file (any common
delimiter; UTF-8, UTF-8 with BOM or Windows cp1252), an XLSX workbook, a plain list with one code
or name per line, or a GeoJSON/GeoPackage polygon (converted to whole units by area share). A
*register* lists the existing CPTS: one row per (CPTS, commune) with ``cpts_id``, ``cpts_nom``,
``code_insee`` and optional ``statut`` and ``date_statut``; or polygons with ``cpts_id`` and
``cpts_nom``.

Everything that can be resolved is resolved, with a warning naming the line (a code without its
leading zero, an old code, a duplicate row); everything else raises one :class:`InputError`
naming the file, the line and the value of every problem.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.inputs import proposal_from_codes
>>> ref = cg.load_reference()
>>> p = proposal_from_codes(["49007", "49015", "49015"], ref)
>>> p.codes, p.warnings[0]["message"]
(['49007', '49015'], 'doublon ignoré : 49015 déjà cité')
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._cells import blank, cell_text, fold, short_error
from ._errors import InputError
from ._layout import (  # the column names are re-exported: cpts_geo.inputs.CODE_COLUMNS...
    CODE_COLUMNS,  # noqa: F401
    CPTS_ID_COLUMNS,  # noqa: F401
    CPTS_NAME_COLUMNS,  # noqa: F401
    DATE_COLUMNS,  # noqa: F401
    DEP_COLUMNS,  # noqa: F401
    EPCI_COLUMNS,  # noqa: F401
    NAME_COLUMNS,  # noqa: F401
    POSTAL_COLUMNS,  # noqa: F401
    SHARED_COLUMNS,  # noqa: F401
    STAGE_COLUMNS,  # noqa: F401
    _cell,
    _columns,
    _header_index,
    _holds_communes,
    _looks_like_code,
    _one_line_list,
    _polygon_fields,
    _skipped,
    _split_header,
    _without_totals,
    without_remark,
)
from ._text import fr_decimal, fr_int, fr_plural, safe
from .reference import Reference
from .register import STAGES, Register, register_from_frame, replace_geometries

__all__ = [
    "MISSING_MARKERS",
    "STAGES",
    "IndicatorTable",
    "Proposal",
    "Register",
    "proposal_from_codes",
    "read_indicators",
    "read_proposal",
    "read_register",
    "register_from_frame",
]

log = logging.getLogger(__name__)

#: Cell values read as "no value" in indicator tables: blanks, and the markers INSEE, the
#: SNDS and the CNAM use for secret or unavailable values.
MISSING_MARKERS = {"", "s", "secret", "nd", "n.d.", "n/d", "nc", "n.c.", "na", "nan", "-", "–", "—", "x", "*"}

#: A unit is part of a polygon when more than this share of its area is inside.
MAJORITY = 0.5
#: A unit is reported as cut by a polygon when between these shares of its area are inside
#: (below and above, the difference is the generalization of the boundaries, not a choice).
CUT_BOUNDS = (0.05, 0.95)

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".lst", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}


@dataclass
class Proposal:
    """A proposed territory read from a file or a list.

    Attributes
    ----------
    codes
        Resolved unit codes, in input order, without duplicates.
    name
        The territory's name: a ``cpts_nom`` column if the file has one, else the file's stem.
    source
        The file the proposal was read from (``""`` for a list given in code).
    warnings
        What was resolved with a correction: ``{"line", "value", "message"}`` each.
    cut_units
        Polygon inputs only: units the polygon cuts (index: unit code; ``nom``, ``share`` of the
        unit's area inside, ``included``). Empty otherwise.
    """

    codes: list[str]
    name: str | None = None
    source: str = ""
    warnings: list[dict] = field(default_factory=list)
    cut_units: pd.DataFrame = field(default_factory=lambda: _empty_cut())


def _empty_cut() -> pd.DataFrame:
    return pd.DataFrame(
        {"nom": pd.Series(dtype=object), "share": pd.Series(dtype=float), "included": pd.Series(dtype=bool)},
        index=pd.Index([], name="code", dtype=object),
    )


# ---------------------------------------------------------------------------------------------
# Proposals
# ---------------------------------------------------------------------------------------------
def proposal_from_codes(
    values,
    ref: Reference,
    *,
    name: str | None = None,
    departement=None,
    lines=None,
    source: str = "",
    names=None,
    postal_codes=None,
    prefer: str | None = None,
) -> Proposal:
    """A proposal from a list of codes or names (as :meth:`Reference.resolve` accepts them).

    ``names``, ``postal_codes`` and ``prefer`` are passed to :meth:`Reference.resolve`: the name
    given next to each code (both must designate the same unit unless ``prefer`` says which
    wins), and a postal code per value that chooses between homonyms.

    Raises
    ------
    InputError
        Naming every value that could not be resolved, or when nothing is left.
    """
    values = list(values)
    res = ref.resolve(
        values,
        departement=departement,
        postal_codes=postal_codes,
        names=names,
        prefer=prefer,
        lines=lines,
        source=source or None,
    )
    if not res.codes:
        raise InputError(
            f"{source or 'proposition'} : aucune commune après lecture ; la proposition est vide"
        )
    return Proposal(codes=res.codes, name=name, source=source, warnings=_plain_warnings(res.warnings))


def read_proposal(
    path,
    ref: Reference,
    *,
    sheet: str | None = None,
    departement=None,
    prefer: str | None = None,
    skip_rows: int | None = None,
    crs=None,
    layer: str | None = None,
) -> Proposal:
    """Read a proposed territory from a file.

    Parameters
    ----------
    path
        CSV/TXT (any common delimiter and encoding), XLSX, a list with one code or name per line
        (or one line of names separated by commas), or a GeoJSON/GeoPackage of polygon(s).
        Title and blank rows above the header, notes below the data and total rows are skipped
        with a warning.
    ref
        The reference the codes are resolved against.
    sheet
        XLSX only: the sheet to read (default: the first that holds communes).
    departement
        A département that disambiguates commune names (when the file has no département column).
    prefer
        ``"codes"`` or ``"names"``: which column wins when a row's code and name designate two
        different communes (default: such a row is an error).
    skip_rows
        Skip the first ``skip_rows`` lines of the file (title rows the reader did not recognise).
    crs
        Polygon files without a CRS: the CRS of their coordinates (``2154`` for Lambert-93).
    layer
        GeoPackage only: the layer to read (needed when the file has several).

    Returns
    -------
    Proposal

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> p = read_proposal(cg.reference.default_data_dir() / "examples" / "proposition_pass.csv",
    ...                   cg.load_reference())  # doctest: +SKIP
    """
    path = _as_path(path)
    kind = _kind(path)
    if kind == "geo":
        return _proposal_from_polygons(path, ref, layer, crs=crs)
    if layer is not None:
        raise InputError(f"{path} : le paramètre layer ne s'applique qu'aux fichiers géographiques")
    rows, layout = _table_rows(path, sheet=sheet, skip_rows=skip_rows)
    header, body = _split_header(rows, path)
    src = str(path)
    warnings: list[dict] = list(layout)
    extra: dict = {"prefer": prefer}
    if header is None:
        values, lines, deps, warnings = _headerless_values(body, ref, departement, src)
        name = path.stem
    else:
        values, deps, lines, name, more = _header_values(header, body, rows, src, departement, warnings)
        extra.update(more)
        name = name or path.stem
    if not values:
        raise InputError(f"{src} : aucune commune dans le fichier (lignes vides ou en-tête seul)")
    p = proposal_from_codes(values, ref, name=name, departement=deps, lines=lines, source=src, **extra)
    p.warnings = _row_warnings(rows) + warnings + p.warnings
    return p


def _header_values(header, body, rows, src, departement, warnings):
    """Values, départements, lines, CPTS name and the extra arguments of resolve for a proposal
    table with a header."""
    cols = _columns(header)
    code_col, name_col, epci_col = cols.get("code"), cols.get("name"), cols.get("epci")
    if code_col is None and name_col is None and epci_col is None:
        raise InputError(
            f"{src} : ligne {rows[0].line} : aucune colonne de codes communes reconnue parmi "
            f"{', '.join(repr(h) for h in header)} ; attendu code_insee, CODGEO, Code INSEE, "
            "insee, code_commune_insee, COM, DEPCOM, ou des noms dans une colonne Commune "
            "(avec Département)"
        )
    values, deps, lines, names, postal = [], [], [], [], []
    for r in body:
        code, nom, epci = _cell(r, code_col), _cell(r, name_col), _cell(r, epci_col)
        v = code or nom or epci
        if not v:
            warnings.append(
                {
                    "line": r.line,
                    "value": "; ".join(c for c in r.cells if c),
                    "message": "ligne sans code ni nom de commune, ignorée",
                }
            )
            continue
        values.append(v)
        # A name over several lines is a quoted field that swallowed rows (warned): not a name.
        names.append(without_remark(nom) if code and nom and "\n" not in nom else None)
        postal.append(_cell(r, cols.get("postal")) or None)
        lines.append(r.line)
        d = _cell(r, cols.get("dep")) if cols.get("dep") is not None else ""
        deps.append(d or departement)
    name = None
    if cols.get("cpts_name") is not None:
        name = next((_cell(r, cols["cpts_name"]) for r in body if _cell(r, cols["cpts_name"])), None)
    return values, deps, lines, name, {"names": names, "postal_codes": postal}


def _headerless_values(body: list[_Row], ref: Reference, departement, src: str):
    """Values, lines and départements of a list without a header: every code of every cell
    (``49007;49015`` or ``49007 49015`` on one line are two communes); on a line without a code,
    one name, optionally followed by its département. Anything else is refused: a value is
    never dropped."""
    values: list[str] = []
    lines: list[int] = []
    deps: list = []
    problems: list[dict] = []
    several = []
    for r in body:
        cells = [c for c in r.cells if c]
        codes = [t for c in cells for t in _code_tokens(c)]
        if codes:
            if len(codes) > 1:
                several.append(r.line)
            values += codes
            lines += [r.line] * len(codes)
            deps += [departement] * len(codes)
            continue
        if len(cells) == 2 and ref.departement_code(cells[1]) in ref.departements.index:
            values.append(cells[0])
            deps.append(cells[1])
        elif len(cells) == 1:
            values.append(cells[0])
            deps.append(departement)
        else:
            shown = ", ".join(f"'{safe(c, 40)}'" for c in cells[:4])
            problems.append(
                {
                    "line": r.line,
                    "value": "; ".join(cells),
                    "message": f"ligne {r.line} : {len(cells)} valeurs sans code commune ({shown}) ; "
                    "une commune par ligne (nom, et en option son département), ou ajoutez un en-tête "
                    "(code_insee, commune, departement)",
                }
            )
            continue
        lines.append(r.line)
    if problems:
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems), problems)
    warnings = []
    if several:
        warnings.append(
            {
                "line": several[0],
                "value": "",
                "message": f"{fr_plural(len(several), 'ligne')} sans en-tête portent plusieurs codes "
                f"(première : ligne {several[0]}) : tous sont lus ; si une colonne n'est pas un code "
                "commune, ajoutez un en-tête (code_insee, ...)",
            }
        )
    return values, lines, deps, warnings


def _code_tokens(cell: str) -> list[str]:
    """The codes a cell holds: itself if it is a code, its parts if it is several codes
    separated by spaces, commas or semicolons, else none."""
    if _looks_like_code(cell):
        return [cell.strip()]
    parts = [t for t in re.split(r"[\s,;|/]+", cell) if t]
    if len(parts) > 1 and all(_looks_like_code(t) for t in parts):
        return parts
    return []


def _row_warnings(rows: list[_Row]) -> list[dict]:
    """What the low-level readers noticed on the rows (a quoted field over several lines)."""
    return [w for r in rows for w in r.warnings]


def _proposal_from_polygons(path: Path, ref: Reference, layer: str | None = None, *, crs=None) -> Proposal:
    gdf = _read_geo(path, ref, layer=layer, crs=crs)
    geom = shapely.union_all(gdf.geometry.to_numpy())
    shares = _area_shares(ref, geom)
    inside = shares.index[shares > MAJORITY].tolist()
    inside = _with_contained(ref, inside)
    if not inside:
        raise InputError(
            f"{path} : le polygone ne contient la majorité d'aucune commune ; la proposition est vide"
        )
    order = ref.position.reindex(inside).sort_values().index.tolist()
    cut = shares[(shares > CUT_BOUNDS[0]) & (shares < CUT_BOUNDS[1])]
    cut_units = pd.DataFrame(
        {
            "nom": ref.units.loc[cut.index, "nom"].to_numpy(),
            "share": cut.round(3).to_numpy(),
            "included": (cut > MAJORITY).to_numpy(),
        },
        index=pd.Index(cut.index, name="code"),
    )
    warnings = [
        {
            "line": None,
            "value": code,
            "message": f"{row['nom']} ({code}) coupée par le contour : {_pct(row['share'])} de sa surface "
            + ("dedans, incluse" if row["included"] else "dedans, exclue")
            + " ; une CPTS devrait être faite de communes entières",
        }
        for code, row in cut_units.iterrows()
    ]
    name = None
    for col in ("cpts_nom", "nom", "name"):
        if col in gdf.columns and gdf[col].notna().any():
            name = str(gdf[col].dropna().iloc[0])
            break
    return Proposal(
        codes=order,
        name=name or path.stem,
        source=str(path),
        warnings=gdf.attrs.get("warnings", []) + warnings,
        cut_units=cut_units,
    )


def _area_shares(ref: Reference, geom) -> pd.Series:
    """Share of each unit's area inside ``geom`` (EPSG:4326), measured in the zone's CRS."""
    units = ref.units
    idx = units.sindex.query(geom, predicate="intersects")
    if not len(idx):
        return pd.Series(dtype=float)
    cand = units.iloc[np.sort(idx)]
    out = []
    for epsg, part in cand.groupby("epsg"):
        proj = part.geometry.to_crs(int(epsg)).to_numpy()
        g = gpd.GeoSeries([geom], crs=4326).to_crs(int(epsg)).iloc[0]
        area = shapely.area(proj)
        inter = shapely.area(shapely.intersection(proj, g))
        out.append(pd.Series(np.where(area > 0, inter / area, 0.0), index=part.index))
    return pd.concat(out)


def _with_contained(ref: Reference, codes: list[str]) -> list[str]:
    """Add the units without a geometry whose polygon is their container's (restored communes)."""
    units = ref.units
    missing = units.index[units.geometry.isna()]
    chosen = set(codes)
    for code in missing:
        m = re.search(r"inclus dans (\d\w\d{3})", str(units.at[code, "geometry_source"]))
        if m and m.group(1) in chosen and code not in chosen:
            codes.append(code)
            chosen.add(code)
    return codes


def _geo_layer(path: Path, layer: str | None) -> str | None:
    """The layer to read: ``layer`` (checked), the only spatial layer, or a refusal listing
    the layers (a second layer is never ignored silently). Non-spatial tables such as QGIS's
    ``layer_styles`` are not layers of polygons."""
    import pyogrio

    try:
        listed = pyogrio.list_layers(path)
    except Exception:  # unreadable: gpd.read_file says why
        return layer
    spatial = [str(name) for name, gtype in listed if gtype is not None]
    if layer is not None:
        if layer not in spatial:
            raise InputError(
                f"{path} : couche '{safe(layer)}' introuvable ; couches : {', '.join(map(safe, spatial)) or 'aucune'}"
            )
        return layer
    if len(spatial) > 1:
        raise InputError(
            f"{path} : {fr_int(len(spatial))} couches ({', '.join(map(safe, spatial))}) ; choisissez-en une "
            "(paramètre layer)"
        )
    return spatial[0] if spatial else None


def _read_geo(
    path: Path, ref: Reference | None = None, *, layer: str | None = None, crs=None
) -> gpd.GeoDataFrame:
    """The polygons of a geographic file in EPSG:4326, repaired; what was repaired is in
    ``gdf.attrs["warnings"]`` (the area before and after, in the zone's CRS)."""
    import warnings as _warnings

    _check_input_file(path)
    chosen = _geo_layer(path, layer)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # pyogrio's own warnings: our messages say it in French
            gdf = gpd.read_file(path, layer=chosen) if chosen is not None else gpd.read_file(path)
    except Exception as exc:  # pyogrio/GDAL raise many kinds; all mean "cannot read this file"
        raise InputError(
            f"{path} : fichier géographique illisible ({safe(short_error(exc))}) ; attendu un "
            "GeoJSON ou un GeoPackage de polygones"
        ) from None
    if gdf.crs is None or crs is not None or _not_degrees(gdf):
        gdf = _declared_crs(gdf, path, crs)
    if not len(gdf):
        raise InputError(f"{path} : le fichier ne contient aucun objet")
    gtype = shapely.get_type_id(gdf.geometry.to_numpy())
    bad = np.flatnonzero(~np.isin(gtype, [3, 6]))  # Polygon, MultiPolygon
    if len(bad):
        kinds = sorted(set(gdf.geometry.iloc[bad].geom_type.fillna("vide")))
        raise InputError(
            f"{path} : objet n°{bad[0] + 1} : géométrie {', '.join(kinds)} ; attendu des polygones"
        )
    geoms = gdf.geometry.to_numpy()
    for i, g in enumerate(geoms):
        xy = shapely.get_coordinates(g)
        if not np.isfinite(xy).all():
            raise InputError(f"{path} : objet n°{i + 1} : coordonnées non finies (NaN ou infini)")
    try:
        gdf = gdf.to_crs(4326)
    except Exception as exc:  # PROJ errors: a CRS it cannot transform
        raise InputError(f"{path} : reprojection impossible ({safe(short_error(exc))})") from None
    gdf["geometry"], gdf.attrs["warnings"] = _repaired(path, gdf.geometry.to_numpy(), ref)
    return gdf


def _declared_crs(gdf: gpd.GeoDataFrame, path: Path, crs) -> gpd.GeoDataFrame:
    """A layer without CRS with the one the user declared; else an error that says whether its
    coordinates look like degrees or projected metres."""
    if crs is not None:
        try:
            return gdf.set_crs(_crs_value(crs), allow_override=True)
        except Exception as exc:  # pyproj raises CRSError and ValueError
            raise InputError(f"crs '{crs}' : système de coordonnées inconnu ({short_error(exc)})") from None
    bounds = gdf.total_bounds if len(gdf) else np.array([np.nan] * 4)
    if _not_degrees(gdf):
        raise InputError(
            f"{path} : le fichier n'a pas de système de coordonnées (CRS) déclaré et ses coordonnées "
            f"(x de {bounds[0]:.0f} à {bounds[2]:.0f}, y de {bounds[1]:.0f} à {bounds[3]:.0f}) ne sont pas "
            "des degrés : elles semblent projetées (en mètres ; Lambert-93, EPSG:2154, en métropole) ; "
            "déclarez le CRS (paramètre crs, par exemple crs=2154) ou enregistrez le fichier avec son CRS"
        )
    raise InputError(
        f"{path} : le fichier n'a pas de système de coordonnées (CRS) ; ses coordonnées ressemblent à "
        "des degrés : déclarez le CRS (paramètre crs, par exemple crs=4326) ou enregistrez le fichier "
        "avec son CRS (par exemple EPSG:2154 ou EPSG:4326)"
    )


def _not_degrees(gdf: gpd.GeoDataFrame) -> bool:
    """Coordinates out of the range of degrees in a layer without CRS or in a geographic one (a
    GeoJSON without CRS is read as EPSG:4326): they are projected metres."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return False
    bounds = gdf.total_bounds if len(gdf) else np.array([np.nan] * 4)
    return bool(
        np.isfinite(bounds).all()
        and (np.abs(bounds[[0, 2]]).max() > 180 or np.abs(bounds[[1, 3]]).max() > 90)
    )


def _crs_value(crs):
    text = str(crs).strip()
    return int(text) if text.isdigit() else text


def _repaired(path: Path, geoms: np.ndarray, ref: Reference | None) -> tuple[np.ndarray, list[dict]]:
    """Polygons made valid: a self-intersecting one is repaired with a warning giving its area
    before and after (in the zone's CRS: the repair may change which communes are in); one that
    is degenerate (no area left) or that GEOS cannot repair is an InputError naming it."""
    out = geoms.copy()
    warnings = []
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    for i in invalid:
        try:
            fixed = shapely.make_valid(geoms[i])
            fixed = shapely.union_all(
                [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in (3, 6)]
            )
        except shapely.errors.GEOSException as exc:
            raise InputError(f"{path} : objet n°{i + 1} : géométrie irréparable ({safe(exc)})") from None
        epsg = _zone_epsg(ref, fixed if not fixed.is_empty else geoms[i])
        before, after = gpd.GeoSeries([geoms[i], fixed], crs=4326).to_crs(epsg).area.to_numpy() / 1e6
        if fixed.is_empty or not after > 0:
            raise InputError(
                f"{path} : objet n°{i + 1} : polygone dégénéré (surface nulle : points confondus ou "
                "contour aplati) ; redessinez-le"
            )
        warnings.append(
            {
                "line": int(i + 1),
                "value": f"objet n°{i + 1}",
                "message": f"objet n°{i + 1} : polygone invalide (contour qui se recoupe) réparé : "
                f"{fr_decimal(abs(before), 2)} km² avant, {fr_decimal(after, 2)} km² après (EPSG:{epsg}) ; "
                "vérifiez les communes retenues",
            }
        )
        out[i] = fixed
    return out, warnings


def _zone_epsg(ref: Reference | None, geom) -> int:
    """The projected CRS of the zone a geometry falls in (Lambert-93 by default)."""
    if ref is None:
        return 2154
    idx = ref.units.sindex.query(geom, predicate="intersects")
    if not len(idx):
        return 2154
    return int(pd.Series(ref.units["epsg"].to_numpy()[idx]).mode().iloc[0])


# ---------------------------------------------------------------------------------------------
# Registers
# ---------------------------------------------------------------------------------------------
def read_register(
    path,
    ref: Reference,
    *,
    sheet: str | None = None,
    prefer: str | None = None,
    skip_rows: int | None = None,
    crs=None,
    id_column: str | None = None,
    name_column: str | None = None,
    stage_column: str | None = None,
    layer: str | None = None,
) -> Register:
    """Read a register of existing CPTS.

    Parameters
    ----------
    path
        CSV/TXT/XLSX with one row per (CPTS, commune): ``cpts_id``, ``cpts_nom``, ``code_insee``
        (or a commune name, with its département or postal code; or an EPCI name or SIREN, in
        the commune column or an ``EPCI`` column, for all its communes) and optional ``statut``,
        ``date_statut``, ``commune_partagee``; or a GeoJSON/GeoPackage of polygons with
        ``cpts_id`` and ``cpts_nom``. Each CPTS is resolved on its own: its other communes
        decide its homonyms.
    ref
        The reference the codes are resolved against.
    sheet
        XLSX only: the sheet to read (default: the first that holds communes).
    prefer, skip_rows
        As for :func:`read_proposal`.
    crs
        Polygon files without a CRS: the CRS of their coordinates.
    id_column, name_column, stage_column
        Polygon files: the fields holding the CPTS id, name and stage, when they are not
        ``cpts_id``, ``cpts_nom``, ``statut`` or a known variant.
        XLSX only: the sheet to read (default: the first).
    layer
        GeoPackage only: the layer to read (needed when the file has several).

    Returns
    -------
    Register

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem.
    """
    path = _as_path(path)
    if _kind(path) == "geo":
        return _register_from_polygons(
            path,
            ref,
            layer,
            crs=crs,
            id_column=id_column,
            name_column=name_column,
            stage_column=stage_column,
        )
    if layer is not None:
        raise InputError(f"{path} : le paramètre layer ne s'applique qu'aux fichiers géographiques")
    rows, layout = _table_rows(path, sheet=sheet, skip_rows=skip_rows)
    header, body = _split_header(rows, path)
    src = str(path)
    if header is None:
        raise InputError(
            f"{src} : ligne {rows[0].line} : en-tête attendu avec les colonnes cpts_id, "
            "cpts_nom, code_insee (et statut, date_statut)"
        )
    cols = _columns(header)
    missing = [
        label for key, label in (("cpts_id", "cpts_id"), ("code", "code_insee")) if cols.get(key) is None
    ]
    if missing == ["code_insee"] and (cols.get("name") is not None or cols.get("epci") is not None):
        missing = []
    if missing:
        raise InputError(
            f"{src} : ligne {rows[0].line} : colonne(s) {', '.join(missing)} introuvable(s) "
            f"parmi {', '.join(repr(h) for h in header)} ; un registre a une ligne par "
            "(CPTS, commune) avec cpts_id, cpts_nom, code_insee, et en option statut, date_statut, "
            "commune_partagee"
        )
    warnings: list[dict] = list(layout)
    fields = {
        "cpts_id": "cpts_id",
        "cpts_nom": "cpts_name",
        "code_insee": "code",
        "nom_commune": "name",
        "epci": "epci",
        "code_postal": "postal",
        "statut": "stage",
        "date_statut": "date",
        "departement": "dep",
        "commune_partagee": "shared",
    }
    data: dict[str, list] = {k: [] for k in fields}
    lines = []
    for r in body:
        if not (_cell(r, cols.get("code")) or _cell(r, cols.get("name")) or _cell(r, cols.get("epci"))):
            warnings.append(
                {
                    "line": r.line,
                    "value": "; ".join(c for c in r.cells if c),
                    "message": "ligne sans code ni nom de commune, ignorée",
                }
            )
            continue
        for key, role in fields.items():
            data[key].append(_cell(r, cols.get(role)))
        data["nom_commune"][-1] = without_remark(data["nom_commune"][-1])
        lines.append(r.line)
    if not lines:
        raise InputError(f"{src} : aucune ligne de données sous l'en-tête ; le registre est vide")
    reg = register_from_frame(pd.DataFrame(data, dtype=object), ref, source=src, lines=lines, prefer=prefer)
    return reg.with_warnings(_row_warnings(rows) + warnings)


def register_cells(
    path, *, sheet: str | None = None, skip_rows: int | None = None
) -> dict[int, tuple[str, str]]:
    """The commune cell (code, name or EPCI) and the stage cell of each data row of a register
    table as written, by line: what :func:`cpts_geo.migrate.migrate_register` compares with
    what was read."""
    rows, _ = _table_rows(Path(path), sheet=sheet, skip_rows=skip_rows)
    header, body = _split_header(rows, Path(path))
    cols = _columns(header or [])
    return {
        r.line: (
            _cell(r, cols.get("code")) or _cell(r, cols.get("name")) or _cell(r, cols.get("epci")),
            _cell(r, cols.get("stage")),
        )
        for r in body
    }


def _register_from_polygons(
    path: Path,
    ref: Reference,
    layer: str | None = None,
    *,
    crs=None,
    id_column=None,
    name_column=None,
    stage_column=None,
) -> Register:
    gdf = _read_geo(path, ref, layer=layer, crs=crs)
    mapping = _polygon_fields(gdf, path, id_column, name_column, stage_column)
    gdf = gdf[[*mapping.values(), gdf.geometry.name]].rename(columns={v: k for k, v in mapping.items()})
    rows: list[dict] = []
    warnings: list[dict] = []
    lines: list[int] = []
    geoms: dict[str, object] = {}
    for i, rec in enumerate(gdf.itertuples(index=False), start=1):
        cid = "" if blank(rec.cpts_id) else cell_text(rec.cpts_id)
        nom = cell_text(getattr(rec, "cpts_nom", "")) if not blank(getattr(rec, "cpts_nom", None)) else ""
        stage = cell_text(getattr(rec, "statut", "")) if not blank(getattr(rec, "statut", None)) else ""
        date = (
            cell_text(getattr(rec, "date_statut", "")) if not blank(getattr(rec, "date_statut", None)) else ""
        )
        shares = _area_shares(ref, rec.geometry)
        inside = _with_contained(ref, shares.index[shares > MAJORITY].tolist())
        if cid in geoms:
            geoms[cid] = shapely.union(geoms[cid], rec.geometry)
        else:
            geoms[cid] = rec.geometry
        if not inside:
            raise InputError(
                f"{path} : objet n°{i} (CPTS '{cid}') : le polygone ne contient la majorité d'aucune commune"
            )
        cut = shares[(shares > CUT_BOUNDS[0]) & (shares < CUT_BOUNDS[1])]
        for code, share in cut.items():
            warnings.append(
                {
                    "line": i,
                    "value": code,
                    "message": f"CPTS '{cid}' : {ref.units.at[code, 'nom']} ({code}) coupée par le "
                    f"contour ({_pct(share)} dedans, " + ("incluse)" if share > MAJORITY else "exclue)"),
                }
            )
        for code in inside:
            rows.append(
                {"cpts_id": cid, "cpts_nom": nom, "code_insee": code, "statut": stage, "date_statut": date}
            )
            lines.append(i)
    reg = register_from_frame(pd.DataFrame(rows, dtype=object), ref, source=str(path), lines=lines)
    polygons = gpd.GeoDataFrame(
        geometry=list(geoms.values()), index=pd.Index(list(geoms), name="cpts_id"), crs=4326
    )
    return replace_geometries(reg.with_warnings(gdf.attrs.get("warnings", []) + warnings), polygons)


# ---------------------------------------------------------------------------------------------
# Tables: CSV/TXT/XLSX rows with their line numbers
# ---------------------------------------------------------------------------------------------
@dataclass
class _Row:
    line: int
    cells: list[str]
    warnings: list[dict] = field(default_factory=list)


#: Input files larger than this are refused before reading (a register of every commune of
#: France, 35,000 rows, is about 3 MB).
MAX_INPUT_BYTES = 200 * 1024 * 1024


def _check_input_file(path: Path) -> None:
    """Refuse, before reading, a path that is missing, a folder, not a regular file (a device
    such as /dev/zero, a FIFO, a socket) or larger than :data:`MAX_INPUT_BYTES`."""
    import os
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path} : fichier introuvable") from None
    except OSError as exc:
        raise InputError(f"{path} : fichier inaccessible ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        if path.suffix.lower() == ".gdb":
            return
        raise InputError(f"{path} : est un dossier, pas un fichier")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path} : n'est pas un fichier ordinaire (périphérique, tube ou socket) ; non lu")
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(
            f"{path} : fichier de {fr_int(st.st_size)} octets, au-delà de la limite de "
            f"{fr_int(MAX_INPUT_BYTES / 2**20)} Mo ; découpez-le (par département ou par région)"
        )


def _as_path(path) -> Path:
    """A path given as ``str`` or ``os.PathLike``; any other object is an InputError."""
    import os

    if not isinstance(path, str | os.PathLike) or (isinstance(path, str) and ("\x00" in path or not path)):
        raise InputError(
            f"chemin de fichier attendu (str ou Path), reçu {type(path).__name__} {safe(repr(path), 60)}"
        )
    return Path(path)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in GEO_SUFFIXES:
        return "geo"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InputError(
            f"{path} : format Excel 97-2003 (.xls) non pris en charge ; enregistrez le "
            "classeur en .xlsx ou en CSV"
        )
    if suffix in (".ods", ".numbers"):
        raise InputError(f"{path} : format {suffix} non pris en charge ; enregistrez-le en .xlsx ou en CSV")
    return "text"


def _read_rows(path: Path, *, sheet: str | None = None) -> list[_Row]:
    """Non-blank rows of a text or XLSX table, cells stripped, with their line (row) numbers."""
    _check_input_file(path)
    if _kind(path) == "xlsx":
        rows = _xlsx_rows(path, sheet)
    else:
        if sheet is not None:
            raise InputError(f"{path} : le choix d'une feuille (sheet) ne s'applique qu'aux classeurs .xlsx")
        rows = _text_rows(path)
    if not rows:
        raise InputError(f"{path} : fichier vide")
    return rows


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                return data.decode("utf-16")
            except UnicodeDecodeError:
                pass
        raise InputError(
            f"{path} : fichier binaire, pas un tableau texte ; attendu un CSV, un TXT ou un .xlsx"
        )
    if data[:4] == b"PK\x03\x04":
        raise InputError(
            f"{path} : ce fichier est un classeur compressé (xlsx ?) ; donnez-lui l'extension .xlsx"
        )
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _text_rows(path: Path) -> list[_Row]:
    text = _decode(path.read_bytes(), path)
    physical = text.splitlines()
    sample = [ln for ln in physical if ln.strip()][:50]
    delim = _delimiter(sample)
    rows = []
    if delim is None:
        for i, ln in enumerate(physical, start=1):
            if ln.strip():
                rows.append(_Row(i, [ln.strip().strip('"').strip()]))
        return rows
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    start = 1
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append(_Row(line, cells, _multiline_warnings(cells, line, reader.line_num)))
    except csv.Error as exc:
        raise InputError(f"{path} : ligne {reader.line_num} : CSV illisible ({exc})") from None
    return rows


def _multiline_warnings(cells: list[str], line: int, last: int) -> list[dict]:
    """A quoted field that runs over line breaks: a commune name never holds one, so it is
    almost always an unbalanced ``"`` that swallowed the lines that follow."""
    cell = next((c for c in cells if "\n" in c or "\r" in c), None)
    if cell is None:
        return []
    return [
        {
            "line": line,
            "value": safe(cell, 60),
            "message": f"champ entre guillemets sur plusieurs lignes (lignes {line} à {last}) : un "
            "guillemet \" n'est pas refermé ? vérifiez ces lignes",
        }
    ]


def _delimiter(sample: list[str]) -> str | None:
    """The delimiter that splits the sample's lines into the same number (> 1) of fields."""
    best, best_score = None, 0.0
    for d in (";", "\t", ",", "|"):
        counts = []
        for ln in sample:
            try:
                counts.append(len(next(csv.reader([ln], delimiter=d))))
            except (csv.Error, StopIteration):
                counts.append(1)
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = counts.count(mode) / len(counts) + 0.001 * mode
        if score > best_score:
            best, best_score = d, score
    return best


def _xlsx_rows(path: Path, sheet: str | None) -> list[_Row]:
    """Rows of a sheet: cached values; a formula without a cached value (a workbook written by
    a script, never opened in Excel) is evaluated when simple (a constant, a cell, ``&``) and
    refused, naming the cells, otherwise."""
    values = _xlsx_values(path, sheet, data_only=True)
    formulas = None
    rows = []
    for i, row in enumerate(values, start=1):
        if any(v is None for v in row):
            if formulas is None:
                formulas = _xlsx_values(path, sheet, data_only=False)
            row = _fill_formulas(row, i, formulas)
        cells = ["" if blank(v) else cell_text(v) for v in row]
        if any(cells):
            rows.append(_Row(i, cells))
    if formulas is not None:
        bad = _unevaluated(values, formulas)
        if bad:
            shown = ", ".join(f"{c} ({safe(f, 40)})" for c, f in bad[:5])
            more = f" et {fr_int(len(bad) - 5)} autres" if len(bad) > 5 else ""
            raise InputError(
                f"{path} : {fr_plural(len(bad), 'formule')} sans valeur calculée : {shown}{more} ; "
                "ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le (les valeurs seront "
                "calculées), ou remplacez les formules par leurs valeurs"
            )
    return rows


_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})")


def _evaluate(formula: str, formulas: list[tuple], depth: int = 0):
    """The value of a simple formula: a constant, a cell of the same sheet, or ``&`` of them;
    ``None`` when it is not that simple."""
    from openpyxl.utils import column_index_from_string

    if depth > 5:
        return None
    parts = [p.strip() for p in formula.lstrip("=").split("&")]
    out = []
    for part in parts:
        if re.fullmatch(r'"[^"]*"', part):
            out.append(part[1:-1])
        elif re.fullmatch(r"[+-]?\d+(\.\d+)?", part):
            out.append(cell_text(float(part)))
        elif m := _CELL_REF.fullmatch(part):
            r, c = int(m.group(2)) - 1, column_index_from_string(m.group(1)) - 1
            v = formulas[r][c] if r < len(formulas) and c < len(formulas[r]) else None
            if isinstance(v, str) and v.startswith("="):
                v = _evaluate(v, formulas, depth + 1)
                if v is None:
                    return None
            out.append("" if blank(v) else cell_text(v))
        else:
            return None
    return "".join(out) if len(out) > 1 or isinstance(out[0], str) else out[0]


def _fill_formulas(row: tuple, i: int, formulas: list[tuple]) -> tuple:
    f = formulas[i - 1] if i - 1 < len(formulas) else ()
    out = list(row)
    for j, v in enumerate(row):
        if v is None and j < len(f) and isinstance(f[j], str) and f[j].startswith("="):
            out[j] = _evaluate(f[j], formulas)
    return tuple(out)


def _unevaluated(values: list[tuple], formulas: list[tuple]) -> list[tuple[str, str]]:
    """Cells (``B4``) and formulas that have no cached value and are not simple."""
    from openpyxl.utils import get_column_letter

    bad = []
    for i, f in enumerate(formulas):
        row = values[i] if i < len(values) else ()
        for j, v in enumerate(f):
            if isinstance(v, str) and v.startswith("=") and (j >= len(row) or row[j] is None):
                if _evaluate(v, formulas) is None:
                    bad.append((f"{get_column_letter(j + 1)}{i + 1}", v))
    return bad


def _xlsx_values(path: Path, sheet: str | None, *, data_only: bool) -> list[tuple]:
    """The cell values of a sheet, row by row (``data_only``: cached values, else formulas)."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path} : classeur Excel illisible ({short_error(exc)}) ; réenregistrez-le en .xlsx ou en CSV"
        ) from None
    except Exception as exc:  # a corrupt archive: openpyxl and zipfile raise many kinds
        raise InputError(f"{path} : classeur Excel illisible ({short_error(exc)})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0] if wb.worksheets else None
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise InputError(
                f"{path} : feuille '{safe(sheet)}' introuvable ; feuilles : {', '.join(wb.sheetnames)}"
            )
        return [] if ws is None else [tuple(r) for r in ws.iter_rows(values_only=True)]
    except InputError:
        raise
    except Exception as exc:  # a corrupt sheet inside a valid zip: openpyxl raises many kinds
        raise InputError(f"{path} : classeur Excel illisible ({short_error(exc)})") from None
    finally:
        wb.close()


def _table_rows(path: Path, *, sheet: str | None, skip_rows: int | None) -> tuple[list[_Row], list[dict]]:
    """The rows of a table from its header on, without total and note rows, and the warnings
    naming what was skipped (title rows, totals, notes, another sheet)."""
    warnings: list[dict] = []
    if sheet is None and _kind(path) == "xlsx":
        rows, sheet_note = _communes_sheet(path)
        warnings += sheet_note
    else:
        rows = _read_rows(path, sheet=sheet)
    if skip_rows:
        skipped = [r for r in rows if r.line <= skip_rows]
        rows = [r for r in rows if r.line > skip_rows]
        if skipped:
            warnings.append(
                _skipped(skipped, f"{fr_plural(skip_rows, 'première ligne')} ignorée(s) à la demande")
            )
        if not rows:
            raise InputError(f"{path} : aucune ligne après les {skip_rows} premières")
    else:
        start = _header_index(rows)
        if start:
            warnings.append(_skipped(rows[:start], "ligne(s) de titre au-dessus de l'en-tête ignorée(s)"))
            rows = rows[start:]
    if len(rows) == 1:
        return _one_line_list(rows), warnings
    rows, dropped = _without_totals(rows)
    return rows, warnings + dropped


def _communes_sheet(path: Path) -> tuple[list[_Row], list[dict]]:
    """The rows of the first sheet that holds communes (a header we know, or codes), with a
    warning when it is not the first; an error listing the sheets when none does."""
    from openpyxl import load_workbook

    first = _read_rows_or_empty(path, None)
    if _holds_communes(first):
        return first, []
    try:
        wb = load_workbook(path, read_only=True)
        names = list(wb.sheetnames)
        wb.close()
    except Exception:  # unreadable: _read_rows already said why, or the first sheet is all there is
        return _read_rows(path, sheet=None), []
    for name in names[1:]:
        rows = _read_rows_or_empty(path, name)
        if _holds_communes(rows):
            return rows, [
                {
                    "line": None,
                    "value": name,
                    "message": f"feuille '{name}' lue : la première feuille, '{names[0]}', ne contient pas "
                    "de liste de communes reconnue",
                }
            ]
    if len(names) > 1:
        raise InputError(
            f"{path} : aucune feuille ne contient de liste de communes reconnue (en-tête code_insee, "
            f"Commune... ou codes INSEE) ; feuilles : {', '.join(repr(n) for n in names)} ; précisez la "
            "feuille à lire (paramètre sheet)"
        )
    return _read_rows(path, sheet=None), []


def _read_rows_or_empty(path: Path, sheet: str | None) -> list[_Row]:
    try:
        return _read_rows(path, sheet=sheet)
    except InputError as exc:
        if str(exc).endswith("fichier vide"):
            return []
        raise


def _plain_warnings(warnings: list[dict]) -> list[dict]:
    return [{"line": w.get("line"), "value": w.get("value", ""), "message": w["message"]} for w in warnings]


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


# ---------------------------------------------------------------------------------------------
# Commune-level indicator tables
# ---------------------------------------------------------------------------------------------
@dataclass
class IndicatorTable:
    """A commune-level indicator table read by :func:`read_indicators`.

    Attributes
    ----------
    table
        Indexed by INSEE code (``code``, five characters); numeric columns as floats (missing
        and secret values as NaN), other columns as text.
    source
        The file it was read from.
    warnings
        What was read with a correction or left out: ``{"line", "value", "message"}`` each.
    """

    table: pd.DataFrame
    source: str = ""
    warnings: list[dict] = field(default_factory=list)

    @property
    def numeric_columns(self) -> list[str]:
        """The columns read as numbers."""
        return [c for c in self.table.columns if pd.api.types.is_numeric_dtype(self.table[c])]


_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def _number(text: str) -> float | None:
    """A number as French or English spreadsheets write it; NaN for a missing/secret marker;
    ``None`` when it is not a number."""
    t = str(text).strip()
    if t.lower() in MISSING_MARKERS:
        return math.nan
    t = t.rstrip("%").strip()
    t = re.sub(r"[\s\u00a0\u202f']", "", t)
    if "," in t and "." in t:
        # 1.234,5 (French thousands) or 1,234.5 (English thousands): the last one is decimal.
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
    if not _NUMBER.fullmatch(t):
        return None
    return float(t)


def normalize_insee_code(value) -> str:
    """An INSEE code as files write it, in canonical form: ``1001`` -> ``01001``, ``2a004`` -> ``2A004``."""
    v = str(value).strip().upper()
    if re.fullmatch(r"\d+\.0", v):
        v = v[:-2]
    return v.zfill(5) if re.fullmatch(r"\d{4}", v) else v


def read_indicators(
    path, ref: Reference | None = None, *, code_column: str | None = None, sheet: str | None = None
) -> IndicatorTable:
    """Read a commune-level indicator table (CSV any delimiter/encoding, or XLSX).

    The code column is found as for proposals (``code_insee``, ``CODGEO``, ``Code INSEE``,
    ``insee``, ``COM``, ``DEPCOM``, ...; see :data:`cpts_geo.inputs.CODE_COLUMNS`), or named by
    ``code_column``. A column whose every non-blank cell is a number is read as numbers:
    French decimals (``12,5``), thousands separators (``1 234``), percentages (``12,5 %``);
    blanks and the secret / not-available markers of INSEE and the SNDS (``s``, ``secret``,
    ``nd``, ``nc``, ``-``, ...) become NaN. Other columns are kept as text.

    Parameters
    ----------
    path
        The file.
    ref
        When given, codes that are not units of the reference are reported in ``warnings``
        (codes of an older COG, or a whole city — 75056, 69123, 13055 — whose values cannot be
        split between its arrondissements); they are kept in the table but never match.
    code_column
        The name of the code column, when it is not recognised.
    sheet
        XLSX only: the sheet to read.

    Returns
    -------
    IndicatorTable

    Raises
    ------
    InputError
        File unreadable, no code column, a code on two rows or a row without code: every
        problem at once, with its line.

    Examples
    --------
    >>> import cpts_geo as cg
    >>> path = cg.reference.default_data_dir() / "examples" / "indicateurs_synthetiques.csv"
    >>> ind = read_indicators(path)
    >>> ind.table.index.name, "medecins_generalistes" in ind.numeric_columns
    ('code', True)
    """
    path = Path(path)
    src = str(path)
    rows = _read_rows(path, sheet=sheet)
    header, body = rows[0], rows[1:]
    names = [h.strip() for h in header.cells]
    if code_column is not None:
        folded = [fold(h) for h in names]
        want = fold(code_column)
        col = folded.index(want) if want in folded else None
        if col is None:
            raise InputError(
                f"{src} : ligne {header.line} : colonne '{code_column}' introuvable parmi "
                f"{', '.join(repr(h) for h in names)}"
            )
    else:
        col = _columns(names).get("code")
        if col is None:
            raise InputError(
                f"{src} : ligne {header.line} : aucune colonne de codes communes reconnue parmi "
                f"{', '.join(repr(h) for h in names)} ; attendu code_insee, CODGEO, Code INSEE, insee, COM, "
                "DEPCOM... ou précisez code_column="
            )
    problems: list[dict] = []
    warnings: list[dict] = []
    seen: dict[str, int] = {}
    codes, lines, cells = [], [], []
    width = len(names)
    for r in body:
        raw = r.cells[col] if col < len(r.cells) else ""
        if not raw.strip():
            problems.append(
                {
                    "file": src,
                    "line": r.line,
                    "value": "; ".join(c for c in r.cells if c),
                    "message": f"ligne {r.line} : code commune manquant",
                }
            )
            continue
        code = normalize_insee_code(raw)
        if code in seen:
            problems.append(
                {
                    "file": src,
                    "line": r.line,
                    "value": raw,
                    "message": f"ligne {r.line} : code {code} déjà présent ligne {seen[code]}",
                }
            )
            continue
        seen[code] = r.line
        codes.append(code)
        lines.append(r.line)
        cells.append((r.cells + [""] * width)[:width])
    if problems:
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems), problems)
    if not codes:
        raise InputError(f"{src} : aucune ligne de données sous l'en-tête")
    data = {}
    for j, name in enumerate(names):
        if j == col:
            continue
        key = name or f"colonne_{j + 1}"
        values = [c[j] for c in cells]
        numbers = [x for x in map(_number, values) if x is not None]
        if len(numbers) == len(values) and any(not math.isnan(x) for x in numbers):
            data[key] = pd.Series(numbers, dtype=float)
        else:
            data[key] = pd.Series(values, dtype=object)
    table = pd.DataFrame(data)
    table.index = pd.Index(codes, name="code")
    if ref is not None:
        warnings += _unknown_code_warnings(ref, codes, lines)
    for w in warnings:
        log.warning("%s : ligne %s : %s", src, w["line"], w["message"])
    return IndicatorTable(table=table, source=src, warnings=warnings)


_CITIES = {"75056": "Paris", "69123": "Lyon", "13055": "Marseille"}


def _unknown_code_warnings(ref: Reference, codes: Sequence[str], lines: Sequence[int]) -> list[dict]:
    known = ref.units.index
    out = []
    for code, line in zip(codes, lines):
        if code in known:
            continue
        if code in _CITIES:
            msg = (
                f"{code} ({_CITIES[code]}) : les unités sont ses arrondissements municipaux ; la valeur de "
                "la ville entière ne peut pas leur être répartie et ne sera pas utilisée"
            )
        elif code in ref.subdivided:
            msg = (
                f"{code} ({ref.communes.at[code, 'nom']}) : les unités sont ses "
                f"{len(ref.subdivided[code])} unités infracommunales (IRIS, secteurs) ; la valeur de la "
                "commune entière ne peut pas leur être répartie et ne sera pas utilisée"
            )
        else:
            msg = (
                f"code {code} inconnu du COG {ref.vintage['cog']} (ancien code ?) : ligne conservée mais "
                "jamais jointe"
            )
        out.append({"line": line, "value": code, "message": msg})
    return out
