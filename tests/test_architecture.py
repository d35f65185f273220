"""The shape of the package (DESIGN.md §4): no import cycle among ``cpts_geo`` modules, no
private module or name used across a sub-package boundary, names imported from their owners.

The layers themselves are held by the import-linter contract in ``.importlinter`` (run by
``.ci/run`` as ``lint-imports``); these tests use the same graph library, grimp.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import cpts_geo

PACKAGE = Path(cpts_geo.__file__).resolve().parent
#: The kernel: private modules at the top of the package, shared by every layer.
KERNEL = {"_csv", "_errors", "_json", "_graph", "_io", "_lazy", "_limits", "_progress", "_text", "_version"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("cpts_geo")


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (each holds an import cycle)."""
    mods = sorted(graph.modules)
    index = {m: i for i, m in enumerate(mods)}
    rows, cols = [], []
    for m in mods:
        for d in graph.find_modules_directly_imported_by(m):
            if d in index:
                rows.append(index[m])
                cols.append(index[d])
    adj = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(mods), len(mods)))
    n, labels = connected_components(adj, directed=True, connection="strong")
    groups = [[mods[i] for i in np.flatnonzero(labels == k)] for k in range(n)]
    return [g for g in groups if len(g) > 1]


def test_no_import_cycle(graph):
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    class TwoModules:
        modules = {"a", "b", "c"}

        def find_modules_directly_imported_by(self, m):
            return {"a": {"b"}, "b": {"a"}, "c": {"a"}}[m]

    assert _cycles(TwoModules()) == [["a", "b"]]


def _subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else None


def test_no_private_module_crosses_a_subpackage_boundary(graph):
    bad = []
    for m in graph.modules:
        for d in graph.find_modules_directly_imported_by(m):
            parts = d.split(".")
            if len(parts) < 3 or not any(p.startswith("_") for p in parts[2:]):
                continue
            if _subpackage(m) != parts[1]:
                bad.append(f"{m} -> {d}")
    assert bad == []


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cpts_geo"):
            yield node


def test_no_private_name_crosses_a_subpackage_boundary():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        here = rel.parts[1] if len(rel.parts) > 2 else None
        for node in _imports(path):
            parts = node.module.split(".")
            there = parts[1] if len(parts) > 2 else None
            if there is None or there == here:
                continue  # the kernel, or inside one sub-package
            bad += [f"{rel}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert bad == []


def test_no_import_at_the_bottom_of_a_module():
    """Imports come first (no parent re-imported at the end of a helper)."""
    late = []
    for path in PACKAGE.rglob("*.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        seen_def = False
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                seen_def = True
            elif seen_def and isinstance(node, ast.Import | ast.ImportFrom):
                late.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert late == []


def test_kernel_is_what_design_says():
    top = {p.stem for p in PACKAGE.glob("_*.py") if p.stem not in {"__init__", "__main__"}}
    assert top == KERNEL


def test_every_file_of_the_shipped_reference_goes_into_the_wheel():
    """``setup.cfg``'s package data names every kind of file in ``data/`` (a wheel without the
    fast copies or the graphs would still work, slowly, and no test would see it)."""
    import configparser
    import fnmatch

    root = Path(cpts_geo.__file__).resolve().parents[1]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg", encoding="utf-8")
    patterns = cfg["options.package_data"]["cpts_geo.data"].split()
    files = [p.relative_to(root / "data").as_posix() for p in (root / "data").rglob("*") if p.is_file()]
    missing = [f for f in files if f != "__init__.py" and not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not missing, missing
