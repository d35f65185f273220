"""Colours and styles of everything drawn: HTML maps, static figures and QGIS layers share them."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CHANGE_STYLES",
    "DETAIL",
    "EXTENSION_STYLE",
    "FINDING_STYLES",
    "NEIGHBOUR_CPTS_STYLE",
    "ORPHAN_STYLE",
    "OVERLAP_STYLE",
    "PALETTE",
    "SHARED_STYLE",
    "SHARE_CLASSES",
    "STAGE_COLORS",
    "SUBDIVIDED_COMMUNE_STYLE",
    "SUBUNIT_STYLE",
    "WHITE_STYLE",
    "ZONE_ANGLES",
    "ZONE_COLORS",
    "ZONE_PALETTE",
    "zone_color",
]

#: Fill colour of each stage of the Atlas des CPTS (from project to signed contract).
STAGE_COLORS = {
    "pre-projet": "#fdae61",
    "lettre-intention": "#fee08b",
    "projet-sante": "#a6d96a",
    "aci": "#1a9850",
    "": "#b39ddb",
}
WHITE_STYLE: dict[str, Any] = {
    "color": "#737373",
    "weight": 0.6,
    "fillColor": "url(#cpts-hachures) #d9d9d9",
    "fillOpacity": 0.8,
}
OVERLAP_STYLE: dict[str, Any] = {
    "color": "#d7191c",
    "weight": 2.5,
    "fillColor": "#d7191c",
    "fillOpacity": 0.45,
}
#: Units below the commune (IRIS, sectors): thin lines; the outline of the commune they divide.
SUBUNIT_STYLE: dict[str, Any] = {"color": "#6a3d9a", "weight": 0.8, "dashArray": "3 3", "fill": False}
SUBDIVIDED_COMMUNE_STYLE: dict[str, Any] = {"color": "#6a3d9a", "weight": 2.2, "fill": False, "opacity": 0.9}
#: Communes declared shared by several CPTS below the commune level (``commune_partagee``):
#: purple hatching (pattern ``cpts-hachures-partagees``), dashed outline; not the red of overlaps.
SHARED_STYLE: dict[str, Any] = {
    "color": "#7b3294",
    "weight": 2.0,
    "dashArray": "6 4",
    "fillColor": "url(#cpts-hachures-partagees) #c2a5cf",
    "fillOpacity": 0.8,
}
#: Choropleth classes of the share of the population covered (upper bounds) and their colours.
SHARE_CLASSES = [
    (0.5, "#eff3ff"),
    (0.7, "#c6dbef"),
    (0.8, "#9ecae1"),
    (0.9, "#6baed6"),
    (0.95, "#3182bd"),
    (1.0001, "#08519c"),
]

#: Simplification tolerance (metres, in the zone's projected CRS) and coordinate decimals, by
#: extent of the map. 10^-3 degree is about 110 m x 75 m; 10^-4 about 11 m.
DETAIL = {"national": (500.0, 3), "region": (120.0, 4), "departement": (50.0, 4)}

#: Colour of a territory's units by finding, in the order a unit takes the first that applies.
FINDING_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "chevauchement": (
        "Commune déjà dans une CPTS existante",
        {"color": "#7f0000", "weight": 1, "fillColor": "#d7191c", "fillOpacity": 0.7},
    ),
    "epci_partiel": (
        "Commune d'un EPCI partagé",
        {"color": "#7f3b08", "weight": 1, "fillColor": "#fdb863", "fillOpacity": 0.65},
    ),
    "territoire": (
        "Commune du territoire",
        {"color": "#08306b", "weight": 1, "fillColor": "#4292c6", "fillOpacity": 0.55},
    ),
    "enclave": (
        "Commune enclavée (hors territoire)",
        {"color": "#3f007d", "weight": 1.5, "fillColor": "#9e9ac8", "fillOpacity": 0.75, "dashArray": "4 3"},
    ),
    "epci_hors": (
        "Reste d'un EPCI partagé (hors territoire)",
        {"color": "#b35806", "weight": 1, "fillColor": "#fee0b6", "fillOpacity": 0.35, "dashArray": "2 3"},
    ),
}
NEIGHBOUR_CPTS_STYLE: dict[str, Any] = {
    "color": "#1a9850",
    "weight": 2,
    "fillColor": "#a6d96a",
    "fillOpacity": 0.15,
}

#: Fill colours of the suggested territories (blues and purples, apart from the greens, yellows
#: and oranges of the CPTS stages and the red of overlaps); neighbours get different ones.
PALETTE = ["#1f78b4", "#6a3d9a", "#a6cee3", "#cab2d6", "#17becf", "#08306b", "#9e9ac8", "#4a6fe3"]
EXTENSION_STYLE: dict[str, Any] = {
    "color": "#b2182b",
    "weight": 2,
    "dashArray": "5,5",
    "fillColor": "#ef8a62",
    "fillOpacity": 0.5,
}
ORPHAN_STYLE: dict[str, Any] = {
    "color": "#4d4d4d",
    "weight": 2,
    "dashArray": "2,4",
    "fillColor": "#bababa",
    "fillOpacity": 0.6,
}

#: The map of the changes between two registers (``maps.changes_map``): layer key -> (legend
#: label, Leaflet style).
CHANGE_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "context": (
        "CPTS du nouveau registre (contexte)",
        {"color": "#636363", "weight": 1, "fillColor": "#bdbdbd", "fillOpacity": 0.15},
    ),
    "added": (
        "CPTS ajoutée (nouveau registre seulement)",
        {"color": "#1a9850", "weight": 2.5, "fillColor": "#1a9850", "fillOpacity": 0.25, "dashArray": "6 4"},
    ),
    # Outline only: a CPTS removed and added again under another id on the same area would blend
    # the two fills into a colour the legend does not show.
    "removed": (
        "CPTS supprimée (ancien registre seulement)",
        {"color": "#7b3294", "weight": 3, "fillColor": "#7b3294", "fillOpacity": 0, "dashArray": "2 4"},
    ),
    "in": (
        "Communes entrées dans une CPTS",
        {"color": "#2166ac", "weight": 1.5, "fillColor": "#4393c3", "fillOpacity": 0.65},
    ),
    "out": (
        "Communes sorties d'une CPTS",
        {"color": "#b35806", "weight": 1.5, "fillColor": "#f1a340", "fillOpacity": 0.65},
    ),
    "white_appeared": (
        "Zone blanche apparue",
        {"color": "#000000", "weight": 2, "fillColor": "url(#cpts-hachures) #d9d9d9", "fillOpacity": 0.9},
    ),
    "white_disappeared": (
        "Zone blanche résorbée",
        {"color": "#1b7837", "weight": 2, "fillColor": "#a6dba0", "fillOpacity": 0.7},
    ),
    "new_overlap": (
        "Nouveau chevauchement (commune dans plusieurs CPTS)",
        {"color": "#d7191c", "weight": 2.5, "fillColor": "#d7191c", "fillOpacity": 0.45},
    ),
}


#: Hatching colours of the zone overlays (``--zones``): the categories of the zonage médecins
#: (the more urgent, the warmer), then a palette for other categories, in order.
ZONE_COLORS: dict[str, str] = {
    "ZIP": "#b2182b",
    "ZAC": "#e66101",
    "Zone de vigilance": "#b8860b",
    "Hors zonage": "#4d9221",
}
ZONE_PALETTE = ["#2166ac", "#762a83", "#1b7837", "#8c510a", "#01665e", "#c51b7d", "#4d4d4d", "#5e3c99"]
#: Angle of the hatching (degrees) of each zone layer, in the order given: two layers drawn
#: over each other stay apart.
ZONE_ANGLES = [45, -45, 0, 90]


def zone_color(category: str, index: int) -> str:
    """The colour of a zone category: its own for the zonage médecins, else the ``index``-th of
    the palette (``index``: the category's rank among those without their own colour)."""
    return ZONE_COLORS.get(category) or ZONE_PALETTE[index % len(ZONE_PALETTE)]
