"""Resolving what users type (codes, names, postal codes, EPCI) into unit codes.

:meth:`cpts_geo.Reference.resolve` delegates here. The lookup tables are built once per
reference by :func:`cpts_geo.reference.names.build_index` and cached by the reference itself (``Reference._name_index``).

A list is resolved in two passes: first every value that designates one unit (or one set of
units) on its own, which gives the list's *context* (its départements and units); then the
homonyms and the typos, which the context may decide:

- a name borne by several communes is the one in the context's départements, else the one
  adjacent to the context's units, with a warning naming the others; refused otherwise;
- a name that matches nothing gets « vouliez-vous dire … ? » suggestions, and is resolved only
  when exactly one commune of the context is a close match (:data:`AUTO_SCORE`).

Every problem is collected and raised at once (:class:`UnknownCommuneError`,
:class:`AmbiguousNameError`), each with its line and value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from cpts_geo._errors import AmbiguousNameError, InputError, UnknownCommuneError
from cpts_geo.reference.names import Former, Locality, NameIndex, epci_key, normalize_name, without_remark

__all__ = [
    "AUTO_SCORE",
    "MAX_SUGGESTIONS",
    "SUGGEST_SCORE",
    "resolve",
]

#: A misspelt name is resolved to a commune of the list's context (postal code or département
#: given, départements of the list, communes adjacent to its units) only when that commune is
#: strictly fewer edits away (OSA distance: a letter inserted, deleted, replaced, or two
#: swapped) than every other commune of the context, and scores at least AUTO_SCORE in
#: rapidfuzz ``fuzz.ratio`` of the folded names, 100 * (1 - d / (len(a) + len(b))) with d the
#: insertions + deletions. One wrong letter (d = 2) scores 83.3 on a 6-letter name, 85.7 on 7,
#: 90 on 10; a missing or extra letter (d = 1) scores 85.7 on a 3-4 letter name. So one typo
#: on a name of 6 letters or less stays a suggestion (« Roye » / « Rosey » / « Roey »).
#: The unique-nearest rule is what keeps choices right: with one typo, the intended commune is
#: one edit away, so any other commune as close makes the name refused. On 4 x 200 communes
#: drawn from the reference, each with four kinds of one-letter typo and one neighbour as the
#: list, 88 resolved 78 %, 85 resolved 90 %, 82 resolved 95 %, none wrong (with eight other
#: communes of the same département as the list: 93 %, none wrong). What the rule cannot see is
#: a typo of a commune outside the context: a commune outside it that is nearer blocks the
#: choice, and the ratio floor keeps short names out; with the list in another département, 1
#: of 573 such typos was still taken (« Manal » for Maynal, Jura, gave Mana, Guyane: a tie).
#: See tests/reference/test_resolve.py.
AUTO_SCORE = 85.0

#: Similarity from which a commune is proposed in « vouliez-vous dire … ? » (at most
#: :data:`MAX_SUGGESTIONS`, those of the list's départements first).
SUGGEST_SCORE = 75.0
MAX_SUGGESTIONS = 5


def _replaced_note(ix: NameIndex, code: str, units: list[str]) -> str | None:
    """The warning for a commune code that means several units (a PLM city, a divided commune)."""
    if units == [code]:
        return None
    what = "arrondissements" if not ix.infra.intersection(units) else "unités infracommunales"
    return f"{_label(ix, code)} remplacée par ses {len(units)} {what}"


# ---- one row ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    index: int
    line: object
    value: str
    dep: str | None = None  # département code given for the value
    postal: str | None = None  # postal code given for the value
    units: list[str] | None = None  # resolved
    problem: dict | None = None
    pending: str | None = None  # "homonym" or "typo": decided with the list's context
    candidates: list[str] = field(default_factory=list)  # commune codes still in question
    text: str = ""  # the name as typed, for messages
    notes: list[str] = field(default_factory=list)  # said whatever the choice (former name...)
    scores: dict = field(default_factory=dict)  # typo candidates: commune -> similarity
    matched: dict = field(default_factory=dict)  # typo candidates: commune -> Former matched, or None
    keys: dict = field(default_factory=dict)  # typo candidates: commune -> folded name matched
    formers: dict = field(default_factory=dict)  # a former name's candidates: commune -> Former
    localities: dict = field(default_factory=dict)  # a locality's candidates: commune -> Locality
    # What the row names that is only a part of the commune retained (a locality, a former
    # commune, an old code): its population effect is said once the list is resolved.
    part: Former | Locality | None = None


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    v = str(value).strip().strip('"').strip()
    if re.fullmatch(r"\d+\.0", v):  # Excel turned the code into a float
        v = v[:-2]
    return v


def _label(ix: NameIndex, code: str) -> str:
    return f"{ix.nom.get(code, code)} ({code})"


def _listing(ix: NameIndex, codes, limit: int = 10) -> str:
    codes = list(codes)
    text = ", ".join(f"{ix.nom.get(c, c)} ({c}, {ix.departement.get(c, '?')})" for c in codes[:limit])
    return text + (f" et {len(codes) - limit} autres" if len(codes) > limit else "")


class _Resolver:
    def __init__(self, ref, ix: NameIndex, prefer: str | None):
        self.ref, self.ix, self.prefer = ref, ix, prefer
        self.cog = ref.vintage["cog"]

    # -- codes --
    def code(self, v: str):
        """``(units, warning, problem)`` for a value that looks like a code, else None."""
        ix, up = self.ix, v.upper()
        for key in (v, up):  # a sub-unit's code (an IRIS's nine digits are not a SIREN)
            if key in ix.infra:
                return [key], None, None
        if re.fullmatch(r"\d{9}", up):
            if up in ix.epci_units:
                return self._epci(up, why=f"SIREN {up} : ")
            return (
                [],
                None,
                {"message": f"SIREN '{v}' : aucun EPCI de ce numéro au COG {self.cog}", "kind": "unknown"},
            )
        spaced = re.fullmatch(r"(\d{1,2})[ \u00a0\u202f\u2009](\d{3})", up)
        if spaced:  # « 49 007 »: a code written as a number with a thousands separator
            joined = spaced.group(1) + spaced.group(2)
            got = self.code(joined)
            if got is None or got[2] is not None:
                return got
            note = f"code écrit avec un séparateur de milliers : « {v} » lu {joined}"
            return got[0], " ; ".join(x for x in (note, got[1]) if x), None
        if re.fullmatch(r"\d{4}", up):
            code, fix = "0" + up, f"code complété par un zéro initial : {v} → 0{up}"
        elif re.fullmatch(r"\d[0-9AB]\d{3}", up):
            code, fix = up, None
        else:
            return None

        def done(units, note=None):
            return units, " ; ".join(x for x in (fix, note) if x) if (fix or note) else None, None

        if code in ix.units_of:
            units = ix.units_of[code]
            return done(units, _replaced_note(ix, code, units))
        if code in ix.commune_of:  # an arrondissement
            return done([code])
        if code.startswith("75") and code in ix.old_codes and code in ix.postal:
            # Codes of the former Seine (before 1968) that are Paris postal codes today: the
            # postal code is what a user means by « 75001 ».
            units = list(ix.postal[code])
            if len(units) == 1:
                return (
                    [units[0]],
                    (
                        f"{code} est un code postal, pas un code INSEE : {_label(ix, units[0])} "
                        "retenue (avant 1968, code INSEE d'une commune de la Seine, aujourd'hui "
                        f"{_label(ix, ix.old_codes[code])})"
                    ),
                    None,
                )
        if code in ix.old_codes:
            new = ix.old_codes[code]
            return done(
                ix.units_of[new],
                f"ancien code {code} : commune fusionnée dans {_label(ix, new)} au COG {self.cog}",
            )
        if len(v) == 5 and v in ix.postal:
            cands = sorted(ix.postal[v])
            if len(cands) == 1:
                c = cands[0]
                return (
                    ix.units_of.get(c, [c]),
                    (
                        f"{v} est un code postal, pas un code INSEE : {_label(ix, c)} retenue, "
                        "seule commune de ce code postal"
                    ),
                    None,
                )
            return (
                [],
                None,
                {
                    "message": f"{v} est un code postal, pas un code INSEE ; il dessert {len(cands)} "
                    f"communes : {_listing(ix, cands)} ; donnez le code INSEE de la commune voulue",
                    "kind": "ambiguous",
                    "candidates": cands,
                },
            )
        return (
            [],
            None,
            {
                "message": f"code commune '{v}' inconnu du COG {self.cog} ; vérifiez le code "
                "ou utilisez le nom et le département",
                "kind": "unknown",
            },
        )

    def _epci(self, siren: str, why: str):
        units = sorted(set(self.ix.epci_units[siren]))
        n = len({self.ix.commune_of.get(u, u) for u in units})
        nom = self.ref.epci.at[siren, "nom"]
        what = f"ses {n} communes" + (f" ({len(units)} unités)" if len(units) != n else "")
        return units, f"{why}EPCI {nom} ({siren}) remplacé par {what}", None

    # -- names --
    def exact(self, row: _Row, name: str) -> tuple[list[str], list[str], list[str]]:
        """Commune codes the name designates after the row's filters, the notes to give, and
        the codes it designates without the filters."""
        ix, key = self.ix, normalize_name(name)
        notes: list[str] = []
        current = list(ix.current.get(key, ()))
        formers = list(ix.former.get(key, ()))
        base = without_remark(name)
        if not current and not formers and base != name:
            # « Juigné-Béné (ancien code) »: the remark in brackets is not part of the name.
            key = normalize_name(base)
            current, formers = list(ix.current.get(key, ())), list(ix.former.get(key, ()))
            if current or formers:
                notes.append(f"« {name} » lu comme « {base} » (remarque entre parenthèses ignorée)")
        if current:
            cands = current
            others = [f for f in formers if f.commune not in current and self._possible(row, f.commune)]
            if others and self._filtered(row, current):
                notes.append(
                    f"« {name} » est aussi le nom d'une ancienne commune ("
                    + ", ".join(
                        f"{f.nom} ({f.code}), rattachée à {_label(ix, f.commune)}" for f in others[:3]
                    )
                    + ") : la commune actuelle est retenue"
                )
        else:
            cands = sorted({f.commune for f in formers})
        unfiltered = cands
        cands = self._filtered(row, cands)
        if not current:
            row.formers = {f.commune: f for f in formers if f.commune in cands}
            if len(cands) == 1:
                notes.append(self._former_note(row.formers[cands[0]]))
        return sorted(cands), notes, sorted(unfiltered)

    def _take(self, row: _Row, code: str) -> None:
        """Resolve the row to a commune (or arrondissement) code: its units."""
        row.units, row.pending = self.ix.units_of.get(code, [code]), None
        loc = row.localities.get(code)
        if loc is not None and loc.type != "partie":  # the commune's own name, as the post writes it
            row.notes.append(f"« {row.text} » : nom de {_label(self.ix, code)} tel que l'écrit La Poste")
            loc = None
        row.part = loc or row.formers.get(code) or row.part
        note = _replaced_note(self.ix, code, row.units)
        if note:
            row.notes.append(note)

    def _former_note(self, f: Former) -> str:
        since = f" depuis {f.depuis}" if f.depuis else ""
        return f"ancienne commune {f.nom} ({f.code}), rattachée à {_label(self.ix, f.commune)}{since}"

    def _possible(self, row: _Row, code: str) -> bool:
        """Whether the row's département and postal code leave ``code`` possible (a former commune
        of another département is no homonym worth a note when the row names the département)."""
        ix = self.ix
        if row.dep and ix.departement.get(code) != row.dep:
            return False
        return not row.postal or row.postal in ix.postal_of.get(code, ())

    def _filtered(self, row: _Row, codes) -> list[str]:
        ix = self.ix
        out = list(codes)
        if row.dep:
            out = [c for c in out if ix.departement.get(c) == row.dep]
        if row.postal:
            with_cp = [c for c in out if row.postal in ix.postal_of.get(c, ())]
            if with_cp or len(out) > 1:
                out = with_cp
        return out

    def name(self, row: _Row, name: str) -> None:
        """First pass on a name: resolved, pending (homonym, typo) or a problem."""
        ix = self.ix
        row.text = name
        cands, notes, unfiltered = self.exact(row, name)
        row.notes += notes
        if len(cands) == 1:
            c = cands[0]
            if row.postal and row.postal not in ix.postal_of.get(c, ()):
                cps = ", ".join(sorted(ix.postal_of.get(c, ()))) or "aucun"
                row.notes.append(
                    f"code postal {row.postal} absent de {_label(ix, c)} (codes postaux : {cps}) ; "
                    "le nom est retenu"
                )
            self._take(row, c)
            return
        if len(cands) > 1:
            row.pending, row.candidates = "homonym", cands
            return
        key = epci_key(name)
        if key not in ix.epci:
            key = re.sub(r"^(cc|ca|cu|metropole) ", "", key)
        if key in ix.epci and not unfiltered:
            sirens = sorted(set(ix.epci[key]))
            if len(sirens) == 1:
                row.units, warn, _ = self._epci(sirens[0], why="")
                row.notes.append(warn)
                return
        if not unfiltered and self._locality(row, name):
            return
        if unfiltered:  # the name exists, not in the département / postal code given
            where = (
                " ("
                + ", ".join(
                    x
                    for x in (
                        f"département {row.dep}" if row.dep else "",
                        f"code postal {row.postal}" if row.postal else "",
                    )
                    if x
                )
                + ")"
            )
            row.problem = {
                "message": f"commune '{name}'{where} introuvable au COG {self.cog} ; ce nom désigne "
                f"{_listing(ix, unfiltered)} ; vérifiez le département ou donnez le code INSEE",
                "kind": "unknown",
                "candidates": unfiltered,
            }
            return
        row.pending = "typo"
        row.scores = self.similar(normalize_name(without_remark(name)), row)
        row.candidates = list(row.scores)

    def _locality(self, row: _Row, name: str) -> bool:
        """A name that is a locality, a part of a commune (« Carnon », in Mauguio): its commune,
        or a homonym pending between the communes having a locality of that name. False when
        the name is no locality (of the row's département and postal code)."""
        ix = self.ix
        found = ix.localities.get(normalize_name(name)) or ix.localities.get(
            normalize_name(without_remark(name)), ()
        )
        if not found:
            return False
        by_commune = {loc.commune: loc for loc in found}
        cands = [
            c
            for c in sorted(by_commune)
            if self._possible(row, c) or (row.postal and row.postal == by_commune[c].code_postal)
        ]
        if row.dep:
            cands = [c for c in cands if ix.departement.get(c) == row.dep]
        if not cands:
            return False
        row.localities = {c: by_commune[c] for c in cands}
        if len(cands) == 1 and (row.dep or row.postal):
            self._take(row, cands[0])
        else:  # decided by the list's context: « Talmont » near Talmont-Saint-Hilaire is no Talmont-sur-Gironde
            row.pending, row.candidates = "locality", cands
        return True

    def undecided_locality(self, row: _Row, context: bool) -> None:
        """A place name that the list's context did not decide: its commune when it is the only
        one and the list gives no context (a list of one name), else read as a typo (the
        commune meant may be another one of a close name, nearer the list)."""
        if len(row.candidates) == 1 and not context:
            self._take(row, row.candidates[0])
            return
        row.pending = "typo"
        row.scores = self.similar(normalize_name(without_remark(row.text)), row)
        row.candidates = list(row.scores)

    def similar(self, key: str, row: _Row) -> dict[str, float]:
        """Communes whose names (current or former) are within :data:`SUGGEST_SCORE` of ``key``."""
        from rapidfuzz import fuzz, process

        if not key:
            return {}
        ix = self.ix
        out: dict[str, float] = {}
        for choice, score, i in process.extract(
            key, ix.choices, scorer=fuzz.ratio, processor=None, score_cutoff=SUGGEST_SCORE, limit=50
        ):
            for c in self._filtered(row, ix.choice_codes[i]):
                if score > out.get(c, -1.0):
                    out[c] = float(score)
                    current = c in ix.current.get(choice, ())
                    row.keys[c] = choice
                    row.matched[c] = (
                        None
                        if current
                        else next((f for f in ix.former.get(choice, ()) if f.commune == c), None)
                    )
        return out

    # -- code and name of one row --
    def pair(self, row: _Row, v: str, name: str) -> None:
        ix = self.ix
        got = self.code(v)
        if got is None:  # the code column holds a name: the name column is a repeat
            self.name(row, v)
            return
        units, warn, problem = got
        as_code = self.code(name)
        if as_code is not None:  # the name column holds a code too
            if problem is None and as_code[2] is None and set(as_code[0]) == set(units):
                row.units = units
                row.notes += [warn] if warn else []
                return
            cands = sorted({ix.commune_of.get(u, u) for u in as_code[0]})
        else:
            cands, _, _ = self.exact(_Row(row.index, row.line, name, dep=row.dep), name)
        if problem is not None and as_code is None and v in ix.postal:
            # A postal code in the code column: the name says which of its communes.
            both = [c for c in cands if c in ix.postal[v]]
            if len(both) == 1:
                row.notes.append(
                    f"{v} est un code postal, pas un code INSEE : {_label(ix, both[0])} retenue "
                    f"d'après le nom '{name}'"
                )
                self._take(row, both[0])
                return
        if problem is None and as_code is None:
            communes = {ix.commune_of.get(u, u) for u in units}
            designated = set(units) | communes
            names_of = {normalize_name(ix.nom[c]) for c in designated if c in ix.nom}
            names_of |= {normalize_name(f.nom) for c in communes for f in ix.former_of.get(c, ())}
            if any(c in designated for c in cands) or normalize_name(name) in names_of:
                row.units = units
                row.notes += [warn] if warn else []
                return
            locality = next(
                (loc for loc in ix.localities.get(normalize_name(name), ()) if loc.commune in communes), None
            )
            if not cands and locality is not None:  # « 34154 ; Carnon »: a part of the commune
                row.units, row.text = units, name
                row.part = locality if locality.type == "partie" else None
                row.notes += [warn] if warn else []
                return
            if not cands and v.upper().zfill(5) in ix.old_codes:
                # An old code with a name the reference does not know: the name of the
                # commune the code designated (absorbed before the former communes' source).
                row.units = units
                row.notes += ([warn] if warn else []) + [
                    f"nom '{name}' inconnu du COG {self.cog}, sans doute celui de l'ancienne commune {v} : "
                    "le code est retenu"
                ]
                return
            if not cands:
                from rapidfuzz import fuzz

                best = max((fuzz.ratio(normalize_name(name), k) for k in names_of), default=0)
                if best >= SUGGEST_SCORE:
                    row.units = units
                    row.notes += ([warn] if warn else []) + [
                        f"nom '{name}' proche de {', '.join(_label(ix, c) for c in sorted(communes))} : "
                        "le code est retenu"
                    ]
                    return
        code_reading = (
            f"le code désigne {', '.join(_label(ix, c) for c in sorted({ix.commune_of.get(u, u) for u in units}))}"
            if problem is None
            else f"le code est inconnu ({problem['message']})"
        )
        name_reading = (
            f"le nom désigne {_listing(ix, cands)}" if cands else "le nom ne désigne aucune commune"
        )
        if self.prefer == "codes" and problem is None:
            row.units = units
            row.notes += ([warn] if warn else []) + [
                f"code {v} et nom '{name}' en désaccord : {code_reading}, {name_reading} ; le code est retenu"
            ]
            return
        if self.prefer == "names":
            row.notes.append(
                f"code {v} et nom '{name}' en désaccord : {code_reading}, {name_reading} ; le nom est retenu"
            )
            self.name(row, name)
            return
        row.problem = {
            "message": f"code {v} et nom '{name}' ne désignent pas la même commune : {code_reading}, "
            f"{name_reading} ; corrigez la ligne, ou dites quelle colonne prime (prefer='codes' ou "
            "prefer='names')",
            "kind": "mismatch",
            "candidates": sorted(cands),
        }

    # -- context --
    def decide(self, row: _Row, deps: set, units: set, near: set) -> bool:
        """Decide a homonym with the list's context (adjacent units, else départements); True if decided."""
        ix = self.ix
        if row.pending in ("homonym", "locality"):
            # Adjacency first: a homonym across a border (the list's other départements may
            # hold another commune of that name) is the one that touches the list.
            adjacent = [
                c for c in row.candidates if any(u in near or u in units for u in ix.units_of.get(c, [c]))
            ]
            in_dep = [c for c in row.candidates if ix.departement.get(c) in deps]
            if len(adjacent) == 1:
                chosen, why = adjacent[0], "voisine d'autres communes de la liste"
            elif len(in_dep) == 1 and not adjacent:
                chosen, why = in_dep[0], "dans le département des autres communes de la liste"
            else:
                return False
            others = [c for c in row.candidates if c != chosen]
            if chosen in row.localities:
                if others:
                    row.notes.append(
                        f"nom de lieu '{row.text}' de {len(row.candidates)} communes : celle de "
                        f"{_label(ix, chosen)}, département {ix.departement[chosen]}, retenue, {why} ; "
                        f"autres : {_listing(ix, others)}"
                    )
            elif chosen in row.formers:
                row.notes.append(self._former_note(row.formers[chosen]))
                row.notes.append(
                    f"nom porté par {len(row.candidates)} anciennes communes : celle de {_label(ix, chosen)}, "
                    f"département {ix.departement[chosen]}, retenue, {why} ; autres : {_listing(ix, others)}"
                )
            else:
                row.notes.append(
                    f"nom '{row.text}' porté par {len(row.candidates)} communes : {_label(ix, chosen)}, "
                    f"département {ix.departement[chosen]}, retenue, {why} ; autres : {_listing(ix, others)}"
                )
            self._take(row, chosen)
            return True
        return False

    def decide_typo(self, row: _Row, deps: set, units: set, near: set) -> None:
        """A name that matched nothing: the single close match of the context, else suggestions.

        The context is the postal code given, else the département given, the list's
        départements and the communes adjacent to its units. A match is taken when it scores
        :data:`AUTO_SCORE`, is strictly fewer edits away (letters inserted, deleted, replaced
        or swapped) than any other commune of the context, and no commune outside the context
        is fewer edits away than it.
        """
        from rapidfuzz.distance import OSA

        ix = self.ix
        scope = deps | ({row.dep} if row.dep else set())

        def in_context(c):
            if row.postal:  # the candidates were narrowed to the postal code's communes
                return row.postal in ix.postal_of.get(c, ())
            return ix.departement.get(c) in scope or any(
                u in near or u in units for u in ix.units_of.get(c, [c])
            )

        key = normalize_name(row.text)
        edits = {c: OSA.distance(key, row.keys[c]) for c in row.scores}
        inside = {c: d for c, d in edits.items() if in_context(c)}
        best = min(inside.values(), default=None)
        winners = [c for c, d in inside.items() if d == best]
        # A commune outside the context that is nearer still is what the user more likely meant.
        nearer_elsewhere = best is not None and any(d < best for c, d in edits.items() if c not in inside)
        if len(winners) == 1 and not nearer_elsewhere and row.scores[winners[0]] >= AUTO_SCORE:
            c = winners[0]
            why = (
                "parmi celles du code postal donné"
                if row.postal
                else "dans le département donné"
                if row.dep and ix.departement[c] == row.dep
                else "dans le département des autres communes de la liste"
                if ix.departement[c] in scope
                else "parmi les voisines des autres communes de la liste"
            )
            row.notes.append(
                f"commune '{row.text}' introuvable : {_label(ix, c)} retenue, nom le plus proche {why}"
            )
            f = row.matched.get(c)
            if isinstance(f, Former):  # the close name was a former name of the commune
                row.notes.append(self._former_note(f))
                row.part = f
            self._take(row, c)
            return
        ranked = sorted(row.scores, key=lambda c: (ix.departement.get(c) not in scope, -row.scores[c], c))
        where = (
            " ("
            + ", ".join(
                x
                for x in (
                    f"département {row.dep}" if row.dep else "",
                    f"code postal {row.postal}" if row.postal else "",
                )
                if x
            )
            + ")"
            if (row.dep or row.postal)
            else ""
        )
        msg = (
            f"commune '{row.text}'{where} introuvable au COG {self.cog} ; vérifiez l'orthographe ou donnez "
            "le code INSEE"
        )
        foreign = _foreign_letters(row.text)
        if foreign:
            msg += f" ; {foreign}"
        if ranked:
            msg += f" ; vouliez-vous dire : {_listing(ix, ranked[:MAX_SUGGESTIONS])} ?"
        row.problem = {"message": msg, "kind": "unknown", "candidates": ranked[:MAX_SUGGESTIONS]}
        row.pending = None


def _foreign_letters(text: str) -> str:
    """Which letters of ``text`` are not Latin (a Cyrillic « а » or a Greek « ο » pasted into a
    name looks like the Latin one and matches nothing): "" when all are Latin.

    >>> _foreign_letters("Angers")
    ''
    >>> _foreign_letters("\u0410ngers")
    'caractère non latin : « А » (lettre cyrillique) ; retapez-le'
    """
    import unicodedata

    scripts = {"CYRILLIC": "cyrillique", "GREEK": "grecque", "ARMENIAN": "arménienne", "HEBREW": "hébraïque"}
    odd = []
    for ch in dict.fromkeys(text):
        name = unicodedata.name(ch, "")
        if ch.isalpha() and not name.startswith("LATIN"):
            script = scripts.get(name.split(" ")[0])
            odd.append(f"« {ch} » ({'lettre ' + script if script else 'lettre d’un autre alphabet'})")
    if not odd:
        return ""
    if len(odd) == 1:
        return f"caractère non latin : {odd[0]} ; retapez-le"
    return f"caractères non latins : {', '.join(odd)} ; retapez-les"


def _per_value(option, n: int, name: str) -> list:
    """One value per row: a scalar repeated, or a sequence of ``n`` values."""
    import numbers

    if option is None or isinstance(option, str | bytes | numbers.Number) or np.ndim(option) == 0:
        return [option] * n
    if isinstance(option, dict | set | frozenset):
        raise InputError(f"{name} : une valeur ou une liste attendue, reçu {type(option).__name__}")
    try:
        out = list(option)
    except TypeError:
        raise InputError(f"{name} : une valeur ou une liste attendue, reçu {type(option).__name__}") from None
    if len(out) != n:
        raise InputError(f"{name} : {len(out)} valeurs pour {n} lignes")
    return out


_WITH_POSTAL = re.compile(r"^(?:(?P<cp>\d{5})\s+(?P<name>\D.*)|(?P<name2>\D.*?)\s*\(\s*(?P<cp2>\d{5})\s*\))$")
_DEP_SUFFIX = re.compile(r"^(?P<name>.*?\S)\s*\(\s*(?P<dep>\d{2,3}|2[ABab])\s*\)$")


def resolve(
    ref,
    values,
    *,
    departement=None,
    postal_codes=None,
    names=None,
    prefer: str | None = None,
    lines=None,
    source: str | None = None,
):
    """Turn what users type into unit codes (see :meth:`cpts_geo.Reference.resolve`).

    Parameters
    ----------
    ref
        The :class:`~cpts_geo.Reference`.
    values
        Codes (INSEE, old codes, postal codes, EPCI SIREN) or names (communes, arrondissements,
        former communes, EPCI), one per row.
    departement
        A département (code or name) for all values, or one per value (``None`` where unknown).
    postal_codes
        One postal code per value (or one for all), used to choose between homonyms.
    names
        One name per value when ``values`` are codes (a file with both columns): the code and the
        name must designate the same unit, the name may be a former name of it, or the commune of
        an arrondissement.
    prefer
        ``"codes"`` or ``"names"``: which of the two wins when they disagree (with a warning);
        ``None`` refuses such rows.
    lines, source
        Line numbers of the values and the file they come from, used in messages.

    Returns
    -------
    Resolution

    Raises
    ------
    UnknownCommuneError, AmbiguousNameError
        Naming every value that could not be resolved (all of them at once).

    Examples
    --------
    >>> from cpts_geo import load_reference
    >>> ref = load_reference()
    >>> resolve(ref, ["Valence", "Bourg-lès-Valence", "Montreuil-Belay", "Saumur"]).codes
    ['26362', '26058', '49215', '49328']
    >>> print(resolve(ref, ["Pierrefitte-sur-Seine", "Stains"]).warnings[0]["message"].replace("\xa0", " "))
    ancienne commune Pierrefitte-sur-Seine (93059), rattachée à Saint-Denis (93066) ; toute la commune est retenue, pas seulement l'ancienne commune Pierrefitte-sur-Seine : +149 077 hab., 78 % de la population du territoire
    >>> resolve(ref, ["44109"], names=["Nantes"]).codes
    ['44109']
    """

    if prefer not in (None, "codes", "names"):
        raise InputError(f"prefer='{prefer}' : valeurs possibles 'codes' ou 'names'")
    values = list(values)
    n = len(values)
    deps = _per_value(departement, n, "departement")
    cps = _per_value(postal_codes, n, "postal_codes")
    nms = _per_value(names, n, "names")
    lines = list(lines) if lines is not None else [None] * n
    ix = ref._name_index
    r = _Resolver(ref, ix, prefer)

    rows: list[_Row] = []
    for i in range(n):
        raw = values[i]
        v, name = _clean(raw), _clean(nms[i])
        row = _Row(i, lines[i], "" if raw is None else str(raw))
        rows.append(row)
        row.dep = ref.departement_code(deps[i])
        cp = _clean(cps[i])
        row.postal = cp.zfill(5) if re.fullmatch(r"\d{4,5}", cp) else (cp or None)
        if not v and not name:
            row.problem = {"message": "valeur vide", "kind": "empty"}
            continue
        if len(v) > MAX_VALUE or len(name) > MAX_VALUE:
            # No code or name is this long: refused before any fuzzy matching (bounded work).
            from cpts_geo._text import safe

            long = v if len(v) > MAX_VALUE else name
            row.problem = {
                "message": f"valeur '{safe(long, 40)}' trop longue pour un code ou un nom de commune",
                "kind": "unknown",
            }
            continue
        if v and name:
            r.pair(row, v, name)
            continue
        v = v or name
        got = r.code(v)
        if got is not None:
            units, warn, problem = got
            if problem:
                row.problem = problem
            else:
                row.units = units
                row.notes += [warn] if warn else []
                if warn and "ancien code" in warn:
                    row.part = _old_code_part(ix, v)
            continue
        m = _DEP_SUFFIX.match(v)  # « Saint-Denis (93) »
        if m and not row.dep and ref.departement_code(m.group("dep")) in ref.departements.index:
            row.dep = ref.departement_code(m.group("dep"))
            v = m.group("name")
        m = _WITH_POSTAL.match(v)  # « 49000 Angers », « Angers (49000) »
        if m and not row.postal:
            row.postal = m.group("cp") or m.group("cp2")
            v = m.group("name") or m.group("name2")
        r.name(row, v)

    # Second pass: the list's context decides homonyms (repeatedly: a decided homonym adds to
    # the context), then typos.
    while True:
        done = [row for row in rows if row.units]
        units = {u for row in done for u in (row.units or [])}
        ctx_deps = _departements_of(ref, ix, units)
        near = ref.neighbours_of_codes(units)
        pending = [row for row in rows if row.pending in ("homonym", "locality")]
        if not pending:
            break
        decided = [row for row in pending if r.decide(row, ctx_deps, units, near)]
        if not decided:
            break
    for row in rows:
        if row.pending == "homonym":
            row.problem = {
                "message": f"nom '{row.text}' ambigu : {len(row.candidates)} communes portent ce nom "
                f"({', '.join(f'{c} ({ix.departement[c]})' for c in row.candidates[:10])}) ; "
                "précisez le département ou donnez le code INSEE",
                "kind": "ambiguous",
                "candidates": row.candidates,
            }
            row.pending = None
    for row in rows:
        if row.pending == "locality":
            r.undecided_locality(row, bool(units))
    for row in rows:
        if row.pending == "typo":
            r.decide_typo(row, ctx_deps, units, near)
            if row.problem is not None and row.localities:
                row.problem["message"] += (
                    f" ; « {row.text} » est aussi un nom de lieu de {_listing(ix, sorted(row.localities))}"
                )

    codes: list[str] = []
    seen: set[str] = set()
    warnings: list[dict] = []
    problems: list[dict] = []
    by_value: list[list[str]] = []
    if any(row.part is not None and row.units for row in rows):
        _part_notes(ref, ix, rows)
    for row in rows:
        where = {"index": row.index, "line": row.line, "value": row.value}
        if row.problem:
            problems.append({**where, **row.problem})
            by_value.append([])
            continue
        got = list(row.units or [])
        new = [c for c in got if c not in seen]
        if row.notes:
            warnings.append({**where, "message": " ; ".join(row.notes), **_effect(ref, ix, got, new)})
            if row.part is not None:
                warnings[-1]["part"] = "localité" if isinstance(row.part, Locality) else "ancienne commune"
        by_value.append(got)
        dup = [c for c in got if c in seen]
        if dup and len(dup) == len(got):
            warnings.append(
                {
                    **where,
                    "message": f"doublon ignoré : {', '.join(dup)} déjà cité",
                    **_effect(ref, ix, got, []),
                }
            )
        for c in new:
            seen.add(c)
            codes.append(c)
    if problems:
        raise resolution_error(_safe_values(problems), source)
    return Resolution(codes=codes, warnings=_safe_values(warnings), by_value=by_value)


def _population(ref, units) -> int:
    a = ref.arrays
    return int(sum(int(a.pop[a.pos[u]]) for u in units if u in a.pos))


def _effect(ref, ix: NameIndex, units: list[str], new: list[str]) -> dict:
    """What a corrected row gave the territory: ``retained`` (the communes, as people read
    them) and ``population`` (the inhabitants it added: those of its units not brought by an
    earlier row)."""
    from cpts_geo._text import listing

    communes = list(dict.fromkeys(ix.commune_of.get(u, u) for u in units))
    return {
        "retained": listing([_label(ix, c) for c in communes[:3]], total=len(communes)),
        "population": _population(ref, new),
    }


def _old_code_part(ix: NameIndex, value: str) -> Former | None:
    """The former commune an old code designates (a commune déléguée's code brings its whole
    commune nouvelle)."""
    v = value.strip().upper()
    code = "0" + v if re.fullmatch(r"\d{4}", v) else v
    new = ix.old_codes.get(code)
    if new is None:
        return None
    known = next((f for f in ix.former_of.get(new, ()) if f.code == code), None)
    return known or Former(code, f"de code {code}", new, "ancienne", None)


def _part_notes(ref, ix: NameIndex, rows: list[_Row]) -> None:
    """The population effect of each row naming a part of a commune (a locality, a former
    commune, an old code), added to its notes: the whole commune is counted."""
    from cpts_geo._text import fr_int, fr_share

    first: dict[str, _Row] = {}  # unit -> the first row that brings it
    for row in rows:
        for u in row.units or []:
            first.setdefault(u, row)
    total = _population(ref, first)
    for row in rows:
        part = row.part
        if part is None or not row.units:
            continue
        commune = part.commune
        label = _label(ix, commune)
        other = next((first[u] for u in row.units if first[u] is not row), None)
        if isinstance(part, Locality):
            what = f"« {row.text or row.value} » est une partie de la commune {label}, pas une commune"
            whole = "toute la commune est retenue"
        else:
            what = None
            whole = f"toute la commune est retenue, pas seulement l'ancienne commune {part.nom}"
        if other is not None:
            where = f"ligne {other.line}" if other.line is not None else f"valeur n°{other.index + 1}"
            effect = f"{whole} ; elle est déjà citée ({where}) : sans effet sur la population"
        else:
            pop = _population(ref, row.units)
            share = f", {fr_share(pop / total, 0)} de la population du territoire" if total else ""
            effect = f"{whole} : +{fr_int(pop)}\u00a0hab.{share}"
        row.notes.append(f"{what} ; {effect}" if what else effect)


#: The longest value read as a code or a name (the longest commune name has 45 characters).
MAX_VALUE = 200


def _safe_values(items: list[dict]) -> list[dict]:
    """Messages with the value they quote shown by :func:`cpts_geo._text.safe` (control
    characters escaped, a huge value cut); the ``value`` field keeps the value as read."""
    from cpts_geo._text import safe

    for item in items:
        v = item.get("value")
        if not isinstance(v, str) or "message" not in item:
            continue
        for text in {v, _clean(v)}:
            if text and safe(text) != text:
                item["message"] = item["message"].replace(text, safe(text))
    return items


def _departements_of(ref, ix: NameIndex, units: set) -> set:
    """Départements of units (read from the reference's arrays: a list of codes builds no
    table of names)."""
    a = ref.arrays
    out = set()
    for u in units:
        p = a.pos.get(u)
        d = a.dep[p] if p is not None else -1
        out.add(str(a.dep_codes[d]) if d >= 0 else ix.departement[u])
    return out


def resolution_error(problems: list[dict], source: str | None) -> InputError:
    """One error naming every problem (an :class:`AmbiguousNameError` when all are homonyms)."""
    prefix = f"{source} : " if source else ""
    out = []
    for p in problems:
        where = f"ligne {p['line']}" if p.get("line") is not None else f"valeur n°{p['index'] + 1}"
        out.append(f"{prefix}{where} : {p['message']}")
    msg = "\n".join(out)
    if all(p.get("kind") == "ambiguous" for p in problems):
        return AmbiguousNameError(msg, problems)
    return UnknownCommuneError(msg, problems)


@dataclass
class Resolution:
    """What :meth:`Reference.resolve` made of the values it was given.

    ``codes`` are unit codes, in input order, without duplicates; ``warnings`` lists what was
    resolved with a correction (``index`` is the position of the value in the input).
    """

    codes: list[str]
    warnings: list[dict] = field(default_factory=list)
    by_value: list[list[str]] = field(default_factory=list)
