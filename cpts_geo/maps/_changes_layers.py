"""The polygons and the panel of :func:`cpts_geo.maps.changes_map` (what changed between two
registers), apart from the map itself."""

from __future__ import annotations

from cpts_geo._text import fr_int, fr_number, fr_plural
from cpts_geo.inputs.stages import STAGE_LABELS
from cpts_geo.maps.base import escape_html as _esc
from cpts_geo.maps.base import macro
from cpts_geo.maps.styles import CHANGE_STYLES
from cpts_geo.reference.units import Reference

__all__ = ["add_changes_panel", "change_groups"]


def change_groups(ref: Reference, ch, old, new) -> list[dict]:
    """The polygons of :func:`changes_map`: ``key`` (dissolve group), ``kind`` (a key of
    ``CHANGE_STYLES``), ``nom`` and ``detail`` (raw text, escaped when drawn), ``codes``."""
    units = ref.units
    names = {**old.cpts["cpts_nom"].to_dict(), **new.cpts["cpts_nom"].to_dict()}

    def label(cid) -> str:
        return f"{names.get(cid) or cid} ({cid})"

    def listing_of(items) -> str:
        shown = ", ".join(f"{u['nom']} ({u['code']})" for u in items[:8])
        return shown + (f" … ({len(items)} communes)" if len(items) > 8 else "")

    groups: list[dict] = []
    changed = set()
    for kind, items, reg in (("added", ch.added, new), ("removed", ch.removed, old)):
        for r in items:
            word = "ajoutée" if kind == "added" else "supprimée"
            codes = reg.codes(r["cpts_id"])
            changed.update(codes)
            groups.append(
                {
                    "key": f"{kind}:{r['cpts_id']}",
                    "kind": kind,
                    "nom": f"CPTS {word} : {label(r['cpts_id'])}",
                    "detail": f"{STAGE_LABELS.get(r['statut'], r['statut'])}, {fr_plural(r['communes'], 'commune')}",
                    "codes": codes,
                }
            )
    for r in ch.perimeter_changes:
        for kind, items, word in (
            ("in", r["communes_in"], "entrées dans"),
            ("out", r["communes_out"], "sorties de"),
        ):
            if items:
                codes = [u["code"] for u in items]
                changed.update(codes)
                groups.append(
                    {
                        "key": f"{kind}:{r['cpts_id']}",
                        "kind": kind,
                        "nom": f"Communes {word} {label(r['cpts_id'])}",
                        "detail": listing_of(items),
                        "codes": codes,
                    }
                )
    c = ch.coverage
    for kind, key in (
        ("white_appeared", "white_zones_appeared"),
        ("white_disappeared", "white_zones_disappeared"),
        ("new_overlap", "new_overlaps"),
    ):
        items = c.get(key, [])
        if items:
            codes = [u["code"] for u in items]
            changed.update(codes)
            detail = listing_of(items)
            if kind == "new_overlap":
                cpts = sorted({x for u in items for x in u.get("cpts", [])})
                detail += " — CPTS : " + " ; ".join(label(x) for x in cpts)
            groups.append(
                {"key": kind, "kind": kind, "nom": CHANGE_STYLES[kind][0], "detail": detail, "codes": codes}
            )
    # Context: the CPTS of the new register in the départements of the changes.
    deps = set(units.loc[sorted(changed), "departement"]) if changed else set()
    links = new.links
    near = links[units["departement"].reindex(links["code_insee"]).isin(deps).to_numpy()]
    for cid in dict.fromkeys(near["cpts_id"]):
        groups.append(
            {
                "key": f"context:{cid}",
                "kind": "context",
                "nom": label(cid),
                "detail": STAGE_LABELS.get(new.cpts.at[cid, "statut"], ""),
                "codes": new.codes(cid),
            }
        )
    return groups


def add_changes_panel(m, ch) -> None:
    """A title and a panel with the counts of each kind of change (names escaped)."""
    c = ch.coverage
    rows = [
        ("CPTS ajoutées", len(ch.added)),
        ("CPTS supprimées", len(ch.removed)),
        ("CPTS renommées", len(ch.renamed)),
        ("Changements de stade", len(ch.stage_changes)),
        ("Changements de périmètre", len(ch.perimeter_changes)),
        ("Zones blanches apparues (communes)", len(c.get("white_zones_appeared", []))),
        ("Zones blanches résorbées (communes)", len(c.get("white_zones_disappeared", []))),
        ("Nouveaux chevauchements (communes)", len(c.get("new_overlaps", []))),
    ]
    body = "".join(f"<div>{_esc(k)} : <b>{fr_int(n)}</b></div>" for k, n in rows)
    if c:
        body += (
            f"<div>Population couverte : {fr_number(c['population_covered_before'])} → "
            f"{fr_number(c['population_covered_after'])} hab.</div>"
        )
    src = f"Ancien : {ch.old_source or '—'} ; nouveau : {ch.new_source or '—'}"
    body += f'<div class="cpts-note">{_esc(src)}</div>'
    body += "".join(f'<div class="cpts-note">{_esc(n)}</div>' for n in ch.notes)
    el = macro(
        '{% macro html(this, kwargs) %}<div class="cpts-panel cpts-title" id="cpts-titre">'
        '{{ this.title_html }}</div><div class="cpts-panel cpts-stats" id="cpts-stats">'
        "{{ this.stats_html }}</div>{% endmacro %}"
    )
    el.title_html = _esc("Changements entre deux versions du registre")
    el.stats_html = body
    m.get_root().add_child(el, name="cpts_panels")
