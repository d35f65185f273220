"""The builder page (``cpts-geo atelier``): one self-contained HTML file where an analyst builds
a CPTS territory by clicking communes, with the six rules checked live in the page.

Everything is inlined: the data (:func:`cpts_geo.maps.atelier_data.atelier_payload`), Leaflet
from its pip package (:func:`cpts_geo.maps.leaflet.inline_tags`), the page's own scripts and
style (``atelier_rules.js``, ``atelier.js``, ``atelier.css`` in :mod:`cpts_geo.maps.static`). No
request leaves the page: it works from ``file://``, e-mailed, on a workstation without network.

The rules in the page mirror :func:`cpts_geo.checks.rules.check_territory` (same statuses,
figures and messages); ``window.atelier.checks()`` returns the report shaped like
``cpts-geo check --format json``.

Examples
--------
>>> import cpts_geo as cg
>>> page = cg.atelier_page(cg.load_reference(), departement="2A")
>>> page.startswith("<!DOCTYPE html>"), "window.atelier" in page
(True, True)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cpts_geo._errors import InputError
from cpts_geo._limits import check_param
from cpts_geo._text import fr_plural, safe
from cpts_geo.maps.atelier_data import atelier_payload
from cpts_geo.maps.base import escape_html
from cpts_geo.maps.leaflet import inline_tags
from cpts_geo.maps.static import asset
from cpts_geo.reference.areas import area_label, resolve_area
from cpts_geo.reference.units import Reference

__all__ = ["atelier_page"]


def _script_json(data: dict) -> str:
    """JSON safe inside a ``<script>`` element (no ``</``, no HTML comment opener)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def atelier_page(
    ref: Reference,
    *,
    region: str | None = None,
    departement=None,
    existing=None,
    proposal=None,
    min_population: int | None = 20_000,
    sea_link_km: float = 30.0,
    cpts_id: str | None = None,
    zones=None,
) -> str:
    """The builder page of an area, as HTML text.

    Parameters
    ----------
    ref
        The reference.
    region, departement
        The area (code or name; several départements as a list), as ``cpts-geo coverage-map``.
    existing
        A register of existing CPTS (drawn by stage, their units locked; the overlap rule).
    proposal
        A proposal preselected: a file (read by :func:`cpts_geo.inputs.read.read_proposal`), a
        :class:`cpts_geo.inputs.Proposal`, unit codes, or what
        :func:`cpts_geo.checks.rules.as_territory` accepts.
    min_population, sea_link_km, cpts_id
        As for :func:`cpts_geo.checks.rules.check_territory`.
    zones
        Zone layers (:class:`~cpts_geo.inputs.zones.ZoneLayer`, paths, or a list of them), as for
        :func:`~cpts_geo.checks.rules.check_territory`: each drawn as a toggleable overlay hatched
        by category, and the verdict lists the zones the selection touches
        (:mod:`cpts_geo.maps.atelier_zones`).

    Returns
    -------
    str
        The page (write it with :func:`cpts_geo._io.atomic_write_text`).

    Raises
    ------
    InputError
        For an unknown area, an invalid option or an unresolvable proposal.
    """
    from cpts_geo.checks.rules import as_territory
    from cpts_geo.inputs.read import as_register
    from cpts_geo.inputs.zones import as_zone_layers

    problems = []
    for param, value, allow_none in (
        ("min_population", min_population, True),
        ("sea_link_km", sea_link_km, False),
    ):
        try:
            check_param(param, value, allow_none=allow_none)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError(" ; ".join(problems))
    departements = resolve_area(ref, region=region, departement=departement)
    register = as_register(ref, existing) if existing is not None else None
    zone_layers = as_zone_layers(ref, zones)
    if cpts_id is not None:
        if register is None:
            raise InputError(f"cpts_id '{safe(str(cpts_id))}' : sans objet sans registre des CPTS existantes")
        if str(cpts_id) not in {str(c) for c in register.cpts.index}:
            raise InputError(
                f"cpts_id '{safe(str(cpts_id))}' inconnu du registre ({fr_plural(len(register), 'CPTS', 'CPTS')})"
            )
    codes: list[str] = []
    if isinstance(proposal, (str, Path)) and Path(proposal).suffix and Path(proposal).is_file():
        from cpts_geo.inputs.read import read_proposal

        proposal = read_proposal(proposal, ref)
    if proposal is not None:
        codes = list(as_territory(ref, proposal).codes)
    elif cpts_id is not None and register is not None:
        codes = [str(c) for c in register.codes(cpts_id)]
    label = area_label(ref, departements)
    data = atelier_payload(
        ref,
        departements,
        register=register,
        selection=codes,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
        title=label,
    )
    if zone_layers:
        from cpts_geo.maps.atelier_zones import atelier_zones_payload
        from cpts_geo.maps.styles import DETAIL

        # The overlays as simplified as the coverage maps of an area that size.
        level = "national" if len(departements) > 20 else "region" if len(departements) > 1 else "departement"
        tol, dec = DETAIL[level]
        data["zones"] = atelier_zones_payload(
            ref, zone_layers, np.asarray(data["units"]["pos"]), tolerance_m=tol, decimals=dec
        )
    title = f"Atelier CPTS — {label}"
    # The zone layers' scripts and style only on a page with zone layers (atelier.js does without).
    zone_scripts, zone_style = "", ""
    if zone_layers:
        zone_scripts = f"<script>{asset('zones.js')}</script>\n<script>{asset('atelier_zones.js')}</script>\n"
        zone_style = f"<style>{asset('atelier_zones.css')}</style>\n"

    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape_html(safe(title))}</title>\n"
        f"{inline_tags()}\n"
        f"<style>{asset('atelier.css')}</style>\n"
        f"{zone_style}"
        "</head>\n<body>\n"
        f"{asset('atelier.html')}\n"
        f'<script type="application/json" id="atelier-data">{_script_json(data)}</script>\n'
        f"<script>{asset('atelier_rules.js')}</script>\n"
        f"{zone_scripts}"
        f"<script>{asset('atelier.js')}</script>\n"
        "</body>\n</html>\n"
    )
