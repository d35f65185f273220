"""Reading real lists and registers as analysts send them (issue 12), on real names of the national
reference sampled programmatically (seeded): former communes, homonyms decided by each list's or
each CPTS's context, typos, typography, postal codes, code/name pairs, EPCI rows; file layouts
(title rows, merged cells, totals, notes, a "Notes" sheet, one-line lists); stage wordings;
layers without CRS; polygon registers with other field names."""

from __future__ import annotations

import json
import random
import warnings

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import Workbook

from cpts_geo._errors import InputError
from cpts_geo.cli.main import main
from cpts_geo.inputs.read import read_proposal, read_register
from cpts_geo.inputs.stages import STAGES, parse_stage
from cpts_geo.reference.names import epci_key, normalize_name

SEED = 12


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ix(ref):
    return ref._name_index


def unique_names(ref, ix) -> dict[str, str]:
    """Communes (units of the reference) whose name designates them alone."""
    noms = (
        ref.units.loc[ref.units["type"] != "arrondissement", "nom"]
        if "type" in ref.units
        else ref.units["nom"]
    )
    return {
        c: n
        for c, n in noms.items()
        if ix.current.get(normalize_name(n)) == (c,) and normalize_name(n) not in ix.former and len(n) > 3
    }


def neighbours(ref, code: str) -> list[str]:
    pos = int(ref.position[code])
    return [str(ref.units.index[j]) for j in ref.graph[pos].indices]


# --- 1. former communes by name ---------------------------------------------------------------


def test_former_communes_by_name_give_their_commune(tmp_path, ref, ix):
    formers = ref.former_communes
    picked, seen = [], set()
    rng = random.Random(SEED)
    for i in rng.sample(range(len(formers)), len(formers)):
        f = formers.iloc[i]
        key = normalize_name(f["nom"])
        if key in ix.current or len({x.commune for x in ix.former.get(key, ())}) != 1:
            continue
        if f["commune"] not in ref.units.index or f["commune"] in seen:
            continue
        picked.append(f)
        seen.add(f["commune"])
        if len(picked) == 40:
            break
    assert len(picked) == 40
    path = write(tmp_path / "anciennes.csv", "Commune\n" + "\n".join(f["nom"] for f in picked) + "\n")
    p = read_proposal(path, ref)
    assert p.codes == [f["commune"] for f in picked]
    for f, w in zip(picked, p.warnings):
        assert w["message"].startswith(
            f"ancienne commune {f['nom']} ({f['code']}), rattachée à {ix.nom[f['commune']]} ({f['commune']})"
        )


def test_pierrefitte_and_lhospitalet(tmp_path, ref):
    path = write(tmp_path / "l.csv", "Commune\nPierrefitte-sur-Seine\nLhospitalet\n")
    p = read_proposal(path, ref)
    assert p.codes == ["93066", "46172"]
    assert p.warnings[0]["message"].startswith(
        "ancienne commune Pierrefitte-sur-Seine (93059), rattachée à Saint-Denis (93066) ; toute la "
        "commune est retenue, pas seulement l'ancienne commune Pierrefitte-sur-Seine : +149\u00a0077\u00a0hab."
    )


# --- 2. homonyms by context -------------------------------------------------------------------


def homonym_cases(ref, ix, n: int):
    """(name, chosen commune, a neighbour of it with a name of its own adjacent to no other
    commune of that name)."""
    unique = unique_names(ref, ix)
    rng = random.Random(SEED)
    keys = sorted(
        k for k, codes in ix.current.items() if len(codes) >= 2 and all(c in ref.units.index for c in codes)
    )
    out = []
    for key in rng.sample(keys, len(keys)):
        codes = ix.current[key]
        c = rng.choice(codes)
        others = set(codes) - {c}
        for nb in neighbours(ref, c):
            if nb in unique and not (set(neighbours(ref, nb)) & others):
                out.append((ix.nom[c], c, nb))
                break
        if len(out) == n:
            return out
    return out


def test_homonyms_are_decided_by_the_neighbours_in_the_list(tmp_path, ref, ix):
    cases = homonym_cases(ref, ix, 40)
    assert len(cases) == 40
    for name, c, nb in cases:
        path = write(tmp_path / "h.csv", f"Commune\n{name}\n{ix.nom[nb]}\n")
        p = read_proposal(path, ref)
        assert p.codes == [c, nb], (name, c, nb)
        assert f"{name} ({c}), département {ix.departement[c]}, retenue" in p.warnings[0]["message"]


def test_saint_denis_and_valence_examples(tmp_path, ref):
    path = write(tmp_path / "sd.csv", "Commune\nSaint-Denis\nAubervilliers\nStains\n")
    assert read_proposal(path, ref).codes == ["93066", "93001", "93072"]
    path = write(tmp_path / "v.csv", "Commune\nValence\nBourg-lès-Valence\nPortes-lès-Valence\n")
    assert read_proposal(path, ref).codes == ["26362", "26058", "26252"]


def test_homonym_without_context_is_refused_with_its_candidates(tmp_path, ref):
    path = write(tmp_path / "a.csv", "Commune\nSaint-Denis\n")
    with pytest.raises(InputError, match=r"ligne 2 : nom 'Saint-Denis' ambigu : 4 communes portent ce nom"):
        read_proposal(path, ref)


def test_register_decides_each_homonym_by_its_own_cpts(tmp_path, ref, ix):
    cases = homonym_cases(ref, ix, 60)
    by_name: dict[str, list] = {}
    for name, c, nb in cases:
        by_name.setdefault(name, []).append((c, nb))
    # Names met twice with two different communes, plus names met once (each its own CPTS).
    lines = ["cpts_id;cpts_nom;commune"]
    expected = {}
    for k, (name, c, nb) in enumerate(cases):
        lines += [f"C{k};CPTS {k};{name}", f"C{k};CPTS {k};{ix.nom[nb]}"]
        expected[f"C{k}"] = {c, nb}
    path = write(tmp_path / "registre.csv", "\n".join(lines) + "\n")
    reg = read_register(path, ref)
    got = reg.table.groupby("cpts_id")["code_insee"].apply(set).to_dict()
    assert got == expected


# --- 3. typos ---------------------------------------------------------------------------------


def test_typos_with_a_neighbour_are_resolved_or_suggested_never_wrong(tmp_path, ref, ix):
    unique = unique_names(ref, ix)
    rng = random.Random(SEED)
    long = sorted(c for c, n in unique.items() if len(normalize_name(n).replace(" ", "")) >= 12)
    resolved = suggested = 0
    for c in rng.sample(long, 40):
        name = unique[c]
        nb = next((x for x in neighbours(ref, c) if x in unique), None)
        if nb is None:
            continue
        i = len(name) // 2
        typo = name[:i] + name[i + 1 :]
        path = write(tmp_path / "t.csv", f"Commune\n{typo}\n{unique[nb]}\n")
        try:
            p = read_proposal(path, ref)
        except InputError as exc:
            assert "vouliez-vous dire" in str(exc) and f"({c}, " in str(exc), (typo, str(exc))
            suggested += 1
            continue
        assert p.codes == [c, nb], (typo, p.codes)
        resolved += 1
    assert resolved >= 25 and resolved + suggested >= 30


def test_montreuil_belay_and_chalonnes(tmp_path, ref):
    path = write(tmp_path / "t.csv", "Commune\nMontreuil-Belay\nSaumur\n")
    assert read_proposal(path, ref).codes == ["49215", "49328"]
    path = write(tmp_path / "t2.csv", "Commune\nChalonnes-sur-Loir\nRochefort-sur-Loire\n")
    assert read_proposal(path, ref).codes == ["49063", "49259"]


# --- 4. typography ----------------------------------------------------------------------------


def test_typography_of_real_names(tmp_path, ref, ix):
    unique = unique_names(ref, ix)
    rng = random.Random(SEED)
    marked = sorted(c for c, n in unique.items() if "'" in n and "-" in n)
    sample = rng.sample(marked, 40)
    typed = [unique[c].replace("'", "’").replace("-", "\u2011").upper() for c in sample]
    path = write(tmp_path / "typo.csv", "Commune\n" + "\n".join(typed) + "\n")
    assert read_proposal(path, ref).codes == sample
    saints = sorted(c for c, n in unique.items() if n.startswith("Saint-") and "-" in n[6:])
    sample = rng.sample(saints, 30)
    typed = ["St-" + unique[c][6:].replace("-", "–") for c in sample]
    path = write(tmp_path / "st.csv", "Commune\n" + "\n".join(typed) + "\n")
    assert read_proposal(path, ref).codes == sample


def test_l_ile_d_yeu(tmp_path, ref):
    path = write(tmp_path / "y.csv", "Commune\nL’Île-d’Yeu\nHAŸ-LES-ROSES (L')\n")
    assert read_proposal(path, ref).codes == ["85113", "94038"]


# --- 5. postal codes --------------------------------------------------------------------------


def test_postal_code_column_chooses_between_homonyms(tmp_path, ref, ix):
    rng = random.Random(SEED)
    keys = sorted(k for k, codes in ix.current.items() if len(codes) >= 2)
    rows, expected = [], []
    for key in rng.sample(keys, len(keys)):
        codes = ix.current[key]
        c = rng.choice(codes)
        own = set(ix.postal_of.get(c, ())) - set().union(
            *(ix.postal_of.get(o, set()) for o in codes if o != c)
        )
        if not own or c in expected:
            continue
        rows.append(f"{ix.nom[c]};{sorted(own)[0]}")
        expected.append(c)
        if len(rows) == 40:
            break
    path = write(tmp_path / "cp.csv", "Commune;Code postal\n" + "\n".join(rows) + "\n")
    assert read_proposal(path, ref).codes == expected


def test_a_postal_code_is_said_to_be_one(tmp_path, ref):
    path = write(tmp_path / "p.csv", "code_insee\n49000\n")
    with pytest.raises(
        InputError, match=r"ligne 2 : 49000 est un code postal, pas un code INSEE ; il dessert"
    ):
        read_proposal(path, ref)


# --- 6. code and name that disagree -----------------------------------------------------------


def mismatched_pairs(ref, ix, n):
    unique = unique_names(ref, ix)
    rng = random.Random(SEED)
    codes = sorted(unique)
    out = []
    while len(out) < n:
        a, b = rng.sample(codes, 2)
        if ix.departement[a] != ix.departement[b]:
            out.append((a, b))
    return out


def test_code_and_name_must_agree(tmp_path, ref, ix):
    pairs = mismatched_pairs(ref, ix, 25)
    body = "\n".join(f"{a};{ix.nom[b]}" for a, b in pairs)
    path = write(tmp_path / "cn.csv", "code_insee;commune\n" + body + "\n")
    with pytest.raises(InputError) as err:
        read_proposal(path, ref)
    lines = str(err.value).splitlines()
    assert len(lines) == 25
    for (a, b), line in zip(pairs, lines):
        assert (
            f"code {a} et nom '{ix.nom[b]}' ne désignent pas la même commune : le code désigne "
            f"{ix.nom[a]} ({a}), le nom désigne {ix.nom[b]} ({b}, {ix.departement[b]})"
        ) in line
    assert read_proposal(path, ref, prefer="codes").codes == [a for a, _ in pairs]
    p = read_proposal(path, ref, prefer="names")
    assert p.codes == [b for _, b in pairs]
    assert all("le nom est retenu" in w["message"] for w in p.warnings)


def test_prefer_on_the_cli(tmp_path):
    path = write(tmp_path / "cn.csv", "code_insee;commune\n44109;Angers\n49015;Avrillé\n")
    res = run("check", path, "--format", "json")
    assert res.exit_code == 2
    assert "le code désigne Nantes (44109), le nom désigne Angers (49007, 49)" in res.stderr
    assert "(prefer : option --prefer)" in res.stderr
    res = run("check", path, "--format", "json", "--prefer", "names")
    assert json.loads(res.stdout)["territory"]["communes"] == ["49007", "49015"]
    assert "le nom est retenu" in res.stderr


def test_a_code_with_a_former_name_of_its_commune_agrees(tmp_path, ref, ix):
    formers = ref.former_communes
    sample = formers[(formers["code"] != formers["commune"]) & formers["commune"].isin(ref.units.index)]
    sample = sample.sample(30, random_state=SEED)
    body = "\n".join(f"{r.commune};{r.nom}" for r in sample.itertuples())
    path = write(tmp_path / "f.csv", "code_insee;commune\n" + body + "\n")
    assert read_proposal(path, ref).codes == list(dict.fromkeys(sample["commune"]))


# --- 7. EPCI rows -----------------------------------------------------------------------------


def test_epci_names_and_siren_stand_for_their_communes(tmp_path, ref, ix):
    keys = {}
    for siren, nom in ref.epci["nom"].items():
        keys.setdefault(epci_key(nom), []).append(siren)
    fine = sorted(
        s
        for s, nom in ref.epci["nom"].items()
        if len(keys[epci_key(nom)]) == 1 and normalize_name(nom) not in ix.current
    )
    rng = random.Random(SEED)
    for siren in rng.sample(fine, 15):
        nom = ref.epci.at[siren, "nom"]
        units = sorted(set(ix.epci_units[siren]))
        p = read_proposal(write(tmp_path / "e.csv", f"Commune\n{nom}\n"), ref)
        assert sorted(p.codes) == units
        assert p.warnings[0]["message"].startswith(f"EPCI {nom} ({siren}) remplacé par ses ")
        p = read_proposal(write(tmp_path / "s.csv", f"cpts_nom;EPCI\nCPTS;{siren}\n"), ref)
        assert sorted(p.codes) == units


def test_ile_de_re_in_a_register(tmp_path, ref):
    path = write(
        tmp_path / "r.csv",
        "cpts_id;cpts_nom;commune;statut\nRE;CPTS de Ré;Communauté de communes de l'Île de Ré;ACI signé\n",
    )
    reg = read_register(path, ref)
    assert len(reg.table) == 10 and set(reg.table["statut"]) == {"aci"}
    assert reg.warnings[0]["message"] == "EPCI CC de l'Ile de Ré (241700459) remplacé par ses 10 communes"


# --- 8. Excel and file layouts ----------------------------------------------------------------


def test_xlsx_title_merged_cells_blank_rows_totals_and_notes(tmp_path, ref):
    wb = Workbook()
    ws = wb.active
    ws.title = "Communes"
    ws["A1"] = "CPTS du Saumurois — liste des communes"
    ws.merge_cells("A1:D1")
    ws["A2"] = "Mise à jour : mars 2025"
    ws.merge_cells("A2:D2")
    ws.append([])
    ws.append(["Code INSEE", "Commune", "Population", "EPCI"])
    for row in (
        ["49328", "Saumur", 25976, "CA Saumur Val de Loire"],
        ["49215", "Montreuil-Bellay", 3887, ""],
    ):
        ws.append(row)
    ws.append(["", "Sous-total", 29863, ""])
    ws.append([None, None, 29863, None])
    ws.append(["TOTAL", "", 29863, ""])
    ws.append([])
    ws.append(["Source : INSEE, populations légales 2023"])
    path = tmp_path / "communes.xlsx"
    wb.save(path)
    p = read_proposal(path, ref)
    assert p.codes == ["49328", "49215"]
    assert [w["message"] for w in p.warnings] == [
        "ligne(s) de titre au-dessus de l'en-tête ignorée(s) : ligne 1 « CPTS du Saumurois — liste des "
        "communes », ligne 2 « Mise à jour : mars 2025 »",
        "ligne(s) de total ignorée(s) : ligne 7 « Sous-total 29863 », ligne 8 « 29863 », ligne 9 « TOTAL "
        "29863 »",
        "ligne(s) de notes ignorée(s) : ligne 11 « Source : INSEE, populations légales 2023 »",
        "nom du territoire pris dans la ligne de titre : « CPTS du Saumurois »",
    ]
    assert p.name == "CPTS du Saumurois"


def test_xlsx_notes_sheet_first(tmp_path, ref):
    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws["A1"] = "Ce classeur liste les communes de la CPTS."
    ws["A2"] = "Contact : ARS"
    data = wb.create_sheet("Territoire")
    data.append(["code_insee", "nom"])
    data.append(["49007", "Angers"])
    data.append(["49015", "Avrillé"])
    path = tmp_path / "notes.xlsx"
    wb.save(path)
    p = read_proposal(path, ref)
    assert p.codes == ["49007", "49015"]
    assert p.warnings[0]["message"] == (
        "feuille 'Territoire' lue : la première feuille, 'Notes', ne contient pas de liste de communes reconnue"
    )


def test_xlsx_without_a_communes_sheet_lists_the_sheets(tmp_path, ref):
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Rien ici"
    wb.create_sheet("Graphique")["B2"] = "Figure"
    path = tmp_path / "vide.xlsx"
    wb.save(path)
    res = run("check", path)
    assert res.exit_code == 2
    assert (
        "feuilles : 'Notes', 'Graphique' ; précisez la feuille à lire (paramètre sheet) (sheet : option --sheet)"
        in res.stderr
    )


def test_skip_rows(tmp_path, ref):
    path = write(
        tmp_path / "s.csv",
        "Export du 3 mars;49007;x\nPréparé par ARS;;\ncode_insee;nom\n49007;Angers\n49015;Avrillé\n",
    )
    with pytest.raises(InputError):
        read_proposal(path, ref)
    p = read_proposal(path, ref, skip_rows=2)
    assert p.codes == ["49007", "49015"]
    assert p.warnings[0]["message"].startswith(
        "2 premières lignes ignorée(s) à la demande : ligne 1 « Export"
    )
    res = run("check", path, "--skip-rows", "2", "--min-population", "0", "--format", "json")
    assert json.loads(res.stdout)["territory"]["communes"] == ["49007", "49015"]


def test_one_line_of_names(tmp_path, ref):
    path = write(tmp_path / "l.txt", "Angers, Avrillé, Beaucouzé, Saint-Barthélemy-d'Anjou\n")
    assert read_proposal(path, ref).codes == ["49007", "49015", "49020", "49267"]


# --- 9. stages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, stage",
    [
        ("ACI signé", "aci"),
        ("contrat signé", "aci"),
        ("Signé", "aci"),
        ("Contrat ACI signé", "aci"),
        ("LI validée", "lettre-intention"),
        ("Lettre d'intention validée", "lettre-intention"),
        ("projet de santé validé", "projet-sante"),
        ("Projet de santé", "projet-sante"),
        ("en projet", "pre-projet"),
        ("Pré-projet", "pre-projet"),
        *((s, s) for s in STAGES),
    ],
)
def test_stage_wordings(typed, stage):
    assert parse_stage(typed) == stage


def test_projet_alone_is_ambiguous(tmp_path, ref):
    path = write(tmp_path / "r.csv", "cpts_id;cpts_nom;code_insee;statut\nA;A;49007;Projet\n")
    with pytest.raises(InputError) as err:
        read_register(path, ref)
    msg = str(err.value)
    assert "ligne 2 : statut 'Projet' ambigu : « projet » désigne soit un pré-projet" in msg
    assert (
        "formulations acceptées : pre-projet (Pré-projet, " in msg.lower()
        or "Formulations acceptées : pre-projet (Pré-projet, " in msg
    )
    assert "aci (Contrat ACI signé, aci, aci signe" in msg


# --- 10. layers without CRS -------------------------------------------------------------------


def lambert_layer(ref, codes, path, **props):
    geom = shapely.union_all(ref.units.loc[codes].geometry.to_numpy())
    gdf = gpd.GeoDataFrame(props, geometry=[geom], crs=4326).to_crs(2154)
    gdf = gdf.set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": the point
        gdf.to_file(path, driver="GeoJSON")
    return path


def test_projected_coordinates_without_crs(tmp_path, ref):
    path = lambert_layer(
        ref, ["49007", "49015"], tmp_path / "l93.geojson", cpts_id=["A"], cpts_nom=["CPTS A"]
    )
    with pytest.raises(InputError, match=r"ne sont pas des degrés : elles semblent projetées .* crs=2154"):
        read_proposal(path, ref)
    assert read_proposal(path, ref, crs=2154).codes == ["49007", "49015"]
    res = run("check", path, "--format", "json")
    assert res.exit_code == 2 and "(crs : option --crs)" in res.stderr
    res = run("check", path, "--crs", "2154", "--min-population", "0", "--format", "json")
    assert json.loads(res.stdout)["territory"]["communes"] == ["49007", "49015"]
    assert read_register(path, ref, crs="EPSG:2154").table["code_insee"].tolist() == ["49007", "49015"]


# --- 12. polygon registers with other field names ---------------------------------------------


def test_polygon_register_with_dgos_field_names(tmp_path, ref):
    a = shapely.union_all(ref.units.loc[["49007", "49015"]].geometry.to_numpy())
    b = ref.units.loc["49328"].geometry.buffer(0.002)  # Saumur and slivers of its neighbours
    gdf = gpd.GeoDataFrame(
        {
            "ID_DGOS": ["52-001", "52-002"],
            "LIBELLE": ["CPTS Angers Nord", "CPTS Saumur"],
            "ETAPE_CPTS": ["ACI signé", "LI validée"],
        },
        geometry=[a, b],
        crs=4326,
    )
    path = tmp_path / "dgos.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"attribut cpts_id introuvable parmi ID_DGOS, LIBELLE, ETAPE_CPTS"):
        read_register(path, ref)
    reg = read_register(path, ref, id_column="ID_DGOS", name_column="LIBELLE", stage_column="ETAPE_CPTS")
    assert reg.cpts[["cpts_nom", "statut"]].to_dict("index") == {
        "52-001": {"cpts_nom": "CPTS Angers Nord", "statut": "aci"},
        "52-002": {"cpts_nom": "CPTS Saumur", "statut": "lettre-intention"},
    }
    assert reg.codes("52-002") == ["49328"]
    assert any(
        w["message"].startswith("CPTS '52-002' : ") and "coupée par le contour" in w["message"]
        for w in reg.warnings
    )
    res = run(
        "check-register",
        path,
        "--id-column",
        "ID_DGOS",
        "--name-column",
        "LIBELLE",
        "--stage-column",
        "ETAPE_CPTS",
        "--min-population",
        "0",
        "--format",
        "json",
    )
    assert [c["cpts_id"] for c in json.loads(res.stdout)["cpts"]] == ["52-001", "52-002"]
    res = run("coverage", path, "--id-column", "nope")
    assert res.exit_code == 2 and "attribut 'nope' introuvable" in res.stderr
    # One attribute for two roles ended in an internal error (exit 3).
    res = run("coverage", path, "--id-column", "LIBELLE", "--name-column", "libelle")
    assert res.exit_code == 2
    assert "un même attribut pour deux rôles (id_column, name_column : « LIBELLE »)" in res.stderr


def test_an_epci_column_next_to_communes_is_only_informative(tmp_path, ref):
    path = write(
        tmp_path / "i.csv",
        "Commune;EPCI\nSaumur;CA Saumur Val de Loire\nMontreuil-Bellay;CA Saumur Val de Loire\n",
    )
    assert read_proposal(path, ref).codes == ["49328", "49215"]
    path = write(
        tmp_path / "r.csv",
        "cpts_id;cpts_nom;commune;EPCI\nS;CPTS;Saumur;CA Saumur Val de Loire\nT;CPTS T;;CA Saumur Val de Loire\n",
    )
    reg = read_register(path, ref)
    assert reg.codes("S") == ["49328"] and len(reg.codes("T")) > 30


def test_a_notes_sheet_with_a_year_is_not_the_list(tmp_path, ref):
    wb = Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Année"
    wb.active["B1"] = 2025
    wb.create_sheet("Liste").append(["49007"])
    wb["Liste"].append(["49015"])
    path = tmp_path / "annee.xlsx"
    wb.save(path)
    assert read_proposal(path, ref).codes == ["49007", "49015"]


def test_register_code_name_pairs_and_postal_codes(tmp_path, ref):
    path = write(
        tmp_path / "r.csv",
        "cpts_id;cpts_nom;code_insee;commune;code postal\n"
        "A;CPTS A;44109;Angers;\n"
        "A;CPTS A;;Saint-Denis;97400\n"
        "A;CPTS A;49015;Avrillé;\n",
    )
    res = run("check-register", path, "--min-population", "0", "--format", "json")
    assert res.exit_code == 2
    assert "ligne 2 : code 44109 et nom 'Angers' ne désignent pas la même commune" in res.stderr
    res = run("check-register", path, "--min-population", "0", "--format", "json", "--prefer", "codes")
    assert json.loads(res.stdout)["cpts"][0]["territory"]["communes"] == ["44109", "49015", "97411"]
    assert "ligne 2 : code 44109 et nom 'Angers' en désaccord" in res.stderr
    reg = read_register(path, ref, prefer="names")
    assert reg.codes("A") == ["49007", "97411", "49015"]


def test_register_of_names_as_the_cog_writes_them(ref, tmp_path):
    # A register by name and département (cp1252, « ; »): official names in brackets are names.
    path = tmp_path / "registre_noms.csv"
    path.write_bytes(
        (
            "cpts_id;cpts_nom;nom_commune;departement\r\n"
            "16-1;CPTS Sud Charente;Bors (Canton de Charente-Sud);16\r\n"
            "16-1;CPTS Sud Charente;Bors (Canton de Tude-et-Lavalette);16\r\n"
            "58-1;CPTS du Morvan;Château-Chinon (Ville);58\r\n"
            "64-1;CPTS Béarn;Castillon (Canton de Lembeye);64\r\n"
        ).encode("cp1252")
    )
    reg = read_register(path, ref)
    assert reg.table["code_insee"].tolist() == ["16053", "16052", "58062", "64182"]
    assert not reg.warnings


@pytest.mark.parametrize(
    ("header", "vezins", "noted"),
    [
        ("nom", "Vezins", True),
        ("nom;departement", "Vezins;49", False),
        ("nom;code postal", "Vezins;49340", False),
    ],
)
def test_former_homonym_noted_only_when_the_row_leaves_it_possible(ref, tmp_path, header, vezins, noted):
    """« Vezins » is a commune of the 49 and a former commune of the Manche: the note says so
    unless the row's département or postal code already rules the Manche out."""
    from cpts_geo.inputs.read import read_proposal

    path = tmp_path / "liste.csv"
    cholet = "Cholet" + (";49" if "departement" in header else ";49300" if "postal" in header else "")
    path.write_text(f"{header}\n{vezins}\n{cholet}\n", encoding="utf-8")
    proposal = read_proposal(path, ref)
    assert proposal.codes == ["49371", "49099"]
    notes = [w["message"] for w in proposal.warnings if "ancienne commune" in w["message"]]
    assert bool(notes) is noted, notes


def test_fullwidth_digits_and_unicode_forms_are_the_plain_ones(ref, tmp_path):
    """Codes in fullwidth digits (pasted from a PDF) were dropped as a « ligne de total »; a CPTS
    name written NFC on one row and NFD (or with a no-break space) on another was refused as two
    names that look identical."""
    from cpts_geo.inputs.read import read_proposal, read_register

    path = tmp_path / "liste.csv"
    path.write_text("code_insee\n\uff14\uff19\uff10\uff10\uff17\n49015\n", encoding="utf-8")
    proposal = read_proposal(path, ref)
    assert proposal.codes == ["49007", "49015"] and proposal.warnings == []
    nfc, nfd = "CPTS de l'Été", "CPTS de l'E\u0301te\u0301"
    reg = tmp_path / "registre.csv"
    reg.write_text(
        f"cpts_id,cpts_nom,code_insee\nA,{nfc},49007\nA,{nfd},49015\nA,CPTS de\u00a0l'Été,49353\n",
        encoding="utf-8",
    )
    register = read_register(reg, ref)
    assert register.cpts.loc["A", "cpts_nom"] == nfc and int(register.cpts.loc["A", "n_units"]) == 3


def test_a_look_alike_letter_is_named(ref, tmp_path):
    """« Аngers » with a Cyrillic « А » was refused with a suggestion identical to the eye."""
    from cpts_geo.inputs.read import read_proposal

    path = tmp_path / "liste.csv"
    path.write_text("nom\n\u0410ngers\nAvrill\u0435\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_proposal(path, ref)
    msg = str(err.value)
    assert "ligne 2 : commune 'Аngers' introuvable" in msg
    assert "caractère non latin : « А » (lettre cyrillique) ; retapez-le" in msg
    assert "ligne 3 : commune 'Avrillе' introuvable" in msg and "« е » (lettre cyrillique)" in msg
