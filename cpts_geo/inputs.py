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
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError
from .reference import Reference, normalize_name

__all__ = [
    "STAGES",
    "Proposal",
    "Register",
    "proposal_from_codes",
    "read_proposal",
    "read_register",
    "register_from_frame",
]

log = logging.getLogger(__name__)

#: Stages of a CPTS (Atlas des CPTS), in order.
STAGES = ("pre-projet", "lettre-intention", "projet-sante", "aci")

#: A unit is part of a polygon when more than this share of its area is inside.
MAJORITY = 0.5
#: A unit is reported as cut by a polygon when between these shares of its area are inside
#: (below and above, the difference is the generalization of the boundaries, not a choice).
CUT_BOUNDS = (0.05, 0.95)

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".lst", ""}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}

# Column names as users write them, folded with normalize_name.
CODE_COLUMNS = ["code insee", "codgeo", "insee", "code commune insee", "com", "depcom", "code commune",
                "codecommune", "code com", "codeinsee", "insee com", "code", "cog", "code insee commune",
                "code geo", "codegeo", "num insee", "n insee", "numero insee"]
NAME_COLUMNS = ["commune", "communes", "nom commune", "nom de la commune", "libelle commune", "libgeo",
                "libelle", "nom", "ville", "nom com", "nom communes"]
DEP_COLUMNS = ["departement", "dep", "code departement", "dept", "code dep", "num departement",
               "numero departement", "dpt"]
CPTS_ID_COLUMNS = ["cpts id", "id cpts", "identifiant cpts", "code cpts", "id", "identifiant"]
CPTS_NAME_COLUMNS = ["cpts nom", "nom cpts", "nom de la cpts", "cpts", "libelle cpts"]
STAGE_COLUMNS = ["statut", "stade", "etat", "status", "etape"]
DATE_COLUMNS = ["date statut", "date", "date du statut", "date stade"]

_STAGE_ALIASES = {
    "pre projet": "pre-projet", "preprojet": "pre-projet", "projet": "pre-projet",
    "lettre intention": "lettre-intention", "lettre d intention": "lettre-intention",
    "lettre d intention validee": "lettre-intention", "li": "lettre-intention",
    "projet sante": "projet-sante", "projet de sante": "projet-sante",
    "projet de sante valide": "projet-sante", "ps": "projet-sante",
    "aci": "aci", "contrat aci": "aci", "contrat aci signe": "aci", "signature aci": "aci",
}
_STAGE_LIST = ", ".join(STAGES)


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


@dataclass
class Register:
    """The CPTS of a register, one row per (CPTS, unit).

    Attributes
    ----------
    table
        ``cpts_id``, ``cpts_nom``, ``code_insee`` (unit code), ``statut`` (one of :data:`STAGES`,
        ``""`` when not given), ``date_statut`` and ``line`` (its line in the file, or ``None``).
    source
        The file the register was read from.
    warnings
        What was resolved with a correction: ``{"line", "value", "message"}`` each.
    geometries
        Polygon registers only: one polygon per CPTS (EPSG:4326), indexed by ``cpts_id``.
    """

    table: pd.DataFrame
    source: str = ""
    warnings: list[dict] = field(default_factory=list)
    geometries: gpd.GeoDataFrame | None = None

    def cpts(self) -> pd.DataFrame:
        """One row per CPTS, indexed by ``cpts_id``: ``cpts_nom``, ``statut``, ``date_statut``, ``n_units``."""
        t = self.table
        out = t.groupby("cpts_id", sort=False)[["cpts_nom", "statut", "date_statut"]].first()
        out["n_units"] = t.groupby("cpts_id", sort=False).size()
        return out

    def codes(self, cpts_id) -> list[str]:
        """Unit codes of one CPTS, in file order."""
        return self.table.loc[self.table["cpts_id"] == str(cpts_id), "code_insee"].tolist()

    def __len__(self) -> int:
        return int(self.table["cpts_id"].nunique())


def _empty_cut() -> pd.DataFrame:
    return pd.DataFrame({"nom": pd.Series(dtype=object), "share": pd.Series(dtype=float),
                         "included": pd.Series(dtype=bool)}, index=pd.Index([], name="code", dtype=object))


# ---------------------------------------------------------------------------------------------
# Proposals
# ---------------------------------------------------------------------------------------------
def proposal_from_codes(values, ref: Reference, *, name: str | None = None, departement=None,
                        lines=None, source: str = "") -> Proposal:
    """A proposal from a list of codes or names (as :meth:`Reference.resolve` accepts them).

    Raises
    ------
    InputError
        Naming every value that could not be resolved, or when nothing is left.
    """
    values = list(values)
    res = ref.resolve(values, departement=departement, lines=lines, source=source or None)
    if not res.codes:
        raise InputError(f"{source or 'proposition'} : aucune commune après lecture ; la proposition est vide")
    return Proposal(codes=res.codes, name=name, source=source, warnings=_plain_warnings(res.warnings))


def read_proposal(path, ref: Reference, *, sheet: str | None = None, departement=None) -> Proposal:
    """Read a proposed territory from a file.

    Parameters
    ----------
    path
        CSV/TXT (any common delimiter and encoding), XLSX, a list with one code or name per line,
        or a GeoJSON/GeoPackage of polygon(s).
    ref
        The reference the codes are resolved against.
    sheet
        XLSX only: the sheet to read (default: the first).
    departement
        A département that disambiguates commune names (when the file has no département column).

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
    path = Path(path)
    kind = _kind(path)
    if kind == "geo":
        return _proposal_from_polygons(path, ref)
    rows = _read_rows(path, sheet=sheet)
    header, body = _split_header(rows, path)
    src = str(path)
    warnings: list[dict] = []
    if header is None:
        # No header: the codes are in the first column that holds a code on the first row.
        col = next((i for i, c in enumerate(rows[0].cells) if _looks_like_code(c)), 0)
        values = [_cell(r, col) for r in body]
        lines = [r.line for r in body]
        deps = departement
        name = path.stem
    else:
        cols = _columns(header)
        code_col, name_col = cols.get("code"), cols.get("name")
        if code_col is None and name_col is None:
            raise InputError(
                f"{src} : ligne {rows[0].line} : aucune colonne de codes communes reconnue parmi "
                f"{', '.join(repr(h) for h in header)} ; attendu code_insee, CODGEO, Code INSEE, "
                "insee, code_commune_insee, COM, DEPCOM, ou des noms dans une colonne Commune "
                "(avec Département)"
            )
        values, deps, lines = [], [], []
        for r in body:
            v = _cell(r, code_col)
            if not v and name_col is not None:
                v = _cell(r, name_col)
            if not v:
                warnings.append({"line": r.line, "value": "; ".join(c for c in r.cells if c),
                                 "message": "ligne sans code ni nom de commune, ignorée"})
                continue
            values.append(v)
            lines.append(r.line)
            d = _cell(r, cols.get("dep")) if cols.get("dep") is not None else ""
            deps.append(d or departement)
        name = None
        if cols.get("cpts_name") is not None:
            name = next((_cell(r, cols["cpts_name"]) for r in body if _cell(r, cols["cpts_name"])), None)
        name = name or path.stem
    if not values:
        raise InputError(f"{src} : aucune commune dans le fichier (lignes vides ou en-tête seul)")
    p = proposal_from_codes(values, ref, name=name, departement=deps, lines=lines, source=src)
    p.warnings = warnings + p.warnings
    return p


def _proposal_from_polygons(path: Path, ref: Reference) -> Proposal:
    gdf = _read_geo(path)
    geom = shapely.union_all(gdf.geometry.to_numpy())
    shares = _area_shares(ref, geom)
    inside = shares.index[shares > MAJORITY].tolist()
    inside = _with_contained(ref, inside)
    if not inside:
        raise InputError(f"{path} : le polygone ne contient la majorité d'aucune commune ; "
                         "la proposition est vide")
    order = ref.position.reindex(inside).sort_values().index.tolist()
    cut = shares[(shares > CUT_BOUNDS[0]) & (shares < CUT_BOUNDS[1])]
    cut_units = pd.DataFrame({"nom": ref.units.loc[cut.index, "nom"].to_numpy(),
                              "share": cut.round(3).to_numpy(), "included": (cut > MAJORITY).to_numpy()},
                             index=pd.Index(cut.index, name="code"))
    warnings = [
        {"line": None, "value": code,
         "message": f"{row['nom']} ({code}) coupée par le contour : {_pct(row['share'])} de sa surface "
                    + ("dedans, incluse" if row["included"] else "dedans, exclue")
                    + " ; une CPTS devrait être faite de communes entières"}
        for code, row in cut_units.iterrows()
    ]
    name = None
    for col in ("cpts_nom", "nom", "name"):
        if col in gdf.columns and gdf[col].notna().any():
            name = str(gdf[col].dropna().iloc[0])
            break
    return Proposal(codes=order, name=name or path.stem, source=str(path), warnings=warnings,
                    cut_units=cut_units)


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


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio/GDAL raise many kinds; all mean "cannot read this file"
        raise InputError(f"{path} : fichier géographique illisible ({_short(exc)}) ; attendu un "
                         "GeoJSON ou un GeoPackage de polygones") from None
    if gdf.crs is None:
        raise InputError(f"{path} : le fichier n'a pas de système de coordonnées (CRS) ; "
                         "enregistrez-le avec son CRS (par exemple EPSG:2154 ou EPSG:4326)")
    if not len(gdf):
        raise InputError(f"{path} : le fichier ne contient aucun objet")
    gtype = shapely.get_type_id(gdf.geometry.to_numpy())
    bad = np.flatnonzero(~np.isin(gtype, [3, 6]))  # Polygon, MultiPolygon
    if len(bad):
        kinds = sorted(set(gdf.geometry.iloc[bad].geom_type.fillna("vide")))
        raise InputError(f"{path} : objet n°{bad[0] + 1} : géométrie {', '.join(kinds)} ; "
                         "attendu des polygones")
    gdf = gdf.to_crs(4326)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.to_numpy())
    return gdf


# ---------------------------------------------------------------------------------------------
# Registers
# ---------------------------------------------------------------------------------------------
def register_from_frame(df: pd.DataFrame, ref: Reference, *, source: str = "", lines=None) -> Register:
    """A register from a DataFrame with ``cpts_id``, ``cpts_nom``, ``code_insee`` (and optional
    ``statut``, ``date_statut``, ``departement``).

    Codes are resolved as :meth:`Reference.resolve` does (a city's code gives its
    arrondissements); stages are normalized (``"Lettre d'intention"`` → ``lettre-intention``).

    Raises
    ------
    InputError
        Unknown codes or stages, a CPTS id given with two names, a row without a CPTS id: every
        problem at once, each with its line.
    """
    src = source or "registre"
    if "cpts_id" not in df.columns or "code_insee" not in df.columns:
        raise InputError(f"{src} : colonnes cpts_id et code_insee attendues ; trouvées : "
                         f"{', '.join(map(str, df.columns)) or 'aucune'}")
    n = len(df)
    lines = list(lines) if lines is not None else [None] * n

    def col(name):
        if name not in df.columns:
            return [""] * n
        return ["" if _blank(v) else _text(v) for v in df[name].tolist()]

    ids, noms, codes = col("cpts_id"), col("cpts_nom"), col("code_insee")
    stages_raw, dates, deps = col("statut"), col("date_statut"), col("departement")
    problems: list[dict] = []
    warnings: list[dict] = []

    def where(i):
        return f"ligne {lines[i]}" if lines[i] is not None else f"ligne n°{i + 1} du tableau"

    stages = []
    for i, s in enumerate(stages_raw):
        st = _stage(s)
        if st is None:
            problems.append({"line": lines[i], "value": s,
                             "message": f"{where(i)} : statut '{s}' inconnu ; attendu {_STAGE_LIST}"})
        stages.append(st or "")
    for i, cid in enumerate(ids):
        if not cid:
            problems.append({"line": lines[i], "value": codes[i],
                             "message": f"{where(i)} : identifiant de CPTS (cpts_id) manquant"})
    # One name and one stage per CPTS.
    seen_name: dict[str, tuple[str, int]] = {}
    seen_stage: dict[str, tuple[str, int]] = {}
    for i, cid in enumerate(ids):
        if not cid:
            continue
        for value, seen, what in ((noms[i], seen_name, "deux noms"), (stages[i], seen_stage, "deux statuts")):
            if not value:
                continue
            if cid not in seen:
                seen[cid] = (value, i)
            elif seen[cid][0] != value:
                j = seen[cid][1]
                problems.append({
                    "line": lines[i], "value": value,
                    "message": f"{where(i)} : la CPTS '{cid}' a {what} : '{seen[cid][0]}' ({where(j)}) "
                               f"et '{value}' ; corrigez l'une des lignes",
                })
    # Codes, resolved row by row (a unit may belong to two CPTS: that is an overlap, not a duplicate).
    valid = [i for i in range(n) if ids[i]]
    res = None
    try:
        res = ref.resolve([codes[i] for i in valid], departement=[deps[i] or None for i in valid],
                          lines=[lines[i] for i in valid], source=None)
    except InputError as exc:
        for p in exc.problems:
            i = valid[p["index"]]
            problems.append({"line": lines[i], "value": p["value"], "message": f"{where(i)} : {p['message']}"})
    if problems:
        problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0))
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems),
                         [{"file": src, **p} for p in problems])
    for w in res.warnings:
        if not w["message"].startswith("doublon ignoré"):
            warnings.append({"line": w["line"], "value": w["value"], "message": w["message"]})
    rows = []
    for k, i in enumerate(valid):
        cid = ids[i]
        for code in res.by_value[k]:
            rows.append((cid, noms[i] or seen_name.get(cid, (cid,))[0], code,
                         stages[i] or seen_stage.get(cid, ("",))[0], dates[i], lines[i]))
    table = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut", "line"])
    dup = table.duplicated(["cpts_id", "code_insee"])
    for _, r in table[dup].iterrows():
        warnings.append({"line": r["line"], "value": r["code_insee"],
                         "message": f"doublon ignoré : {r['code_insee']} déjà cité pour la CPTS '{r['cpts_id']}'"})
    table = table[~dup].reset_index(drop=True)
    table["line"] = table["line"].astype(object)
    return Register(table=table, source=source, warnings=warnings)


def read_register(path, ref: Reference, *, sheet: str | None = None) -> Register:
    """Read a register of existing CPTS.

    Parameters
    ----------
    path
        CSV/TXT/XLSX with one row per (CPTS, commune): ``cpts_id``, ``cpts_nom``, ``code_insee``
        (or a commune name with its département) and optional ``statut``, ``date_statut``; or a
        GeoJSON/GeoPackage of polygons with ``cpts_id`` and ``cpts_nom``.
    ref
        The reference the codes are resolved against.
    sheet
        XLSX only: the sheet to read (default: the first).

    Returns
    -------
    Register

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem.
    """
    path = Path(path)
    if _kind(path) == "geo":
        return _register_from_polygons(path, ref)
    rows = _read_rows(path, sheet=sheet)
    header, body = _split_header(rows, path)
    src = str(path)
    if header is None:
        raise InputError(f"{src} : ligne {rows[0].line} : en-tête attendu avec les colonnes cpts_id, "
                         "cpts_nom, code_insee (et statut, date_statut)")
    cols = _columns(header)
    missing = [label for key, label in (("cpts_id", "cpts_id"), ("code", "code_insee")) if cols.get(key) is None]
    if missing == ["code_insee"] and cols.get("name") is not None:
        missing = []
    if missing:
        raise InputError(f"{src} : ligne {rows[0].line} : colonne(s) {', '.join(missing)} introuvable(s) "
                         f"parmi {', '.join(repr(h) for h in header)} ; un registre a une ligne par "
                         "(CPTS, commune) avec cpts_id, cpts_nom, code_insee, et en option statut, date_statut")
    warnings: list[dict] = []
    data: dict[str, list] = {k: [] for k in ("cpts_id", "cpts_nom", "code_insee", "statut", "date_statut",
                                             "departement")}
    lines = []
    for r in body:
        code = _cell(r, cols.get("code")) or _cell(r, cols.get("name"))
        cid = _cell(r, cols.get("cpts_id"))
        if not code:
            warnings.append({"line": r.line, "value": "; ".join(c for c in r.cells if c),
                             "message": "ligne sans code ni nom de commune, ignorée"})
            continue
        data["cpts_id"].append(cid)
        data["cpts_nom"].append(_cell(r, cols.get("cpts_name")))
        data["code_insee"].append(code)
        data["statut"].append(_cell(r, cols.get("stage")))
        data["date_statut"].append(_cell(r, cols.get("date")))
        data["departement"].append(_cell(r, cols.get("dep")))
        lines.append(r.line)
    reg = register_from_frame(pd.DataFrame(data, dtype=object), ref, source=src, lines=lines)
    reg.warnings = warnings + reg.warnings
    return reg


def _register_from_polygons(path: Path, ref: Reference) -> Register:
    gdf = _read_geo(path)
    lower = {str(c).lower(): c for c in gdf.columns}
    if "cpts_id" not in lower:
        raise InputError(f"{path} : attribut cpts_id introuvable parmi {', '.join(map(str, gdf.columns))} ; "
                         "chaque polygone doit avoir cpts_id et cpts_nom")
    gdf = gdf.rename(columns={lower[k]: k for k in ("cpts_id", "cpts_nom", "statut", "date_statut") if k in lower})
    rows, warnings, lines, geoms = [], [], [], {}
    for i, rec in enumerate(gdf.itertuples(index=False), start=1):
        cid = "" if _blank(rec.cpts_id) else _text(rec.cpts_id)
        nom = _text(getattr(rec, "cpts_nom", "")) if not _blank(getattr(rec, "cpts_nom", None)) else ""
        stage = _text(getattr(rec, "statut", "")) if not _blank(getattr(rec, "statut", None)) else ""
        date = _text(getattr(rec, "date_statut", "")) if not _blank(getattr(rec, "date_statut", None)) else ""
        shares = _area_shares(ref, rec.geometry)
        inside = _with_contained(ref, shares.index[shares > MAJORITY].tolist())
        if cid in geoms:
            geoms[cid] = shapely.union(geoms[cid], rec.geometry)
        else:
            geoms[cid] = rec.geometry
        if not inside:
            raise InputError(f"{path} : objet n°{i} (CPTS '{cid}') : le polygone ne contient la majorité "
                             "d'aucune commune")
        cut = shares[(shares > CUT_BOUNDS[0]) & (shares < CUT_BOUNDS[1])]
        for code, share in cut.items():
            warnings.append({"line": i, "value": code,
                             "message": f"CPTS '{cid}' : {ref.units.at[code, 'nom']} ({code}) coupée par le "
                                        f"contour ({_pct(share)} dedans, "
                                        + ("incluse)" if share > MAJORITY else "exclue)")})
        for code in inside:
            rows.append({"cpts_id": cid, "cpts_nom": nom, "code_insee": code, "statut": stage,
                         "date_statut": date})
            lines.append(i)
    reg = register_from_frame(pd.DataFrame(rows, dtype=object), ref, source=str(path), lines=lines)
    reg.warnings = warnings + reg.warnings
    reg.geometries = gpd.GeoDataFrame(geometry=list(geoms.values()), index=pd.Index(list(geoms), name="cpts_id"),
                                      crs=4326)
    return reg


# ---------------------------------------------------------------------------------------------
# Tables: CSV/TXT/XLSX rows with their line numbers
# ---------------------------------------------------------------------------------------------
@dataclass
class _Row:
    line: int
    cells: list[str]


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in GEO_SUFFIXES:
        return "geo"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InputError(f"{path} : format Excel 97-2003 (.xls) non pris en charge ; enregistrez le "
                         "classeur en .xlsx ou en CSV")
    if suffix in (".ods", ".numbers"):
        raise InputError(f"{path} : format {suffix} non pris en charge ; enregistrez-le en .xlsx ou en CSV")
    return "text"


def _read_rows(path: Path, *, sheet: str | None = None) -> list[_Row]:
    """Non-blank rows of a text or XLSX table, cells stripped, with their line (row) numbers."""
    if not path.exists():
        raise InputError(f"{path} : fichier introuvable")
    if path.is_dir():
        raise InputError(f"{path} : est un dossier, pas un fichier")
    if _kind(path) == "xlsx":
        rows = _xlsx_rows(path, sheet)
    else:
        if sheet is not None:
            raise InputError(f"{path} : --sheet ne s'applique qu'aux classeurs .xlsx")
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
        raise InputError(f"{path} : fichier binaire, pas un tableau texte ; attendu un CSV, un TXT ou un .xlsx")
    if data[:4] == b"PK\x03\x04":
        raise InputError(f"{path} : ce fichier est un classeur compressé (xlsx ?) ; donnez-lui l'extension .xlsx")
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
                rows.append(_Row(line, cells))
    except csv.Error as exc:
        raise InputError(f"{path} : ligne {reader.line_num} : CSV illisible ({exc})") from None
    return rows


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
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(f"{path} : classeur Excel illisible ({_short(exc)}) ; réenregistrez-le en .xlsx "
                         "ou en CSV") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0] if wb.worksheets else None
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise InputError(f"{path} : feuille '{sheet}' introuvable ; feuilles : {', '.join(wb.sheetnames)}")
        rows = []
        if ws is not None:
            for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = ["" if _blank(v) else _text(v) for v in values]
                if any(cells):
                    rows.append(_Row(i, cells))
        return rows
    except InputError:
        raise
    except Exception as exc:  # a corrupt sheet inside a valid zip: openpyxl raises many kinds
        raise InputError(f"{path} : classeur Excel illisible ({_short(exc)})") from None
    finally:
        wb.close()


def _split_header(rows: list[_Row], path: Path) -> tuple[list[str] | None, list[_Row]]:
    """The header (if the first row names columns we know) and the data rows."""
    first = rows[0].cells
    if _columns(first) or (len(first) > 1 and not any(_looks_like_code(c) for c in first)):
        return first, rows[1:]
    if len(first) == 1 and _fold(first[0]) in _HEADER_WORDS:
        return first, rows[1:]
    return None, rows


_HEADER_WORDS = {"codes", "liste", "communes", "code", "nom", "noms", "territoire", "commune"}


def _looks_like_code(value: str) -> bool:
    return bool(re.fullmatch(r"\s*\d[0-9aAbB]?\d{2,3}(\.0)?\s*", value))


def _fold(value) -> str:
    return normalize_name(str(value)).replace("_", " ")


def _columns(header: list[str]) -> dict[str, int]:
    """Positions of the columns we know, by role (first match in order of preference)."""
    folded = [_fold(h) for h in header]
    out = {}
    for role, names in (("code", CODE_COLUMNS), ("cpts_id", CPTS_ID_COLUMNS), ("cpts_name", CPTS_NAME_COLUMNS),
                        ("stage", STAGE_COLUMNS), ("date", DATE_COLUMNS), ("dep", DEP_COLUMNS),
                        ("name", NAME_COLUMNS)):
        for name in names:
            if name in folded and folded.index(name) not in out.values():
                out[role] = folded.index(name)
                break
    return out


def _cell(row: _Row, col: int | None) -> str:
    if col is None or col >= len(row.cells):
        return ""
    return row.cells[col]


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) \
        or v is pd.NA or v is pd.NaT


def _text(v) -> str:
    """A cell as text: integers without '.0', dates as ISO dates."""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else str(v)
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _stage(value: str) -> str | None:
    """A stage in canonical form, ``""`` for none, ``None`` when unknown."""
    if not value:
        return ""
    if value in STAGES:
        return value
    return _STAGE_ALIASES.get(_fold(value))


def _plain_warnings(warnings: list[dict]) -> list[dict]:
    return [{"line": w.get("line"), "value": w.get("value", ""), "message": w["message"]} for w in warnings]


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
