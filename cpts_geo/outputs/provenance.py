"""Traceability of a report or map: input files, parameters, tool version, vintages, run date.

A committee reading a report or a map must be able to tell which files it was made from (and
how old the register was), which thresholds were applied and whether they were chosen or left
at the tool's defaults, with which version of the tool and of the reference, and when.
:class:`Provenance` holds that; the CLI builds it from its options (:func:`provenance`) and
passes it to :func:`cpts_geo.outputs.html_report.report_html`, :func:`cpts_geo.maps.coverage` and
:func:`cpts_geo.maps.suggest_map`, which show it (``to_html``); ``to_lines`` gives the same as
text.

Examples
--------
>>> import datetime as dt
>>> p = provenance(
...     files=[("Proposition", None)],
...     parameters=[Parameter("min_population", "Population minimale", "20\\u00a0000 habitants", True)],
...     vintage={"cog": 2026, "population": 2023},
...     run_date=dt.datetime(2026, 12, 1, 9, 30),
... )
>>> print("\\n".join(p.to_lines()).replace("\\u00a0", " "))  # doctest: +ELLIPSIS
Traçabilité
  Population minimale : 20 000 habitants (valeur par défaut)
  Outil : cpts-geo ...
  Référentiel : COG 2026, populations légales 2023 (population municipale)
  Édité le 01/12/2026 à 09:30
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["InputFile", "Parameter", "Provenance", "provenance"]

DEFAULT_LABEL = "valeur par défaut"
CHOSEN_LABEL = "valeur choisie"


@dataclass(frozen=True)
class InputFile:
    """An input file: its role ("Proposition", "Registre"), name and date of last modification."""

    role: str
    name: str
    modified: dt.datetime | None = None
    note: str = ""

    def text(self) -> str:
        when = f", modifié le {self.modified:%d/%m/%Y à %H:%M}" if self.modified else ""
        note = f" ; {self.note}" if self.note else ""
        return f"{self.role} : {self.name}{when}{note}"


@dataclass(frozen=True)
class Parameter:
    """A parameter of the run: library name, French label, value as it reads, default or chosen."""

    name: str
    label: str
    value: str
    default: bool

    def text(self) -> str:
        return f"{self.label} : {self.value} ({DEFAULT_LABEL if self.default else CHOSEN_LABEL})"


@dataclass(frozen=True)
class Provenance:
    """What a report or a map was made from (see the module's docstring)."""

    files: tuple[InputFile, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    version: str = ""
    vintage: dict = field(default_factory=dict)
    run_date: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def all_defaults(self) -> bool:
        """True when every parameter is at the tool's default."""
        return all(p.default for p in self.parameters)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def summary_line(self) -> str:
        """One line: the files, whether the parameters are the defaults, version and date."""
        files = ", ".join(f.name for f in self.files) or "aucun fichier d'entrée"
        if not self.parameters:
            params = ""
        elif self.all_defaults:
            params = " ; paramètres : valeurs par défaut"
        else:
            chosen = ", ".join(p.label.lower() for p in self.parameters if not p.default)
            params = f" ; valeurs choisies : {chosen}"
        return f"Traçabilité : {files}{params} ; cpts-geo {self.version}, {self.run_date:%d/%m/%Y}"

    def _items(self) -> list[str]:
        v = self.vintage
        return (
            [f.text() for f in self.files]
            + [p.text() for p in self.parameters]
            + [
                f"Outil : cpts-geo {self.version}",
                f"Référentiel : COG {v.get('cog', '?')}, populations légales {v.get('population', '?')} "
                "(population municipale)",
                f"Édité le {self.run_date:%d/%m/%Y à %H:%M}",
            ]
        )

    def to_lines(self) -> list[str]:
        """``Traçabilité`` then one indented line per item (files, parameters, version, vintages, date)."""
        return ["Traçabilité"] + [f"  {item}" for item in self._items()]

    def to_html(self, *, compact: bool = False) -> str:
        """The items as HTML (escaped): a list, or (``compact``, for map panels) one ``div`` each."""
        items = [html.escape(item, quote=True).replace("{", "&#123;") for item in self._items()]
        if compact:
            return "".join(f"<div>{item}</div>" for item in items)
        return '<ul class="tracabilite">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"

    def to_dict(self) -> dict:
        return {
            "files": [
                {"role": f.role, "name": f.name, "modified": f.modified.isoformat() if f.modified else None}
                for f in self.files
            ],
            "parameters": [
                {"name": p.name, "label": p.label, "value": p.value, "default": p.default}
                for p in self.parameters
            ],
            "version": self.version,
            "vintage": dict(self.vintage),
            "run_date": self.run_date.isoformat(timespec="seconds"),
        }


def _modified(path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(os.stat(path).st_mtime).replace(microsecond=0)
    except (OSError, TypeError, ValueError):
        return None


def provenance(
    *,
    files: Iterable[tuple[str, str | os.PathLike | None]] = (),
    parameters: Iterable[Parameter] = (),
    vintage: dict | None = None,
    run_date: dt.datetime | None = None,
    notes: dict[str, str] | None = None,
) -> Provenance:
    """A :class:`Provenance` from ``(role, path)`` pairs (``None`` paths skipped; the file's name
    and its date of last modification are kept), the parameters, the reference's vintage and the
    date of the run (default: now). ``notes`` adds a remark to a role's line."""
    from cpts_geo._version import __version__

    notes = notes or {}
    kept = tuple(
        InputFile(role, Path(path).name, _modified(path), notes.get(role, ""))
        for role, path in files
        if path is not None
    )
    return Provenance(
        files=kept,
        parameters=tuple(parameters),
        version=__version__,
        vintage=dict(vintage or {}),
        run_date=run_date or dt.datetime.now().replace(microsecond=0),
    )
