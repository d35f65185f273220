"""PDF printing with headless Chromium (offline, atomic, French errors) and the report's print
stylesheet (A4, header, page breaks, static map in place of the iframe)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from cpts_geo._errors import CptsGeoError
from cpts_geo.outputs.pdf import CHROMIUM_ENV, ChromiumMissingError, PdfError, find_chromium, html_to_pdf
from cpts_geo.outputs.printing import PRINT_CSS, png_data_uri, print_css, static_map_img
from tests import browser
from tests.browser import chromium_page

TITLE = "Vérification du territoire — CPTS « Loire & Mauges »"


def _fake_exe(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---- finding Chromium ------------------------------------------------------------------------
def test_find_chromium_env_then_path(monkeypatch, tmp_path, caplog):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = _fake_exe(bindir, "mon-chrome", "exit 0")
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.delenv(CHROMIUM_ENV)
    assert find_chromium() is None
    second = _fake_exe(bindir, "google-chrome", "exit 0")
    assert find_chromium() == str(second)
    first = _fake_exe(bindir, "chromium-browser", "exit 0")
    assert find_chromium() == str(first)
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "absent"))
    assert find_chromium() == str(first)
    assert "CPTS_GEO_CHROMIUM" in caplog.text and "aucun exécutable" in caplog.text


def test_no_chromium_says_how_to_print_from_a_browser(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    page = tmp_path / "rapport.html"
    page.write_text("<h1>Rapport</h1>", encoding="utf-8")
    with pytest.raises(ChromiumMissingError) as info:
        html_to_pdf(page, tmp_path / "rapport.pdf")
    msg = str(info.value)
    assert msg.startswith("PDF impossible : aucun navigateur Chromium trouvé")
    assert "Ctrl+P" in msg and "« Enregistrer au format PDF »" in msg and "A4" in msg
    assert "apt-get install chromium" in msg and CHROMIUM_ENV in msg
    assert isinstance(info.value, CptsGeoError) and isinstance(info.value, PdfError)
    assert not (tmp_path / "rapport.pdf").exists() and _leftovers(tmp_path) == []


def test_missing_html_is_an_input_error(tmp_path):
    with pytest.raises(CptsGeoError, match=r"absent\.html : fichier HTML introuvable"):
        html_to_pdf(tmp_path / "absent.html", tmp_path / "x.pdf", chromium="/bin/true")


def test_chromium_failure_is_explained_and_leaves_nothing(tmp_path):
    page = tmp_path / "rapport.html"
    page.write_text("<h1>Rapport</h1>", encoding="utf-8")
    old = tmp_path / "rapport.pdf"
    old.write_bytes(b"%PDF-1.4 ancien")
    fake = _fake_exe(tmp_path, "chromium", "echo 'ERROR: cannot open display' >&2; exit 3")
    with pytest.raises(
        PdfError,
        match=r"Chromium \(.*chromium\) a échoué en imprimant .*rapport\.html "
        r"\(code 3, aucun PDF écrit : ERROR: cannot open display\)",
    ):
        html_to_pdf(page, old, chromium=str(fake))
    assert old.read_bytes() == b"%PDF-1.4 ancien"
    assert _leftovers(tmp_path) == []
    # Exit 0 but not a PDF in the file: still an error.
    liar = _fake_exe(
        tmp_path,
        "menteur",
        'for a in "$@"; do case "$a" in --print-to-pdf=*) '
        'echo bonjour > "${a#--print-to-pdf=}";; esac; done; exit 0',
    )
    with pytest.raises(PdfError, match=r"code 0, aucun PDF écrit"):
        html_to_pdf(page, tmp_path / "autre.pdf", chromium=str(liar))
    assert not (tmp_path / "autre.pdf").exists() and _leftovers(tmp_path) == []


def test_chromium_timeout_is_explained_and_stopped(tmp_path):
    page = tmp_path / "rapport.html"
    page.write_text("<h1>Rapport</h1>", encoding="utf-8")
    marker = tmp_path / "child-alive"
    # A parent that forks a child (as Chromium does) and hangs: both must be stopped.
    fake = _fake_exe(tmp_path, "lent", f"(sleep 5; touch {marker}) & sleep 30")
    t0 = time.monotonic()
    with pytest.raises(PdfError, match=r"n'a pas fini d'imprimer .*rapport\.html en 1 s"):
        html_to_pdf(page, tmp_path / "rapport.pdf", chromium=str(fake), timeout=1)
    assert time.monotonic() - t0 < 5
    assert not (tmp_path / "rapport.pdf").exists() and _leftovers(tmp_path) == []
    time.sleep(5)
    assert not marker.exists(), "the forked child outlived the timeout"


# ---- print stylesheet ------------------------------------------------------------------------
def test_print_css_header_is_escaped():
    css = print_css(title='Titre "</style><script>x</script>', date="01/12/2026")
    assert "</style" not in css and "<script" not in css
    assert '@top-left { content: "Titre \\22 \\3c /style\\3e \\3c script\\3e x\\3c /script\\3e ";' in css
    assert '"Édité le 01/12/2026"' in css
    assert css.endswith(PRINT_CSS)


def test_png_data_uri():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    uri = png_data_uri(fig, dpi=50)
    plt.close(fig)
    assert uri.startswith("data:image/png;base64,iVBORw0KGgo")
    assert png_data_uri(b"\x89PNG\r\n\x1a\nxyz") == "data:image/png;base64,iVBORw0KGgp4eXo="
    with pytest.raises(TypeError, match="pas une image PNG"):
        png_data_uri(b"GIF89a")
    with pytest.raises(TypeError, match="reçu str"):
        png_data_uri("carte.png")
    assert static_map_img(b"\x89PNG\r\n\x1a\n", alt='Carte "A"').startswith(
        '<img class="carte-statique" alt="Carte &quot;A&quot;" src="data:image/png;base64,'
    )


def _map_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    fig, ax = plt.subplots(figsize=(7, 5))
    for i, colour in enumerate(["#a6d96a", "#fdae61", "#1a9850"]):
        ax.add_patch(Polygon([(i, 0), (i + 1, 0), (i + 1, 1.2), (i, 1)], facecolor=colour, edgecolor="#333"))
    ax.set_xlim(-0.2, 3.2)
    ax.set_ylim(-0.2, 1.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("Territoire proposé (carte statique)")
    return fig, plt


def _report_page(tmp_path: Path) -> Path:
    fig, plt = _map_figure()
    img = static_map_img(fig, dpi=110)
    plt.close(fig)
    rows = "".join(
        f"<tr><td>{49000 + i}</td><td>Commune n° {i}</td><td class=n>{1000 + 37 * i}</td></tr>"
        for i in range(1, 121)
    )
    page = tmp_path / "rapport.html"
    page.write_text(
        f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{TITLE}</title>
<style>body{{font-family:system-ui,Arial,sans-serif}} main{{max-width:1100px;margin:auto;padding:20px}}
iframe{{width:100%;height:480px;border:1px solid #ccc}} td.n{{text-align:right}}
td,th{{border:1px solid #ccc}}</style>
<style>{print_css(title=TITLE, date="01/12/2026")}</style></head>
<body><main>
<h1>CPTS « Loire &amp; Mauges »</h1>
<div class="chiffres"><b>42 317</b> habitants — <b>120</b> communes — taille 2</div>
<h2>Synthèse</h2>
<table><thead><tr><th>Règle</th><th>Résultat</th></tr></thead>
<tbody><tr><td>Population</td><td>conforme</td></tr><tr><td>Contiguïté</td><td>conforme</td></tr></tbody></table>
<h2>Carte du territoire</h2>
<iframe title="Carte du territoire" srcdoc="&lt;p&gt;CARTE-INTERACTIVE-A-L-ECRAN&lt;/p&gt;"></iframe>
{img}
<h2>Détail des règles</h2>
<h3>Population</h3><p>La population municipale 2023 du territoire est de 42 317 habitants.</p>
<h2>Communes du territoire (120)</h2>
<table class="communes"><thead><tr><th>Code INSEE</th><th>Commune</th><th class=n>Population</th></tr></thead>
<tbody>{rows}</tbody></table>
</main></body></html>""",
        encoding="utf-8",
    )
    return page


def _require_poppler():
    missing = [t for t in ("pdfimages", "pdfinfo", "pdftotext", "pdftoppm") if shutil.which(t) is None]
    if missing:
        msg = f"poppler-utils unavailable: {', '.join(missing)}"
        if browser.in_ci():
            pytest.fail(msg + " (CI must install poppler-utils)")
        pytest.skip(msg)


def _require_chromium() -> str:
    exe = find_chromium() or (browser.CHROMIUM if os.path.exists(browser.CHROMIUM) else None)
    if exe is None:
        if browser.in_ci():
            pytest.fail("headless Chromium unavailable (CI must install chromium)")
        pytest.skip("headless Chromium unavailable")
    return exe


def _pdftotext(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.browser
def test_report_prints_on_a4_with_the_static_map_on_page_1(tmp_path):
    exe = _require_chromium()
    _require_poppler()
    page = _report_page(tmp_path)
    out = html_to_pdf(page, tmp_path / "rapport.pdf", chromium=exe, timeout=120)
    assert out == tmp_path / "rapport.pdf" and out.read_bytes().startswith(b"%PDF-")
    assert _leftovers(tmp_path) == []

    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    width, height = map(float, re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups())
    assert round(width) == 595 and round(height) == 842
    # Page 1 (title, figures, summary, map), 2 (rules), 3+ (the 120 communes).
    assert pages >= 4

    images = subprocess.run(
        ["pdfimages", "-list", str(out)], check=True, capture_output=True, text=True
    ).stdout
    rows = [ln.split() for ln in images.splitlines()[2:] if ln.strip()]
    on_page = [int(r[0]) for r in rows if r[2] == "image"]
    assert on_page == [1], images
    img_width = int(rows[0][3])
    assert img_width > 500  # the figure itself, not a thumbnail

    first = _pdftotext(out, 1)
    assert "CPTS « Loire & Mauges »" in first and "Synthèse" in first and "Carte du territoire" in first
    assert "Détail des règles" not in first
    assert (
        "CARTE-INTERACTIVE-A-L-ECRAN"
        not in subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    )
    second = _pdftotext(out, 2)
    assert second.lstrip().startswith("Vérification du territoire — CPTS « Loire & Mauges »")
    assert "Édité le 01/12/2026" in second and f"page 2 / {pages}" in second
    assert "Détail des règles" in second and "Communes du territoire" not in second
    # The long table starts on a page of its own and repeats its header row on the next one.
    third, fourth = _pdftotext(out, 3), _pdftotext(out, 4)
    assert "Communes du territoire (120)" in third and "Code INSEE" in third
    assert "Code INSEE" in fourth and "Communes du territoire" not in fourth
    # No row split across pages: each commune row is whole on exactly one page.
    for i in (1, 60, 120):
        row = re.compile(rf"^\s*{49000 + i}\s+Commune n° {i}\s+{1000 + 37 * i}$", re.M)
        assert sum(len(row.findall(_pdftotext(out, p))) for p in range(1, pages + 1)) == 1, row

    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")], check=True
    )
    assert (tmp_path / "page-1.png").stat().st_size > 5000 or (tmp_path / "page-01.png").exists()


@pytest.mark.browser
def test_static_map_is_hidden_on_screen(tmp_path):
    page = _report_page(tmp_path)
    with chromium_page(page, wait_s=0.2) as p:
        assert p.js("return getComputedStyle(document.querySelector('img.carte-statique')).display") == "none"
        assert p.js("return getComputedStyle(document.querySelector('iframe')).display") != "none"
        assert p.errors == []


@pytest.mark.browser
def test_real_check_report_prints_with_its_static_map(ref, tmp_path):
    """``cpts-geo check … -o rapport.pdf`` on the Belle-Île example: A4, the static map (with
    the sea link) on page 1 in place of the live map, the header on every page, the
    traceability section, and Chromium does not hang on the live map in the iframe."""
    _require_chromium()
    _require_poppler()
    from click.testing import CliRunner

    from cpts_geo.cli.main import main

    out = tmp_path / "rapport.pdf"
    t0 = time.monotonic()
    res = CliRunner().invoke(main, ["check", "data/examples/proposition_belle_ile.csv", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert time.monotonic() - t0 < 90
    assert res.stderr.strip() == f"Écrit : {out}"
    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Page size:\s+594\.96 x 841\.92 pts \(A4\)", info, re.M), info
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages >= 2
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], check=True, capture_output=True, text=True
    ).stdout
    rows = [ln.split() for ln in images.splitlines()[2:] if ln.strip()]
    assert [int(r[0]) for r in rows if r[2] == "image"] == [1], images
    assert int(rows[0][3]) > 500
    first = _pdftotext(out, 1)
    assert "Synthèse" in first and "Carte du territoire" in first and "Détail des règles" not in first
    assert "Projet fictif Belle-Île et presqu'île de Quiberon" in first
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    assert "Traçabilité" in text and "proposition_belle_ile.csv, modifié le" in text
    assert "Population minimale : 20 000 habitants (valeur par défaut)" in text.replace("\u00a0", " ")
    assert "cahier des charges régional ;" not in text
    assert f"page {pages} / {pages}" in _pdftotext(out, pages)


def test_pdf_failure_keeps_the_html_it_points_to(monkeypatch, tmp_path):
    """When Chromium crashes, the message sent the user to an HTML report in a temporary folder
    already deleted."""
    from click.testing import CliRunner

    from cpts_geo.cli.main import main
    from cpts_geo.reference.units import default_data_dir

    monkeypatch.setenv(CHROMIUM_ENV, str(_fake_exe(tmp_path, "chrome-en-panne", "echo plantage >&2; exit 3")))
    out = tmp_path / "rapport.pdf"
    proposal = default_data_dir() / "examples" / "proposition_valide.csv"
    res = CliRunner().invoke(main, ["check", str(proposal), "-o", str(out)])
    assert res.exit_code == 2
    kept = tmp_path / "rapport.html"
    assert kept.is_file() and kept.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"imprimant {kept}" in res.stderr and "cpts-geo-pdf-" not in res.stderr
    assert "délai plus long" not in res.stderr and not out.exists()
