"""Zone layers the analyst brings: zonage médecins, « zones rouges », QPV.

A *zone layer* is a file the ARS or data.gouv.fr publishes, read as it comes, in one of three
shapes:

- **by commune**: a column of commune codes (or names, resolved as everywhere: old codes
  migrated with a warning, a PLM city meaning its arrondissements) and an optional category
  column (``Zonage``, ``catégorie``...). CartoSanté's codes (``1_ZIP``, ``2_ZAC``, ``3_ZV``,
  ``4_HZ``) and their plain forms (``ZIP``, ``Zone d'intervention prioritaire``, ``hors
  zonage``...) are one category each;
- **by EPCI**: a SIREN or EPCI-name column (the « zones rouges » of the Pacte de lutte contre
  les déserts médicaux): every unit of each EPCI is in the zone;
- **polygons** (GeoJSON, GeoPackage: the QPV): the units each polygon touches, with the share
  of the unit's area inside it and the share of the polygon's area in the unit, measured in the
  zone's projected CRS; a unit is touched when either share is above :data:`TOUCH_TOLERANCE`
  (below, the difference is the generalisation of the boundaries).

Without a category column, every row is in one zone named after the layer. Every problem (an
unknown code, a SIREN that is no EPCI, a missing category, a commune in two categories) raises one
:class:`~cpts_geo._errors.InputError` naming the file, the line and the value.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.inputs.zones import zone_layer_from_codes
>>> ref = cg.load_reference()
>>> z = zone_layer_from_codes({"ZIP": ["49007", "13055"]}, ref, name="Zonage")
>>> z.categories, len(z.codes("ZIP"))
(['ZIP'], 17)
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_int, safe
from cpts_geo.inputs._layout import (
    _TOTAL,
    MAX_TITLE_ROWS,
    _cell,
    _columns,
    _header_index,
    _one_line_list,
    _skipped,
    _split_header,
    _without_totals,
)
from cpts_geo.inputs._tables import _as_path, _communes_sheet, _kind, _read_rows, _Row
from cpts_geo.inputs.cells import blank, bounded_name, cell_text, fold
from cpts_geo.reference.names import epci_key
from cpts_geo.reference.units import Reference

__all__ = [
    "KINDS",
    "TOUCH_TOLERANCE",
    "ZoneLayer",
    "as_zone_layers",
    "is_polygon_file",
    "normalize_category",
    "read_zones",
    "zone_layer_from_codes",
]

log = logging.getLogger(__name__)

#: The shapes of a zone layer, and how the reports name them.
KINDS = {"communes": "par commune", "epci": "par EPCI", "polygones": "polygones"}

#: A polygon touches a unit when the part of it in the unit is more than this share of the
#: polygon's area or of the unit's area (1 %): a QPV of 0.5 km² in a commune of 50 km² covers
#: 1 % of the commune but lies wholly in it; a sliver along a boundary is small for both.
TOUCH_TOLERANCE = 0.01

#: Column names (folded) of a category, besides any name containing « zonage » or « categorie »
#: (« Type », « Niveau » are not: too often something else; name them with ``category_column``).
CATEGORY_COLUMNS = [
    "categorie",
    "zonage",
    "zone",
    "type de zone",
    "type zone",
    "classement",
    "classement ars",
]
#: Column names (folded) of a SIREN of EPCI, besides the EPCI columns of the other readers.
SIREN_COLUMNS = [
    "siren",
    "siren epci",
    "code siren",
    "n siren",
    "numero siren",
    "siren de l epci",
    "code epci",
]
#: Column names (folded) of a polygon's name and code (QPV files: ``lib_qp``, ``code_qp``).
POLYGON_NAME_COLUMNS = [
    "nom",
    "lib qp",
    "nom qp",
    "libelle",
    "name",
    "nom zone",
    "lib zone",
    "label",
    "nom qpv",
]
POLYGON_CODE_COLUMNS = ["code qp", "code", "code qpv", "id", "identifiant", "code zone"]

# CartoSanté's codes and the plain forms of the zonage médecins: one label each, in this order.
_KNOWN = [
    ("ZIP", ("zip", "zone d intervention prioritaire", "zones d intervention prioritaire")),
    ("ZAC", ("zac", "zone d action complementaire", "zones d action complementaire")),
    ("Zone de vigilance", ("zv", "zone de vigilance", "vigilance")),
    ("Hors zonage", ("hz", "hors zonage", "hors zone", "hors zones", "non zone")),
]
_KNOWN_KEYS = {key: label for label, keys in _KNOWN for key in keys}
_KNOWN_ORDER = [label for label, _ in _KNOWN]


def normalize_category(value) -> str:
    """The category a cell means: CartoSanté codes (``1_ZIP``, ``2_ZAC``, ``3_ZV``, ``4_HZ``)
    and their plain forms are one label each; anything else is kept as written.

    >>> [normalize_category(v) for v in ("1_ZIP", "zip", "Zone d'intervention prioritaire (ZIP)", "4_HZ",
    ...                                  "ZAC - zone d'action complémentaire", "hors zonage", "QPV 2024")]
    ['ZIP', 'ZIP', 'ZIP', 'Hors zonage', 'ZAC', 'Hors zonage', 'QPV 2024']
    """
    text = cell_text(value)
    plain = re.sub(r"^\s*\d+\s*[_\-.)]\s*", "", text)
    # « Zone d'intervention prioritaire (ZIP) », « ZIP - Zone d'intervention prioritaire »
    inner = re.findall(r"\(([^)]*)\)", plain)
    parts = [plain, re.sub(r"\([^)]*\)", " ", plain), *inner, *re.split(r"\s[-–:]\s", plain)]
    for part in parts:
        label = _KNOWN_KEYS.get(fold(part))
        if label is not None:
            return label
    return text


@dataclass
class ZoneLayer:
    """A zone layer read by :func:`read_zones`.

    Attributes
    ----------
    name
        The layer's name (``--zones-name``, else the file's stem): « Zonage médecins ».
    kind
        ``"communes"``, ``"epci"`` or ``"polygones"`` (:data:`KINDS`).
    members
        One row per (category, unit) — per (polygon, unit) for polygons: ``category``, ``code``
        (unit code), ``line`` (of the file; polygons: the object's number), ``polygon`` (the
        polygon's name, ``""`` otherwise), ``share`` (share of the unit's area in the zone; 1
        for a table) and ``zone_share`` (share of the polygon's area in the unit; NaN for a table).
    categories
        The categories, in order (CartoSanté's first, then as met in the file).
    source
        The file it was read from.
    warnings
        What was read with a correction: ``{"line", "value", "message"}`` each.
    polygons
        Polygon layers: the polygons (EPSG:4326) with ``category`` and ``nom``; ``None`` otherwise.
    """

    name: str
    kind: str
    members: pd.DataFrame
    categories: list[str]
    source: str = ""
    warnings: list[dict] = field(default_factory=list)
    polygons: Any = field(default=None, repr=False)

    def codes(self, category: str) -> list[str]:
        """The units of one category (in the file's order, each once)."""
        m = self.members
        return list(dict.fromkeys(m.loc[m["category"] == category, "code"]))

    @functools.cached_property
    def unit_table(self) -> pd.DataFrame:
        """One row per (category, unit): ``category``, ``code``, ``share`` (of the unit's area in
        the zone, summed over the category's polygons, at most 1), ``polygons`` (names, ``" ; "``
        joined; polygons only)."""
        m = self.members
        if self.kind != "polygones":  # one row per unit already
            return m[["category", "code", "share"]].assign(polygons="").reset_index(drop=True)
        g = m.groupby(["category", "code"], sort=False)
        out = g["share"].sum().clip(upper=1.0).rename("share").reset_index()
        names = g["polygon"].agg(lambda s: " ; ".join(dict.fromkeys(x for x in s if x)))
        out["polygons"] = names.to_numpy()
        return out


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
def read_zones(
    path,
    ref: Reference,
    *,
    name: str | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    skip_rows: int | None = None,
    crs=None,
    prefer: str | None = None,
    departement=None,
    category_column: str | None = None,
) -> ZoneLayer:
    """Read a zone layer: a table by commune or by EPCI, or polygons.

    Parameters
    ----------
    path
        CSV/TXT (any common delimiter and encoding), XLSX (title rows above the header, notes
        and totals below are skipped with a warning), or GeoJSON/GeoPackage of polygons.
    ref
        The reference the codes are resolved against.
    name
        The layer's name (default: the file's stem).
    layer
        GeoPackage only: the layer to read (needed when the file has several).
    sheet, skip_rows, prefer, departement
        Tables only, as for :func:`cpts_geo.inputs.read_proposal`.
    crs
        Polygon files without a CRS: the CRS of their coordinates.
    category_column
        The column (or attribute) holding the category, when it is not recognised.

    Returns
    -------
    ZoneLayer

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem.
    """
    path = _as_path(path)
    layer_name, cut = bounded_name(str(name) if name else path.stem)
    if _kind(path) == "geo":
        out = _polygon_layer(
            path, ref, layer=layer, crs=crs, category_column=category_column, default=layer_name
        )
    else:
        if layer is not None:
            raise InputError(f"{path} : le paramètre layer ne s'applique qu'aux fichiers géographiques")
        out = _table_layer(
            path,
            ref,
            sheet=sheet,
            skip_rows=skip_rows,
            prefer=prefer,
            departement=departement,
            category_column=category_column,
            default=layer_name,
        )
    out.name = layer_name
    out.warnings = ([cut] if cut else []) + out.warnings
    for w in out.warnings:
        log.info("%s : ligne %s : %s", path, w.get("line"), w.get("message"))
    return out


def is_polygon_file(path) -> bool:
    """Whether ``path`` is read as polygons (GeoJSON, GeoPackage, Shapefile...) by :func:`read_zones`."""
    return _kind(Path(path)) == "geo"


def zone_layer_from_codes(
    categories: Mapping[str, Iterable[str]] | Iterable[str], ref: Reference, *, name: str = "Zones"
) -> ZoneLayer:
    """A layer by commune from lists of codes or names (resolved as everywhere), by category: a
    mapping category -> values, or one list (one zone named after the layer).

    Raises
    ------
    InputError
        Naming every value that could not be resolved.
    """
    if not isinstance(categories, Mapping):
        categories = {name: list(categories)}
    values, cats = [], []
    for cat, vals in categories.items():
        for v in vals:
            values.append(v)
            cats.append(normalize_category(cat))
    if not values:
        raise InputError(f"couche de zones « {safe(name)} » : aucune commune")
    members, warnings = _resolve_rows(ref, values, cats, list(range(1, len(values) + 1)), "", {})
    return _layer(name, "communes", members, warnings, source="")


def as_zone_layers(ref: Reference, zones) -> list[ZoneLayer]:
    """Zone layers from what the API takes: ``None``, a :class:`ZoneLayer`, a path, or a list of
    them (paths read with :func:`read_zones`, named after their stem)."""
    if zones is None:
        return []
    if isinstance(zones, ZoneLayer | str | Path):
        zones = [zones]
    out = []
    for z in zones:
        if isinstance(z, ZoneLayer):
            out.append(z)
        elif isinstance(z, str | Path):
            out.append(read_zones(z, ref))
        else:
            raise InputError(
                f"couche de zones de type {type(z).__name__} non prise en charge ; attendu une ZoneLayer "
                "(read_zones) ou le chemin d'un fichier"
            )
    names = [z.name for z in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(
            f"deux couches de zones portent le même nom « {safe(twice[0])} » ; nommez-les autrement "
            "(paramètre name de read_zones)"
        )
    return out


def _layer(name: str, kind: str, members: pd.DataFrame, warnings: list[dict], *, source: str, polygons=None):
    seen = list(dict.fromkeys(members["category"]))
    categories = [c for c in _KNOWN_ORDER if c in seen] + [c for c in seen if c not in _KNOWN_ORDER]
    return ZoneLayer(
        name=name,
        kind=kind,
        members=members.reset_index(drop=True),
        categories=categories,
        source=source,
        warnings=warnings,
        polygons=polygons,
    )


def _find(header_folded: list[str], names: list[str], *, contains: tuple[str, ...] = ()) -> int | None:
    for n in names:
        if n in header_folded:
            return header_folded.index(n)
    for j, h in enumerate(header_folded):
        if any(word in h for word in contains):
            return j
    return None


def _category_col(
    header: list[str], category_column: str | None, src: str, line: int, taken: set
) -> int | None:
    folded = [fold(h) for h in header]
    if category_column is not None:
        want = fold(category_column)
        if want not in folded:
            raise InputError(
                f"{src} : ligne {line} : colonne de catégorie '{safe(category_column)}' introuvable parmi "
                f"{', '.join(repr(h) for h in header)}"
            )
        return folded.index(want)
    free = [h if j not in taken else "\x00" for j, h in enumerate(folded)]
    return _find(free, CATEGORY_COLUMNS, contains=("zonage", "categorie"))


def _zone_rows(path: Path, sheet, skip_rows) -> tuple[list[_Row], list[dict]]:
    """The rows from the header on, without total and note rows, as the other readers find them
    (title rows, another sheet of a workbook); a header of zone columns (SIREN, category) is
    recognised too, and a list of SIRENs is not taken for a column of totals."""
    warnings: list[dict] = []
    if sheet is None and _kind(path) == "xlsx":
        rows, warnings = _zone_sheet(path)
    else:
        rows = _read_rows(path, sheet=sheet)
    if skip_rows:
        skipped = [r for r in rows if r.line <= skip_rows]
        rows = [r for r in rows if r.line > skip_rows]
        if skipped:
            warnings.append(_skipped(skipped, f"{skip_rows} première(s) ligne(s) ignorée(s) à la demande"))
        if not rows:
            raise InputError(f"{path} : aucune ligne après les {skip_rows} premières")
    else:
        start = _header_index(rows)
        if not start and not _zone_header(rows[0].cells):
            start = next(
                (
                    k
                    for k, r in enumerate(rows[1 : MAX_TITLE_ROWS + 1], start=1)
                    if _zone_header(r.cells) and all(sum(1 for c in t.cells if c) < 2 for t in rows[:k])
                ),
                0,
            )
        if start:
            warnings.append(_skipped(rows[:start], "ligne(s) de titre au-dessus de l'en-tête ignorée(s)"))
            rows = rows[start:]
    if len(rows) == 1:
        return _one_line_list(rows), warnings
    if _epci_shaped(rows[0].cells):
        # A list of EPCI: its SIRENs are numbers, not totals; only rows that say so are dropped.
        kept = [
            r
            for k, r in enumerate(rows)
            if not k or not _TOTAL.match(fold(next((c for c in r.cells if c), "")))
        ]
        if len(kept) < len(rows):
            dropped = [r for r in rows if r not in kept]
            warnings.append(_skipped(dropped, "ligne(s) de total ignorée(s)"))
        return kept, warnings
    rows, notes = _without_totals(rows)
    return rows, warnings + notes


def _zone_sheet(path: Path) -> tuple[list[_Row], list[dict]]:
    """The rows of the first sheet whose header names zone columns (SIREN, EPCI, category),
    with a warning when it is not the first; else the first sheet that holds communes."""
    from openpyxl import load_workbook

    rows = _read_rows(path, sheet=None)
    if any(_zone_header(r.cells) for r in rows[: MAX_TITLE_ROWS + 1]):
        return rows, []
    try:
        wb = load_workbook(path, read_only=True)
        names = list(wb.sheetnames)
        wb.close()
    except Exception:  # unreadable: the first sheet was read, _communes_sheet says the rest
        names = []
    for name in names[1:]:
        try:
            other = _read_rows(path, sheet=name)
        except InputError:  # an empty sheet
            continue
        if any(_zone_header(r.cells) for r in other[: MAX_TITLE_ROWS + 1]):
            note = f"feuille '{name}' lue : la première feuille, '{names[0]}', n'a pas de colonnes de zones reconnues"
            return other, [{"line": None, "value": name, "message": note}]
    return _communes_sheet(path)


def _epci_shaped(cells: list[str]) -> bool:
    """A header of a list of EPCI: a SIREN or EPCI column, and no column of commune codes (a
    « Nom » column next to a SIREN is the EPCI's name)."""
    folded = [fold(c) for c in cells]
    code = _columns(cells).get("code")
    if code is not None and folded[code] == "code epci":
        code = None
    return code is None and (
        _find(folded, SIREN_COLUMNS) is not None
        or _find(folded, [], contains=("epci", "intercommunalite")) is not None
    )


def _zone_header(cells: list[str]) -> bool:
    folded = [fold(c) for c in cells if len(c) <= 40]  # a title is longer than a column name
    return bool(_columns(cells)) or any(
        f in SIREN_COLUMNS or f in CATEGORY_COLUMNS or "zonage" in f or "epci" in f for f in folded
    )


def _table_layer(
    path: Path, ref: Reference, *, sheet, skip_rows, prefer, departement, category_column, default
):
    src = str(path)
    rows, warnings = _zone_rows(path, sheet, skip_rows)
    header, body = _split_header(rows, path)
    if header is None and _zone_header(rows[0].cells):
        header, body = rows[0].cells, rows[1:]
    if header is None:
        if category_column is not None:
            raise InputError(
                f"{src} : pas d'en-tête ; la colonne de catégorie '{safe(category_column)}' est introuvable"
            )
        return _headerless_layer(path, ref, body, warnings, departement, default)
    line = rows[0].line
    cols = _columns(header)
    folded = [fold(h) for h in header]
    code_col, name_col = cols.get("code"), cols.get("name")
    siren_col = _find(folded, SIREN_COLUMNS)
    epci_col = cols.get("epci")
    if epci_col is not None and siren_col == epci_col:
        siren_col = None
    if code_col is not None and folded[code_col] == "code epci":
        code_col = None
    if epci_col is None:
        epci_col = _find(folded, [], contains=("epci", "intercommunalite"))
    kind = "epci" if _epci_shaped(header) else "communes"
    if kind == "epci" and epci_col is None and siren_col is not None and name_col is not None:
        epci_col = name_col  # « SIREN ; Nom » : the EPCI's name
    if kind == "communes" and code_col is None and name_col is None:
        kind = "epci"
    if kind == "epci" and siren_col is None and epci_col is None:
        raise InputError(
            f"{src} : ligne {line} : aucune colonne de communes ni d'EPCI reconnue parmi "
            f"{', '.join(repr(h) for h in header)} ; attendu une colonne de codes communes (code_insee, "
            "CODGEO...) ou de noms (Commune), ou une colonne SIREN / EPCI"
        )
    taken = {
        j
        for j in (code_col, name_col, siren_col, epci_col, cols.get("dep"), cols.get("postal"))
        if j is not None
    }
    cat_col = _category_col(header, category_column, src, line, taken)
    if cat_col is None:
        others = [h for j, h in enumerate(header) if j not in taken and h]
        if others:
            warnings.append(
                {
                    "line": line,
                    "value": "; ".join(others),
                    "message": "aucune colonne de catégorie reconnue (zonage, catégorie...) parmi "
                    f"{', '.join(repr(h) for h in others[:6])} : toutes les lignes forment une seule zone "
                    f"« {default} » (précisez la colonne : paramètre category_column)",
                }
            )
    problems: list[dict] = []
    values, cats, lines, names, deps, postal = [], [], [], [], [], []
    for r in body:
        if kind == "communes":
            code, nom = _cell(r, code_col), _cell(r, name_col)
            value = code or nom
            nm = nom if code and nom else None
        else:
            value = _cell(r, siren_col) or _cell(r, epci_col)
            nm = None
        cat = _cell(r, cat_col) if cat_col is not None else default
        if not value:
            problems.append(
                {
                    "line": r.line,
                    "value": "; ".join(c for c in r.cells if c),
                    "message": "ligne sans code ni nom " + ("de commune" if kind == "communes" else "d'EPCI"),
                }
            )
            continue
        if not cat:
            problems.append(
                {
                    "line": r.line,
                    "value": value,
                    "message": f"'{safe(value, 60)}' sans catégorie (colonne « {_cell(rows[0], cat_col)} » vide) ; "
                    "chaque ligne doit avoir sa catégorie",
                }
            )
            continue
        values.append(value)
        cats.append(normalize_category(cat))
        lines.append(r.line)
        names.append(nm)
        deps.append(_cell(r, cols.get("dep")) or departement)
        postal.append(_cell(r, cols.get("postal")) or None)
    if not values and not problems:
        raise InputError(f"{src} : aucune ligne de données sous l'en-tête ; la couche de zones est vide")
    try:
        if kind == "epci":
            members, more = _epci_rows(ref, values, cats, lines, src)
        else:
            extra = {"departement": deps, "names": names, "postal_codes": postal, "prefer": prefer}
            members, more = _resolve_rows(ref, values, cats, lines, src, extra)
    except InputError as exc:  # every problem at once, in line order
        if not problems:
            raise
        problems += [p for p in exc.problems if p.get("line") is not None]
    if problems:
        _raise(src, sorted(problems, key=lambda p: p["line"]))
    return _layer(default, kind, members, warnings + more, source=src)


def _headerless_layer(path: Path, ref: Reference, body: list[_Row], warnings, departement, default):
    """A plain list, one code or name per line: one zone; all SIRENs: a list of EPCI."""
    src = str(path)
    values = [c for r in body for c in r.cells if c]
    lines = [r.line for r in body for c in r.cells if c]
    cats = [default] * len(values)
    if values and all(re.fullmatch(r"\s*\d{9}(\.0)?\s*", v) for v in values):
        members, more = _epci_rows(ref, values, cats, lines, src)
        return _layer(default, "epci", members, warnings + more, source=src)
    members, more = _resolve_rows(ref, values, cats, lines, src, {"departement": departement})
    return _layer(default, "communes", members, warnings + more, source=src)


def _raise(src: str, problems: list[dict]) -> None:
    if problems:
        for p in problems:
            p["file"] = src
        raise InputError("\n".join(f"{src} : ligne {p['line']} : {p['message']}" for p in problems), problems)


def _resolve_rows(
    ref: Reference, values, cats, lines, src: str, extra: dict
) -> tuple[pd.DataFrame, list[dict]]:
    """Commune values resolved (old codes, PLM cities, names) into (category, unit) rows."""
    res = ref.resolve(
        values, lines=lines, source=src or None, **{k: v for k, v in extra.items() if v is not None}
    )
    warnings = [
        {"line": w.get("line"), "value": w.get("value", ""), "message": w["message"]}
        for w in res.warnings
        if not w["message"].startswith("doublon ignoré")
    ]
    # A former commune (old code or name) stands apart: two of them may meet in one unit.
    migrated = {w.get("index") for w in res.warnings if "ancien" in w["message"]}
    rows = [
        (cat, u, line, value if i in migrated else u)
        for i, (cat, units, line, value) in enumerate(zip(cats, res.by_value, lines, values))
        for u in units
    ]
    return _members(rows, src, warnings, what="commune")


def _members(
    rows: list[tuple], src: str, warnings: list[dict], *, what: str
) -> tuple[pd.DataFrame, list[dict]]:
    """(category, unit, line, value) rows without duplicates.

    A unit given twice in two categories is refused when the same value says both (a
    contradictory file); when two values meet in one unit (former communes merged since, with
    their own zonage), the more urgent category is kept (ZIP, ZAC, zone de vigilance, hors
    zonage; else the first met) with a warning naming both lines."""
    first: dict[str, tuple[str, int, str]] = {}
    problems: list[dict] = []
    dup_lines: list[int] = []
    merged: list[dict] = []
    for cat, unit, line, value in rows:
        if unit not in first:
            first[unit] = (cat, line, value)
            continue
        cat0, line0, value0 = first[unit]
        if cat0 == cat:
            if line != line0:
                dup_lines.append(line)
            continue
        if value == value0:
            problems.append(
                {
                    "line": line,
                    "value": unit,
                    "message": f"unité {unit} classée « {safe(cat)} » alors qu'elle l'est déjà « {safe(cat0)} » "
                    f"ligne {line0} ; une unité n'a qu'une catégorie par couche ({what} en double ?)",
                }
            )
            continue
        kept = cat if _rank(cat) < _rank(cat0) else cat0
        first[unit] = (kept, line if kept == cat else line0, value if kept == cat else value0)
        merged.append(
            {
                "line": line,
                "value": unit,
                "message": f"unité {unit} : « {safe(str(value0), 60)} » (ligne {line0}, {safe(cat0)}) et "
                f"« {safe(str(value), 60)} » (ligne {line}, {safe(cat)}) s'y retrouvent (anciennes communes "
                f"fusionnées ?) ; catégorie retenue : {safe(kept)}",
            }
        )
    _raise(src, problems)
    warnings = warnings + merged
    if dup_lines:
        lines = sorted(set(dup_lines))
        warnings = warnings + [
            {
                "line": lines[0],
                "value": "",
                "message": f"{fr_int(len(lines))} ligne(s) en double ignorée(s) (même unité, même catégorie) : "
                f"lignes {', '.join(map(str, lines[:10]))}" + (" …" if len(lines) > 10 else ""),
            }
        ]
    frame = pd.DataFrame(
        [(c, u, ln) for u, (c, ln, _) in first.items()], columns=["category", "code", "line"]
    )
    frame["polygon"] = ""
    frame["share"] = 1.0
    frame["zone_share"] = np.nan
    return frame, warnings


def _rank(category: str) -> int:
    """The urgency of a category: CartoSanté's order, then every other alike."""
    return _KNOWN_ORDER.index(category) if category in _KNOWN_ORDER else len(_KNOWN_ORDER)


def _epci_index(ref: Reference) -> dict[str, list[str]]:
    """EPCI names folded as :func:`~cpts_geo.reference.names.epci_key` (with and without the CC /
    CA / CU / Métropole prefix) -> SIRENs."""
    out: dict[str, list[str]] = {}
    for siren, nom in ref.epci["nom"].items():
        key = epci_key(nom)
        for k in {key, re.sub(r"^(cc|ca|cu|metropole) ", "", key)}:
            out.setdefault(k, []).append(str(siren))
    return out


def _epci_rows(ref: Reference, values, cats, lines, src: str) -> tuple[pd.DataFrame, list[dict]]:
    """EPCI values (SIREN or name) into (category, unit) rows: every unit of each EPCI."""
    epci = ref.epci
    index = _epci_index(ref)
    units_of = ref.unit_table.groupby("epci", sort=False).groups
    cog = ref.vintage.get("cog")
    problems, rows = [], []
    for value, cat, line in zip(values, cats, lines):
        v = re.sub(r"\.0$", "", str(value).strip())
        if re.fullmatch(r"\d{9}", v):
            sirens = [v] if v in epci.index else []
            if not sirens:
                problems.append(
                    {
                        "line": line,
                        "value": value,
                        "message": f"SIREN '{safe(v)}' : aucun EPCI de ce numéro au COG {cog}",
                    }
                )
                continue
        else:
            key = epci_key(v)
            sirens = sorted(
                set(index.get(key, []) or index.get(re.sub(r"^(cc|ca|cu|metropole) ", "", key), []))
            )
            if len(sirens) != 1:
                problems.append(
                    {"line": line, "value": value, "message": _epci_problem(ref, v, sirens, index, cog)}
                )
                continue
        units = list(units_of.get(sirens[0], []))
        rows += [(cat, str(u), line, sirens[0]) for u in units]
    _raise(src, problems)
    return _members(rows, src, [], what="EPCI")


def _epci_problem(ref: Reference, value: str, sirens: list[str], index: dict, cog) -> str:
    if sirens:
        named = ", ".join(f"{ref.epci.at[s, 'nom']} ({s})" for s in sirens[:5])
        return f"EPCI '{safe(value, 80)}' ambigu : {named} ; donnez le SIREN (9 chiffres)"
    from rapidfuzz import fuzz, process

    near = process.extract(epci_key(value), list(index), scorer=fuzz.ratio, limit=3, score_cutoff=75)
    hint = ""
    if near:
        close = sorted({f"{ref.epci.at[s, 'nom']} ({s})" for k, _, _ in near for s in index[k]})
        hint = f" ; vouliez-vous dire {', '.join(close[:3])} ?"
    return f"EPCI '{safe(value, 80)}' inconnu au COG {cog} ; vérifiez le nom ou donnez le SIREN (9 chiffres){hint}"


# ---------------------------------------------------------------------------------------------
# Polygons
# ---------------------------------------------------------------------------------------------
def _polygon_layer(path: Path, ref: Reference, *, layer, crs, category_column, default: str) -> ZoneLayer:
    import geopandas as gpd

    from cpts_geo.inputs._polygons import _read_geo

    gdf = _read_geo(path, ref, layer=layer, crs=crs)
    src = str(path)
    fields = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    folded = [fold(f) for f in fields]
    name_j = _find(folded, POLYGON_NAME_COLUMNS)
    code_j = _find(folded, POLYGON_CODE_COLUMNS)
    if category_column is not None:
        if fold(category_column) not in folded:
            raise InputError(
                f"{src} : attribut de catégorie '{safe(category_column)}' introuvable parmi {', '.join(fields)}"
            )
        cat_j: int | None = folded.index(fold(category_column))
    else:
        taken = {j for j in (name_j, code_j) if j is not None}
        free = [h if j not in taken else "\x00" for j, h in enumerate(folded)]
        cat_j = _find(free, CATEGORY_COLUMNS, contains=("zonage", "categorie"))
    problems: list[dict] = []
    cats, noms = [], []
    for i, rec in enumerate(gdf.itertuples(index=False), start=1):
        values = dict(zip(fields, rec[: len(fields)]))
        cat = (
            ""
            if cat_j is None
            else ("" if blank(values[fields[cat_j]]) else cell_text(values[fields[cat_j]]))
        )
        if cat_j is not None and not cat:
            problems.append(
                {
                    "line": i,
                    "value": f"objet n°{i}",
                    "message": f"objet n°{i} sans catégorie ({fields[cat_j]} vide)",
                }
            )
        cats.append(normalize_category(cat) if cat else default)
        nom = "" if name_j is None or blank(values[fields[name_j]]) else cell_text(values[fields[name_j]])
        code = "" if code_j is None or blank(values[fields[code_j]]) else cell_text(values[fields[code_j]])
        label = f"{nom} ({code})" if nom and code and code != nom else (nom or code or f"objet n°{i}")
        noms.append(bounded_name(label)[0])
    if problems:
        for p in problems:
            p["file"] = src
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems), problems)
    geoms = gdf.geometry.to_numpy()
    pairs = _touched(ref, geoms)
    untouched = sorted(set(range(len(geoms))) - set(pairs["polygon"].tolist()))
    outside: list[dict] = []
    if untouched:
        shown = ", ".join(f"objet n°{i + 1} ({safe(noms[i], 60)})" for i in untouched[:5])
        more = f" et {fr_int(len(untouched) - 5)} autre(s)" if len(untouched) > 5 else ""
        if len(untouched) == len(geoms):  # nothing in France: a wrong CRS, not a few far polygons
            raise InputError(
                f"{src} : aucun polygone ne touche une commune du référentiel ({shown}{more}) ; vérifiez "
                "le système de coordonnées (paramètre crs)",
                [
                    {"file": src, "line": i + 1, "value": noms[i], "message": "polygone hors du référentiel"}
                    for i in untouched
                ],
            )
        # A national file also holds zones of the COM (Saint-Martin...), out of the reference.
        outside.append(
            {
                "line": untouched[0] + 1,
                "value": " ; ".join(noms[i] for i in untouched),
                "message": f"{fr_int(len(untouched))} polygone(s) hors de toute commune du référentiel, non "
                f"comptés : {shown}{more} (collectivités d'outre-mer hors du référentiel ? sinon vérifiez "
                "le système de coordonnées)",
            }
        )
    k = pairs["polygon"].to_numpy()
    members = pd.DataFrame(
        {
            "category": np.asarray(cats, dtype=object)[k],
            "code": pairs["code"].to_numpy(dtype=object),
            "line": k + 1,
            "polygon": np.asarray(noms, dtype=object)[k],
            "share": pairs["share"].round(4).to_numpy(),
            "zone_share": pairs["zone_share"].round(4).to_numpy(),
        }
    )
    polygons = gpd.GeoDataFrame({"category": cats, "nom": noms}, geometry=geoms, crs=4326)
    warnings = gdf.attrs.get("warnings", []) + outside
    return _layer(default, "polygones", members, warnings, source=src, polygons=polygons)


def _touched(ref: Reference, geoms: np.ndarray) -> pd.DataFrame:
    """(polygon, unit) pairs above :data:`TOUCH_TOLERANCE`, with ``share`` (of the unit's area in
    the polygon) and ``zone_share`` (of the polygon's area in the unit), measured in the unit's
    zone's projected CRS (vectorised: one spatial query, one intersection per zone)."""
    import geopandas as gpd
    import shapely

    units = ref.units
    poly_i, unit_i = units.sindex.query(geoms, predicate="intersects")
    out = []
    epsg = units["epsg"].to_numpy()[unit_i]
    for e in np.unique(epsg):
        sel = epsg == e
        u = gpd.GeoSeries(units.geometry.to_numpy()[unit_i[sel]], crs=4326).to_crs(int(e)).to_numpy()
        p = gpd.GeoSeries(geoms[poly_i[sel]], crs=4326).to_crs(int(e)).to_numpy()
        inter = shapely.area(shapely.intersection(u, p))
        ua, pa = shapely.area(u), shapely.area(p)
        out.append(
            pd.DataFrame(
                {
                    "polygon": poly_i[sel],
                    "unit": unit_i[sel],
                    "share": np.where(ua > 0, inter / np.where(ua > 0, ua, 1), 0.0),
                    "zone_share": np.where(pa > 0, inter / np.where(pa > 0, pa, 1), 0.0),
                }
            )
        )
    if not out:
        return pd.DataFrame({"polygon": [], "code": [], "share": [], "zone_share": []})
    t = pd.concat(out, ignore_index=True)
    t = t[(t["share"] > TOUCH_TOLERANCE) | (t["zone_share"] > TOUCH_TOLERANCE)]
    t = t.sort_values(["polygon", "unit"], kind="stable")
    t["code"] = units.index.to_numpy()[t["unit"].to_numpy()]
    return t[["polygon", "code", "share", "zone_share"]].reset_index(drop=True)
