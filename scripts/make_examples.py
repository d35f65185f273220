#!/usr/bin/env python
"""Write the example proposals and the FICTITIOUS register of data/examples/ from the reference.

Every file is derived from the shipped reference (communes, EPCI, adjacency), so it stays true to
the current COG; re-running the script gives identical files.

- ``registre_fictif_pays_de_la_loire.csv``: an illustrative register for the Pays de la Loire
  (région 52). Its CPTS are groupings of EPCIs made by this script (each EPCI of the région, the
  small ones merged with a neighbour until every grouping has 20,000 inhabitants), with stages and
  dates drawn from a seeded generator; two groupings are left out (white zones) and one commune is
  put in two CPTS (a deliberate overlap). No real CPTS is implied.
- ``registre_fictif_pays_de_la_loire_v2.csv``: a later version of that register, for
  ``cpts-geo compare-registers``: one CPTS renamed, one moved on to ACI, one that lost two
  communes, one given a new id (matched by its territory), and a new CPTS on a white zone of
  Maine-et-Loire that also claims a commune of a neighbour (a new overlap).
- ``registre_fictif_publie_noms.csv``: the same register as a table published with CPTS names
  only (``Nom de la CPTS``, ``Code INSEE``, ``Commune``; no id, no stage), spelled its own way
  (two names differ), one commune given to the neighbouring CPTS and one commune written with the
  code of a homonym of another département: ``compare-registers`` matches its CPTS by territory.
- ``proposition_*.csv``: one proposal per rule outcome (the table in ``data/examples/README.md``).
- zone layers for ``--zones``, FICTITIOUS, one of each shape: ``zonage_medecins_fictif.csv``
  (by commune, CartoSanté codes ``1_ZIP``/``2_ZAC``/``4_HZ`` drawn per EPCI by a seeded generator,
  under a title row as exports have), ``zones_rouges_fictives.csv`` (a list of EPCI by SIREN or
  name, under a title row) and ``qpv_fictifs.geojson`` (hexagons drawn around a few town centres,
  one across a commune boundary, named « Quartier fictif … »).

Usage: ``python scripts/make_examples.py [-o data/examples]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo.reference.units import load_reference
from cpts_geo.suggest.assemble import de as _de

REGION = "52"
MIN_POP = 20_000
STAGES = ["aci"] * 6 + ["projet-sante"] * 2 + ["lettre-intention", "pre-projet"]
FICTIF = "FICTIF"


def epci_groupings(ref, region: str) -> list[list[str]]:
    """EPCIs of a région, the ones under MIN_POP merged with their smallest adjacent grouping."""
    units = ref.units[(ref.units["region"] == region) & (ref.units["epci"].fillna("") != "")]
    pop = units.groupby("epci")["population"].sum()
    dep = units.groupby("epci")["departement"].agg(lambda s: s.value_counts().index[0])
    pos = ref.position.reindex(units.index).to_numpy()
    g = ref.graph[pos][:, pos].tocoo()
    e = units["epci"].to_numpy()
    pairs = {(a, b) for a, b in zip(e[g.row], e[g.col]) if a != b}
    groups = {k: [k] for k in sorted(pop.index)}
    gpop = pop.to_dict()
    owner = {k: k for k in groups}
    alone: set[str] = set()  # small groupings with no neighbour to merge with (islands)
    while True:
        small = sorted((p, k) for k, p in gpop.items() if p < MIN_POP and k not in alone)
        if not small:
            break
        _, k = small[0]
        near = sorted(
            {owner[b] for a, b in pairs if owner[a] == k and owner[b] != k and dep[owner[b]] == dep[k]},
            key=lambda x: (gpop[x], x),
        )
        if not near:
            near = sorted(
                {owner[b] for a, b in pairs if owner[a] == k and owner[b] != k}, key=lambda x: (gpop[x], x)
            )
        if not near:
            alone.add(k)
            continue
        t = near[0]
        groups[t] += groups.pop(k)
        gpop[t] += gpop.pop(k)
        for m in groups[t]:
            owner[m] = t
    return [sorted(v) for _, v in sorted(groups.items())]


def name_of(ref, epcis: list[str]) -> str:
    """'CPTS fictive du Saumurois' style names, from the largest commune of the grouping."""
    units = ref.units[ref.units["epci"].isin(epcis)]
    biggest = units.sort_values(["population", "nom"], ascending=[False, True]).iloc[0]["nom"]
    return f"CPTS fictive {_de(biggest)}"


def make_register(ref) -> tuple[pd.DataFrame, list[list[str]]]:
    rng = np.random.default_rng(2026)
    groupings = epci_groupings(ref, REGION)
    pops = [int(ref.units.loc[ref.units["epci"].isin(g), "population"].sum()) for g in groupings]
    # Two white zones: the two smallest groupings of Maine-et-Loire and Vendée (whole EPCIs).
    white = []
    for dep in ("49", "85"):
        cands = [
            i
            for i, g in enumerate(groupings)
            if (ref.units.loc[ref.units["epci"].isin(g), "departement"] == dep).all()
        ]
        white.append(min(cands, key=lambda i: (pops[i], i)))
    rows = []
    n = 0
    for i, g in enumerate(groupings):
        if i in white:
            continue
        n += 1
        cid = f"{FICTIF}-52-{n:03d}"
        stage = STAGES[int(rng.integers(len(STAGES)))]
        year = int(rng.integers(2019, 2026))
        month = int(rng.integers(1, 13))
        units = ref.units[(ref.units["epci"].isin(g)) & (ref.units["region"] == REGION)]
        for code in units.index:
            rows.append((cid, name_of(ref, g), code, stage, f"{year}-{month:02d}-01"))
    reg = pd.DataFrame(rows, columns=["cpts_id", "cpts_nom", "code_insee", "statut", "date_statut"])
    # A deliberate overlap: the first CPTS also claims one commune of a neighbouring CPTS.
    first = reg[reg["cpts_id"] == reg["cpts_id"].iloc[0]]
    owner = reg.set_index("code_insee")["cpts_id"]
    for code in first["code_insee"]:
        other = [c for c in ref.neighbours(code) if c in owner.index and owner[c] != first["cpts_id"].iloc[0]]
        if other:
            extra = first.iloc[[0]].assign(code_insee=other[0])
            reg = pd.concat([reg, extra], ignore_index=True)
            break
    return reg, [groupings[i] for i in white]


def make_register_v2(ref, reg: pd.DataFrame, white: list[list[str]]) -> pd.DataFrame:
    """A later version of the fictitious register: one change of each kind."""
    v2 = reg.copy()
    ids = list(dict.fromkeys(v2["cpts_id"]))
    v2.loc[v2["cpts_id"] == ids[0], "cpts_nom"] = (
        v2.loc[v2["cpts_id"] == ids[0], "cpts_nom"] + " et de la Brière"
    )
    ps = next(c for c in ids if (v2.loc[v2["cpts_id"] == c, "statut"] == "projet-sante").all())
    v2.loc[v2["cpts_id"] == ps, ["statut", "date_statut"]] = ["aci", "2026-06-01"]
    # Two communes leave a CPTS under ACI: they become a white zone.
    aci = next(c for c in ids if c not in (ids[0], ps) and (v2["cpts_id"] == c).sum() > 4)
    v2 = v2.drop(v2.index[v2["cpts_id"] == aci][:2])
    # A CPTS given a new id: compare-registers matches it by its territory.
    pp = next(c for c in ids if (v2.loc[v2["cpts_id"] == c, "statut"] == "pre-projet").all())
    v2.loc[v2["cpts_id"] == pp, "cpts_id"] = f"{FICTIF}-52-{len(ids) + 1:03d}"
    # A new CPTS on the white zone of Maine-et-Loire, with one commune of a neighbouring CPTS.
    units = ref.units[ref.units["epci"].isin(white[0]) & (ref.units["region"] == REGION)]
    owner = v2.set_index("code_insee")["cpts_id"]
    shared = next(c for code in units.index for c in ref.neighbours(code) if c in owner.index)
    new_id = f"{FICTIF}-52-{len(ids) + 2:03d}"
    rows = [(new_id, name_of(ref, white[0]), c, "pre-projet", "2026-09-01") for c in [*units.index, shared]]
    new = pd.DataFrame(rows, columns=v2.columns)
    return pd.concat([v2, new], ignore_index=True)


def make_published(ref, reg: pd.DataFrame) -> pd.DataFrame:
    """The register as a published table: CPTS names only, spelled its own way, one commune given
    to a neighbouring CPTS and one written with the code of a homonym of another département."""
    pub = reg.drop_duplicates("code_insee", keep="first").reset_index(drop=True)
    ids = list(dict.fromkeys(pub["cpts_id"]))
    names = dict(zip(pub["cpts_id"], pub["cpts_nom"]))
    # Two names spelled otherwise (a typo, an added word).
    typo = next(c for c in ids[2:] if names[c].startswith("CPTS fictive de "))
    longer = next(c for c in ids[3:] if c != typo)
    names[typo] = names[typo].replace("CPTS fictive de ", "CPTS fictive su ", 1)
    names[longer] = names[longer] + " (association)"
    # One commune of a CPTS given to the neighbouring CPTS.
    owner = pub.set_index("code_insee")["cpts_id"]
    size = pub["cpts_id"].value_counts()
    moved = next(
        (code, nb)
        for code, cid in owner.items()
        if cid not in (typo, longer) and size[cid] > 5
        for nb in ref.neighbours(code)
        if nb in owner.index and owner[nb] not in (cid, typo, longer)
    )
    pub.loc[pub["code_insee"] == moved[0], "cpts_id"] = owner[moved[1]]
    # One commune written with the code of its homonym of another département (same name).
    units = ref.units
    homonym = next(
        (code, other)
        for code in pub["code_insee"]
        if code != moved[0]
        for other in units.index[(units["nom"] == units.at[code, "nom"]) & (units["region"] != REGION)][:1]
    )
    commune = pub["code_insee"].map(units["nom"])
    pub.loc[pub["code_insee"] == homonym[0], "code_insee"] = homonym[1]
    return pd.DataFrame(
        {"Nom de la CPTS": pub["cpts_id"].map(names), "Code INSEE": pub["code_insee"], "Commune": commune}
    )


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "data" / "examples")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    ref = load_reference()
    units = ref.units

    reg, white = make_register(ref)
    write_csv(reg, out / "registre_fictif_pays_de_la_loire.csv")
    write_csv(make_register_v2(ref, reg, white), out / "registre_fictif_pays_de_la_loire_v2.csv")
    published = make_published(ref, reg)
    (out / "registre_fictif_publie_noms.csv").write_text(
        published.to_csv(index=False, sep=";", lineterminator="\n"), encoding="utf-8"
    )

    def proposal(name: str, codes, cpts_nom: str) -> None:
        frame = pd.DataFrame(
            {
                "cpts_nom": cpts_nom,
                "code_insee": list(codes),
                "commune": units.loc[list(codes), "nom"].to_numpy(),
            }
        )
        write_csv(frame, out / f"proposition_{name}.csv")

    # pass: the first white zone of the register (whole EPCIs of Maine-et-Loire).
    white_codes = units.index[units["epci"].isin(white[0])]
    proposal("valide", white_codes, "Projet fictif de CPTS (zone blanche du registre fictif)")
    # population fail: one small EPCI of Mayenne.
    in53 = units.groupby("epci")["departement"].agg(lambda s: set(s) == {"53"})
    mayenne = units[units["epci"].isin(in53.index[in53])].groupby("epci")["population"].sum()
    small = mayenne.sort_values().index[0]
    proposal("population_insuffisante", units.index[units["epci"] == small], "Projet fictif trop petit")
    # contiguity fail: Lyon 5e and 6e (separated by land).
    proposal("discontinue", ["69385", "69386"], "Projet fictif discontinu (Lyon 5e et 6e)")
    # contiguity warn: Belle-Île (4 communes) with Quiberon, joined by sea.
    belle_ile = ["56009", "56114", "56152", "56241"]
    presquile = ["56186", "56234", "56168", "56034", "56054", "56055", "56013"]  # Quiberon to Belz
    proposal("belle_ile", [*belle_ile, *presquile], "Projet fictif Belle-Île et presqu'île de Quiberon")
    # enclave warn: the ring of Le Mans's neighbours, without Le Mans.
    proposal("enclave", ref.neighbours("72181"), "Projet fictif autour du Mans (Le Mans enclavé)")
    # epci warn: half the communes (by code) of Saumur Val de Loire.
    saumur_epci = units.at["49328", "epci"]
    saumur = set(units.index[units["epci"] == saumur_epci])
    half, frontier = [], ["49328"]  # breadth-first from Saumur: a contiguous half
    while frontier and len(half) < len(saumur) // 2:
        code = frontier.pop(0)
        if code not in half:
            half.append(code)
            frontier += [c for c in ref.neighbours(code) if c in saumur and c not in half]
    proposal("epci_partiel", half, "Projet fictif sur une moitié d'EPCI")
    # admin warn: Redon and its neighbours in three départements and two régions.
    redon = ["35236", *ref.neighbours("35236")]
    proposal("deux_regions", redon, "Projet fictif du pays de Redon")
    # overlap fail: the register's first CPTS plus one neighbouring commune.
    first = reg[reg["cpts_id"] == reg["cpts_id"].iloc[0]]["code_insee"].tolist()
    proposal("chevauchement", first, "Projet fictif qui chevauche le registre")
    # Messy input as it arrives from Excel: cp1252, ';', codes without their leading zero,
    # names with a département, an old code, a duplicate row and blank lines.
    messy = (
        "Code INSEE;Nom de la commune;Département\r\n"
        "49007;Angers;49\r\n"
        "49015;Avrillé;49\r\n"
        "\r\n"
        ";Saint-Barthélemy-d'Anjou;Maine-et-Loire\r\n"
        "49246;Les Ponts-de-Cé;49\r\n"
        "49246;Les Ponts-de-Cé;49\r\n"
        "49353;TRELAZE;49\r\n"
        "49166;Juigné-Béné (ancien code);49\r\n"
    )
    (out / "proposition_excel.csv").write_bytes(messy.encode("cp1252"))
    make_zones(ref, out)


def make_zones(ref, out: Path) -> None:
    """The fictitious zone layers (see the module docstring)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(2026)
    units = ref.units[ref.units["region"] == REGION]
    epcis = sorted(set(units["epci"].dropna()) - {""})
    codes = rng.choice(["1_ZIP", "2_ZAC", "4_HZ"], size=len(epcis), p=[0.2, 0.35, 0.45])
    zone_of = dict(zip(epcis, codes))
    zonage = pd.DataFrame(
        {
            "Code commune": units.index,
            "Libellé commune": units["nom"].to_numpy(),
            "Zonage médecins": [zone_of.get(e, "4_HZ") for e in units["epci"].fillna("")],
        }
    )
    title = "Zonage médecins FICTIF (exemple cpts-geo, tiré au hasard : ne pas utiliser)\n"
    text = title + zonage.to_csv(index=False, sep=";", lineterminator="\n")
    (out / "zonage_medecins_fictif.csv").write_text(text, encoding="utf-8")

    chosen = sorted(rng.choice(epcis, size=8, replace=False))
    rows = [(s, "" if k % 3 == 2 else str(ref.epci.at[s, "nom"])) for k, s in enumerate(chosen)]
    # One EPCI given by its name only (no SIREN), as lists written by hand have.
    rows[1] = ("", str(ref.epci.at[chosen[1], "nom"]))
    frame = pd.DataFrame(rows, columns=["SIREN", "Nom de l'EPCI"])
    title = "Zones rouges FICTIVES (exemple cpts-geo, EPCI tirés au hasard : ne pas utiliser)\n"
    text = title + frame.to_csv(index=False, sep=";", lineterminator="\n")
    (out / "zones_rouges_fictives.csv").write_text(text, encoding="utf-8")

    centres = [  # (commune, name, radius m, offset x, offset y)
        ("49007", "des Tilleuls", 700, 900, -600),
        ("49007|49353", "de la Roseraie", 600, 0, 0),  # on the boundary of Angers and Trélazé
        ("44109", "des Écrivains", 900, -1500, 1200),
        ("72181", "du Bois Joli", 800, 0, 1500),
        ("49099", "des Mûriers", 600, -400, 300),
        ("44184", "de la Grande Marée", 700, 500, 800),
        ("53130", "du Vieux Pont", 500, 0, -500),
    ]
    projected = ref.units.to_crs(2154).geometry

    def centre(code: str):
        if "|" in code:  # the middle of the boundary two communes share
            a, b = code.split("|")
            line = shapely.line_merge(shapely.intersection(projected[a].boundary, projected[b].boundary))
            return shapely.line_interpolate_point(line, 0.5, normalized=True)
        return projected[code].representative_point()

    pts = [centre(c) for c, *_ in centres]
    hexagons, names, ids = [], [], []
    for k, ((spec, name, r, dx, dy), p) in enumerate(zip(centres, pts)):
        code = spec.split("|")[0]
        angles = np.linspace(0, 2 * np.pi, 7)[:-1]
        ring = [(p.x + dx + r * np.cos(a), p.y + dy + r * np.sin(a)) for a in angles]
        hexagons.append(shapely.Polygon(ring))
        where = " et ".join(str(ref.units.at[c, "nom"]) for c in spec.split("|"))
        names.append(f"Quartier fictif {name} ({where})")
        ids.append(f"QX{code}{k:02d}")
    gdf = gpd.GeoDataFrame({"code_qp": ids, "lib_qp": names}, geometry=hexagons, crs=2154).to_crs(4326)
    gdf["geometry"] = shapely.set_precision(gdf.geometry.to_numpy(), 1e-6)
    path = out / "qpv_fictifs.geojson"
    path.unlink(missing_ok=True)
    gdf.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=6)


if __name__ == "__main__":
    main()
