"""click's own messages and metavars in French: every usage error a user can trigger, on stderr,
with click's exit code (2), and the help without an English word of click's."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.cli.options import FrenchFailure, in_french

#: Words of click's English that must never reach a user.
ENGLISH = (
    "Usage",
    "Try ",
    "Error",
    "No such",
    "Missing",
    "Invalid value",
    "Did you mean",
    "does not exist",
    "is a directory",
    "is not",
    "Choose from",
    "Got unexpected",
    "requires an argument",
    "TEXT",
    "INTEGER",
    "FLOAT",
    "PATH",
    "FILE",
    "COMMAND",
    "ARGS",
    "PROPOSAL",
    "REGISTER",
    "Positional arguments",
)


def english_in(text: str) -> list[str]:
    """The words of click's English found in ``text`` (a metavar as a whole word: ``TEXTE`` is
    French)."""
    return [w for w in ENGLISH if (re.search(rf"\b{w}\b", text) if w.isupper() else w in text)]


def run(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="cpts-geo")


def usage_error(res, usage: str, help_command: str, message: str) -> None:
    """click's layout, in French: usage line, « Essayez … », then « Erreur : … » on stderr."""
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    assert res.stderr == (
        f"Utilisation : {usage}\nEssayez « {help_command} --help » pour l'aide.\n\nErreur : {message}\n"
    )
    assert not english_in(res.stderr)


def test_unknown_option():
    usage_error(
        run("check", "--xyzzy"),  # close to no option of check (« --nope-nope » is to --zones-name)
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "option inconnue : « --xyzzy »",
    )


def test_unknown_option_with_suggestion():
    usage_error(
        run("check", "--formatt", "json", "liste.csv"),
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "option inconnue : « --formatt » ; vouliez-vous dire --format ?",
    )


def test_unknown_option_with_several_suggestions():
    res = run("suggest", "--min-populatio", "1")
    assert res.exit_code == 2
    assert (
        "Erreur : option inconnue : « --min-populatio » ; vouliez-vous dire l'une de : --max-population, "
        "--min-population, --target-population ?" in res.stderr
    )


def test_unknown_option_of_the_group():
    usage_error(
        run("--nope-nope", "check"),
        "cpts-geo [OPTIONS] COMMANDE [ARGUMENTS]...",
        "cpts-geo",
        "option inconnue : « --nope-nope »",
    )


def test_missing_argument():
    usage_error(
        run("check"),
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "argument manquant : PROPOSITION...",
    )


def test_missing_arguments_of_compare_registers():
    usage_error(
        run("compare-registers", "ancien.csv"),
        "cpts-geo compare-registers [OPTIONS] ANCIEN NOUVEAU",
        "cpts-geo compare-registers",
        "argument manquant : NOUVEAU",
    )


def test_invalid_choice():
    usage_error(
        run("check", "liste.csv", "--format", "docx"),
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "valeur invalide pour --format : « docx » ; choisissez parmi : text, json, html, pdf",
    )


def test_invalid_choice_escapes_what_the_user_typed():
    res = run("check", "liste.csv", "--format", "\x1b[2J\x07")
    assert res.exit_code == 2
    assert "Erreur : valeur invalide pour --format : « \\x1b[2J\\x07 » ; choisissez parmi" in res.stderr
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr


def test_invalid_integer():
    usage_error(
        run("suggest", "--max-population", "abc"),
        "cpts-geo suggest [OPTIONS]",
        "cpts-geo suggest",
        "valeur invalide pour --max-population : « abc » n'est pas un nombre entier",
    )


def test_invalid_float():
    usage_error(
        run("coverage-history", "registre.csv", "--goal", "mille"),
        "cpts-geo coverage-history [OPTIONS] REGISTRE",
        "cpts-geo coverage-history",
        "valeur invalide pour --goal : « mille » n'est pas un nombre",
    )


def test_integer_out_of_range():
    usage_error(
        run("check", "liste.csv", "--skip-rows", "-1"),
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "valeur invalide pour --skip-rows : « -1 » hors de l'intervalle x>=0",
    )


def test_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "absent"
    usage_error(
        run("--reference", str(missing), "reference", "info"),
        "cpts-geo [OPTIONS] COMMANDE [ARGUMENTS]...",
        "cpts-geo",
        f"valeur invalide pour --reference : le dossier « {missing} » n'existe pas",
    )


def test_option_path_that_is_a_directory(tmp_path):
    usage_error(
        run("check", "liste.csv", "--existing", str(tmp_path)),
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        f"valeur invalide pour --existing : le fichier « {tmp_path} » est un dossier (un fichier est attendu)",
    )


def test_path_that_is_a_file(tmp_path):
    file = tmp_path / "units.parquet"
    file.write_text("")
    res = run("--reference", str(file), "reference", "info")
    assert res.exit_code == 2
    assert f"Erreur : valeur invalide pour --reference : le dossier « {file} » est un fichier" in res.stderr


def test_unknown_command():
    usage_error(
        run("chek", "liste.csv"),
        "cpts-geo [OPTIONS] COMMANDE [ARGUMENTS]...",
        "cpts-geo",
        "commande inconnue : « chek » ; vouliez-vous dire check ?",
    )


def test_unknown_subcommand_of_a_group():
    usage_error(
        run("register", "migrer"),
        "cpts-geo register [OPTIONS] COMMANDE [ARGUMENTS]...",
        "cpts-geo register",
        "commande inconnue : « migrer » ; vouliez-vous dire migrate ?",
    )


def test_extra_argument():
    usage_error(
        run("compare-registers", "a.csv", "b.csv", "c.csv"),
        "cpts-geo compare-registers [OPTIONS] ANCIEN NOUVEAU",
        "cpts-geo compare-registers",
        "argument en trop : « c.csv »",
    )


def test_option_without_its_value():
    res = run("check", "liste.csv", "--format")
    assert res.exit_code == 2
    assert res.stderr.endswith("Erreur : l'option --format attend une valeur\n")


def test_our_usage_errors_get_the_french_layout_too():
    res = run("check", "liste.csv", "--format", "pdf")
    usage_error(
        res,
        "cpts-geo check [OPTIONS] PROPOSITION...",
        "cpts-geo check",
        "--format pdf : indiquez le fichier PDF à écrire avec -o",
    )


def test_click_file_error_in_french():
    """click's other errors (a file it could not open): « Erreur : », exit code 1 as click's."""
    french = in_french(click.FileError("x.csv", "Permission denied"))
    assert isinstance(french, FrenchFailure) and french.exit_code == 1


@pytest.mark.parametrize(
    ("args", "usage", "metavars"),
    [
        (
            ["check", "--help"],
            "Utilisation : cpts-geo check [OPTIONS] PROPOSITION...",
            [
                "--existing FICHIER",
                "--existing-layer TEXTE",
                "--min-population ENTIER",
                "--sea-link-km NOMBRE",
            ],
        ),
        (
            ["--help"],
            "Utilisation : cpts-geo [OPTIONS] COMMANDE [ARGUMENTS]...",
            ["--reference DOSSIER", "Options:", "Commandes:"],
        ),
        (["register", "--help"], "Utilisation : cpts-geo register [OPTIONS] COMMANDE [ARGUMENTS]...", []),
        (["register", "migrate", "--help"], "Utilisation : cpts-geo register migrate [OPTIONS] ANCIEN", []),
        (
            ["suggest", "--help"],
            "Utilisation : cpts-geo suggest [OPTIONS]",
            ["--skip-rows ENTIER", "--crs TEXTE"],
        ),
    ],
)
def test_help_metavars_in_french(args, usage, metavars):
    res = run(*args)
    assert res.exit_code == 0
    assert res.stdout.startswith(usage + "\n")
    for metavar in metavars:
        assert metavar in res.stdout
    assert not english_in(res.stdout)


def test_group_without_command_shows_its_help_in_french():
    res = run("register")
    assert res.exit_code == 2
    assert res.stderr.startswith("Utilisation : cpts-geo register [OPTIONS] COMMANDE [ARGUMENTS]...\n")
    assert not english_in(res.stderr)
