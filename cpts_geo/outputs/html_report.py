"""A self-contained HTML report of one territory's checks, in French, that prints on A4 (and is the source of
the PDF report)."""

from __future__ import annotations

import datetime as dt
import html
import logging

from cpts_geo._text import fr_int, fr_km, fr_share
from cpts_geo.checks.findings import contiguity_overlays, findings_by_unit
from cpts_geo.checks.report import (
    RULE_LABELS,
    STATUS_LABELS,
    Report,
    RuleResult,
    cpts_label,
    detail_lines,
    population_cell,
    reading_rows,
    units_text,
)
from cpts_geo.checks.territory import size_class_text

__all__ = ["report_html"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="statut statut-{status}">{_e(STATUS_LABELS[status])}</span>'


def _rule_section(r: RuleResult) -> str:
    body = detail_lines(r, limit=None)
    parts = [
        f'<h3 id="regle-{_e(r.id)}">{_e(RULE_LABELS.get(r.id, r.id))} {_badge(r.status)}</h3>',
        f"<p>{_e(r.message)}</p>",
    ]
    if r.id == "epci_alignment" and r.details.get("epcis"):
        rows = "".join(
            f"<tr><td>{_e(e['nom'])}</td><td>{_e(e['code'])}</td><td>{'entier' if e['whole'] else 'coupé'}</td>"
            f"<td class=n>{fr_int(e['n_communes_in'])} / {fr_int(e['n_communes'])}</td>"
            f"<td class=n>{fr_int(e['population_in'])} / {fr_int(e['population'])}</td>"
            f"<td class=n>{_e(fr_share(e['share_population']))}</td></tr>"
            for e in r.details["epcis"]
        )
        parts.append(
            '<table class="epci"><thead><tr><th>EPCI</th><th>SIREN</th><th>Dans le territoire</th>'
            "<th class=n>Communes (dedans / total)</th><th class=n>Population (dedans / total)</th>"
            f"<th class=n>Part de la population</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        if r.details.get("without_epci"):
            parts.append(f"<p>Communes sans EPCI : {_e(units_text(r.details['without_epci']))}</p>")
    elif body:
        parts.append(
            "<ul>" + "".join(f"<li>{_e(line.strip())}</li>" for line in _join_wrapped(body)) + "</ul>"
        )
    return "\n".join(parts)


def _zones_section(report: Report) -> str:
    """The zones of the territory (``--zones``): one row per layer and category present, its
    communes (polygons: with the share of their area and the polygons' names) and population;
    a layer absent from the territory says so. ``""`` without zone layers."""
    if report.zones is None:
        return ""
    rows = []
    for z in report.zones:
        units = "; ".join(
            f"{u['nom']} ({u['code']})"
            + (
                f", {fr_share(u['share'])} de sa surface : {', '.join(u['polygones'])}"
                if "share" in u
                else ""
            )
            for u in z["units"]
        )
        rows.append(
            f"<tr><td>{_e(z['layer'])}</td><td>{_e(z['category'])}</td><td class=n>{fr_int(z['n_units'])}</td>"
            f"<td class=n>{fr_int(z['population'])}</td><td>{_e(units)}</td></tr>"
        )
    present = {z["layer"] for z in report.zones}
    rows += [
        f"<tr><td>{_e(layer.name)}</td><td colspan=4>aucune commune du territoire dans ces zones</td></tr>"
        for layer in report.zone_layers
        if layer.name not in present
    ]
    return (
        '<h2>Zones</h2>\n<table class="zones"><thead><tr><th>Couche</th><th>Catégorie</th>'
        "<th class=n>Communes</th><th class=n>Population</th><th>Communes (polygones : part de leur surface)</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _join_wrapped(lines: list[str]) -> list[str]:
    """Undo the terminal wrapping of detail lines (continuations are indented further)."""
    out: list[str] = []
    for line in lines:
        if out and line.startswith("      "):
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def _reading_section(report: Report) -> str:
    """« Lecture de la liste »: every correction made while reading the file, with what was
    retained and its effect on the population (:func:`cpts_geo.checks.report.reading_rows`)."""
    rows = reading_rows(report)
    if not rows:
        return (
            '<h2 id="lecture">Lecture de la liste</h2><p>Aucune correction : chaque ligne du fichier '
            "désignait une commune du COG.</p>"
        )
    body = "".join(
        f"<tr><td>{_e('' if r['line'] is None else r['line'])}</td><td>{_e(r['value'])}</td>"
        f"<td>{_e(r['retained'])}</td><td class=n>{_e(r['effect'])}</td><td>{_e(r['message'])}</td></tr>"
        for r in rows
    )
    return (
        f'<h2 id="lecture">Lecture de la liste ({fr_int(len(rows))} '
        f"{'correction' if len(rows) < 2 else 'corrections'})</h2>"
        '<table class="lecture"><thead><tr><th>Ligne</th><th>Valeur écrite</th><th>Retenu</th>'
        "<th class=n>Effet sur la population</th><th>Correction</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _static_map(ref, report: Report, *, existing, name: str) -> str:
    """The printed map: the territory figure of the report (the layers of the interactive map),
    as an ``<img>`` shown in print only ("" when it cannot be drawn)."""
    from cpts_geo.outputs.figures import territory_figure
    from cpts_geo.outputs.printing import static_map_img

    if not report.territory.get("communes"):
        return ""
    try:
        fig = territory_figure(ref, report, existing=existing)
    except (ValueError, KeyError, IndexError) as exc:  # a territory without any geometry
        log.warning("carte statique du rapport impossible : %s", exc)
        return ""
    return static_map_img(fig, alt=f"Carte du territoire {name}", dpi=120)


def _footer(report: Report, provenance, today: str, version: str, v: dict) -> str:
    rules = {r.id: r.details for r in report.rules}
    pop_rule = rules.get("population", {})
    minimum = pop_rule.get("min_population")
    sea = rules.get("contiguity", {}).get("sea_link_km")
    applied = []
    if "min_population" in pop_rule:
        applied.append(
            f"population minimale {fr_int(minimum)}\u00a0habitants"
            if minimum
            else "aucune population minimale"
        )
    if sea is not None:
        applied.append(f"liaisons maritimes et traversées par l'eau de {fr_km(sea)}\u00a0km au plus")
    if provenance is not None and provenance.parameters:
        origin = (
            "les valeurs par défaut de l'outil, à comparer au cahier des charges de votre région"
            if provenance.all_defaults
            else "les valeurs indiquées dans la section Traçabilité (choisies ou par défaut)"
        )
    else:
        origin = (
            "les paramètres de la vérification ; vérifiez qu'ils sont ceux du cahier des charges régional"
        )
    seuils = f"Seuils appliqués ({', '.join(applied)}) : {origin}." if applied else ""
    return (
        f"<footer>Rapport produit le {today} par cpts-geo {_e(version)}. Référentiel : Code officiel "
        f"géographique {_e(v.get('cog'))}, populations légales {_e(v.get('population'))} (INSEE), EPCI "
        f"{_e(v.get('cog'))} (DGCL), contours IGN (Licence Ouverte). {_e(seuils)} Les avertissements "
        "informent, seuls les échecs bloquent.</footer>"
    )


def report_html(
    ref,
    report: Report,
    *,
    existing=None,
    online: bool = False,
    offline: bool | None = None,
    provenance=None,
    static_map: bool = True,
) -> str:
    """A self-contained HTML report of one territory's checks, in French, that prints on A4.

    Summary table, each rule with its evidence, the communes with their population, the EPCI
    table and a folium map of the territory (units coloured by finding: overlaps, split EPCIs,
    enclaves, detached parts, sea links with their length; neighbouring existing CPTS drawn),
    embedded in the page. In print (and in the PDF of ``cpts-geo check -o rapport.pdf``) the
    A4 stylesheet of :mod:`cpts_geo.outputs.printing` applies: a header with the title and the date, page
    breaks between sections, and a static map of the territory in place of the interactive one.
    Every name coming from an input file is escaped.

    Parameters
    ----------
    ref
        The reference the report was made on.
    report
        A :class:`Report` from :func:`cpts_geo.checks.rules.check_territory`.
    existing
        The register the territory was compared with (its CPTS near the territory are drawn).
    online
        Load Leaflet from the CDN in the map and add basemaps; by default the page needs no
        network (Leaflet embedded).
    offline
        Deprecated and ignored (self-contained is the default).
    provenance
        A :class:`cpts_geo.outputs.provenance.Provenance`: input files, parameters (default or
        chosen), version, vintages and date of the run, shown in a "Traçabilité" section.
    static_map
        Draw the static map for print (matplotlib; off to save a second or two).
    """
    from cpts_geo._version import __version__
    from cpts_geo.maps.base import render_map
    from cpts_geo.maps.static import html_tag
    from cpts_geo.maps.territory import territory_map
    from cpts_geo.outputs.printing import print_css

    t = report.territory
    v = t.get("vintage", {})
    name = t.get("name") or "Territoire sans nom"
    sea, detached = contiguity_overlays(report)
    m = territory_map(
        ref,
        t.get("communes", []),
        findings=findings_by_unit(ref, report),
        existing=existing,
        name=name,
        online=online,
        sea_links=sea,
        detached=detached,
        zones=getattr(report, "zone_layers", ()),
    )
    page = render_map(m)
    units = sorted(report.units, key=lambda u: (-u["population"], u["code"]))
    total = sum(u["population"] for u in units) or 1
    epci_names = ref.epci["nom"]
    commune_rows = "".join(
        f"<tr><td>{_e(u['code'])}</td><td>{_e(u['nom'])}</td><td class=n>{fr_int(u['population'])}</td>"
        f"<td class=n>{_e(fr_share(u['population'] / total))}</td>"
        f"<td>{_e(epci_names.get(u['epci'], '') if u.get('epci') else 'aucun EPCI')}</td>"
        f"<td>{_e(u['departement'])}</td></tr>"
        for u in units
    )
    summary_rows = "".join(
        f'<tr><td><a href="#regle-{_e(r.id)}">{_e(RULE_LABELS.get(r.id, r.id))}</a></td><td>{_badge(r.status)}</td>'
        f"<td>{_e(r.message)}</td></tr>"
        for r in report.rules
    )
    warnings = _reading_section(report)
    head = f"{_e(cpts_label(report.cpts_id))} — " if report.cpts_id else ""
    run = provenance.run_date if provenance is not None else dt.datetime.now()
    today = run.strftime("%d/%m/%Y")
    title = f"Vérification du territoire — {name}"
    img = _static_map(ref, report, existing=existing, name=name) if static_map else ""
    trace = f'<h2 class="sans-saut">Traçabilité</h2>{provenance.to_html()}' if provenance is not None else ""
    n_communes = int(t["n_communes"])
    pop_note = (
        "" if t.get("population_known", True) else ", sans puis avec les communes partagées : part inconnue"
    )
    size = size_class_text(t.get("aci_size_class_min", t["aci_size_class"]), t["aci_size_class"])
    body = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>{html_tag("report.css")}
<style>{print_css(title=title, date=today)}</style></head>
<body><main>
<h1>{head}{_e(name)}</h1>
<p class="sous-titre">Vérification du territoire proposé — résultat : {_badge(report.status)} — édité le {today}</p>
<div class="chiffres">
<div><b>{_e(population_cell(t))}</b>habitants (population municipale {_e(v.get("population"))}){pop_note}</div>
<div><b>{fr_int(n_communes)}</b>{"commune" if n_communes < 2 else "communes"}</div>
<div><b>taille {_e(size)}</b>classe de taille ACI</div>
</div>
<h2>Synthèse</h2>
<table class="synthese"><thead><tr><th>Règle</th><th>Résultat</th><th>Constat</th></tr></thead>
<tbody>{summary_rows}</tbody></table>
<h2>Carte du territoire</h2>
<iframe class="carte-interactive" title="Carte du territoire" sandbox="allow-scripts" srcdoc="{html.escape(page, quote=True)}"></iframe>
{img}
<h2>Détail des règles</h2>
{"".join(_rule_section(r) for r in report.rules)}
{_zones_section(report)}
<h2>Communes du territoire ({fr_int(len(units))})</h2>
<table class="communes"><thead><tr><th>Code INSEE</th><th>Commune</th><th class=n>Population</th>
<th class=n>Part</th><th>EPCI</th><th>Département</th></tr></thead><tbody>{commune_rows}</tbody>
<tfoot><tr><th colspan=2>Total</th><th class=n>{fr_int(t["population"])}</th><th></th><th></th><th></th></tr>
</tfoot></table>
{warnings}
{trace}
{_footer(report, provenance, today, __version__, v)}
</main></body></html>
"""
    return body
