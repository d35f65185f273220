"""Committee figures: static coverage maps with CPTS labels that never collide, the Paris inset of
the national figure, legend and figures beside the maps, a title of one's own."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.patches import Rectangle

from cpts_geo._errors import CptsGeoError
from cpts_geo.cli.main import main
from cpts_geo.inputs.read import read_register
from cpts_geo.inputs.register import register_from_frame
from cpts_geo.outputs._labels import short_name
from cpts_geo.outputs.figures import IDF_INSET, coverage_bar_chart, coverage_figure
from cpts_geo.reference.units import default_data_dir
from cpts_geo.steering.coverage import coverage_summary

EXAMPLE = default_data_dir() / "examples" / "registre_fictif_pays_de_la_loire.csv"


@pytest.fixture(scope="module")
def reg52(ref):
    return read_register(EXAMPLE, ref)


@pytest.fixture(scope="module")
def reg_paris(ref, reg52):
    """The 60 CPTS of the example, and Paris's 20 arrondissements in 4 CPTS of 5."""
    arr = [f"751{k:02d}" for k in range(1, 21)]
    paris = pd.DataFrame(
        {
            "cpts_id": [f"PARIS-{1 + k // 5}" for k in range(20)],
            "cpts_nom": [f"CPTS Paris {1 + k // 5}" for k in range(20)],
            "code_insee": arr,
            "statut": "aci",
        }
    )
    return register_from_frame(pd.concat([reg52.table[paris.columns], paris], ignore_index=True), ref)


def _boxes(fig, artists) -> np.ndarray:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return np.array([tuple(a.get_window_extent(r).extents) for a in artists], dtype=float).reshape(-1, 4)


def _overlap(a, b) -> bool:
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def _labels(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == "cpts-etiquette"]


def _panel(fig):
    """The legend and the blocks of text of the panel."""
    return [*fig.legends, *(t for t in fig.texts if t.get_gid() in ("cpts-chiffres", "cpts-cle-etiquettes"))]


def _maps_apart_from_panel(fig) -> None:
    maps = _boxes(fig, fig.axes)
    panel = _boxes(fig, _panel(fig))
    assert len(panel) >= 2
    for m, p in itertools.product(maps, panel):
        assert not _overlap(m, p), (m, p)


def test_labels_never_collide_nor_leave_their_map(ref, reg52):
    fig = coverage_figure(ref, reg52, region="52")  # names by default, ids where a name does not fit
    labels = _labels(fig)
    boxes = _boxes(fig, labels)
    assert len(labels) >= 40
    for a, b in itertools.combinations(range(len(boxes)), 2):
        assert not _overlap(boxes[a], boxes[b]), (labels[a].get_text(), labels[b].get_text())
    area = _boxes(fig, fig.axes)[0]
    assert (boxes[:, 0] >= area[0]).all() and (boxes[:, 2] <= area[2]).all()
    assert (boxes[:, 1] >= area[1]).all() and (boxes[:, 3] <= area[3]).all()
    _maps_apart_from_panel(fig)
    # Every CPTS is named on the map, by its id on the map and in the key, or in the key alone.
    table = reg52.table.drop_duplicates("cpts_id").set_index("cpts_id")["cpts_nom"]
    texts = {t.get_text() for t in labels}
    blocks = {
        t.get_text().splitlines()[0]: t.get_text().splitlines()[1:]
        for t in fig.texts
        if t.get_gid() == "cpts-cle-etiquettes"
    }
    by_id = blocks.get("Étiquetées par leur identifiant", [])
    left_out = next((v for k, v in blocks.items() if k.startswith("Sans étiquette, faute de place")), [])

    def listed(lines, cid, name):  # names cut to the column's width end with "…"
        return any(
            ln.startswith(f"{cid} : ") and name.startswith(ln[len(cid) + 3 :].rstrip("…")) for ln in lines
        )

    for cid, name in table.items():
        ok = (
            short_name(name) in texts
            or (cid in texts and listed(by_id, cid, name))
            or listed(left_out, cid, name)
        )
        assert ok, cid
    assert sum(short_name(n) in texts for n in table) >= 40  # mostly names


def test_id_labels_with_their_names_beside_the_map(ref, reg52):
    fig = coverage_figure(ref, reg52, departement="49", labels="id")
    ids = {t.get_text() for t in _labels(fig)}
    assert ids == {f"FICTIF-52-{n:03d}" for n in (6, 15, 17, 18, 19, 38, 42, 43, 44)}
    key = next(t.get_text() for t in fig.texts if t.get_gid() == "cpts-cle-etiquettes")
    assert key.splitlines()[0] == "Étiquettes : identifiants"
    assert "FICTIF-52-042 : CPTS fictive d'Angers" in key.splitlines()
    _maps_apart_from_panel(fig)
    assert len(coverage_figure(ref, reg52, departement="49", labels=None).axes[0].texts) == 0
    with pytest.raises(CptsGeoError, match="étiquettes inconnues 'code'"):
        coverage_figure(ref, reg52, departement="49", labels="code")


def test_national_figure_has_a_paris_inset_framed_on_the_map(ref, reg_paris):
    fig = coverage_figure(ref, reg_paris, labels="id")
    assert [ax.get_label() for ax in fig.axes[1:]] == [
        t.get_text() for t in fig.texts if t.get_gid() == "cpts-encart"
    ]
    titles = [ax.get_label() for ax in fig.axes[1:]]
    assert titles == [
        IDF_INSET[0],
        "Guadeloupe (971)",
        "Martinique (972)",
        "Guyane (973)",
        "La Réunion (974)",
        "Mayotte (976)",
    ]
    main_ax, idf = fig.axes[0], fig.axes[1]
    frames = [p for p in main_ax.patches if isinstance(p, Rectangle)]
    assert len(frames) == 1
    x0, x1 = idf.get_xlim()
    y0, y1 = idf.get_ylim()
    assert np.allclose(frames[0].get_bbox().extents, (x0, y0, x1, y1))
    # Paris's CPTS are labelled in the inset where they fit, never in the main map, and no label
    # covers the inset's frame there.
    paris = {"PARIS-1", "PARIS-2", "PARIS-3", "PARIS-4"}
    assert len({t.get_text() for t in idf.texts} & paris) >= 2
    main_labels = [t for t in main_ax.texts if t.get_gid() == "cpts-etiquette"]
    assert not {t.get_text() for t in main_labels} & paris
    frame_box = _boxes(fig, frames)[0]
    assert not any(_overlap(frame_box, b) for b in _boxes(fig, main_labels))
    _maps_apart_from_panel(fig)
    # By default, nationally: no label.
    assert _labels(coverage_figure(ref, reg_paris)) == []


def test_title_of_ones_own(ref, reg52):
    fig = coverage_figure(ref, reg52, departement="49", title="  Comité  de suivi\tCPTS  ")
    texts = {t.get_gid(): t.get_text() for t in fig.texts}
    assert texts["cpts-titre"] == "Comité de suivi CPTS"
    assert texts["cpts-sous-titre"].startswith("Département Maine-et-Loire (49) : 9 CPTS (objectif ")
    default = {t.get_gid(): t.get_text() for t in coverage_figure(ref, reg52, departement="49").texts}
    assert default["cpts-titre"] == "Couverture par les CPTS — Département Maine-et-Loire (49)"
    assert default["cpts-sous-titre"].startswith("9 CPTS (objectif ")
    bars = coverage_bar_chart(coverage_summary(ref, reg52, region="52"), title="Comité régional")
    assert bars._suptitle.get_text() == "Comité régional"


def test_cli_title_and_labels(tmp_path):
    svg = tmp_path / "carte.svg"
    html = tmp_path / "carte.html"
    args = ["coverage-map", str(EXAMPLE), "--departement", "49", "--png", str(svg), "-o", str(html)]
    res = CliRunner().invoke(main, [*args, "--title", "Comité <CPTS> du 49", "--labels", "id"])
    assert res.exit_code == 0, res.output
    text = svg.read_text(encoding="utf-8")
    assert "Comité &lt;CPTS&gt; du 49" in text and "FICTIF-52-042" in text
    assert "Comité &lt;CPTS&gt; du 49" in html.read_text(encoding="utf-8")
    res = CliRunner().invoke(main, [*args, "--title", "x" * 201])
    assert res.exit_code == 2
    assert "valeur invalide pour --title : 201 caractères : un titre en compte au plus 200" in res.output
    bars = tmp_path / "barres.svg"
    res = CliRunner().invoke(
        main, ["coverage", str(EXAMPLE), "--png", str(bars), "--title", "Comité régional"]
    )
    assert res.exit_code == 0, res.output
    assert "Comité régional" in bars.read_text(encoding="utf-8")


def test_names_and_titles_are_drawn_as_written(ref, reg52, tmp_path):
    """A name or title holding "$" is text, not a matplotlib formula (an invalid one raised)."""
    from cpts_geo.outputs.figures import save_figure

    t = reg52.table[["cpts_id", "cpts_nom", "code_insee", "statut"]].copy()
    t.loc[t["cpts_id"] == "FICTIF-52-042", "cpts_nom"] = r"CPTS $\nope{x}$ d'Angers"
    t.loc[t["cpts_id"] == "FICTIF-52-019", "cpts_nom"] = "CPTS 5$ et 3$"
    reg = register_from_frame(t, ref)
    for labels in ("nom", "id"):
        fig = coverage_figure(ref, reg, departement="49", labels=labels, title=r"Comité $\alpha$")
        svg = save_figure(fig, tmp_path / f"carte-{labels}.svg").read_text(encoding="utf-8")
        assert r"Comité $\alpha$" in svg
    texts = {x.get_text() for x in _labels(coverage_figure(ref, reg, departement="49"))}
    assert r"$\nope{x}$" + "\nd'Angers" in texts and "5$ et 3$" in texts
    key = [x.get_text() for x in fig.texts if x.get_gid() == "cpts-cle-etiquettes"][0]
    assert r"FICTIF-52-042 : CPTS $\nope{x}$ d'Angers" in key
