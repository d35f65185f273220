"""Findings by unit: which unit of a checked territory (or around it) each rule points at, for the
maps, figures and workbooks that colour units by finding."""

from __future__ import annotations

from cpts_geo.checks.report import Report


def findings_by_unit(ref, report: Report) -> dict[str, list[str]]:
    """Unit codes by finding, for a map of the territory (:func:`cpts_geo.maps.territory`):
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


def contiguity_overlays(report: Report) -> tuple[list[dict], list[dict]]:
    """The contiguity rule's links and the parts of the territory apart from its main one
    (largest population first: every part but the first), for the maps of the territory.

    The links are its sea links then its water crossings, each with ``kind`` ``"mer"`` or
    ``"eau"`` added (the maps draw both alike, in a layer each)."""
    d = next((r.details for r in report.rules if r.id == "contiguity"), {})
    links = [{**link, "kind": "mer"} for link in d.get("sea_links", [])]
    links += [{**link, "kind": "eau"} for link in d.get("water_crossings", [])]
    return links, list(d.get("components", [])[1:])
