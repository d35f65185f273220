"""The console examples of the README and of the French guide, run and compared with what they
show, so that the documents cannot drift from the tool again (issue 25, point 7).

A ``console`` block is a session: ``$ COMMAND`` lines, each followed by the output it shows.
The session runs in a folder made by ``cpts-geo exemples`` (as the documents say), in-process
through click's test runner (stdout and stderr interleaved, as a terminal shows them):

- ``$ cpts-geo …`` runs the command (patterns such as ``*.csv`` expanded as a shell does); its output must match the lines shown. A line ``…`` marks a
  cut: the shown pieces must appear in that order, each in one piece, and a block that does not
  begin (end) with a cut must match from the first (to the last) line of the output;
- ``$ echo $?`` shows the exit code of the command before;
- ``$ cat FILE`` shows a file: when the file is not in the folder (the hostile lists of the
  guide), it is written from the lines shown, so the reader sees exactly what the tool read;
- ``$ cpts-geo exemples NAME`` is run in the parent folder, and the session moves into NAME.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from cpts_geo.cli.main import main
from cpts_geo.outputs.examples import copy_examples

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = {"README.md": ROOT / "README.md", "guide": ROOT / "docs" / "guide-utilisateur.md"}
CUT = "…"
#: A terminal shows the tool's non-breaking spaces (before units, between thousands) as spaces.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


@dataclass
class Step:
    """One ``$`` line of a console block and the output lines shown under it."""

    command: str
    shown: list[str] = field(default_factory=list)
    line: int = 0  # in the document, for the failure message


def console_blocks(path: Path) -> list[list[Step]]:
    """The console blocks of a Markdown document, each as its steps."""
    blocks: list[list[Step]] = []
    steps: list[Step] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if steps is None:
            if line.strip() == "```console":
                steps = []
            continue
        if line.strip() == "```":
            blocks.append(steps)
            steps = None
        elif line.startswith("$ "):
            steps.append(Step(line[2:].strip(), line=number))
        elif steps:
            steps[-1].shown.append(line)
    return blocks


def _pieces(shown: list[str]) -> list[list[str]]:
    pieces: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == CUT:
            pieces.append([])
        else:
            pieces[-1].append(line.translate(_SPACES).rstrip())
    return pieces


def _same(shown: list[str], actual: list[str]) -> bool:
    """Lines equal; a shown line ending with ``…`` is the beginning of the actual line."""
    return len(shown) == len(actual) and all(
        a.startswith(s[:-1]) if s.endswith(CUT) else a == s for s, a in zip(shown, actual)
    )


def mismatch(shown: list[str], actual: str) -> str | None:
    """Why ``actual`` does not match the ``shown`` lines (``None`` when it does)."""
    lines = [line.translate(_SPACES).rstrip() for line in actual.splitlines()]
    pieces = _pieces(shown)
    anchored_start, anchored_end = bool(pieces[0]), bool(pieces[-1])
    at = 0
    for k, piece in enumerate(pieces):
        if not piece:
            continue
        n = len(piece)
        if k == 0 and anchored_start:
            found = 0 if _same(piece, lines[:n]) else -1
        else:
            found = next((i for i in range(at, len(lines) - n + 1) if _same(piece, lines[i : i + n])), -1)
        if found < 0:
            return "lignes absentes de la sortie (ou dans un autre ordre) :\n" + "\n".join(piece)
        at = found + n
    if anchored_end and at != len(lines):
        return "la sortie continue après la dernière ligne montrée :\n" + "\n".join(lines[at : at + 5])
    return None


def _expanded(args: list[str], cwd: Path) -> list[str]:
    """The arguments as a shell gives them: a pattern (``*``, ``?``) replaced by the files it
    matches in ``cwd``, sorted (kept as it is when none matches)."""
    out: list[str] = []
    for a in args:
        found = sorted(str(p.relative_to(cwd)) for p in cwd.glob(a)) if any(c in a for c in "*?") else []
        out += found or [a]
    return out


def run_session(blocks: list[list[Step]], where: Path, document: str) -> list[str]:
    """Run the steps of every block, from ``where``; the list of differences found."""
    problems: list[str] = []
    cwd = where
    last_code: int | None = None
    for steps in blocks:
        for step in steps:
            here = f"{document}, ligne {step.line} : $ {step.command}"
            if step.command == "echo $?":
                if [str(last_code)] != [s for s in step.shown if s.strip()]:
                    problems.append(f"{here} : code de sortie {last_code}, le document montre {step.shown}")
                continue
            if step.command.startswith("cd "):
                cwd = cwd / step.command[3:].strip()
                continue
            if step.command.startswith("cat "):
                target = cwd / step.command[4:].strip()
                if not target.exists():
                    target.write_text("".join(f"{s}\n" for s in step.shown), encoding="utf-8")
                elif (why := mismatch(step.shown, target.read_text(encoding="utf-8"))) is not None:
                    problems.append(f"{here} : {why}")
                continue
            assert step.command.startswith("cpts-geo "), f"{here} : commande non reconnue"
            args = _expanded(shlex.split(step.command)[1:], cwd)
            into = args[0] == "exemples" and args[1:] and args[1] != "."
            previous = Path.cwd()
            os.chdir(cwd)
            try:
                res = CliRunner().invoke(main, args)
            finally:
                os.chdir(previous)
            last_code = res.exit_code
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                problems.append(f"{here} : exception {res.exception!r}")
            if (why := mismatch(step.shown, res.output)) is not None:
                problems.append(f"{here} : {why}\n--- sortie ---\n{res.output[:3000]}")
            if into:
                cwd = cwd / args[1]
    return problems


def test_console_blocks_are_parsed():
    blocks = console_blocks(DOCUMENTS["guide"])
    commands = [s.command for b in blocks for s in b]
    assert "cpts-geo exemples mes-exemples" in commands
    assert commands.count("echo $?") >= 5
    assert sum(len(b) for b in console_blocks(DOCUMENTS["README.md"])) >= 8


def test_matching_rules():
    out = "a\nb\nc\nd\n"
    assert mismatch(["a", "b", "c", "d"], out) is None
    assert mismatch(["a", "…", "d"], out) is None
    assert mismatch(["a", "…"], out) is None
    assert mismatch(["…", "c", "d"], out) is None
    assert mismatch(["a", "b", "c, …"], "a\nb\nc, d, e\n") is None  # a line cut short
    assert mismatch(["a", "c"], out) is not None  # no cut marked between them
    assert mismatch(["a", "b"], out) is not None  # the output goes on
    assert mismatch(["b", "…"], out) is not None  # not the first line
    assert mismatch(["a", "…", "d", "…", "c"], out) is not None  # order


@pytest.mark.slow
@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_console_examples_show_what_the_tool_prints(document, tmp_path):
    blocks = console_blocks(DOCUMENTS[document])
    starts_with_copy = any(s.command.startswith("cpts-geo exemples ") for s in blocks[0])
    where = tmp_path
    if not starts_with_copy:  # the README's commands run from the copied folder, as it says
        where = tmp_path / "mes-exemples"
        copy_examples(where)
    problems = run_session(blocks, where, document)
    assert not problems, "\n\n".join(problems)


def test_the_guide_describes_every_command():
    """Every command (and sub-command) is shown in the guide, run in a console block or named in
    its text, so that a new command cannot ship undocumented."""
    import click

    text = DOCUMENTS["guide"].read_text(encoding="utf-8")
    names = []
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    missing = [n for n in names if f"cpts-geo {n}" not in text and f"`{n}" not in text]
    assert not missing, f"commandes absentes du guide : {missing}"
