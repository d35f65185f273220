"""Registers as they come, compared as they are (issue 22, point 5): registers with CPTS names
only (ids derived from the names) and ``compare-registers`` matching CPTS by territory when their
ids differ. Synthetic grid (fast tier); two PACA registers in tests/cli/test_pilotage_cli.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpts_geo._errors import InputError
from cpts_geo.inputs.read import as_register, read_register
from cpts_geo.inputs.register import cpts_id_from_name
from cpts_geo.steering.changes import register_changes
from tests.grids import code, grid_reference

COLS = ["cpts_id", "cpts_nom", "code_insee"]


@pytest.fixture(scope="module")
def grid():
    # Eight units in a row; unit i has 1,000 × (i + 1) inhabitants.
    return grid_reference(8, 1, np.array([[1000 * (i + 1) for i in range(8)]]))


def reg(grid, groups: dict[str, tuple[str, list[int]]]):
    rows = [(cid, nom, code(i, 0)) for cid, (nom, units) in groups.items() for i in units]
    return as_register(grid, pd.DataFrame(rows, columns=COLS))


def test_same_territories_other_ids_are_matched_with_their_aliases(grid):
    old = reg(grid, {"1": ("CPTS Ouest", [0, 1, 2]), "2": ("CPTS Est", [3, 4, 5])})
    new = reg(grid, {"cpts-ouest": ("CPTS de l'Ouest", [0, 1, 2]), "cpts-est": ("CPTS Est", [3, 4, 5])})
    ch = register_changes(grid, old, new)
    assert ch.added == [] and ch.removed == []
    assert [(m["old_cpts_id"], m["cpts_id"], m["share_old"], m["share_new"]) for m in ch.matched] == [
        ("2", "cpts-est", 1.0, 1.0),
        ("1", "cpts-ouest", 1.0, 1.0),
    ]
    assert ch.renamed == [
        {"cpts_id": "cpts-ouest", "old_cpts_id": "1", "old_name": "CPTS Ouest", "new_name": "CPTS de l'Ouest"}
    ]
    assert ch.perimeter_changes == [] and ch.reassigned == []
    text = ch.to_text()
    assert "« CPTS Ouest » (1) ↔ « CPTS de l'Ouest » (cpts-ouest) : 6\u00a0000 habitants en commun" in text
    assert "Alias : noms différents d'une même CPTS" in text
    assert "« CPTS Ouest » (1) = « CPTS de l'Ouest » (cpts-ouest)" in text
    # By id only, as before: two removed, two added.
    by_id = register_changes(grid, old, new, match="id")
    assert len(by_id.added) == 2 and len(by_id.removed) == 2 and by_id.matched == []


def test_split_pairs_the_largest_part_and_adds_the_other(grid):
    old = reg(grid, {"X": ("CPTS X", [0, 1, 2, 3])})
    new = reg(grid, {"Y1": ("CPTS Y1", [1, 2, 3]), "Y2": ("CPTS Y2", [0])})
    ch = register_changes(grid, old, new)
    assert [(m["old_cpts_id"], m["cpts_id"], m["population_shared"]) for m in ch.matched] == [
        ("X", "Y1", 9000)
    ]
    assert [a["cpts_id"] for a in ch.added] == ["Y2"]
    (p,) = ch.perimeter_changes
    assert (p["cpts_id"], p["old_cpts_id"]) == ("Y1", "X")
    assert [u["code"] for u in p["communes_out"]] == [code(0, 0)]
    assert [(r["code"], r["old_cpts"], r["new_cpts"]) for r in ch.reassigned] == [(code(0, 0), ["X"], ["Y2"])]
    assert "Communes dont la CPTS diffère (hors CPTS ajoutées ou supprimées entières) : 1" in ch.to_text()
    assert f"Commune {code(0, 0)} ({code(0, 0)}), 1\u00a0000 hab. : CPTS X (X) → CPTS Y2 (Y2)" in ch.to_text()


def test_a_small_overlap_is_not_a_match(grid):
    # X and Z share unit 3 only: 4,000 of X's 10,000 and of Z's 4,000 + 5,000 + 6,000.
    old = reg(grid, {"X": ("CPTS X", [0, 1, 2, 3])})
    new = reg(grid, {"Z": ("CPTS Z", [3, 4, 5])})
    ch = register_changes(grid, old, new)
    assert ch.matched == []
    assert [r["cpts_id"] for r in ch.removed] == ["X"] and [a["cpts_id"] for a in ch.added] == ["Z"]


def test_a_common_id_of_two_different_cpts_is_matched_by_territory(grid):
    # Both files number their CPTS 1, 2: in the new file the numbers are swapped.
    old = reg(grid, {"1": ("CPTS Ouest", [0, 1, 2]), "2": ("CPTS Est", [4, 5, 6])})
    new = reg(grid, {"2": ("CPTS Ouest", [0, 1, 2]), "1": ("CPTS Est", [4, 5, 6])})
    ch = register_changes(grid, old, new)
    assert sorted((m["old_cpts_id"], m["cpts_id"]) for m in ch.matched) == [("1", "2"), ("2", "1")]
    assert ch.renamed == [] and ch.perimeter_changes == [] and ch.reassigned == []


def test_homonym_error_is_named_in_the_perimeter_change(grid):
    # Two units named alike: the new file took the other one.
    names = grid.units["nom"].copy()
    names[code(5, 0)] = names[code(2, 0)] = "Saint-Martin"
    from cpts_geo.steering.changes import compare_registers

    old = reg(grid, {"A": ("CPTS A", [0, 1, 2])})
    new = reg(grid, {"a": ("CPTS A", [0, 1, 5])})
    ch = compare_registers((old.links, old.cpts), (new.links, new.cpts), grid.units["population"], names)
    (p,) = ch.perimeter_changes
    assert p["homonyms"] == [{"nom": "Saint-Martin", "old_code": code(2, 0), "new_code": code(5, 0)}]
    assert f"homonyme probable : Saint-Martin : {code(2, 0)} → {code(5, 0)}" in ch.to_text()
    frames = ch.to_frames()
    assert frames["Périmètres"]["Homonymes probables"].tolist() == [
        f"Saint-Martin : {code(2, 0)} → {code(5, 0)}"
    ]
    assert frames["Périmètres"]["Ancien identifiant"].tolist() == ["A"]
    assert frames["Communes réaffectées"]["Code"].tolist() == [code(2, 0), code(5, 0)]


def test_unknown_match_mode(grid):
    old = reg(grid, {"A": ("CPTS A", [0])})
    with pytest.raises(InputError, match="rapprochement \\(match\\) 'nom' inconnu"):
        register_changes(grid, old, old, match="nom")


# ---- registers with names only -------------------------------------------------------------
def test_ids_from_names_are_stable_and_fold_spellings():
    assert (
        cpts_id_from_name("CPTS du Pays d'Apt")
        == cpts_id_from_name("cpts DU PAYS D’APT ")
        == "cpts-du-pays-d-apt"
    )
    assert cpts_id_from_name("CPTS su Pays d'Apt") != cpts_id_from_name("CPTS du Pays d'Apt")


@pytest.mark.parametrize("column", ["cpts_nom_publie", "CPTS", "Nom de la CPTS", "Nom CPTS publié"])
def test_register_with_a_name_column_only(grid, tmp_path, column):
    path = tmp_path / "publie.csv"
    path.write_text(
        f"{column};code_insee\nCPTS Ouest;{code(0, 0)}\n;{code(1, 0)}\nCPTS ouest;{code(2, 0)}\n"
        f"CPTS Est;{code(3, 0)}\n",
        encoding="utf-8",
    )
    r = read_register(path, grid)
    assert r.cpts.index.tolist() == ["cpts-ouest", "cpts-est"]
    assert r.cpts["cpts_nom"].tolist() == ["CPTS Ouest", "CPTS Est"]
    assert r.codes("cpts-ouest") == [code(0, 0), code(1, 0), code(2, 0)]
    messages = [w["message"] for w in r.warnings]
    assert any(
        m.startswith("pas de colonne cpts_id : l'identifiant de chacune des 2 CPTS est tiré de son nom")
        for m in messages
    )
    assert any("« CPTS ouest » lu comme « CPTS Ouest » (ligne 2)" in m for m in messages)
    assert any("1 ligne sans nom de CPTS" in m and "ligne 3" in m for m in messages)


def test_name_column_option_for_tables(grid, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"Territoire;Code INSEE;Stade\nCPTS Ouest;{code(0, 0)};ACI signé\n", encoding="utf-8")
    with pytest.raises(InputError, match="colonne\\(s\\) cpts_id introuvable\\(s\\)"):
        read_register(path, grid)
    r = read_register(path, grid, name_column="territoire")
    assert r.cpts.index.tolist() == ["cpts-ouest"] and r.cpts["statut"].tolist() == ["aci"]
    with pytest.raises(InputError, match="colonne 'Nom' \\(name_column\\) introuvable"):
        read_register(path, grid, name_column="Nom")
    # An id column named by the user wins over the derived ids.
    path.write_text(f"Réf;Territoire;Code INSEE\nK1;CPTS Ouest;{code(0, 0)}\n", encoding="utf-8")
    assert read_register(path, grid, id_column="Réf", name_column="Territoire").cpts.index.tolist() == ["K1"]


def test_a_row_without_name_at_the_top_is_refused(grid, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"CPTS;code_insee\n;{code(0, 0)}\nCPTS Est;{code(3, 0)}\n", encoding="utf-8")
    with pytest.raises(InputError, match="ligne 2 : nom de CPTS \\(« CPTS »\\) manquant"):
        read_register(path, grid)


# ---- invariants ------------------------------------------------------------------------------
def _random_register(draw_groups, prefix):
    return {f"{prefix}{k}": (f"CPTS {prefix}{k}", sorted(g)) for k, g in enumerate(draw_groups)}


_GRID = grid_reference(8, 1, np.array([[1000 * (i + 1) for i in range(8)]]))


@settings(max_examples=12, deadline=None)
@given(
    old=st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=4), min_size=1, max_size=4),
    new=st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=4), min_size=1, max_size=4),
)
def test_matching_is_one_to_one_symmetric_and_accounts_for_every_cpts(old, new):
    grid = _GRID
    a, b = reg(grid, _random_register(old, "o")), reg(grid, _random_register(new, "n"))
    there, back = register_changes(grid, a, b), register_changes(grid, b, a)
    pairs = [(m["old_cpts_id"], m["cpts_id"]) for m in there.matched]
    assert len({o for o, _ in pairs}) == len({n for _, n in pairs}) == len(pairs)
    assert sorted(pairs) == sorted(
        (n, o) for o, n in [(m["old_cpts_id"], m["cpts_id"]) for m in back.matched]
    )
    assert len(pairs) + len(there.added) == len(b) and len(pairs) + len(there.removed) == len(a)
    for m in there.matched:
        assert max(m["share_old"], m["share_new"]) >= 0.5
    # A unit is reassigned exactly when its CPTS, read through the pairs, differ.
    to_new = dict(pairs)
    expected = []
    for c in grid.units.index:
        before = sorted(to_new.get(x, "?" + x) for x in a.unit_cpts[grid.position[c]])
        after = sorted(b.unit_cpts[grid.position[c]])
        whole = (not before and not set(after) & set(to_new.values())) or (
            not after and all(x.startswith("?") for x in before)
        )
        if before != after and not whole:
            expected.append(c)
    assert [r["code"] for r in there.reassigned] == expected
