"""The pages' scripts and styles live in cpts_geo/maps/static, ship with the package, and no Python
module holds one (the project's rule: page code is code, in its own files, tested in Chromium)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import cpts_geo
from cpts_geo.maps.static import asset, asset_names, html_tag

PACKAGE = Path(cpts_geo.__file__).parent
STATIC = PACKAGE / "maps" / "static"
ROOT = PACKAGE.parent

#: A JavaScript function with its body: ``function f(a){``, ``function(){``, ``(a) => {``, ``a=>{``.
JS_FUNCTION = re.compile(r"\bfunction\s*[\w$]*\s*\([^()]*\)\s*\{|(?:\([^()]*\)|\b[\w$]+)\s*=>\s*\{")
#: A style element opening on a rule (``<style>body{margin:0``), or a script element opening on
#: code (``<script>L.map=``, ``<script>(function``), written in a Python string.
INLINE_CODE = re.compile(
    r"<style[^>]*>\s*[\w.#*@:\-\[\]=, ]{1,80}\{[^{}]*:|<script[^>]*>\s*(?:\(|[\w$.]+[(=\[])", re.I
)


def _python_modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_python_module_holds_a_page_script_or_style_sheet():
    found = []
    for path in _python_modules():
        text = path.read_text(encoding="utf-8")
        for pattern in (JS_FUNCTION, INLINE_CODE):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert found == []


def test_the_detector_sees_what_it_forbids():
    assert JS_FUNCTION.search("'var f=function(a,b){return a;}'")
    assert JS_FUNCTION.search("'(function(){var map=x;})();'")
    assert JS_FUNCTION.search("'xs.forEach(x => {go(x);})'")
    assert INLINE_CODE.search('"<style>body{margin:0}</style>"')
    assert INLINE_CODE.search('"<script>L.map(1)</script>"')
    # What the modules do write: a call with JSON arguments, a tag around an asset.
    assert not JS_FUNCTION.search('"cptsGeo.zones(map_1,[[\\"Guyane\\",[[2,-54],[6,-51]]]]);"')
    assert not INLINE_CODE.search('f"<style>{css}</style>"')
    assert not INLINE_CODE.search("JSON safe in a <script> element (no '<' left).")


def test_every_asset_named_in_the_code_exists():
    named = set()
    for path in _python_modules():
        named |= set(re.findall(r"[\"']([\w-]+\.(?:js|css))[\"']", path.read_text(encoding="utf-8")))
    named -= {"leaflet.js", "leaflet.css"}  # Leaflet's own files, from its pip package
    assert named and named <= set(asset_names()), named - set(asset_names())
    # and every shipped asset is used somewhere
    assert set(asset_names()) - named == set()


@pytest.mark.parametrize("name", asset_names())
def test_assets_embed_safely(name):
    text = asset(name)
    assert text.lstrip().startswith("/*")  # says what it is
    # Inline in a page: nothing that would close the element early, nothing fetched.
    assert not re.search(r"</(script|style)", text, re.I)
    loads = re.sub(r"(['\"])http://www\.w3\.org/2000/svg\1", "", text)  # an XML namespace, not a file
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+/|@import|url\(\s*['\"]?(https?:)?//", loads)
    tag = html_tag(name)
    assert tag.startswith("<script>" if name.endswith(".js") else "<style>") and text in tag


def _static_files() -> set[str]:
    return {p.name for p in STATIC.iterdir() if p.is_file() and p.suffix != ".pyc"}


def test_static_folder_holds_only_package_files_and_assets():
    assert {n for n in _static_files() if not n.endswith((".js", ".css", ".html"))} == {"__init__.py"}


def test_the_built_package_ships_every_asset(tmp_path):
    """What a wheel or ``pip install`` puts in site-packages, as setuptools' ``build_py`` lays
    it out from setup.py/setup.cfg (packages and package data): each file of
    cpts_geo/maps/static, unchanged."""
    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    built = tmp_path / "cpts_geo" / "maps" / "static"
    assert {p.name for p in built.iterdir()} == _static_files()
    for name in _static_files():
        assert (built / name).read_bytes() == (STATIC / name).read_bytes()
