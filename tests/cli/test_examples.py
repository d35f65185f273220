"""`cpts-geo exemples DOSSIER`, then every command of the README run from that folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.outputs.examples import EXAMPLE_COMMANDS, EXAMPLE_FILES, copy_examples

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def readme_commands() -> list[str]:
    """The ``cpts-geo`` commands of the README (``$ cpts-geo ...`` lines of its console blocks,
    ``cpts-geo ...`` lines of its bash blocks, also after ``&&``), without ``exemples``."""
    out: list[str] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        for part in line.split(" && "):
            m = re.match(r"^(?:\$ )?(?:\S*/)?cpts-geo (.+)$", part.strip())
            if not m or m.group(1).split()[0] not in main.commands:  # prose ("cpts-geo aide...")
                continue
            if not m.group(1).startswith("exemples") and m.group(1) not in out:
                out.append(m.group(1))
    return out


def readme_python() -> str:
    return re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S).group(1)


def test_copies_every_file_and_says_what_it_is_for(tmp_path):
    folder = tmp_path / "mes exemples"
    res = run("exemples", folder)
    assert res.exit_code == 0, res.output
    copied = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert copied == sorted(EXAMPLE_FILES)
    assert f"Exemples copiés dans {folder} :" in res.stdout
    assert "data/examples/registre_fictif_pays_de_la_loire.csv     registre FICTIF de 60 CPTS" in res.stdout
    assert "notebooks/01_diagnostic_territoire.ipynb" in res.stdout
    assert f"Essayez, depuis ce dossier (cd {folder}) :" in res.stdout
    for command in EXAMPLE_COMMANDS:
        assert f"  {command}" in res.stdout
    original = ROOT / "data" / "examples" / "proposition_excel.csv"
    assert (folder / "data/examples/proposition_excel.csv").read_bytes() == original.read_bytes()


def test_refuses_a_non_empty_folder_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("à garder", encoding="utf-8")
    res = run("exemples", tmp_path)
    assert res.exit_code == 2
    assert f"Erreur : {tmp_path} : le dossier n'est pas vide" in res.stderr
    assert "option --force" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    res = run("exemples", tmp_path, "--force")
    assert res.exit_code == 0
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "à garder"
    edited = tmp_path / "data/examples/proposition_valide.csv"
    edited.write_text("modifié", encoding="utf-8")
    res = run("exemples", tmp_path, "--force")
    assert "data/examples/proposition_valide.csv" in res.stdout and "(remplacé)" in res.stdout
    assert edited.read_text(encoding="utf-8") != "modifié"


def test_refuses_a_file(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="f.txt : est un fichier, pas un dossier"):
        copy_examples(target)


def test_readme_lists_commands():
    commands = readme_commands()
    assert (
        "check data/examples/proposition_valide.csv --existing data/examples/registre_fictif_pays_de_la_loire.csv"
        in commands
    )
    assert len(commands) >= 8


@pytest.mark.slow
def test_readme_and_printed_commands_work_from_the_copied_folder(tmp_path, monkeypatch):
    folder = tmp_path / "exemples"
    assert run("exemples", folder).exit_code == 0
    monkeypatch.chdir(folder)
    printed = [c.removeprefix("cpts-geo ") for c in EXAMPLE_COMMANDS if c.startswith("cpts-geo ")]
    for command in dict.fromkeys(readme_commands() + printed):
        args = shlex.split(command)
        res = run(*args)
        # 1: a rule failed (the examples show failures); 2 would be an input that was not read.
        assert res.exit_code in (0, 1), f"cpts-geo {command} : {res.output}"
        for i, a in enumerate(args):
            if a in ("-o", "--output", "--map", "--png", "--gpkg"):
                assert (folder / args[i + 1]).stat().st_size > 0, command
    namespace: dict = {}
    exec(readme_python(), namespace)  # the "From Python" example, with the copied paths
    assert len(namespace["register"].cpts) == 60


@pytest.mark.parametrize("link", ["data", "data/examples/proposition_valide.csv"])
def test_force_never_follows_a_link_out_of_the_folder(tmp_path, link):
    """``exemples --force`` followed symbolic links in the folder and wrote over the user's files
    outside it."""
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    mine = outside / "proposition_valide.csv"
    mine.write_text("à moi", encoding="utf-8")
    target = tmp_path / "exemples"
    (target / "data" / "examples").mkdir(parents=True)
    path = target / link
    if link == "data":
        (target / "data" / "examples").rmdir()
        (target / "data").rmdir()
        (outside / "examples").mkdir()
        (outside / "examples" / "proposition_valide.csv").write_text("à moi", encoding="utf-8")
        path.symlink_to(outside, target_is_directory=True)
    else:
        path.symlink_to(mine)
    res = run("exemples", target, "--force")
    assert res.exit_code == 2
    assert "lien(s) symbolique(s)" in res.stderr and "rien n'a été écrit" in res.stderr
    assert mine.read_text(encoding="utf-8") == "à moi"
    assert sorted(p.name for p in outside.rglob("*")) == sorted(
        ["proposition_valide.csv", *(["examples", "proposition_valide.csv"] if link == "data" else [])]
    )
