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

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_plural, safe
from cpts_geo.inputs._layout import (
    _cell,
    _columns,
    _looks_like_code,
    _polygon_fields,
    _split_header,
    _title_name,
)
from cpts_geo.inputs._tables import _as_path, _kind, _read_rows, _Row, _table_rows
from cpts_geo.inputs.cells import blank, bounded_name, cell_text, fold
from cpts_geo.inputs.register import (
    Register,
    cpts_id_from_name,
    empty_register,
    register_from_frame,
    replace_geometries,
)
from cpts_geo.reference.units import Reference

__all__ = [
    "MISSING_MARKERS",
    "IndicatorTable",
    "Proposal",
    "proposal_from_codes",
    "read_indicators",
    "read_proposal",
    "read_register",
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
    reading
        The same corrections as ``warnings``, in the same order, with what each retained when
        known: ``retained`` (the communes), ``population`` (the inhabitants the row added) and
        ``part`` (the row named a part of its commune: « localité », « ancienne commune »); the
        « Lecture de la liste » of the reports (:func:`cpts_geo.checks.report.reading_rows`).
    """

    codes: list[str]
    name: str | None = None
    source: str = ""
    warnings: list[dict] = field(default_factory=list)
    cut_units: pd.DataFrame = field(default_factory=lambda: _empty_cut())
    reading: list[dict] = field(default_factory=list, repr=False)


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
    reading = [dict(w) for w in res.warnings]
    if name is not None:
        name, cut = bounded_name(str(name))
        reading += [cut] if cut else []
    return Proposal(
        codes=res.codes, name=name, source=source, warnings=_plain_warnings(reading), reading=reading
    )


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
    table = _table_rows(path, sheet=sheet, skip_rows=skip_rows)
    rows = table.rows
    header, body = _split_header(rows, path)
    src = str(path)
    warnings: list[dict] = list(table.warnings)
    extra: dict = {"prefer": prefer}
    if header is None:
        values, lines, deps, listed = _headerless_values(body, ref, departement, src)
        warnings += listed
        name = path.stem
    else:
        values, deps, lines, name, more = _header_values(header, body, rows, src, departement, warnings)
        extra.update(more)
    if name is None or name == path.stem:
        titled = _title_name(table.titles)
        if titled:
            name = titled
            warnings.append(
                {
                    "line": None,
                    "value": next(t for t in table.titles if titled in t),
                    "retained": titled,
                    "message": f"nom du territoire pris dans la ligne de titre : « {titled} »",
                }
            )
    name = name or path.stem
    if not values:
        raise InputError(f"{src} : aucune commune dans le fichier (lignes vides ou en-tête seul)")
    p = proposal_from_codes(values, ref, name=name, departement=deps, lines=lines, source=src, **extra)
    p.reading = _row_warnings(rows) + warnings + p.reading
    p.warnings = _plain_warnings(p.reading)
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
        names.append(nom if code and nom and "\n" not in nom else None)
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
    # Polygons need geopandas and shapely: imported here, not for a list of codes or names.
    import shapely

    from cpts_geo.inputs._polygons import _area_shares, _read_geo, _with_contained

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
            name, cut = bounded_name(str(gdf[col].dropna().iloc[0]))
            warnings += [cut] if cut else []
            break
    return Proposal(
        codes=order,
        name=name or path.stem,
        source=str(path),
        warnings=gdf.attrs.get("warnings", []) + warnings,
        cut_units=cut_units,
    )


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
        The columns (polygon files: the fields) holding the CPTS id, name and stage, when they
        are not ``cpts_id``, ``cpts_nom``, ``statut`` or a known variant (``CPTS``, ``Nom de la
        CPTS``, ``cpts_nom_publie``...). Without an id column, each CPTS's id is derived from its
        name (:func:`~cpts_geo.inputs.register.cpts_id_from_name`, with a warning).
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
    table = _table_rows(path, sheet=sheet, skip_rows=skip_rows)
    rows, layout = table.rows, table.warnings
    header, body = _split_header(rows, path)
    src = str(path)
    if header is None:
        raise InputError(
            f"{src} : ligne {rows[0].line} : en-tête attendu avec les colonnes cpts_id, "
            "cpts_nom, code_insee (et statut, date_statut)"
        )
    cols = _table_fields(header, src, rows[0].line, id_column, name_column, stage_column)
    missing = [
        label for key, label in (("cpts_id", "cpts_id"), ("code", "code_insee")) if cols.get(key) is None
    ]
    if "cpts_id" in missing and cols.get("cpts_name") is not None:
        missing.remove("cpts_id")  # ids derived from the names
    if "code_insee" in missing and (cols.get("name") is not None or cols.get("epci") is not None):
        missing.remove("code_insee")
    if missing:
        raise InputError(
            f"{src} : ligne {rows[0].line} : colonne(s) {', '.join(missing)} introuvable(s) "
            f"parmi {', '.join(repr(h) for h in header)} ; un registre a une ligne par "
            "(CPTS, commune) avec cpts_id, cpts_nom, code_insee, et en option statut, date_statut, "
            "commune_partagee (sans cpts_id, une colonne de noms de CPTS suffit : cpts_nom, CPTS, "
            "Nom de la CPTS, ou celle que désigne name_column)"
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
        lines.append(r.line)
    if not lines:
        raise InputError(f"{src} : aucune ligne de données sous l'en-tête ; le registre est vide")
    frame = pd.DataFrame(data, dtype=object)
    label = None
    if cols.get("cpts_id") is None:
        frame = frame.drop(columns="cpts_id")  # ids derived from the names
        label = f"« {header[cols['cpts_name']]} »"
    reg = register_from_frame(frame, ref, source=src, lines=lines, prefer=prefer, name_column=label)
    return reg.with_warnings(_row_warnings(rows) + warnings)


def _table_fields(header, src, line, id_column, name_column, stage_column) -> dict[str, int]:
    """Positions of the columns of a register table by role, the columns named by the user
    (``id_column``, ``name_column``, ``stage_column``) taking their role from any other."""
    cols = _columns(header)
    folded = [fold(h) for h in header]
    for role, given, what in (
        ("cpts_id", id_column, "id_column"),
        ("cpts_name", name_column, "name_column"),
        ("stage", stage_column, "stage_column"),
    ):
        if given is None:
            continue
        match = [j for j, h in enumerate(header) if h == given] or [
            j for j, h in enumerate(folded) if h == fold(given)
        ]
        if not match:
            raise InputError(
                f"{src} : ligne {line} : colonne '{safe(str(given))}' ({what}) introuvable parmi "
                f"{', '.join(repr(h) for h in header)}"
            )
        for other in [r for r, j in cols.items() if j == match[0]]:
            del cols[other]
        cols[role] = match[0]
    return cols


def register_cells(
    path, *, sheet: str | None = None, skip_rows: int | None = None
) -> dict[int, tuple[str, str]]:
    """The commune cell (code, name or EPCI) and the stage cell of each data row of a register
    table as written, by line: what :func:`cpts_geo.steering.migrate.migrate_register` compares with
    what was read."""
    rows = _table_rows(Path(path), sheet=sheet, skip_rows=skip_rows).rows
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
    import geopandas as gpd
    import shapely

    from cpts_geo.inputs._polygons import _area_shares, _read_geo, _with_contained

    gdf = _read_geo(path, ref, layer=layer, crs=crs)
    mapping = _polygon_fields(gdf, path, id_column, name_column, stage_column)
    gdf = gdf[[*mapping.values(), gdf.geometry.name]].rename(columns={v: k for k, v in mapping.items()})
    rows: list[dict] = []
    warnings: list[dict] = []
    lines: list[int] = []
    geoms: dict[str, object] = {}
    named_only = "cpts_id" not in mapping
    for i, rec in enumerate(gdf.itertuples(index=False), start=1):
        nom = cell_text(getattr(rec, "cpts_nom", "")) if not blank(getattr(rec, "cpts_nom", None)) else ""
        if named_only:  # ids derived from the names (register_from_frame says so)
            cid = cpts_id_from_name(nom)
            if not cid:
                raise InputError(
                    f"{path} : objet n°{i} : nom de CPTS (« {mapping['cpts_nom']} ») manquant ; sans "
                    "identifiant, chaque polygone doit nommer sa CPTS"
                )
        else:
            cid = "" if blank(rec.cpts_id) else cell_text(rec.cpts_id)
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
    frame = pd.DataFrame(rows, dtype=object)
    label = None
    if named_only:
        frame = frame.drop(columns="cpts_id")
        label = f"« {mapping['cpts_nom']} »"
    reg = register_from_frame(frame, ref, source=str(path), lines=lines, name_column=label)
    polygons = gpd.GeoDataFrame(
        geometry=list(geoms.values()), index=pd.Index(list(geoms), name="cpts_id"), crs=4326
    )
    return replace_geometries(reg.with_warnings(gdf.attrs.get("warnings", []) + warnings), polygons)


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
    ``insee``, ``COM``, ``DEPCOM``, ...; see :data:`cpts_geo.inputs._layout.CODE_COLUMNS`), or named by
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


def as_register(ref: Reference, obj, *, source: str | None = None, sheet: str | None = None) -> Register:
    """The one way to a :class:`Register`: from a Register, a DataFrame in the long format, a
    path (CSV/TXT/XLSX/GeoJSON/GPKG, see :func:`cpts_geo.inputs.read_register`) or ``None``
    (an empty register).

    A Register of another reference is rebuilt on ``ref`` from its table.

    Raises
    ------
    InputError
        Unknown codes or stages, a CPTS id with two names, a row without a CPTS id, an object of
        another type.
    """
    if obj is None:
        return empty_register(ref)
    if isinstance(obj, Register):
        if obj.ref is ref:
            return obj
        rebuilt = register_from_frame(
            obj.table.drop(columns="line"), ref, source=obj.source, lines=obj.table["line"].tolist()
        )
        return Register(
            ref, rebuilt.table, source=obj.source, warnings=obj.warnings, geometries=obj.geometries
        )
    if isinstance(obj, pd.DataFrame):
        return register_from_frame(obj, ref, source=source or "")
    if isinstance(obj, str | Path):
        return read_register(obj, ref, sheet=sheet)
    raise InputError(
        f"registre de type {type(obj).__name__} non pris en charge ; attendu un Register, un "
        "DataFrame (cpts_id, cpts_nom, code_insee, ...) ou le chemin d'un fichier"
    )
