"""click's own words in French: the messages of its usage errors (unknown option or command,
missing or invalid value...) and the metavars of the help (``TEXT``, ``INTEGER``, ``PATH``...).

click builds them in English (``click.exceptions``, ``click.types``, ``click.parser``); the
classes of :mod:`cpts_geo.cli.options` hand them here at the point they control (an exception
caught before click shows it, a metavar before it is written), with the exception's structure
(option name, suggestions, parameter, type) where it has one, and the value the user typed
escaped as every other message escapes it (:func:`cpts_geo._text.safe`)."""

from __future__ import annotations

import ast
import re

import click

__all__ = ["french_message", "french_metavar"]

#: The metavars click derives from a type's name, and their French.
_METAVARS = {
    "INTEGER RANGE": "ENTIER",
    "FLOAT RANGE": "NOMBRE",
    "INTEGER": "ENTIER",
    "FLOAT": "NOMBRE",
    "TEXT": "TEXTE",
    "PATH": "CHEMIN",
    "FILE": "FICHIER",
    "FILENAME": "FICHIER",
    "DIRECTORY": "DOSSIER",
    "BOOLEAN": "BOOLÉEN",
    "COMMAND": "COMMANDE",
    "ARGS": "ARGUMENTS",
}
_METAVAR_RE = re.compile(r"\b(" + "|".join(map(re.escape, _METAVARS)) + r")\b")


def french_metavar(metavar: str) -> str:
    """``'INTEGER RANGE'`` -> ``'ENTIER'``, ``'COMMAND [ARGS]...'`` -> ``'COMMANDE [ARGUMENTS]...'``;
    a choice (``[text|json]``) or a metavar of ours is left as it is."""
    return _METAVAR_RE.sub(lambda m: _METAVARS[m.group(1)], metavar)


def _quoted(value: object) -> str:
    from cpts_geo._text import safe

    return f"« {safe(value, 200)} »"


def _typed(text: str) -> str:
    """The value click wrote with ``!r`` (``'abc'``), as the user typed it, between « »."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = text
    return _quoted(value)


def _one_of(names: list[str], *, article: str) -> str:
    """Click's "Did you mean" suggestions in French."""
    listed = ", ".join(sorted(names))
    if len(names) == 1:
        return f" ; vouliez-vous dire {listed} ?"
    return f" ; vouliez-vous dire {article} de : {listed} ?"


def _param_hint(exc: click.BadParameter) -> str:
    """The parameter a message is about: its flags (``--format``) or its metavar (``REGISTRE``)."""
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        if isinstance(exc.param, click.Option):
            hint = exc.param.opts
        elif exc.ctx is not None:
            hint = exc.param.make_metavar(exc.ctx)
        else:
            hint = exc.param.human_readable_name
    if hint is None:
        return ""
    return hint if isinstance(hint, str) else " / ".join(hint)


def _choices(param_type: click.ParamType) -> str:
    return ", ".join(str(c) for c in getattr(param_type, "choices", ()))


def _choice_value(message: str, param_type: click.Choice) -> str | None:
    """The value of click's "'docx' is not one of 'text', 'json'." (``Choice``), between « »."""
    listed = ", ".join(repr(c) for c in param_type.choices)
    for suffix in (f" is not one of {listed}.", f" is not {listed}."):
        if message.endswith(suffix):
            return _typed(message[: -len(suffix)])
    return None


_PATH_KINDS = {"File": "le fichier", "Directory": "le dossier", "Path": "le chemin"}
_PATH_STATES = {
    "does not exist": "n'existe pas",
    "is a file": "est un fichier (un dossier est attendu)",
    "is a directory": "est un dossier (un fichier est attendu)",
    "is not readable": "n'est pas lisible",
    "is not writable": "n'est pas accessible en écriture",
    "is not executable": "n'est pas exécutable",
}
_NUMBER_TYPES = {"integer": "un nombre entier", "float": "un nombre", "integer range": "un nombre entier"}

#: The type messages of click (``click.types``), the English pattern and its French.
_TYPE_MESSAGES = [
    (
        re.compile(
            r"(?s)(?P<kind>File|Directory|Path) (?P<v>'.*'|\".*\") (?P<state>"
            + "|".join(_PATH_STATES)
            + r")\.$"
        ),
        lambda m: f"{_PATH_KINDS[m['kind']]} {_typed(m['v'])} {_PATH_STATES[m['state']]}",
    ),
    (
        re.compile(r"(?s)(?P<v>.*) is not a valid (?P<t>integer|float|integer range|float range)\.$"),
        lambda m: f"{_typed(m['v'])} n'est pas {_NUMBER_TYPES.get(m['t'], 'un nombre')}",
    ),
    (
        re.compile(r"(?s)(?P<v>.*) is not in the range (?P<r>.*)\.$"),
        lambda m: f"{_quoted(m['v'])} hors de l'intervalle {m['r']}",
    ),
    (
        re.compile(r"(?s)(?P<v>.*) is not a valid boolean\..*$"),
        lambda m: f"{_typed(m['v'])} n'est pas un booléen (oui : 1, true, yes, on ; non : 0, false, no, off)",
    ),
]

#: The usage messages of click (``click.core``, ``click.parser``), the English pattern and its French.
_USAGE_MESSAGES = [
    (
        re.compile(r"(?s)Option (?P<o>'.*') requires an argument\.$"),
        lambda m: f"l'option {ast.literal_eval(m['o'])} attend une valeur",
    ),
    (
        re.compile(r"(?s)Option (?P<o>'.*') requires (?P<n>\d+) arguments\.$"),
        lambda m: f"l'option {ast.literal_eval(m['o'])} attend {m['n']} valeurs",
    ),
    (
        re.compile(r"(?s)Option (?P<o>'.*') does not take a value\.$"),
        lambda m: f"l'option {ast.literal_eval(m['o'])} ne prend pas de valeur",
    ),
    (
        re.compile(r"(?s)Argument (?P<a>'.*') takes (?P<n>\d+) values\.$"),
        lambda m: f"l'argument {ast.literal_eval(m['a'])} attend {m['n']} valeurs",
    ),
    (
        re.compile(r"(?s)Got unexpected extra argument \((?P<a>.*)\)$"),
        lambda m: f"argument en trop : {_quoted(m['a'])}",
    ),
    (
        re.compile(r"(?s)Got unexpected extra arguments \((?P<a>.*)\)$"),
        lambda m: f"arguments en trop : {_quoted(m['a'])}",
    ),
    (re.compile(r"Missing command\.$"), lambda m: "commande manquante"),
]


def _translate(message: str, table) -> str:
    for pattern, french in table:
        match = pattern.match(message)
        if match:
            try:
                return french(match)
            except (ValueError, SyntaxError):
                break
    return message


def french_message(exc: click.ClickException) -> str:
    """The message of one of click's exceptions in French (a message of ours, already French,
    is returned as it is)."""

    if isinstance(exc, click.NoSuchOption):
        text = f"option inconnue : {_quoted(exc.option_name)}"
        return text + (_one_of(exc.possibilities, article="l'une") if exc.possibilities else "")
    if isinstance(exc, click.exceptions.NoSuchCommand):
        text = f"commande inconnue : {_quoted(exc.command_name)}"
        return text + (_one_of(exc.possibilities, article="l'une") if exc.possibilities else "")
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        missing = {"argument": "argument manquant", "option": "option manquante"}.get(
            kind, "valeur manquante"
        )
        hint = _param_hint(exc)
        text = f"{missing} : {hint}" if hint else missing
        if exc.param is not None and isinstance(exc.param.type, click.Choice):
            text += f" ; choisissez parmi : {_choices(exc.param.type)}"
        return text
    if isinstance(exc, click.BadParameter):
        hint = _param_hint(exc)
        param_type = exc.param.type if exc.param is not None else None
        typed = _choice_value(exc.message, param_type) if isinstance(param_type, click.Choice) else None
        if typed is not None and param_type is not None:
            body = f"{typed} ; choisissez parmi : {_choices(param_type)}"
        else:
            body = _translate(exc.message, _TYPE_MESSAGES)
        return f"valeur invalide pour {hint} : {body}" if hint else f"valeur invalide : {body}"
    return _translate(exc.message, _USAGE_MESSAGES)
