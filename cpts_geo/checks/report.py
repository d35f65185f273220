"""The results of the territory checks and their French text: plain dataclasses that serialise to
JSON (DESIGN.md §5), and the text a terminal shows.

:func:`cpts_geo.checks.rules.check_territory` returns a :class:`Report`,
:func:`cpts_geo.checks.rules.check_register` a :class:`RegisterReport`. ``to_dict()`` is the JSON
contract of ``cpts-geo check --format json`` and ``check-register --format json``; ``to_text()``
is :func:`report_text` / :func:`register_text`. The HTML report is drawn from a :class:`Report` by
:mod:`cpts_geo.outputs.html_report`.

Examples
--------
>>> import cpts_geo as cg
>>> ref = cg.load_reference()
>>> report = cg.check_territory(ref, ["69385", "69386"], name="Lyon 5e et 6e")
>>> report.status, [r.status for r in report.rules]
('fail', ['pass', 'fail', 'pass', 'warn', 'pass'])
>>> report_text(report).splitlines()[2]
'Résultat : ÉCHEC'
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cpts_geo._text import fr_decimal, fr_int, fr_km, fr_plural, fr_share, others

__all__ = [
    "RULE_LABELS",
    "STATUS_LABELS",
    "LazyRows",
    "RegisterReport",
    "Report",
    "RuleResult",
    "detail_lines",
    "population_cell",
    "reading_rows",
    "register_text",
    "report_text",
    "units_text",
    "warning_text",
    "cpts_label",
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
        The evidence, JSON-serialisable plain types (see each rule in :mod:`cpts_geo.checks.rules`).
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
    zones
        With zone layers: for each layer and category present in the territory, its units and
        population (:func:`cpts_geo.checks.zones.territory_zones`); ``None`` without layers.
    zone_layers
        The :class:`~cpts_geo.inputs.zones.ZoneLayer` checked against (what maps draw).
    reading
        ``input_warnings`` with what each correction retained, when known (``retained``,
        ``population``, ``part``): the « Lecture de la liste » of the reports (not part of the
        JSON contract; see :func:`reading_rows`).
    """

    territory: dict
    rules: list[RuleResult]
    input_warnings: list[dict] = field(default_factory=list)
    cpts_id: str | None = None
    units: list[dict] = field(default_factory=list, repr=False)
    zones: list[dict] | None = None
    zone_layers: list = field(default_factory=list, repr=False, compare=False)
    reading: list[dict] = field(default_factory=list, repr=False)

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
        if self.zones is not None:
            out["zones"] = [dict(z) for z in self.zones]
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_text(self) -> str:
        """A French summary for a terminal: one line per rule, then the details
        (:func:`report_text`)."""
        return report_text(self)


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
        (:func:`register_text`)."""
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


#: Short rule labels for the columns of the register table.
_RULE_COLUMNS = {
    "population": "Population",
    "contiguity": "Continuité",
    "enclaves": "Enclaves",
    "epci_alignment": "EPCI",
    "admin_boundaries": "Dép./rég.",
    "overlap": "Chevauch.",
}

_WIDTH = 100


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent]


def units_text(items, *, limit: int | None = None) -> str:
    """``Nom (code), Nom (code)`` from a list of ``{code, nom}``."""
    items = list(items)
    shown = items if limit is None else items[:limit]
    text = ", ".join(f"{u['nom']} ({u['code']})" for u in shown)
    if limit is not None and len(items) > limit:
        text += f" et {others(len(items) - limit)}"
    return text


def report_text(report: Report) -> str:
    """A French summary of one territory's checks for a terminal: one line per rule, then the details."""
    return "\n".join(_report_lines(report)) + "\n"


def register_text(rr: RegisterReport) -> str:
    """A French summary of a register's checks: one line per CPTS, register-wide findings, then
    what needs a look."""
    return "\n".join(_register_lines(rr)) + "\n"


def _territory_header(report: Report) -> list[str]:
    t = report.territory
    v = t.get("vintage", {})
    name = t.get("name") or "(sans nom)"
    head = f"{cpts_label(report.cpts_id)} : {name}" if report.cpts_id is not None else f"Territoire : {name}"
    if t.get("population_known", True):
        people = f"{fr_int(t['population'])} habitants"
        size = str(t["aci_size_class"])
    else:
        people = (
            f"entre {fr_int(t['population_min'])} et {fr_int(t['population_max'])} habitants "
            "(communes partagées : part inconnue)"
        )
        size = f"{t['aci_size_class_min']} à {t['aci_size_class_max']}"
    return [
        head,
        f"{fr_plural(t['n_communes'], 'commune')}, {people} "
        f"(population municipale {v.get('population', '?')}), taille ACI {size} "
        f"— COG {v.get('cog', '?')}",
    ]


def population_cell(territory: Mapping) -> str:
    """A territory's population for a table cell: « 12 345 », or « 12 345 à 354 345 » when it
    shares units declared shared without a finer mesh (its part of them is not known)."""
    if territory.get("population_known", True):
        return fr_int(territory["population"])
    return f"{fr_int(territory['population_min'])} à {fr_int(territory['population_max'])}"


def _report_lines(report: Report) -> list[str]:
    lines = _territory_header(report)
    lines.append(f"Résultat : {STATUS_LABELS[report.status]}")
    lines.append("")
    for r in report.rules:
        head = f"  {STATUS_LABELS[r.status]:<10} {RULE_LABELS.get(r.id, r.id):<24} "
        wrapped = textwrap.wrap(
            r.message,
            width=_WIDTH,
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_on_hyphens=False,
            break_long_words=False,
        )
        lines.extend(wrapped or [head.rstrip()])
    details = []
    for r in report.rules:
        body = _DETAILS.get(r.id, lambda d: [])(r.details)
        if body:
            details.append(f"  {RULE_LABELS.get(r.id, r.id)}")
            details.extend(body)
    if details:
        lines += ["", "Détails"] + details
    if report.zones is not None:
        from cpts_geo.checks.zones import zone_lines

        lines += ["", "Zones"]
        for ln in zone_lines(report.zones, [z.name for z in report.zone_layers]):
            lines += _wrap(ln.lstrip(), " " * (len(ln) - len(ln.lstrip())))
    communes = report.territory.get("communes", [])
    lines += ["", f"Communes ({fr_int(len(communes))}) :"]
    lines += _wrap(units_text(report.units) if report.units else ", ".join(communes), "  ")
    if report.input_warnings:
        lines += ["", f"Avertissements de lecture ({fr_int(len(report.input_warnings))}) :"]
        for w in report.input_warnings:
            lines += _wrap(warning_text(w), "  ")
    return lines


def cpts_label(cpts_id) -> str:
    """A CPTS named by its id in a title: « CPTS 42 », and « CPTS-49-01 » as it is (not « CPTS
    CPTS-49-01 »).

    >>> cpts_label("42"), cpts_label("CPTS-49-01"), cpts_label("cpts du Saumurois")
    ('CPTS 42', 'CPTS-49-01', 'cpts du Saumurois')
    """
    text = str(cpts_id)
    return text if text[:4].upper() == "CPTS" else f"CPTS {text}"


def warning_text(warning: Mapping) -> str:
    """A reading warning as one line, « ligne 4 « 49015 » : message ». A message that already
    names its line (rows skipped, listed with their content) is not prefixed with it again.

    >>> warning_text({"line": 4, "value": "49015", "message": "ancien code"})
    'ligne 4 « 49015 » : ancien code'
    >>> warning_text({"line": 32, "value": "Total", "message": "ligne(s) de total ignorée(s) : ligne 32 « Total »"})
    'ligne(s) de total ignorée(s) : ligne 32 « Total »'
    """
    message = str(warning.get("message", ""))
    line = warning.get("line")
    if line is not None and f"ligne {line} «" in message:
        return message
    where = f"ligne {line}" if line is not None else "valeur"
    value = f" « {warning['value']} »" if warning.get("value") not in (None, "") else ""
    return f"{where}{value} : {message}"


def reading_rows(report: Report) -> list[dict]:
    """The part « Lecture de la liste » of a report: every correction made while reading the
    file, one row each with ``line`` (``None`` for the file as a whole), ``value`` (as
    written), ``retained`` (what was retained: the communes, or « ligne ignorée »), ``effect``
    (on the territory's population: « +25 797 hab. », « aucun ») and ``message``.

    >>> r = Report({}, [], reading=[
    ...     {"line": 4, "value": "Le Longeron", "message": "ancienne commune ...",
    ...      "retained": "Sèvremoine (49301)", "population": 25797, "part": "ancienne commune"},
    ...     {"line": 9, "value": "Total", "message": "ligne(s) de total ignorée(s) : ligne 9 « Total »"}])
    >>> [(w["line"], w["retained"], w["effect"]) for w in reading_rows(r)]  # doctest: +NORMALIZE_WHITESPACE
    [(4, 'Sèvremoine (49301)', '+25\xa0797\xa0hab. (commune entière)'), (9, 'ligne ignorée', 'aucun')]
    """
    out = []
    for w in report.reading or report.input_warnings:
        message = str(w.get("message", ""))
        if "population" in w:
            pop = int(w["population"])
            effect = f"+{fr_int(pop)}\u00a0hab." if pop else "aucun (déjà compté)"
            if pop and w.get("part"):
                effect += " (commune entière)"
            retained = str(w.get("retained", ""))
        elif w.get("retained"):
            retained = str(w["retained"])
            effect = "aucun" if "ignoré" in retained else "—"
        elif "ignoré" in message:
            retained, effect = "ligne ignorée" if "ligne" in message else "ignoré", "aucun"
        else:
            retained, effect = "", "—"
        out.append(
            {
                "line": w.get("line"),
                "value": w.get("value", ""),
                "retained": retained,
                "effect": effect,
                "message": message,
            }
        )
    # The file as a whole first (sheet, name), then line by line, in the file's order.
    return sorted(out, key=lambda r: (r["line"] is not None, r["line"] or 0))


#: Units named per list in the detail lines of a terminal report.
UNITS_SHOWN = 20


def _contiguity_lines(d: dict, limit: int | None = UNITS_SHOWN) -> list[str]:
    parts = d.get("components", [])
    if len(parts) < 2:
        return []
    out = []
    for c in parts:
        where = " (île)" if c.get("island") else ""
        out += _wrap(
            f"partie {c['id']} « {c['name']} »{where} : {fr_plural(c['n_communes'], 'commune')}, "
            f"{fr_int(c['population'])} hab. — {units_text(c['communes'], limit=limit)}",
            "    ",
        )
    for key, kind in (("sea_links", "liaison maritime"), ("water_crossings", "traversée par l'eau")):
        for link in d.get(key, []):
            out += _wrap(
                f"{kind} : {link['a_nom']} ({link['a']}) – {link['b_nom']} ({link['b']}), "
                f"{fr_km(link['distance_km'])}\u00a0km (parties {link['parts'][0]} et "
                f"{link['parts'][1]})",
                "    ",
            )
    for gap in d.get("land_gaps", []):
        out += _wrap(
            "séparées par des communes hors du territoire : parties " + ", ".join(str(p) for p in gap), "    "
        )
    return out


def _enclave_lines(d: dict, limit: int | None = UNITS_SHOWN) -> list[str]:
    out = []
    for i, g in enumerate(d.get("groups", []), 1):
        out += _wrap(
            f"enclave {i} : {fr_plural(g['n_communes'], 'commune')}, {fr_int(g['population'])} hab. "
            f"— {units_text(g['communes'], limit=limit)}",
            "    ",
        )
    return out


def _epci_lines(d: dict, limit: int | None = UNITS_SHOWN) -> list[str]:
    out = []
    for e in d.get("epcis", []):
        state = "entier" if e["whole"] else "coupé"
        out += _wrap(
            f"{e['nom']} ({e['code']}) : {state}, {fr_int(e['n_communes_in'])}/"
            f"{fr_plural(e['n_communes'], 'commune')}, {fr_int(e['population_in'])}/"
            f"{fr_int(e['population'])} hab. ({fr_share(e['share_population'])})",
            "    ",
        )
    if d.get("without_epci"):
        out += _wrap(f"communes sans EPCI : {units_text(d['without_epci'])}", "    ")
    return out


def _admin_lines(d: dict, limit: int | None = UNITS_SHOWN) -> list[str]:
    out = []
    for r in d.get("regions", []):
        out += _wrap(
            f"région {r['nom']} ({r['code']}) : {fr_plural(r['n_communes'], 'commune')}, "
            f"{fr_int(r['population'])} hab.",
            "    ",
        )
    for dep in d.get("departements", []):
        out += _wrap(
            f"département {dep['nom']} ({dep['code']}) : {fr_plural(dep['n_communes'], 'commune')}, "
            f"{fr_int(dep['population'])} hab.",
            "    ",
        )
    return out


def _overlap_lines(d: dict, limit: int | None = UNITS_SHOWN) -> list[str]:
    out = []
    for c in d.get("cpts", []):
        if not c["n_communes"]:
            out += _wrap(
                f"{c['cpts_nom']} ({c['cpts_id']}) : aucune commune partagée ; son contour couvre "
                f"{fr_decimal(c.get('area_km2', 0), 2)} km² de communes du territoire",
                "    ",
            )
            continue
        out += _wrap(
            f"{c['cpts_nom']} ({c['cpts_id']}) : {fr_plural(c['n_communes'], 'commune partagée', 'communes partagées')}, "
            f"{fr_int(c['population'])} hab. — {units_text(c['communes'], limit=limit)}",
            "    ",
        )
    for o in d.get("shared", []):
        out += _wrap(
            f"commune partagée déclarée : {o['nom']} ({o['code']}), {fr_int(o['population'])} hab., "
            "avec " + ", ".join(o["cpts"]),
            "    ",
        )
    return out


_DETAILS = {
    "contiguity": _contiguity_lines,
    "enclaves": _enclave_lines,
    "epci_alignment": _epci_lines,
    "admin_boundaries": _admin_lines,
    "overlap": _overlap_lines,
}


def detail_lines(rule: RuleResult, *, limit: int | None = UNITS_SHOWN) -> list[str]:
    """The detail lines of a rule's evidence, as the text report prints them (wrapped for a
    terminal, continuations indented further): at most ``limit`` units named per list (« … et 2
    autres »), every unit with ``limit=None`` (what a printed report shows)."""
    build = _DETAILS.get(rule.id)
    return build(rule.details, limit) if build is not None else []


def _register_lines(rr: RegisterReport) -> list[str]:
    n = len(rr.reports)
    lines = [f"Registre : {fr_plural(n, 'CPTS', 'CPTS')} — résultat : {STATUS_LABELS[rr.status]}"]
    if rr.reports:
        v = rr.reports[0].territory.get("vintage", {})
        lines.append(f"COG {v.get('cog', '?')}, population municipale {v.get('population', '?')}")
    ids = [r.id for r in rr.reports[0].rules] if rr.reports else []
    width_id = max([len("id")] + [len(str(r.cpts_id)) for r in rr.reports])
    pops = [population_cell(r.territory) for r in rr.reports]
    width_pop = max([11] + [len(p) for p in pops])
    header = (
        f"  {'id':<{width_id}}  {'résultat':<10} {'communes':>8} {'population':>{width_pop}}  "
        + " ".join(f"{_RULE_COLUMNS.get(i, i)[:10]:<10}" for i in ids)
        + "  nom"
    )
    lines += ["", header]
    for r, people in zip(rr.reports, pops):
        t = r.territory
        cells = " ".join(f"{STATUS_LABELS[x.status]:<10}" for x in r.rules)
        lines.append(
            f"  {r.cpts_id!s:<{width_id}}  {STATUS_LABELS[r.status]:<10} {fr_int(t['n_communes']):>8} "
            f"{people:>{width_pop}}  {cells}  {t.get('name') or ''}"
        )
    unknown = [r for r in rr.reports if not r.territory.get("population_known", True)]
    if unknown:
        lines += _wrap(
            f"Population inconnue pour {fr_plural(len(unknown), 'CPTS', 'CPTS')} : "
            + ("elle partage" if len(unknown) == 1 else "elles partagent")
            + " des communes déclarées partagées (commune_partagee) sans découpage plus fin (IRIS, "
            "secteurs) ; population et taille ACI sont données de la CPTS sans ces communes à la CPTS "
            "avec ces communes entières.",
            "",
        )
    lines.append("")
    if rr.overlaps:
        lines.append(f"Communes dans plusieurs CPTS ({fr_int(len(rr.overlaps))}) :")
        for o in rr.overlaps:
            lines += _wrap(
                f"{o['nom']} ({o['code']}), {fr_int(o['population'])} hab. : CPTS " + ", ".join(o["cpts"]),
                "  ",
            )
    else:
        lines.append("Aucune commune dans plusieurs CPTS.")
    if rr.shared:
        lines.append(f"Communes partagées déclarées (commune_partagee) ({fr_int(len(rr.shared))}) :")
        for o in rr.shared:
            lines += _wrap(
                f"{o['nom']} ({o['code']}), {fr_int(o['population'])} hab. : CPTS " + ", ".join(o["cpts"]),
                "  ",
            )
    if rr.enclaves:
        lines.append(
            "Communes hors CPTS enclavées par les CPTS du registre "
            f"({fr_plural(len(rr.enclaves), 'groupe')}) :"
        )
        for g in rr.enclaves:
            lines += _wrap(
                f"{units_text(g['communes'], limit=20)} — {fr_plural(g['n_communes'], 'commune')}, "
                f"{fr_int(g['population'])} hab. ; CPTS autour : " + ", ".join(g["cpts"]),
                "  ",
            )
    else:
        lines.append("Aucune commune hors CPTS enclavée par les CPTS du registre.")
    with_zones = [r for r in rr.reports if r.zones]
    if any(r.zones is not None for r in rr.reports):
        lines += ["", "Zones touchées par chaque CPTS"]
        for r in with_zones:
            parts: dict[str, list[str]] = {}
            for z in r.zones or []:
                cat = "" if z["category"] == z["layer"] else f"{z['category']} "
                parts.setdefault(z["layer"], []).append(
                    f"{cat}{fr_plural(z['n_units'], 'commune')} ({fr_int(z['population'])} hab.)"
                )
            lines += _wrap(
                f"CPTS {r.cpts_id} : " + " ; ".join(f"{k} : {', '.join(v)}" for k, v in parts.items()), "  "
            )
        if not with_zones:
            lines.append("  aucune CPTS ne touche ces zones")
    flagged = [r for r in rr.reports if r.status != "pass"]
    if flagged:
        lines += ["", "À examiner"]
        for r in flagged:
            lines.append(f"  CPTS {r.cpts_id} : {r.territory.get('name') or ''}")
            for x in r.rules:
                if x.status != "pass":
                    lines += _wrap(
                        f"{STATUS_LABELS[x.status]} {RULE_LABELS.get(x.id, x.id)} : {x.message}", "    "
                    )
    return lines
