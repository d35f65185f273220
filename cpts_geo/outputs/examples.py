"""The example files and notebooks shipped with the package, copied into a folder for a user.

``cpts-geo exemples DOSSIER`` (:func:`copy_examples`) writes ``DOSSIER/data/examples/...`` and
``DOSSIER/notebooks/...``: the same relative paths as in the source tree, so that every command
of the README works as written from ``DOSSIER``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cpts_geo._errors import InputError

__all__ = ["EXAMPLE_COMMANDS", "EXAMPLE_FILES", "CopiedExamples", "copy_examples", "example_sources"]

#: What each copied file is for (French, shown by the command), by path in the folder.
EXAMPLE_FILES = {
    "data/examples/proposition_valide.csv": "un EPCI entier du Maine-et-Loire hors registre : toutes les règles OK",
    "data/examples/proposition_population_insuffisante.csv": "un EPCI de la Mayenne de 13 834 habitants : "
    "population insuffisante",
    "data/examples/proposition_discontinue.csv": "Lyon 5e et Lyon 6e, séparés par la terre : territoire discontinu",
    "data/examples/proposition_belle_ile.csv": "Belle-Île et la presqu'île de Quiberon : liaison maritime",
    "data/examples/proposition_enclave.csv": "la couronne du Mans sans Le Mans : commune enclavée",
    "data/examples/proposition_epci_partiel.csv": "la moitié de la CA Saumur Val de Loire : EPCI coupé",
    "data/examples/proposition_deux_regions.csv": "Redon et ses voisines : deux régions",
    "data/examples/proposition_chevauchement.csv": "une CPTS du registre et une commune de sa voisine : "
    "chevauchement (avec --existing)",
    "data/examples/proposition_excel.csv": "une liste venue d'Excel (cp1252, « ; », ancien code, doublon)",
    "data/examples/registre_fictif_pays_de_la_loire.csv": "registre FICTIF de 60 CPTS des Pays de la Loire "
    "(check-register, coverage, coverage-map, suggest --existing)",
    "data/examples/registre_fictif_pays_de_la_loire_v2.csv": "le même registre FICTIF un an plus tard "
    "(compare-registers : CPTS renommée, stade, périmètre, nouvelle CPTS)",
    "data/examples/registre_fictif_publie_noms.csv": "le même registre FICTIF publié avec les noms des CPTS "
    "seulement (compare-registers : rapprochement par territoire, alias, homonyme)",
    "data/examples/indicateurs_synthetiques.csv": "indicateurs communaux SYNTHÉTIQUES (tirés au hasard) "
    "pour le carnet de diagnostic",
    "data/examples/zonage_medecins_fictif.csv": "zonage médecins FICTIF par commune "
    "(1_ZIP, 2_ZAC, 4_HZ) pour --zones",
    "data/examples/zones_rouges_fictives.csv": "« zones rouges » FICTIVES : liste d'EPCI (SIREN ou nom) pour --zones",
    "data/examples/qpv_fictifs.geojson": "quartiers FICTIFS (polygones, comme les QPV) pour --zones",
    "data/examples/README.md": "description des exemples (en anglais)",
    "notebooks/01_diagnostic_territoire.ipynb": "carnet Jupyter : diagnostic d'un territoire proposé, "
    "export HTML à joindre",
    "notebooks/02_couverture_region.ipynb": "carnet Jupyter : couverture d'une région, zones blanches, "
    "territoires proposés, page atelier de la région",
}

#: Commands to try from the folder (the README's quick start).
EXAMPLE_COMMANDS = [
    "cpts-geo check data/examples/proposition_valide.csv",
    "cpts-geo check data/examples/proposition_chevauchement.csv "
    "--existing data/examples/registre_fictif_pays_de_la_loire.csv -o rapport.xlsx",
    "cpts-geo check-register data/examples/registre_fictif_pays_de_la_loire.csv",
    "cpts-geo coverage data/examples/registre_fictif_pays_de_la_loire.csv --region 52 -o couverture.xlsx",
    "cpts-geo coverage-map data/examples/registre_fictif_pays_de_la_loire.csv --region 52 "
    "-o carte.html --gpkg couverture.gpkg",
    "cpts-geo coverage data/examples/registre_fictif_pays_de_la_loire.csv --region 52 "
    '--zones data/examples/zones_rouges_fictives.csv --zones-name "Zones rouges"',
    "cpts-geo suggest --existing data/examples/registre_fictif_pays_de_la_loire.csv "
    "--departement 49 -o propositions.xlsx",
    "cpts-geo atelier --departement 49 --existing data/examples/registre_fictif_pays_de_la_loire.csv "
    "--proposition data/examples/proposition_valide.csv -o atelier.html",
    "jupyter lab notebooks/  (après pip install 'cpts-geo[notebook]')",
]


def example_sources() -> dict[str, Path]:
    """Where each file of :data:`EXAMPLE_FILES` is: the package data of an installed package
    (``cpts_geo.data/examples``, ``cpts_geo.notebooks``) or the source tree."""
    from cpts_geo.reference.units import default_data_dir

    examples = _package_dir("cpts_geo.data", "examples") or default_data_dir() / "examples"
    notebooks = _package_dir("cpts_geo.notebooks") or Path(__file__).resolve().parents[2] / "notebooks"
    out = {}
    for rel in EXAMPLE_FILES:
        folder, name = rel.rsplit("/", 1)
        out[rel] = (notebooks if folder == "notebooks" else examples) / name
    return out


def _package_dir(package: str, sub: str = "") -> Path | None:
    try:
        folder = Path(str(resources.files(package))) / sub
    except ModuleNotFoundError:
        return None
    return folder if folder.is_dir() else None


@dataclass
class CopiedExamples:
    """What :func:`copy_examples` wrote: the folder and the files (paths relative to it)."""

    folder: Path
    files: list[str]
    replaced: list[str]

    def to_text(self) -> str:
        """The French summary the command prints: each file and what it is for, then commands."""
        width = max(len(f) for f in self.files)
        lines = [f"Exemples copiés dans {self.folder} :", ""]
        lines += [
            f"  {f.ljust(width)}  {EXAMPLE_FILES[f]}" + (" (remplacé)" if f in self.replaced else "")
            for f in self.files
        ]
        lines += ["", f"Essayez, depuis ce dossier (cd {self.folder}) :", ""]
        lines += [f"  {c}" for c in EXAMPLE_COMMANDS]
        lines += ["", "Tous les exemples sont fictifs ou synthétiques : aucune CPTS réelle n'y figure."]
        return "\n".join(lines)


def copy_examples(folder: str | Path, *, force: bool = False) -> CopiedExamples:
    """Copy the example files and the notebooks into ``folder`` (created if missing).

    Parameters
    ----------
    folder
        The destination; it must be empty or missing.
    force
        Accept a non-empty folder; files of the same name are replaced, others are left alone.

    Raises
    ------
    InputError
        ``folder`` is a file, is not empty (without ``force``), or a shipped file is missing.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} : est un fichier, pas un dossier")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(
            f"{folder} : le dossier n'est pas vide ; choisissez un dossier vide ou nouveau "
            "(ou remplacez les fichiers d'exemple du même nom avec le paramètre force)"
        )
    sources = example_sources()
    missing = [str(p) for p in sources.values() if not p.is_file()]
    if missing:
        raise InputError(f"fichiers d'exemple absents de l'installation : {', '.join(missing)}")
    replaced = [rel for rel in sources if (folder / rel).exists()]
    links = sorted({str(p) for rel in sources for p in _inside(folder, rel) if p.is_symlink()})
    if links:  # a link would send the copy outside the folder, over the user's own files
        raise InputError(
            f"{folder} : lien(s) symbolique(s) à la place de fichiers ou dossiers d'exemple : "
            f"{', '.join(links)} ; rien n'a été écrit"
        )
    for rel in sources:
        dest = folder / rel
        if dest.exists() and not dest.is_file():
            raise InputError(f"{dest} : existe et n'est pas un fichier ; rien n'a été remplacé")
    for rel, src in sources.items():
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return CopiedExamples(folder=folder, files=list(sources), replaced=replaced)


def _inside(folder: Path, rel) -> list[Path]:
    """Every path from ``folder`` down to ``folder / rel`` (``data``, ``data/examples``, ...)."""
    out, p = [], folder
    for part in Path(rel).parts:
        p = p / part
        out.append(p)
    return out
