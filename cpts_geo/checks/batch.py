"""Several proposals checked in one run: the summary of ``cpts-geo check DOSSIER/`` (or of
several files).

An ARS receives proposals in batches (a call for projects, a yearly review): each file is read
and checked on its own, and one unreadable file is reported without stopping the others. A
:class:`BatchSummary` holds, per file in order, the :class:`~cpts_geo.checks.report.Report` of
its check, or the French message that says why it could not be read, or why the file was not
taken at all (a format the tool does not read, found in a folder); it gives the terminal table,
the JSON and the rows of the summary workbook (one row per proposal, each rule's status), and the
exit status of the run (the worst).

>>> s = BatchSummary([BatchEntry("a.csv", error="ligne 3 : code commune '49999' inconnu")])
>>> s.status, s.counts()["error"]
('error', 1)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cpts_geo._text import fr_int, fr_plural
from cpts_geo.checks.report import RULE_LABELS, STATUS_LABELS, Report

__all__ = ["PROPOSAL_SUFFIXES", "RULE_IDS", "BatchEntry", "BatchSummary", "proposal_files"]

#: Suffixes of the files a folder given to ``check`` is searched for (the formats a proposal
#: may have); other files of the folder are listed as not read, never silently passed over.
PROPOSAL_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".ods", ".geojson", ".json", ".gpkg")

#: The rule ids, in report order (the columns of the summary).
RULE_IDS = ("population", "contiguity", "enclaves", "epci_alignment", "admin_boundaries", "overlap")

#: Statuses from best to worst; ``error``: the file could not be read or checked.
_RANK = {"pass": 0, "warn": 1, "fail": 2, "error": 3}

#: Short labels of the rules for the terminal table (10 characters at most).
_SHORT = {
    "population": "Population",
    "contiguity": "Continuité",
    "enclaves": "Enclaves",
    "epci_alignment": "EPCI",
    "admin_boundaries": "Dép./rég.",
    "overlap": "Chevauch.",
}


@dataclass
class BatchEntry:
    """One file of the batch: its report, or why it was not checked.

    ``error``: the French message of a file that could not be read or checked (the run goes
    on), or, beside its report, why its report file could not be written; ``skipped``: why a
    file found in a folder was not read (a format the tool does not read, an office lock file).
    """

    path: str | Path
    report: Report | None = None
    error: str | None = None
    skipped: str | None = None

    @property
    def status(self) -> str:
        if self.report is not None:
            return self.report.status
        return "skipped" if self.skipped is not None else "error"


def proposal_files(folder: Path) -> tuple[list[Path], list[BatchEntry]]:
    """The proposals of ``folder`` (its files with a :data:`PROPOSAL_SUFFIXES` suffix, sorted by
    name, sub-folders not searched), and an entry for each other file, saying why it is not read.

    Hidden files are passed over, as a file manager does; Excel's and LibreOffice's lock files
    (``~$liste.xlsx``, ``.~lock.liste.ods#``) are listed as such.
    """
    found: list[Path] = []
    other: list[BatchEntry] = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name.casefold()):
        if p.name.startswith(".") and not p.name.startswith(".~lock."):
            continue
        if p.is_dir():
            other.append(BatchEntry(p, skipped="sous-dossier non parcouru"))
        elif p.name.startswith(("~$", ".~lock.")):
            other.append(BatchEntry(p, skipped="fichier de verrouillage d'un tableur (fichier ouvert)"))
        elif p.suffix.lower() in PROPOSAL_SUFFIXES:
            found.append(p)
        else:
            other.append(BatchEntry(p, skipped=f"format « {p.suffix or 'sans extension'} » non lu"))
    return found, other


@dataclass
class BatchSummary:
    """The proposals of a batch, in the order given (files of a folder sorted by name)."""

    entries: list[BatchEntry] = field(default_factory=list)

    @property
    def checked(self) -> list[BatchEntry]:
        return [e for e in self.entries if e.report is not None]

    @property
    def status(self) -> str:
        """The worst status of the run: ``error`` when a file could not be read or checked,
        else the worst rule status (``pass`` for an empty batch). Skipped files do not count."""
        statuses = [e.status for e in self.entries if e.status != "skipped"]
        statuses += ["error" for e in self.entries if e.report is not None and e.error]
        return max(statuses, key=_RANK.__getitem__, default="pass")

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys([*_RANK, "skipped"], 0)
        for e in self.entries:
            out[e.status] += 1
        return out

    # -- rows ----------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One dict per file: ``fichier``, ``territoire``, ``resultat`` (French), ``n_communes``,
        ``population``, ``aci_size_class``, ``regle_<id>`` (French status) per rule, ``constat``
        (the error or skip message, or the rules not passed)."""
        rows = []
        for e in self.entries:
            row: dict = {
                "fichier": str(e.path),
                "territoire": "",
                "resultat": _label(e.status),
                "n_communes": None,
                "population": None,
                "aci_size_class": None,
                **{f"regle_{rid}": "" for rid in RULE_IDS},
                "constat": e.error or e.skipped or "",
            }
            if e.report is not None:
                t = e.report.territory
                row.update(
                    territoire=str(t.get("name") or ""),
                    n_communes=t.get("n_communes"),
                    population=t.get("population"),
                    aci_size_class=t.get("aci_size_class"),
                )
                flagged = []
                for r in e.report.rules:
                    row[f"regle_{r.id}"] = STATUS_LABELS[r.status]
                    if r.status != "pass":
                        flagged.append(f"{RULE_LABELS.get(r.id, r.id)} : {r.message}")
                row["constat"] = " ".join([*flagged, *([e.error] if e.error else [])])
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        """The JSON of the batch: ``status``, ``counts`` and, per file, ``file``, ``status`` and
        the check's JSON (``report``) or the ``error``/``skipped`` message."""
        files = []
        for e in self.entries:
            item: dict = {"file": str(e.path), "status": e.status}
            if e.report is not None:
                item["report"] = e.report.to_dict()
            elif e.error is not None:
                item["error"] = e.error
            else:
                item["skipped"] = e.skipped
            files.append(item)
        return {"status": self.status, "counts": self.counts(), "files": files}

    def to_json(self, indent: int | None = 2) -> str:
        from cpts_geo._json import json_plain

        return json.dumps(json_plain(self.to_dict()), ensure_ascii=False, indent=indent)

    def to_text(self, names: Sequence[str] | None = None) -> str:
        """The terminal table: one line per file (result, communes, population, each rule), then
        the messages of the files not checked. ``names``: how to show each file (default its
        path as given)."""
        shown = [str(e.path) for e in self.entries] if names is None else list(names)
        c = self.counts()
        by_status = ", ".join(f"{fr_int(c[k])} {STATUS_LABELS[k]}" for k in ("pass", "warn", "fail") if c[k])
        parts = [
            fr_plural(len(self.checked), "proposition vérifiée", "propositions vérifiées")
            + (f" ({by_status})" if by_status else ""),
            *([fr_plural(c["error"], "fichier illisible", "fichiers illisibles")] if c["error"] else []),
            *([fr_plural(c["skipped"], "fichier non lu", "fichiers non lus")] if c["skipped"] else []),
        ]
        lines = [f"Propositions : {', '.join(parts)}"]
        if self.checked:
            v = self.checked[0].report.territory.get("vintage", {})  # type: ignore[union-attr]
            lines.append(f"COG {v.get('cog', '?')}, population municipale {v.get('population', '?')}")
        width = max([len("fichier"), *(len(s) for s in shown)])
        lines += [
            "",
            f"  {'fichier':<{width}}  {'résultat':<10} {'communes':>8} {'population':>11}  "
            + " ".join(f"{_SHORT[i]:<10}" for i in RULE_IDS)
            + "  territoire",
        ]
        notes, unwritten = [], []
        for e, name in zip(self.entries, shown):
            if e.report is None:
                lines.append(f"  {name:<{width}}  {_label(e.status):<10}")
                why = str(e.error or e.skipped)
                notes.append(f"  {why}" if why.startswith(f"{e.path} : ") else f"  {name} : {why}")
                continue
            t = e.report.territory
            by_id = {r.id: r.status for r in e.report.rules}
            cells = " ".join(f"{(STATUS_LABELS[by_id[i]] if i in by_id else '—'):<10}" for i in RULE_IDS)
            lines.append(
                f"  {name:<{width}}  {_label(e.status):<10} {fr_int(t['n_communes']):>8} "
                f"{fr_int(t['population']):>11}  {cells}  {t.get('name') or ''}"
            )
            if e.error:
                unwritten.append(f"  {name} : {e.error}")
        if notes:
            lines += ["", "Fichiers non vérifiés :", *notes]
        if unwritten:
            lines += ["", "Rapports non écrits (la vérification est faite) :", *unwritten]
        return "\n".join(lines) + "\n"


def _label(status: str) -> str:
    if status == "error":
        return "ILLISIBLE"
    if status == "skipped":
        return "NON LU"
    return STATUS_LABELS[status]
