"""GeoPackages for QGIS: the layers of a coverage, a checked territory and suggestions, styled.

Each ``*_layers`` function turns a computed result into ``{layer name: (GeoDataFrame, qml,
description)}`` for :func:`cpts_geo.outputs.qgis.write_styled_gpkg`, which stores every layer's default
QGIS style (the colours of the HTML maps, :mod:`cpts_geo.maps.styles`) in ``layer_styles``. The
geometries are the reference's units dissolved by :func:`cpts_geo.reference.geometry.dissolve`; the
figures are those of the result (nothing is computed again).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from cpts_geo.checks.findings import finding_by_unit
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.stages import STAGE_LABELS
from cpts_geo.maps.styles import FINDING_STYLES, NEIGHBOUR_CPTS_STYLE
from cpts_geo.outputs import qgis as _qgis
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference

__all__ = [
    "coverage_layers",
    "suggest_layers",
    "territory_layers",
    "write_coverage_gpkg",
    "write_suggest_gpkg",
    "write_territory_gpkg",
]


def _frame(rows: list[dict], columns: list[str], geoms) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geoms), crs=4326), crs=4326)


def _shown_cpts(cov) -> pd.DataFrame:
    """The CPTS touching the area, whole (as on the coverage map)."""
    cpts = cov.cpts_frame
    scope = cov.scope
    if scope["level"] == "national":
        return cpts
    col = "regions" if scope["level"] == "region" else "departements"
    return cpts[[scope["code"] in areas for areas in cpts[col]]]


def _cpts_layer(cpts: pd.DataFrame, geom) -> gpd.GeoDataFrame:
    stages = [s if s in STAGE_LABELS else "" for s in cpts["statut"]]
    return _frame(
        [
            {
                "cpts_id": cid,
                "cpts_nom": r["cpts_nom"],
                "statut": s,
                "stade": STAGE_LABELS[s],
                "date_statut": r["date_statut"] or "",
                "population": int(r["population"]),
                "n_communes": int(r["n_communes"]),
                "taille_aci": int(r["aci_size_class"]),
            }
            for (cid, r), s in zip(cpts.iterrows(), stages)
        ],
        ["cpts_id", "cpts_nom", "statut", "stade", "date_statut", "population", "n_communes", "taille_aci"],
        [geom.get("c:" + str(c)) for c in cpts.index],
    )


def _white_layer(ref: Reference, white: pd.DataFrame, geom) -> gpd.GeoDataFrame:
    by_dep = white.groupby("departement")["population"].agg(["size", "sum"])
    return _frame(
        [
            {
                "departement": d,
                "nom": f"Zone blanche — {ref.departements.at[d, 'nom']} ({d})",
                "communes": int(r["size"]),
                "population": int(r["sum"]),
            }
            for d, r in by_dep.iterrows()
        ],
        ["departement", "nom", "communes", "population"],
        [geom.get("w:" + d) for d in by_dep.index],
    )


def _overlap_layer(cov, multi: pd.DataFrame, keys: list[str], geom) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    names = cov.cpts_frame["cpts_nom"]
    for key, grp in multi.assign(key=keys).groupby("key", sort=True):
        rows.append(
            {
                "cpts": key,
                "cpts_noms": " ; ".join(str(names.get(c, "") or c) for c in key.split(" ; ")),
                "communes": ", ".join(grp.index),
                "n_communes": len(grp),
                "population": int(grp["population"].sum()),
            }
        )
        geoms.append(geom.get("o:" + key))
    return _frame(rows, ["cpts", "cpts_noms", "communes", "n_communes", "population"], geoms)


def _departement_layer(ref: Reference, cov, deps: list[str], geom) -> gpd.GeoDataFrame:
    rows = {r["code"]: r for r in cov.departements}
    empty = {"cpts": 0, "share_covered": 0.0, "white_zone_population": 0}
    return _frame(
        [
            {
                "code": d,
                "nom": ref.departements.at[d, "nom"],
                "cpts": int(rows.get(d, empty)["cpts"]),
                "part_couverte": float(rows.get(d, empty)["share_covered"]),
                "population_zone_blanche": int(rows.get(d, empty)["white_zone_population"]),
            }
            for d in deps
        ],
        ["code", "nom", "cpts", "part_couverte", "population_zone_blanche"],
        [geom.get("d:" + d) for d in deps],
    )


def coverage_layers(ref: Reference, cov) -> dict[str, tuple]:
    """Layers of a :class:`~cpts_geo.steering.coverage.Coverage`: CPTS by stage, white zones (one per
    département), units in several CPTS (one per set of CPTS), départements (outlines).

    The CPTS drawn are those touching the area, whole (as on the coverage map); the figures are
    the coverage's (its per-unit table and entries), the geometries one :func:`dissolve`.
    """
    cpts = _shown_cpts(cov)
    table = cov.units
    inside = np.asarray(cov.in_scope)
    deps = sorted(set(table.loc[inside, "departement"]))
    white = table.loc[inside & (table["n_cpts"].to_numpy() == 0)]
    multi = table.loc[table["n_cpts"].to_numpy() >= 2]
    multi = multi[multi["cpts"].map(lambda c: any(x in cpts.index for x in c))]
    multi_key = [" ; ".join(c) for c in multi["cpts"]]
    dep_units = table.loc[inside]
    members = [
        pd.DataFrame({"group": "c:" + str(cid), "code_insee": codes})
        for cid, codes in zip(cpts.index, cpts["codes"])
        if len(codes)
    ]
    members += [
        pd.DataFrame({"group": "w:" + white["departement"], "code_insee": white.index}),
        pd.DataFrame({"group": ["o:" + k for k in multi_key], "code_insee": multi.index}),
        pd.DataFrame({"group": "d:" + dep_units["departement"], "code_insee": dep_units.index}),
    ]
    geom = dissolve(ref, pd.concat(members, ignore_index=True), within=deps).geometry
    return {  # the first is drawn at the bottom
        "cpts_par_stade": (
            _cpts_layer(cpts, geom),
            _qgis.cpts_stage_qml("statut"),
            "CPTS par stade (Atlas des CPTS)",
        ),
        "zones_blanches": (
            _white_layer(ref, white, geom),
            _qgis.white_zone_qml(),
            "Zones blanches (aucune CPTS)",
        ),
        "chevauchements": (
            _overlap_layer(cov, multi, multi_key, geom),
            _qgis.overlap_qml(),
            "Communes dans plusieurs CPTS",
        ),
        "departements": (
            _departement_layer(ref, cov, deps, geom),
            _qgis.departement_outline_qml(),
            "Limites des départements",
        ),
    }


def territory_layers(ref: Reference, report, *, existing=None) -> dict[str, tuple]:
    """Layers of a checked territory: neighbouring CPTS of ``existing``, the units with their
    finding (those of the territory, the communes it encloses, the rest of its split EPCIs)
    and the territory's outline."""
    codes = [c for c in report.territory.get("communes", []) if c in ref.units.index]
    inside = set(codes)
    kind = finding_by_unit(ref, report)
    members = [
        pd.DataFrame({"group": ["u:" + c for c in kind], "code_insee": list(kind)}),
        pd.DataFrame({"group": "t", "code_insee": codes}),
    ]
    register = as_register(ref, existing)
    near_cpts: dict[str, str] = {}
    if len(register):
        t = register.named_links
        near = ref.neighbours_of_codes(codes) | inside
        sel = t[t["cpts_id"].isin(set(t.loc[t["code_insee"].isin(near), "cpts_id"]))]
        near_cpts = sel.groupby("cpts_id", sort=True)["cpts_nom"].first().to_dict()
        members.append(
            pd.DataFrame({"group": "c:" + sel["cpts_id"].astype(str), "code_insee": sel["code_insee"]})
        )
    gdf = dissolve(ref, pd.concat(members, ignore_index=True))
    units = ref.units
    epci_names = ref.epci["nom"]
    unit_rows = []
    for c, k in kind.items():
        e = units.at[c, "epci"]
        unit_rows.append(
            {
                "code_insee": c,
                "nom": units.at[c, "nom"],
                "population": int(units.at[c, "population"]),
                "epci": str(epci_names.get(e, "")) if isinstance(e, str) and e else "aucun EPCI",
                "dans_territoire": c in inside,
                "constat": k,
                "constat_libelle": FINDING_STYLES[k][0],
            }
        )
    ug = _frame(
        unit_rows,
        ["code_insee", "nom", "population", "epci", "dans_territoire", "constat", "constat_libelle"],
        [gdf.geometry.get("u:" + c) for c in kind],
    )
    t = report.territory
    outline = _frame(
        [
            {
                "nom": t.get("name", ""),
                "population": int(t.get("population", 0)),
                "n_communes": int(t.get("n_communes", 0)),
                "taille_aci": int(t.get("aci_size_class", 0)),
                "resultat": report.status,
            }
        ],
        ["nom", "population", "n_communes", "taille_aci", "resultat"],
        [gdf.geometry.get("t")],
    )
    layers: dict[str, tuple] = {}
    if near_cpts:
        keys = ["c:" + str(c) for c in near_cpts]
        nb = _frame(
            [
                {"cpts_id": c, "cpts_nom": n, "population": int(p)}
                for (c, n), p in zip(near_cpts.items(), gdf.loc[keys, "population"])
            ],
            ["cpts_id", "cpts_nom", "population"],
            gdf.loc[keys].geometry.to_numpy(),
        )
        layers["cpts_voisines"] = (
            nb,
            _qgis.qml_from_leaflet(NEIGHBOUR_CPTS_STYLE, label_field="cpts_nom"),
            "CPTS existantes voisines",
        )
    layers["communes"] = (ug, _qgis.territory_units_qml("constat"), "Communes et constats")
    layers["contour_territoire"] = (outline, _qgis.territory_outline_qml(), "Contour du territoire")
    return layers


def suggest_layers(ref: Reference, result) -> dict[str, tuple]:
    """Layers of a :class:`~cpts_geo.suggest.SuggestResult`: suggested territories, extensions
    of existing CPTS, white zones no territory can take (as :func:`~cpts_geo.suggest.result_features`)."""
    from cpts_geo.suggest.assemble import TYPE_EXTENSION, TYPE_ORPHAN, TYPE_TERRITORY
    from cpts_geo.suggest.territories import result_features

    feats = result_features(ref, result)
    names = result.assignment["nom"]
    feats["noms"] = [", ".join(str(names.get(c, c)) for c in s.split(";") if c) for s in feats["communes"]]

    def part(kind: str) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(feats[feats["type"] == kind].reset_index(drop=True), crs=4326)

    territories = part(TYPE_TERRITORY)
    # Neighbours in different colours of the palette, as on the HTML map of the suggestions.
    from cpts_geo.maps.plan_maps import suggest_colours

    groups = [s.split(";") for s in territories["communes"]]
    territories["couleur"] = pd.Series(suggest_colours(ref, groups), dtype="int64")
    return {
        "territoires_proposes": (
            territories,
            _qgis.suggested_qml("territoire_id", colour_field="couleur"),
            "Territoires proposés",
        ),
        "extensions": (
            part(TYPE_EXTENSION),
            _qgis.extension_qml(),
            "Extensions proposées de CPTS existantes",
        ),
        "non_rattachables": (part(TYPE_ORPHAN), _qgis.orphan_qml(), "Zones blanches non rattachables"),
    }


def write_coverage_gpkg(ref: Reference, cov, path, *, inputs: Iterable = ()) -> Path:
    """Write :func:`coverage_layers` to a styled GeoPackage."""
    return _qgis.write_styled_gpkg(path, coverage_layers(ref, cov), inputs=inputs)


def write_territory_gpkg(ref: Reference, report, path, *, existing=None, inputs: Iterable = ()) -> Path:
    """Write :func:`territory_layers` to a styled GeoPackage."""
    return _qgis.write_styled_gpkg(path, territory_layers(ref, report, existing=existing), inputs=inputs)


def write_suggest_gpkg(ref: Reference, result, path, *, inputs: Iterable = ()) -> Path:
    """Write :func:`suggest_layers` to a styled GeoPackage."""
    return _qgis.write_styled_gpkg(path, suggest_layers(ref, result), inputs=inputs)
