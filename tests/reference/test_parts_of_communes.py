"""Names that designate a part of a commune (issue 22 point 2) on a synthetic reference (fast
tier): localities resolve to their commune, and a locality, a former commune or an old code says
that the whole commune is counted, with its population; the « Lecture de la liste » part of the
reports (issue 25 item 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from cpts_geo._errors import UnknownCommuneError
from cpts_geo.checks.report import reading_rows
from cpts_geo.checks.rules import check_territory
from cpts_geo.inputs.read import proposal_from_codes, read_proposal
from cpts_geo.outputs.html_report import _reading_section
from cpts_geo.outputs.spreadsheets import report_workbook
from tests.grids import grid_reference


@pytest.fixture(scope="module")
def grid():
    """A 4 x 4 grid of communes of 1,000 inhabitants (49000 is the south-west corner), with a
    commune nouvelle 49303 of 6,000 having a commune déléguée « Vieux-Bourg » (old code 49999),
    and localities: « Plage du Nord » (49000), « Les Moulins » in 49001 and in 49303 (far
    apart), and « C 49002 les Bains », the post's name of 49002."""
    pop = [[1000] * 4 for _ in range(4)]
    pop[3][3] = 6000
    ref = grid_reference(4, 4, pop)
    communes = ref.communes.copy()
    communes.loc["49303", "anciens_codes"] = "49999"
    localities = pd.DataFrame(
        [
            ("Plage du Nord", "49000", "49100", "etat"),
            ("Les Moulins", "49001", "49100", "la-poste"),
            ("Les Moulins", "49303", "49300", "la-poste"),
            ("Hameau Perdu", "75999", "75000", "la-poste"),  # not a commune of the reference
        ],
        columns=["nom", "commune", "code_postal", "source"],
    ).assign(type="partie")
    localities.loc[len(localities)] = ("C 49002 les Bains", "49002", "49100", "codes-postaux", "graphie")
    localities = localities.reset_index(drop=True)
    former = pd.DataFrame(
        [("49999", "Vieux-Bourg", "49303", "deleguee", None)],
        columns=["code", "nom", "commune", "type", "depuis"],
    ).astype({"depuis": "Int64"})
    return ref.replace(communes=communes, localities=localities, former_communes=former)


def message_of(p, line):
    return next(w for w in p.reading if w["line"] == line)


def test_a_locality_resolves_to_its_commune_with_the_population_effect(grid):
    p = proposal_from_codes(["Plage du Nord", "49001", "49100", "49101"], grid, lines=[2, 3, 4, 5])
    assert p.codes == ["49000", "49001", "49100", "49101"]
    w = message_of(p, 2)
    assert w["message"] == (
        "« Plage du Nord » est une partie de la commune Commune 49000 (49000), pas une commune ; "
        "toute la commune est retenue : +1\u00a0000\u00a0hab., 25\u00a0% de la population du territoire"
    )
    assert (w["retained"], w["population"], w["part"]) == ("Commune 49000 (49000)", 1000, "localité")


def test_a_locality_of_two_communes_is_decided_by_the_list(grid):
    p = proposal_from_codes(["Les Moulins", "49002", "49101"], grid, lines=[2, 3, 4])
    assert p.codes == ["49001", "49002", "49101"]
    w = message_of(p, 2)["message"]
    assert w.startswith("nom de lieu 'Les Moulins' de 2 communes : celle de Commune 49001 (49001)")
    assert "voisine d'autres communes de la liste" in w
    assert "+1\u00a0000\u00a0hab." in w


def test_a_code_with_the_name_of_one_of_its_localities_agrees(grid):
    p = proposal_from_codes(["49000", "49100"], grid, names=["Plage du Nord", None], lines=[2, 3])
    assert p.codes == ["49000", "49100"]
    assert message_of(p, 2)["message"].startswith(
        "« Plage du Nord » est une partie de la commune Commune 49000 (49000), pas une commune ; toute"
    )
    with pytest.raises(UnknownCommuneError, match="code 49100 et nom 'Plage du Nord' ne désignent pas"):
        proposal_from_codes(["49100"], grid, names=["Plage du Nord"])


def test_the_posts_name_of_a_commune_is_no_part_of_it(grid):
    p = proposal_from_codes(["C 49002 les Bains", "49003"], grid, lines=[2, 3])
    assert p.codes == ["49002", "49003"]
    [w] = p.reading
    assert w["message"] == "« C 49002 les Bains » : nom de Commune 49002 (49002) tel que l'écrit La Poste"
    assert "part" not in w and w["population"] == 1000


def test_a_locality_of_an_absent_commune_is_unknown(grid):
    with pytest.raises(UnknownCommuneError, match="commune 'Hameau Perdu' introuvable"):
        proposal_from_codes(["Hameau Perdu", "49000"], grid)


def test_a_commune_deleguee_brings_its_whole_commune_nouvelle(grid):
    p = proposal_from_codes(["Vieux-Bourg", "49302", "49203"], grid, lines=[2, 3, 4])
    assert p.codes == ["49303", "49302", "49203"]
    w = message_of(p, 2)
    assert w["message"] == (
        "ancienne commune Vieux-Bourg (49999), rattachée à Commune 49303 (49303) ; toute la commune "
        "est retenue, pas seulement l'ancienne commune Vieux-Bourg : "
        "+6\u00a0000\u00a0hab., 75\u00a0% de la population du territoire"
    )
    assert (w["population"], w["part"]) == (6000, "ancienne commune")


def test_an_old_code_says_so_too(grid):
    p = proposal_from_codes(["49999", "49302"], grid, lines=[2, 3])
    assert message_of(p, 2)["message"].startswith(
        "ancien code 49999 : commune fusionnée dans Commune 49303 (49303) au COG 2026 ; toute la commune "
        "est retenue, pas seulement l'ancienne commune Vieux-Bourg : +6"
    )
    assert "+6\u00a0000\u00a0hab." in message_of(p, 2)["message"]


def test_a_part_whose_commune_is_listed_too_has_no_effect(grid):
    p = proposal_from_codes(["49303", "Vieux-Bourg"], grid, lines=[2, 3])
    assert p.codes == ["49303"]
    messages = [w["message"] for w in p.reading if w["line"] == 3]
    assert "elle est déjà citée (ligne 2) : sans effet sur la population" in messages[0]
    assert messages[1] == "doublon ignoré : 49303 déjà cité"
    assert [w["population"] for w in p.reading] == [0, 0]
    assert p.warnings == [{k: w[k] for k in ("line", "value", "message")} for w in p.reading]


def test_reading_part_of_the_reports(grid, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text(
        "Liste des communes de la CPTS des Moulins – version 2\n\n"
        "code_insee;nom\n49\u00a0000;\n;Vieux-Bourg\n49100;\n49100;\nTotal;3\n",
        encoding="utf-8",
    )
    p = read_proposal(path, grid)
    assert p.name == "CPTS des Moulins"
    report = check_territory(grid, p, min_population=None)
    rows = reading_rows(report)
    by_value = {r["value"]: r for r in rows}
    assert by_value["Vieux-Bourg"]["retained"] == "Commune 49303 (49303)"
    assert by_value["Vieux-Bourg"]["effect"] == "+6\u00a0000\u00a0hab. (commune entière)"
    assert by_value["49 000"]["retained"] == "49000"
    assert by_value["Total 3"]["retained"] == "ligne ignorée"
    assert [r["effect"] for r in rows if r["line"] == 7] == ["aucun (déjà compté)"]
    title = next(r for r in rows if r["retained"] == "CPTS des Moulins")
    assert title["message"] == "nom du territoire pris dans la ligne de titre : « CPTS des Moulins »"
    html = _reading_section(report)
    assert "Lecture de la liste (" in html and "+6\u00a0000\u00a0hab. (commune entière)" in html
    sheet = report_workbook(grid, report)[-1]
    assert sheet.name == "Lecture de la liste"
    assert sheet.frame["effect"].tolist() == [r["effect"] for r in rows]


def test_reading_part_without_corrections(grid):
    report = check_territory(grid, ["49000", "49001"], min_population=None)
    assert "Aucune correction" in _reading_section(report)
    assert report_workbook(grid, report)[-1].frame.empty


def test_a_place_name_far_from_the_list_is_read_as_a_typo():
    """A place name of one commune, in a list of another département that does not touch it, is
    not taken (« Talmont » near Talmont-Saint-Hilaire is no Talmont-sur-Gironde): refused with
    suggestions, naming the place; alone in its list, it is taken."""
    deps = [["49"] * 4, ["49"] * 4, ["85"] * 4, ["85"] * 4]
    ref = grid_reference(4, 4, 1000, departement=deps)
    places = pd.DataFrame(
        [("Le Port", "49303", "85000", "codes-postaux", "partie")],
        columns=["nom", "commune", "code_postal", "source", "type"],
    )
    ref = ref.replace(localities=places)
    with pytest.raises(
        UnknownCommuneError, match=r"« Le Port » est aussi un nom de lieu de Commune 49303 \(49303, 85\)"
    ):
        proposal_from_codes(["49000", "Le Port"], ref)
    assert proposal_from_codes(["Le Port"], ref).codes == ["49303"]
    assert proposal_from_codes(["49202", "Le Port"], ref).codes == ["49202", "49303"]
