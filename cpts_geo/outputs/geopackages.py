"""GeoPackages for QGIS: the layers of a coverage, a checked territory and suggestions, styled.

Each ``*_layers`` function turns a computed result into ``{layer name: (GeoDataFrame, qml,
description)}`` for :func:`cpts_geo.outputs.qgis.write_styled_gpkg`, which stores every layer's default
QGIS style (the colours of the HTML maps, :mod:`cpts_geo.maps.styles`) in ``layer_styles``. The
coverage layers are those of the HTML map (:func:`cpts_geo.maps.layers.build_coverage_layers`),
unsimplified; the other geometries are the reference's units dissolved by
:func:`cpts_geo.reference.geometry.dissolve`; the figures are those of the result (nothing is
computed again).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from cpts_geo.checks.findings import finding_by_unit
from cpts_geo.inputs.read import as_register
from cpts_geo.inputs.stages import STAGE_LABELS
from cpts_geo.maps.layers import build_coverage_layers
from cpts_geo.maps.styles import FINDING_STYLES, NEIGHBOUR_CPTS_STYLE
from cpts_geo.outputs import qgis as _qgis
from cpts_geo.reference.geometry import dissolve
from cpts_geo.reference.units import Reference
from cpts_geo.steering.coverage import Coverage, as_coverage

__all__ = [
    "coverage_layers",
    "suggest_layers",
    "territory_layers",
    "write_coverage_gpkg",
    "write_suggest_gpkg",
    "write_territory_gpkg",
    "output_crs",
    "zone_layers",
]


def _frame(rows: list[dict], columns: list[str], geoms) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geoms), crs=4326), crs=4326)


def _cpts_layer(cpts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _frame(
        [
            {
                "cpts_id": cid,
                "cpts_nom": r["cpts_nom"],
                "statut": r["statut"],
                "stade": STAGE_LABELS[r["statut"]],
                "date_statut": pd.to_datetime(r["date_statut"], errors="coerce", dayfirst=False),
                "population": r["population"],
                "n_communes": r["n_communes"],
                "taille_aci": r["aci_size_class"],
                # Without the communes declared shared (equal when nothing is shared).
                "population_min": r.get("population_min", r["population"]),
                "taille_aci_min": r.get("aci_size_class_min", r["aci_size_class"]),
            }
            for cid, r in cpts.iterrows()
        ],
        [
            "cpts_id",
            "cpts_nom",
            "statut",
            "stade",
            "date_statut",
            "population",
            "n_communes",
            "taille_aci",
            "population_min",
            "taille_aci_min",
        ],
        cpts.geometry,
    )


def _white_layer(white: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _frame(
        [
            {"departement": d, "nom": r["nom"], "communes": r["communes"], "population": r["population"]}
            for d, r in white.iterrows()
        ],
        ["departement", "nom", "communes", "population"],
        white.geometry,
    )


def _overlap_layer(overlaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _frame(
        [
            {
                "cpts": " ; ".join(r["cpts"]),
                "cpts_noms": " ; ".join(r["cpts_noms"]),
                "communes": ", ".join(r["codes"]),
                "n_communes": len(r["codes"]),
                "population": r["population"],
            }
            for _, r in overlaps.iterrows()
        ],
        ["cpts", "cpts_noms", "communes", "n_communes", "population"],
        overlaps.geometry,
    )


def _shared_layer(shared: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _frame(
        [
            {
                "code_insee": c,
                "nom": r["nom"],
                "cpts": " ; ".join(r["cpts"]),
                "cpts_noms": " ; ".join(r["cpts_noms"]),
                "population": r["population"],
            }
            for c, r in shared.iterrows()
        ],
        ["code_insee", "nom", "cpts", "cpts_noms", "population"],
        shared.geometry,
    )


def _departement_layer(deps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _frame(
        [
            {
                "code": d,
                "nom": r["nom"],
                "cpts": r["cpts"],
                "part_couverte": r["share_covered"],
                "population_zone_blanche": r["white_zone_population"],
            }
            for d, r in deps.iterrows()
        ],
        ["code", "nom", "cpts", "part_couverte", "population_zone_blanche"],
        deps.geometry,
    )


def zone_layers(
    ref: Reference, layers, *, within=None, figures: list[dict] | None = None
) -> dict[str, tuple]:
    """One layer per zone layer (``zones_<nom>``), hatched by category as on the HTML maps: the
    features of :func:`cpts_geo.maps.zones.zone_overlays` (unsimplified), with ``categorie``,
    ``nom``, ``communes``, ``population``; ``figures`` (a coverage entry's ``zones``) add
    ``population_couverte``, ``part_couverte`` and ``population_aci`` by category."""
    import re
    import unicodedata

    from cpts_geo.maps.zones import zone_overlays

    out: dict[str, tuple] = {}
    for o in zone_overlays(ref, layers, within=within, tolerance_m=0.0, decimals=6):
        ascii_name = unicodedata.normalize("NFKD", o.name).encode("ascii", "ignore").decode()
        key = "zones_" + (re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40] or "couche")
        while key in out:
            key += "_2"
        f = o.features.drop(columns=["color", "pattern"]).rename(columns={"category": "categorie"})
        if figures is not None:
            mine = {z["category"]: z for z in figures if z["layer"] == o.name}
            f["population_couverte"] = [mine.get(c, {}).get("population_covered", 0) for c in f["categorie"]]
            f["part_couverte"] = [mine.get(c, {}).get("share_covered", 0.0) for c in f["categorie"]]
            f["population_aci"] = [
                mine.get(c, {}).get("population_covered_by_stage", {}).get("aci", 0) for c in f["categorie"]
            ]
        qml = _qgis.zone_qml([(c, p_["color"], p_["angle"]) for (c, _), p_ in zip(o.legend, o.patterns)])
        out[key] = (gpd.GeoDataFrame(f, geometry=f.geometry, crs=4326), qml, f"Zones : {o.name}")
    return out


def coverage_layers(ref: Reference, cov: Coverage) -> dict[str, tuple]:
    """Layers of a :class:`~cpts_geo.steering.coverage.Coverage`: CPTS by stage, white zones (one per
    département), units in several CPTS (one per set of CPTS), the communes declared shared (when
    there are any; never among the overlaps), départements (outlines).

    The layers of the coverage map (:func:`~cpts_geo.maps.layers.build_coverage_layers`), with
    unsimplified geometries: the CPTS touching the area, whole; the figures of the coverage.
    """
    if not isinstance(cov, Coverage):
        raise TypeError(f"attendu une couverture calculée (coverage_summary), reçu {type(cov).__name__}")
    layers = build_coverage_layers(as_coverage(ref, cov), tolerance_m=0.0, decimals=6)
    out = {  # the first is drawn at the bottom
        "cpts_par_stade": (
            _cpts_layer(layers.cpts),
            _qgis.cpts_stage_qml("statut"),
            "CPTS par stade (Atlas des CPTS)",
        ),
        "zones_blanches": (
            _white_layer(layers.white_zones),
            _qgis.white_zone_qml(),
            "Zones blanches (aucune CPTS)",
        ),
        "chevauchements": (
            _overlap_layer(layers.overlaps),
            _qgis.overlap_qml(),
            "Communes dans plusieurs CPTS",
        ),
    }
    if len(layers.shared):
        out["communes_partagees"] = (
            _shared_layer(layers.shared),
            _qgis.shared_qml(),
            "Communes partagées déclarées",
        )
    if cov.zone_layers:
        assert cov.units is not None
        out.update(
            zone_layers(
                ref, cov.zone_layers, within=cov.units.index[cov.in_scope], figures=cov.area.get("zones")
            )
        )
    out["departements"] = (
        _departement_layer(layers.departements),
        _qgis.departement_outline_qml(),
        "Limites des départements",
    )
    return out


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
    zl = getattr(report, "zone_layers", None)
    if zl:
        layers.update(zone_layers(ref, zl, within=[*codes, *ref.neighbours_of_codes(codes)]))
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


def output_crs(ref: Reference, layers: dict[str, tuple]) -> int:
    """The CRS a GeoPackage of ``layers`` is written in: the projected CRS of the zone that holds
    every feature (Lambert-93, EPSG:2154, for metropolitan France and Corsica; the local UTM CRS
    of each DROM), so that QGIS measures lengths and areas in metres; EPSG:4326 (degrees) when
    the features span several zones (a national output with the DROM), since a layer has one CRS.
    """
    import numpy as np

    boxes = [
        np.asarray(spec[0].to_crs(4326).total_bounds, dtype=float) for spec in layers.values() if len(spec[0])
    ]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return 4326
    lo, hi = np.min([b[:2] for b in boxes], axis=0), np.max([b[2:] for b in boxes], axis=0)
    by_zone = _zone_boxes(ref)
    inside = [epsg for epsg, z in by_zone.items() if (lo >= z[:2]).all() and (hi <= z[2:]).all()]
    return int(inside[0]) if len(inside) == 1 else 4326


def _zone_boxes(ref: Reference) -> dict[int, Any]:
    """The bounding box (degrees, widened by 0.5°: a neighbour's polygon may reach the sea beyond
    the zone's units) of each zone of the reference, by EPSG code; kept on the reference."""
    import numpy as np
    import shapely

    cached = getattr(ref, "_gpkg_zone_boxes", None)
    if cached is None:
        bounds = shapely.bounds(ref.units.geometry.to_numpy())
        epsg = ref.units["epsg"].to_numpy()
        cached = {}
        for code in np.unique(epsg):
            b = bounds[epsg == code]
            cached[int(code)] = np.array(
                [*np.nanmin(b[:, :2], axis=0) - 0.5, *np.nanmax(b[:, 2:], axis=0) + 0.5]
            )
        try:
            ref._gpkg_zone_boxes = cached
        except AttributeError:  # a reference with slots: computed again next time
            pass
    return cached


def _write(ref: Reference, path, layers: dict[str, tuple], inputs: Iterable) -> Path:
    return _qgis.write_styled_gpkg(path, layers, crs=output_crs(ref, layers), inputs=inputs)


def write_coverage_gpkg(ref: Reference, cov: Coverage, path, *, inputs: Iterable = ()) -> Path:
    """Write :func:`coverage_layers` to a styled GeoPackage, in the CRS of :func:`output_crs`."""
    return _write(ref, path, coverage_layers(ref, cov), inputs)


def write_territory_gpkg(ref: Reference, report, path, *, existing=None, inputs: Iterable = ()) -> Path:
    """Write :func:`territory_layers` to a styled GeoPackage, in the CRS of :func:`output_crs`."""
    return _write(ref, path, territory_layers(ref, report, existing=existing), inputs)


def write_suggest_gpkg(ref: Reference, result, path, *, inputs: Iterable = ()) -> Path:
    """Write :func:`suggest_layers` to a styled GeoPackage, in the CRS of :func:`output_crs`."""
    return _write(ref, path, suggest_layers(ref, result), inputs)
