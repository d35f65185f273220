"""Renderers of the check results: French text for a terminal, HTML for the committees.

The results themselves (:class:`~cpts_geo.rules.Report`, :class:`~cpts_geo.rules.RegisterReport`)
are computed by :mod:`cpts_geo.rules`; this module only draws them.

Examples
--------
>>> import cpts_geo as cg
>>> from cpts_geo.rules import check_territory
>>> ref = cg.load_reference()
>>> report = check_territory(ref, ["69385", "69386"], name="Lyon 5e et 6e")
>>> report.status, [r.status for r in report.rules]
('fail', ['pass', 'fail', 'pass', 'warn', 'pass'])
>>> report_text(report).splitlines()[2]
'Résultat : ÉCHEC'
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import textwrap

from ._results import RULE_LABELS, STATUS_LABELS, RegisterReport, Report, RuleResult
from ._text import fr_decimal, fr_int, fr_km, fr_plural, fr_share, others

__all__ = [
    "contiguity_overlays",
    "finding_by_unit",
    "findings_by_unit",
    "register_text",
    "report_html",
    "report_text",
]

log = logging.getLogger(__name__)

#: Short rule labels for the columns of the register table.
_RULE_COLUMNS = {
    "population": "Population",
    "contiguity": "Continuité",
    "enclaves": "Enclaves",
    "epci_alignment": "EPCI",
    "admin_boundaries": "Dép./rég.",
    "overlap": "Chevauch.",
}

_WIDTH = 100


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent]


def _units(items, *, limit: int | None = None) -> str:
    """``Nom (code), Nom (code)`` from a list of ``{code, nom}``."""
    items = list(items)
    shown = items if limit is None else items[:limit]
    text = ", ".join(f"{u['nom']} ({u['code']})" for u in shown)
    if limit is not None and len(items) > limit:
        text += f" et {others(len(items) - limit)}"
    return text


def report_text(report: Report) -> str:
    """A French summary of one territory's checks for a terminal: one line per rule, then the details."""
    return "\n".join(_report_lines(report)) + "\n"


def register_text(rr: RegisterReport) -> str:
    """A French summary of a register's checks: one line per CPTS, register-wide findings, then
    what needs a look."""
    return "\n".join(_register_lines(rr)) + "\n"


def _territory_header(report: Report) -> list[str]:
    t = report.territory
    v = t.get("vintage", {})
    name = t.get("name") or "(sans nom)"
    head = f"CPTS {report.cpts_id} : {name}" if report.cpts_id is not None else f"Territoire : {name}"
    return [
        head,
        f"{fr_plural(t['n_communes'], 'commune')}, {fr_int(t['population'])} habitants "
        f"(population municipale {v.get('population', '?')}), taille ACI {t['aci_size_class']} "
        f"— COG {v.get('cog', '?')}",
    ]


def _report_lines(report: Report) -> list[str]:
    lines = _territory_header(report)
    lines.append(f"Résultat : {STATUS_LABELS[report.status]}")
    lines.append("")
    for r in report.rules:
        head = f"  {STATUS_LABELS[r.status]:<10} {RULE_LABELS.get(r.id, r.id):<24} "
        wrapped = textwrap.wrap(
            r.message,
            width=_WIDTH,
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_on_hyphens=False,
            break_long_words=False,
        )
        lines.extend(wrapped or [head.rstrip()])
    details = []
    for r in report.rules:
        body = _DETAILS.get(r.id, lambda d: [])(r.details)
        if body:
            details.append(f"  {RULE_LABELS.get(r.id, r.id)}")
            details.extend(body)
    if details:
        lines += ["", "Détails"] + details
    communes = report.territory.get("communes", [])
    lines += ["", f"Communes ({fr_int(len(communes))}) :"]
    lines += _wrap(_units(report.units) if report.units else ", ".join(communes), "  ")
    if report.input_warnings:
        lines += ["", f"Avertissements de lecture ({fr_int(len(report.input_warnings))}) :"]
        for w in report.input_warnings:
            where = f"ligne {w['line']}" if w.get("line") is not None else "valeur"
            value = f" « {w['value']} »" if w.get("value") not in (None, "") else ""
            lines += _wrap(f"{where}{value} : {w.get('message', '')}", "  ")
    return lines


def _contiguity_lines(d: dict) -> list[str]:
    parts = d.get("components", [])
    if len(parts) < 2:
        return []
    out = []
    for c in parts:
        where = " (île)" if c.get("island") else ""
        out += _wrap(
            f"partie {c['id']} « {c['name']} »{where} : {fr_plural(c['n_communes'], 'commune')}, "
            f"{fr_int(c['population'])} hab. — {_units(c['communes'], limit=20)}",
            "    ",
        )
    for link in d.get("sea_links", []):
        out += _wrap(
            f"liaison maritime : {link['a_nom']} ({link['a']}) – {link['b_nom']} ({link['b']}), "
            f"{fr_km(link['distance_km'])}\u00a0km (parties {link['parts'][0]} et "
            f"{link['parts'][1]})",
            "    ",
        )
    for gap in d.get("land_gaps", []):
        out += _wrap(
            "séparées par des communes hors du territoire : parties " + ", ".join(str(p) for p in gap), "    "
        )
    return out


def _enclave_lines(d: dict) -> list[str]:
    out = []
    for i, g in enumerate(d.get("groups", []), 1):
        out += _wrap(
            f"enclave {i} : {fr_plural(g['n_communes'], 'commune')}, {fr_int(g['population'])} hab. "
            f"— {_units(g['communes'], limit=20)}",
            "    ",
        )
    return out


def _epci_lines(d: dict) -> list[str]:
    out = []
    for e in d.get("epcis", []):
        state = "entier" if e["whole"] else "coupé"
        out += _wrap(
            f"{e['nom']} ({e['code']}) : {state}, {fr_int(e['n_communes_in'])}/"
            f"{fr_plural(e['n_communes'], 'commune')}, {fr_int(e['population_in'])}/"
            f"{fr_int(e['population'])} hab. ({fr_share(e['share_population'])})",
            "    ",
        )
    if d.get("without_epci"):
        out += _wrap(f"communes sans EPCI : {_units(d['without_epci'])}", "    ")
    return out


def _admin_lines(d: dict) -> list[str]:
    out = []
    for r in d.get("regions", []):
        out += _wrap(
            f"région {r['nom']} ({r['code']}) : {fr_plural(r['n_communes'], 'commune')}, "
            f"{fr_int(r['population'])} hab.",
            "    ",
        )
    for dep in d.get("departements", []):
        out += _wrap(
            f"département {dep['nom']} ({dep['code']}) : {fr_plural(dep['n_communes'], 'commune')}, "
            f"{fr_int(dep['population'])} hab.",
            "    ",
        )
    return out


def _overlap_lines(d: dict) -> list[str]:
    out = []
    for c in d.get("cpts", []):
        if not c["n_communes"]:
            out += _wrap(
                f"{c['cpts_nom']} ({c['cpts_id']}) : aucune commune partagée ; son contour couvre "
                f"{fr_decimal(c.get('area_km2', 0), 2)} km² de communes du territoire",
                "    ",
            )
            continue
        out += _wrap(
            f"{c['cpts_nom']} ({c['cpts_id']}) : {fr_plural(c['n_communes'], 'commune partagée', 'communes partagées')}, "
            f"{fr_int(c['population'])} hab. — {_units(c['communes'], limit=20)}",
            "    ",
        )
    for o in d.get("shared", []):
        out += _wrap(
            f"commune partagée déclarée : {o['nom']} ({o['code']}), {fr_int(o['population'])} hab., "
            "avec " + ", ".join(o["cpts"]),
            "    ",
        )
    return out


_DETAILS = {
    "contiguity": _contiguity_lines,
    "enclaves": _enclave_lines,
    "epci_alignment": _epci_lines,
    "admin_boundaries": _admin_lines,
    "overlap": _overlap_lines,
}


def _register_lines(rr: RegisterReport) -> list[str]:
    n = len(rr.reports)
    lines = [f"Registre : {fr_plural(n, 'CPTS', 'CPTS')} — résultat : {STATUS_LABELS[rr.status]}"]
    if rr.reports:
        v = rr.reports[0].territory.get("vintage", {})
        lines.append(f"COG {v.get('cog', '?')}, population municipale {v.get('population', '?')}")
    ids = [r.id for r in rr.reports[0].rules] if rr.reports else []
    width_id = max([len("id")] + [len(str(r.cpts_id)) for r in rr.reports])
    header = (
        f"  {'id':<{width_id}}  {'résultat':<10} {'communes':>8} {'population':>11}  "
        + " ".join(f"{_RULE_COLUMNS.get(i, i)[:10]:<10}" for i in ids)
        + "  nom"
    )
    lines += ["", header]
    for r in rr.reports:
        t = r.territory
        cells = " ".join(f"{STATUS_LABELS[x.status]:<10}" for x in r.rules)
        lines.append(
            f"  {r.cpts_id!s:<{width_id}}  {STATUS_LABELS[r.status]:<10} {fr_int(t['n_communes']):>8} "
            f"{fr_int(t['population']):>11}  {cells}  {t.get('name') or ''}"
        )
    lines.append("")
    if rr.overlaps:
        lines.append(f"Communes dans plusieurs CPTS ({fr_int(len(rr.overlaps))}) :")
        for o in rr.overlaps:
            lines += _wrap(
                f"{o['nom']} ({o['code']}), {fr_int(o['population'])} hab. : CPTS " + ", ".join(o["cpts"]),
                "  ",
            )
    else:
        lines.append("Aucune commune dans plusieurs CPTS.")
    if rr.shared:
        lines.append(f"Communes partagées déclarées (commune_partagee) ({fr_int(len(rr.shared))}) :")
        for o in rr.shared:
            lines += _wrap(
                f"{o['nom']} ({o['code']}), {fr_int(o['population'])} hab. : CPTS " + ", ".join(o["cpts"]),
                "  ",
            )
    if rr.enclaves:
        lines.append(
            "Communes hors CPTS enclavées par les CPTS du registre "
            f"({fr_plural(len(rr.enclaves), 'groupe')}) :"
        )
        for g in rr.enclaves:
            lines += _wrap(
                f"{_units(g['communes'], limit=20)} — {fr_plural(g['n_communes'], 'commune')}, "
                f"{fr_int(g['population'])} hab. ; CPTS autour : " + ", ".join(g["cpts"]),
                "  ",
            )
    else:
        lines.append("Aucune commune hors CPTS enclavée par les CPTS du registre.")
    flagged = [r for r in rr.reports if r.status != "pass"]
    if flagged:
        lines += ["", "À examiner"]
        for r in flagged:
            lines.append(f"  CPTS {r.cpts_id} : {r.territory.get('name') or ''}")
            for x in r.rules:
                if x.status != "pass":
                    lines += _wrap(
                        f"{STATUS_LABELS[x.status]} {RULE_LABELS.get(x.id, x.id)} : {x.message}", "    "
                    )
    return lines


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
_STATUS_COLORS = {"pass": "#1a9850", "warn": "#e08214", "fail": "#d7191c"}

_HTML_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;color:#222;
background:#f6f6f4}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;margin:28px 0 8px;border-bottom:2px solid #ddd;
padding-bottom:4px}h3{font-size:1.05em;margin:18px 0 6px}
.sous-titre{color:#555;margin:0 0 16px}
.statut{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;
font-size:.9em;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.93em}
th,td{border:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f0ee}td.n,th.n{text-align:right;white-space:nowrap}
.chiffres{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0}
.chiffres div{background:#f0f4f8;border-radius:6px;padding:8px 14px}
.chiffres b{display:block;font-size:1.3em}
iframe{width:100%;height:560px;border:1px solid #ccc;border-radius:4px}
ul{margin:4px 0 4px 18px;padding:0}li{margin:2px 0}
footer{margin-top:32px;color:#666;font-size:.85em}
ul.tracabilite{list-style:none;margin:4px 0;padding:0;font-size:.93em}
ul.tracabilite li{margin:1px 0}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(status: str) -> str:
    return (
        f'<span class="statut statut-{status}" style="background:{_STATUS_COLORS[status]}">'
        f"{_e(STATUS_LABELS[status])}</span>"
    )


def findings_by_unit(ref, report: Report) -> dict[str, list[str]]:
    """Unit codes by finding, for a map of the territory (:func:`cpts_geo.maps.territory_map`):
    ``chevauchement``, ``epci_partiel`` (inside a split EPCI), ``epci_hors`` (the rest of the
    split EPCIs) and ``enclave``."""
    out: dict[str, list[str]] = {"chevauchement": [], "epci_partiel": [], "enclave": [], "epci_hors": []}
    codes = set(report.territory.get("communes", []))
    by_id = {r.id: r.details for r in report.rules}
    for c in by_id.get("overlap", {}).get("cpts", []):
        out["chevauchement"] += [u["code"] for u in c.get("communes", [])]
    for g in by_id.get("enclaves", {}).get("groups", []):
        out["enclave"] += [u["code"] for u in g.get("communes", [])]
    split = [e["code"] for e in by_id.get("epci_alignment", {}).get("epcis", []) if not e.get("whole")]
    if split:
        members = ref.units.index[ref.units["epci"].isin(split)]
        out["epci_partiel"] = [c for c in members if c in codes]
        out["epci_hors"] = [c for c in members if c not in codes]
    return out


def finding_by_unit(ref, report: Report) -> dict[str, str]:
    """The one finding of each unit a map or a layer of the territory shows (keys of
    ``_styles.FINDING_STYLES``), in the order a unit takes the first that applies: units of the
    territory ``chevauchement``, ``epci_partiel`` or ``territoire``, then units outside it
    ``enclave`` or ``epci_hors``."""
    codes = [c for c in report.territory.get("communes", []) if c in ref.units.index]
    inside = set(codes)
    found = findings_by_unit(ref, report)
    kind: dict[str, str] = {}
    for key in ("chevauchement", "epci_partiel"):
        kind.update({c: key for c in found.get(key, []) if c in inside and c not in kind})
    kind.update({c: "territoire" for c in codes if c not in kind})
    for key in ("enclave", "epci_hors"):
        kind.update(
            {c: key for c in found.get(key, []) if c not in inside and c not in kind and c in ref.units.index}
        )
    return kind


def _rule_section(r: RuleResult) -> str:
    body = _DETAILS.get(r.id, lambda d: [])(r.details)
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
            parts.append(f"<p>Communes sans EPCI : {_e(_units(r.details['without_epci']))}</p>")
    elif body:
        parts.append(
            "<ul>" + "".join(f"<li>{_e(line.strip())}</li>" for line in _join_wrapped(body)) + "</ul>"
        )
    return "\n".join(parts)


def _join_wrapped(lines: list[str]) -> list[str]:
    """Undo the terminal wrapping of detail lines (continuations are indented further)."""
    out: list[str] = []
    for line in lines:
        if out and line.startswith("      "):
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def contiguity_overlays(report: Report) -> tuple[list[dict], list[dict]]:
    """The contiguity rule's sea links and the parts of the territory apart from its main one
    (largest population first: every part but the first), for the maps of the territory."""
    d = next((r.details for r in report.rules if r.id == "contiguity"), {})
    return list(d.get("sea_links", [])), list(d.get("components", [])[1:])


def _static_map(ref, report: Report, *, existing, name: str) -> str:
    """The printed map: the notebooks' territory figure with the enclaves, detached parts and
    sea links, as an ``<img>`` shown in print only ("" when it cannot be drawn)."""
    from ._print import static_map_img
    from .diagnostic import territory_summary
    from .figures import territory_figure

    codes = report.territory.get("communes", [])
    if not codes:
        return ""
    sea, detached = contiguity_overlays(report)
    findings = findings_by_unit(ref, report)
    try:
        summary = territory_summary(ref, codes, existing=existing, min_population=None, name=name)
        fig = territory_figure(
            ref,
            summary,
            existing=existing,
            enclaves=findings["enclave"],
            detached=[[u["code"] for u in d["communes"]] for d in detached],
            sea_links=sea,
        )
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
        applied.append(f"liaisons maritimes de {fr_km(sea)}\u00a0km au plus")
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

    Long because it is one HTML page assembled section by section.

    Summary table, each rule with its evidence, the communes with their population, the EPCI
    table and a folium map of the territory (units coloured by finding: overlaps, split EPCIs,
    enclaves, detached parts, sea links with their length; neighbouring existing CPTS drawn),
    embedded in the page. In print (and in the PDF of ``cpts-geo check -o rapport.pdf``) the
    A4 stylesheet of :mod:`cpts_geo._print` applies: a header with the title and the date, page
    breaks between sections, and a static map of the territory in place of the interactive one.
    Every name coming from an input file is escaped.

    Parameters
    ----------
    ref
        The reference the report was made on.
    report
        A :class:`Report` from :func:`cpts_geo.rules.check_territory`.
    existing
        The register the territory was compared with (its CPTS near the territory are drawn).
    online
        Load Leaflet from the CDN in the map and add basemaps; by default the page needs no
        network (Leaflet embedded).
    offline
        Deprecated and ignored (self-contained is the default).
    provenance
        A :class:`cpts_geo._provenance.Provenance`: input files, parameters (default or
        chosen), version, vintages and date of the run, shown in a "Traçabilité" section.
    static_map
        Draw the static map for print (matplotlib; off to save a second or two).
    """
    from . import __version__
    from ._print import print_css
    from .maps import render_map, territory_map

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
    warnings = ""
    if report.input_warnings:
        items = "".join(
            f"<li>{'ligne ' + _e(w['line']) if w.get('line') is not None else 'valeur'}"
            f"{' « ' + _e(w['value']) + ' »' if w.get('value') not in (None, '') else ''} : "
            f"{_e(w.get('message', ''))}</li>"
            for w in report.input_warnings
        )
        warnings = f"<h2>Corrections faites à la lecture du fichier</h2><ul>{items}</ul>"
    head = f"CPTS {_e(report.cpts_id)} — " if report.cpts_id else ""
    run = provenance.run_date if provenance is not None else dt.datetime.now()
    today = run.strftime("%d/%m/%Y")
    title = f"Vérification du territoire — {name}"
    img = _static_map(ref, report, existing=existing, name=name) if static_map else ""
    trace = f'<h2 class="sans-saut">Traçabilité</h2>{provenance.to_html()}' if provenance is not None else ""
    n_communes = int(t["n_communes"])
    body = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{_HTML_CSS}</style>
<style>{print_css(title=title, date=today)}</style></head>
<body><main>
<h1>{head}{_e(name)}</h1>
<p class="sous-titre">Vérification du territoire proposé — résultat : {_badge(report.status)} — édité le {today}</p>
<div class="chiffres">
<div><b>{fr_int(t["population"])}</b>habitants (population municipale {_e(v.get("population"))})</div>
<div><b>{fr_int(n_communes)}</b>{"commune" if n_communes < 2 else "communes"}</div>
<div><b>taille {_e(t["aci_size_class"])}</b>classe de taille ACI</div>
</div>
<h2>Synthèse</h2>
<table class="synthese"><thead><tr><th>Règle</th><th>Résultat</th><th>Constat</th></tr></thead>
<tbody>{summary_rows}</tbody></table>
<h2>Carte du territoire</h2>
<iframe class="carte-interactive" title="Carte du territoire" sandbox="allow-scripts" srcdoc="{html.escape(page, quote=True)}"></iframe>
{img}
<h2>Détail des règles</h2>
{"".join(_rule_section(r) for r in report.rules)}
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
