"""The results of the territory checks: plain dataclasses that serialise to JSON (DESIGN.md §5).

:func:`cpts_geo.rules.check_territory` returns a :class:`Report`, :func:`cpts_geo.rules.check_register`
a :class:`RegisterReport`. ``to_dict()`` is the JSON contract of ``cpts-geo check --format json``
and ``check-register --format json``; ``to_text()`` and ``to_html()`` call the renderers of
:mod:`cpts_geo.report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RULE_LABELS",
    "STATUS_LABELS",
    "LazyRows",
    "RegisterReport",
    "Report",
    "RuleResult",
    "worst_status",
]

#: Order of severity of the statuses.
_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}

#: How each status reads in French.
STATUS_LABELS = {"pass": "OK", "warn": "ATTENTION", "fail": "ÉCHEC"}

#: How each rule reads in French.
RULE_LABELS = {
    "population": "Population",
    "contiguity": "Continuité",
    "enclaves": "Enclaves",
    "epci_alignment": "EPCI",
    "admin_boundaries": "Départements et régions",
    "overlap": "Chevauchement",
}


def worst_status(statuses) -> str:
    """The most severe of the statuses (``pass`` for none)."""
    out = "pass"
    for s in statuses:
        if _SEVERITY[s] > _SEVERITY[out]:
            out = s
    return out


class LazyRows(Sequence):
    """A read-only list of dicts built when read and not kept: the evidence of a rule that would
    weigh more than its inputs (the ``overlap`` rule of each CPTS of a register lists every other
    CPTS it shares a commune with, for 5,000 scattered CPTS a million rows). ``build(i)`` makes
    row ``i``; equal to a list of the same rows; ``list(rows)`` gives plain dicts to edit.

    >>> rows = LazyRows(2, lambda i: {"n": i})
    >>> rows[1], len(rows), rows == [{"n": 0}, {"n": 1}]
    ({'n': 1}, 2, True)
    >>> import pickle; pickle.loads(pickle.dumps(rows))
    [{'n': 0}, {'n': 1}]
    """

    def __init__(self, n: int, build: Callable[[int], dict]):
        self._n = int(n)
        self._build = build

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._build(j) for j in range(*i.indices(self._n))]
        if not isinstance(i, int):
            i = int(i)  # numpy integers
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("LazyRows index out of range")
        return self._build(i)

    def __iter__(self) -> Iterator[dict]:
        return (self._build(i) for i in range(self._n))

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        # Pickled (or sent to another process) as the plain list it stands for.
        return (list, (list(self),))

    def __repr__(self) -> str:
        return repr(list(self))


def _plain(details: dict) -> dict:
    """``details`` with its :class:`LazyRows` as lists (what JSON takes)."""
    return {k: list(v) if isinstance(v, LazyRows) else v for k, v in details.items()}


# ---------------------------------------------------------------------------------------------
# Dataclasses
# ---------------------------------------------------------------------------------------------
@dataclass
class RuleResult:
    """The outcome of one rule on one territory.

    Attributes
    ----------
    id
        Rule id (DESIGN.md §2): ``population``, ``contiguity``, ``enclaves``,
        ``epci_alignment``, ``admin_boundaries`` or ``overlap``.
    status
        ``pass``, ``warn`` or ``fail``.
    message
        One sentence in French saying what was found.
    details
        The evidence, JSON-serialisable plain types (see each rule in :mod:`cpts_geo.rules`).
    """

    id: str
    status: str
    message: str
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in _SEVERITY:
            raise ValueError(f"status must be one of {sorted(_SEVERITY)}, got {self.status!r}")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "message": self.message,
            "details": _plain(self.details),
        }


@dataclass
class Report:
    """The checks of one territory (a proposal, or one CPTS of a register).

    Attributes
    ----------
    territory
        ``name``, ``communes`` (unit codes, sorted), ``n_communes``, ``population``,
        ``aci_size_class``, ``vintage``.
    rules
        One :class:`RuleResult` per rule id, in the order of DESIGN.md §2 (``overlap`` only
        when a register was given).
    input_warnings
        What was corrected while reading the input: ``line``, ``value``, ``message``.
    cpts_id
        The CPTS id, for a report of a register's CPTS.
    units
        The territory's units with their figures, for text and HTML renderings (not part of
        the JSON contract): ``code``, ``nom``, ``population``, ``epci``, ``departement``.
    """

    territory: dict
    rules: list[RuleResult]
    input_warnings: list[dict] = field(default_factory=list)
    cpts_id: str | None = None
    units: list[dict] = field(default_factory=list, repr=False)

    @property
    def status(self) -> str:
        """The worst status of the rules: ``pass``, ``warn`` or ``fail``."""
        return worst_status(r.status for r in self.rules)

    def rule(self, rule_id: str) -> RuleResult:
        """The result of one rule, by id."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r} in this report (rules: {[r.id for r in self.rules]})")

    def to_dict(self) -> dict:
        """The JSON contract of ``cpts-geo check --format json`` (DESIGN.md §5)."""
        out: dict[str, Any] = {} if self.cpts_id is None else {"cpts_id": self.cpts_id}
        out.update(
            {
                "status": self.status,
                "territory": dict(self.territory),
                "rules": [r.to_dict() for r in self.rules],
                "input_warnings": [dict(w) for w in self.input_warnings],
            }
        )
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_text(self) -> str:
        """A French summary for a terminal: one line per rule, then the details
        (:func:`cpts_geo.report.report_text`)."""
        from .report import report_text

        return report_text(self)

    def to_html(
        self, ref, *, existing=None, online: bool = False, offline: bool | None = None, provenance=None
    ) -> str:
        """A self-contained HTML report in French for the committees (CATS/CTS)
        (:func:`cpts_geo.report.report_html`; ``offline`` is deprecated and ignored)."""
        from .report import report_html

        return report_html(ref, self, existing=existing, online=online, provenance=provenance)


@dataclass
class RegisterReport:
    """The checks of every CPTS of a register, and the register-wide checks.

    Attributes
    ----------
    reports
        One :class:`Report` per CPTS (``cpts_id`` set), in register order.
    overlaps
        Units in two CPTS or more, not declared shared: ``code``, ``nom``, ``cpts`` (ids),
        ``population``.
    enclaves
        Groups of units in no CPTS whose every land neighbour is in one: ``communes``
        (``code``, ``nom``), ``n_communes``, ``population``, ``cpts`` (ids of the CPTS around).
    """

    reports: list[Report]
    overlaps: list[dict] = field(default_factory=list)
    enclaves: list[dict] = field(default_factory=list)
    #: Units in two CPTS or more declared shared on purpose (``commune_partagee``), same shape
    #: as ``overlaps``: reported, never a failure.
    shared: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Worst of the CPTS' statuses and the register-wide checks (overlap fail, enclave warn)."""
        register = ["fail"] if self.overlaps else []
        register += ["warn"] if self.enclaves or self.shared else []
        return worst_status([r.status for r in self.reports] + register)

    def to_dict(self) -> dict:
        """The JSON contract of ``cpts-geo check-register --format json`` (DESIGN.md §5)."""
        return {
            "status": self.status,
            "cpts": [r.to_dict() for r in self.reports],
            "register": self._register_dict(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return "".join(self.json_chunks(indent=indent))

    def json_chunks(self, *, indent: int | None = 2) -> Iterator[str]:
        """:meth:`to_json` in pieces, one CPTS (one register-wide finding) at a time: a large
        register's report is written without holding its whole JSON, nor one CPTS's dict longer
        than its piece (the text is that of ``json.dumps(to_dict())``)."""
        reports = self.reports
        whole = {
            "status": self.status,
            "cpts": LazyRows(len(reports), lambda i: reports[i].to_dict()),
            "register": self._register_dict(),
        }
        return json_pieces(whole, indent=indent, depth=3)

    def _register_dict(self) -> dict:
        """The register-wide part of :meth:`to_dict`."""
        return {
            "overlaps": [dict(o) for o in self.overlaps],
            "shared": [dict(o) for o in self.shared],
            "enclaves": [dict(e) for e in self.enclaves],
        }

    def to_text(self) -> str:
        """A French summary: one line per CPTS, register-wide findings, then what needs a look
        (:func:`cpts_geo.report.register_text`)."""
        from .report import register_text

        return register_text(self)


def json_pieces(obj, *, indent: int | None = 2, depth: int = 1, level: int = 0) -> Iterator[str]:
    """The text of ``json.dumps(obj, ensure_ascii=False, indent=indent)`` in pieces: the items
    of the dicts and lists (:class:`LazyRows` too) of the first ``depth`` levels one by one.

    >>> "".join(json_pieces({"a": [1, {"b": 2}], "c": []}, indent=2, depth=2)) == json.dumps(
    ...     {"a": [1, {"b": 2}], "c": []}, indent=2)
    True
    """
    if depth <= 0 or not isinstance(obj, (dict, list, LazyRows)) or not len(obj):
        text = json.dumps(list(obj) if isinstance(obj, LazyRows) else obj, ensure_ascii=False, indent=indent)
        yield text if not indent or not level else _indented(text, " " * (indent * level))
        return
    if indent is None:
        sep, inner, outer = ", ", "", ""
    else:
        sep, inner, outer = ",", "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)
    keyed = isinstance(obj, dict)
    yield "{" if keyed else "["
    items = obj.items() if isinstance(obj, dict) else ((None, v) for v in obj)
    for k, (key, value) in enumerate(items):
        yield (sep if k else "") + inner + (json.dumps(key, ensure_ascii=False) + ": " if keyed else "")
        yield from json_pieces(value, indent=indent, depth=depth - 1, level=level + 1)
    yield outer + ("}" if keyed else "]")


def _indented(text: str, pad: str) -> str:
    """``text`` (JSON: no raw line break inside a value) with ``pad`` before each line but the
    first."""
    return text.replace("\n", "\n" + pad)
