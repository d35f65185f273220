"""Localities of a reference build (issue 22 point 2): the stated table and La Poste's base of
postal codes (its « ligne 5 » and libellés d'acheminement)."""

from __future__ import annotations

import pandas as pd
import pytest

from cpts_geo._errors import ReferenceDataError
from cpts_geo.build import _tables
from cpts_geo.build._tables import _same_name, localities, read_codes_postaux, read_la_poste

COMMUNES = pd.DataFrame(
    {
        "code": ["34154", "34344", "49301", "01015"],
        "nom": ["Mauguio", "La Grande-Motte", "Sèvremoine", "Arboys en Bugey"],
        "anciens_codes": ["", "", "49179", "01340"],
    }
)
FORMER = pd.DataFrame({"code": ["49179"], "nom": ["Le Longeron"], "commune": ["49301"]})

LA_POSTE = (
    "#Code_commune_INSEE;Nom_de_la_commune;Code_postal;Libellé_d_acheminement;Ligne_5\n"
    "34154;MAUGUIO;34130;MAUGUIO;\n"
    "34154;MAUGUIO;34280;MAUGUIO;LE PETIT TRAVERS\n"
    "34344;LA GRANDE MOTTE;34280;LA GRANDE MOTTE;\n"
    "49301;SEVREMOINE;49230;SEVREMOINE;LE LONGERON\n"
    "01340;ST BOIS;01300;ARBOYS EN BUGEY;ST BOIS LE HAUT\n"
    "99999;NULLE PART;99000;NULLE PART;LIEU PERDU\n"
)


def test_la_poste_places_that_are_no_commune_become_localities(tmp_path):
    path = tmp_path / "laposte_hexasmal.csv"
    path.write_bytes(LA_POSTE.encode("cp1252"))
    places = read_la_poste(path)
    assert ("34154", "34280", "LE PETIT TRAVERS") in set(places.itertuples(index=False, name=None))
    out = localities(COMMUNES, FORMER, places)
    poste = out[out["source"] == "la-poste"]
    # A commune's name, a former commune's name and a place of no current commune are left out;
    # a place of an old code goes to the current commune.
    assert poste[["nom", "commune", "code_postal", "type"]].values.tolist() == [
        ["ST BOIS LE HAUT", "01015", "01300", "partie"],
        ["LE PETIT TRAVERS", "34154", "34280", "partie"],
    ]
    assert set(out.loc[out["source"] == "etat", "commune"]) == {"34154"}  # the others are absent
    # A place stated in the build and named by La Poste too is listed once, as stated.
    twice = localities(
        COMMUNES,
        FORMER,
        pd.DataFrame([("34154", "34280", "CARNON")], columns=["code_insee", "code_postal", "nom"]),
    )
    assert twice[twice["nom"].str.upper() == "CARNON"]["source"].tolist() == ["etat"]


def test_la_poste_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "autre.csv"
    path.write_text("code;nom\n34154;Mauguio\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="colonne code commune insee introuvable"):
        read_la_poste(path)


def test_a_stated_locality_whose_commune_has_another_name_is_refused(monkeypatch):
    monkeypatch.setattr(_tables, "LOCALITIES", {"Carnon": ("34344", "Mauguio", "34280")})
    with pytest.raises(ReferenceDataError, match=r"Carnon \(34344 : La Grande-Motte, attendu Mauguio\)"):
        localities(COMMUNES, FORMER)


def test_libelles_of_codes_postaux_are_parts_or_the_communes_own_names(tmp_path):
    import json

    path = tmp_path / "codes-postaux.json"
    records = [
        {
            "codePostal": "34130",
            "codeCommune": "34154",
            "nomCommune": "Mauguio",
            "libelleAcheminement": "MAUGUIO",
        },
        {
            "codePostal": "34280",
            "codeCommune": "34344",
            "nomCommune": "La Grande-Motte",
            "libelleAcheminement": "GRANDE MOTTE LA",
        },
        {
            "codePostal": "34280",
            "codeCommune": "34154",
            "nomCommune": "Mauguio",
            "libelleAcheminement": "GRAND TRAVERS",
        },
        {
            "codePostal": "49230",
            "codeCommune": "49301",
            "nomCommune": "Sèvremoine",
            "libelleAcheminement": "SEVREMOINE CEDEX",
        },
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    out = localities(COMMUNES, FORMER, None, read_codes_postaux(path))
    got = out[out["source"] == "codes-postaux"][["nom", "commune", "type"]].values.tolist()
    assert got == [["GRAND TRAVERS", "34154", "partie"], ["GRANDE MOTTE LA", "34344", "graphie"]]


@pytest.mark.parametrize(
    ("place", "commune", "same"),
    [
        ("les milles", "aix en provence", False),
        ("talmont", "talmont sur gironde", True),
        ("brehat", "ile de brehat", True),
        ("montigny mornay vil s ving", "montigny mornay villeneuve sur vingeanne", True),
        ("genevroye la", "la genevroye", True),
        ("saint quentin lamotte croix", "saint quentin la motte croix au bailly", True),
        ("pont de briques saint etienne", "saint etienne au mont", False),
        ("saint aygulf", "roquebrune sur argens", False),
    ],
)
def test_same_name(place, commune, same):
    assert _same_name(place, commune) is same
