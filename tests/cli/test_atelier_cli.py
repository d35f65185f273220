"""``cpts-geo atelier``: the page written, its preselection, and the errors (exit 2, French)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.reference.units import default_data_dir

EXAMPLES = default_data_dir() / "examples"
REGISTER = EXAMPLES / "registre_fictif_pays_de_la_loire.csv"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def _data(page: str) -> dict:
    start = page.index('id="atelier-data">') + len('id="atelier-data">')
    return json.loads(page[start : page.index("</script>", start)].replace("<\\/", "</"))


def test_writes_the_page_with_the_proposal_preselected(tmp_path):
    out = tmp_path / "atelier.html"
    res = run(
        "atelier",
        "--departement",
        "49",
        "--existing",
        REGISTER,
        "--proposition",
        EXAMPLES / "proposition_valide.csv",
        "--min-population",
        "15000",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    assert "Page : " in res.stderr
    data = _data(out.read_text(encoding="utf-8"))
    from cpts_geo.inputs.read import read_proposal
    from cpts_geo.reference.units import load_reference

    proposal = read_proposal(EXAMPLES / "proposition_valide.csv", load_reference())
    chosen = sorted(data["units"]["code"][i] for i in data["selection"])
    assert chosen == sorted(proposal.codes)
    assert data["params"] == {"min_population": 15000, "sea_link_km": 30.0, "cpts_id": None}
    assert data["register"]["ids"]


def test_cpts_id_preselects_that_cpts(tmp_path):
    out = tmp_path / "a.html"
    import pandas as pd

    reg = pd.read_csv(REGISTER, dtype=str)
    cid = reg["cpts_id"].iloc[0]
    res = run("atelier", "--departement", "49", "--existing", REGISTER, "--cpts-id", cid, "-o", out)
    assert res.exit_code == 0, res.output
    data = _data(out.read_text(encoding="utf-8"))
    chosen = {data["units"]["code"][i] for i in data["selection"]}
    assert chosen == set(reg.loc[reg["cpts_id"] == cid, "code_insee"]) & set(data["units"]["code"])
    assert data["params"]["cpts_id"] == cid


def test_errors_exit_2_in_french(tmp_path):
    out = tmp_path / "a.html"
    res = run("atelier", "-o", out)
    assert res.exit_code == 2 and "--region ou --departement" in res.output
    res = run("atelier", "--region", "52", "--departement", "49", "-o", out)
    assert res.exit_code == 2 and "pas les deux" in res.output
    res = run("atelier", "--departement", "499", "-o", out)
    assert res.exit_code == 2 and "499" in res.output
    res = run("atelier", "--departement", "49", "--cpts-id", "X", "-o", out)
    assert res.exit_code == 2 and "sans registre" in res.output
    res = run("atelier", "--departement", "49", "--sea-link-km", "-3", "-o", out)
    assert res.exit_code == 2
    assert not out.exists()
