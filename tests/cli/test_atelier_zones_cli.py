"""``cpts-geo atelier --zones``: the zone layers in the page's data, and a bad zone file refused
(exit 2, French, naming the file)."""

from __future__ import annotations

from tests.cli.test_atelier_cli import EXAMPLES, _data, run


def test_zone_layers_in_the_page(tmp_path):
    out = tmp_path / "atelier.html"
    res = run(
        "atelier",
        "--departement",
        "49",
        "--zones",
        EXAMPLES / "zonage_medecins_fictif.csv",
        "--zones-name",
        "Zonage médecins",
        "--zones",
        EXAMPLES / "qpv_fictifs.geojson",
        "--zones-name",
        "<i>QPV</i>",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    data = _data(out.read_text(encoding="utf-8"))
    assert [z["name"] for z in data["zones"]] == ["Zonage médecins", "<i>QPV</i>"]
    assert [z["kind"] for z in data["zones"]] == ["communes", "polygones"]
    zonage = data["zones"][0]
    assert zonage["categories"] == ["ZIP", "ZAC", "Hors zonage"]
    assert {f["properties"]["category"] for f in zonage["overlay"]["features"]} <= set(zonage["categories"])
    codes = {data["units"]["code"][i] for i in data["zones"][1]["unit"]}
    assert "49007" in codes  # Angers's fictitious QPV
    assert "<i>QPV</i>" not in out.read_text(encoding="utf-8").split('id="atelier-data">')[0]


def test_bad_zone_file_is_refused(tmp_path):
    bad = tmp_path / "zonage.csv"
    bad.write_text("code_insee;zonage\n49007;ZIP\n99999;ZAC\n", encoding="utf-8")
    res = run("atelier", "--departement", "49", "--zones", bad, "-o", tmp_path / "a.html")
    assert res.exit_code == 2, res.output
    assert "zonage.csv" in res.output and "99999" in res.output
    assert not (tmp_path / "a.html").exists()


def test_zones_name_without_zones_is_a_usage_error(tmp_path):
    res = run("atelier", "--departement", "49", "--zones-name", "X", "-o", tmp_path / "a.html")
    assert res.exit_code == 2
    assert "--zones" in res.output
