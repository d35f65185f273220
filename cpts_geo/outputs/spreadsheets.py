"""The sheets of the XLSX outputs, one builder per result type.

Each builder takes a computed result (a :class:`~cpts_geo.checks.report.Report`, a
:class:`~cpts_geo.checks.report.RegisterReport`, a :class:`~cpts_geo.steering.coverage.Coverage`, a
:class:`~cpts_geo.suggest.SuggestResult`) and returns the :class:`~cpts_geo.outputs.xlsx.Sheet` list
that :func:`cpts_geo.outputs.xlsx.write_workbook` writes (it adds the "Source" sheet, whose rows
:func:`source_rows` builds). Headers are French; numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cpts_geo._text import fr_plural
from cpts_geo._version import __version__
from cpts_geo.checks.report import RULE_LABELS, STATUS_LABELS, reading_rows
from cpts_geo.inputs.stages import NOT_GIVEN
from cpts_geo.outputs.xlsx import Column, Sheet, file_rows, parameter_row, run_row

__all__ = [
    "batch_csv",
    "batch_workbook",
    "coverage_workbook",
    "register_workbook",
    "report_workbook",
    "source_rows",
    "suggest_workbook",
]


def _status(s: str) -> str:
    return STATUS_LABELS.get(s, s)


def source_rows(
    vintage: dict,
    *,
    files: Iterable[str | Path | None] = (),
    parameters: Sequence[tuple[Any, ...]] = (),
) -> list[tuple[str, str]]:
    """Rows of the "Source" sheet: tool version, vintages, files read, parameters, date of the run.

    ``parameters`` are ``(label, value, default)`` triples, or ``(label, value, default, none)``
    with how an absent value reads (see :func:`cpts_geo.outputs.xlsx.parameter_row`).
    """
    rows = [
        ("Outil", f"cpts-geo {__version__}"),
        ("Millésime du COG", str(vintage.get("cog", ""))),
        ("Millésime des populations (population municipale)", str(vintage.get("population", ""))),
    ]
    rows += file_rows(files)
    rows += [parameter_row(*p) for p in parameters]
    rows.append(run_row())
    return rows


# ---- check ------------------------------------------------------------------------------------
_SUMMARY_COLUMNS = [
    Column("nom", "Territoire", width=40),
    Column("resultat", "Résultat", width=16),
    Column("n_communes", "Communes", "int"),
    Column("population", "Population municipale", "int"),
    Column("aci_size_class", "Taille ACI", "int"),
    Column("population_min", "Population sans les communes partagées", "int"),
    Column("aci_size_class_min", "Taille ACI sans les communes partagées", "int"),
    Column("echecs", "Règles en échec", "int"),
    Column("avertissements", "Règles en avertissement", "int"),
    Column("cog", "COG", "code"),
    Column("annee_population", "Année des populations", "code"),
]
_RULE_COLUMNS = [
    Column("regle", "Règle", width=24),
    Column("id", "Identifiant", width=18),
    Column("statut", "Résultat", width=16),
    Column("message", "Constat", width=60),
]
_UNIT_COLUMNS = [
    Column("code", "Code commune", "code"),
    Column("nom", "Commune"),
    Column("population", "Population", "int"),
    Column("departement", "Département", "code"),
    Column("epci", "SIREN de l'EPCI", "code"),
    Column("epci_nom", "EPCI"),
    Column("constat", "Constat"),
]
_EPCI_COLUMNS = [
    Column("code", "SIREN", "code"),
    Column("nom", "EPCI"),
    Column("n_communes_in", "Communes dans le territoire", "int"),
    Column("n_communes", "Communes de l'EPCI", "int"),
    Column("population_in", "Population dans le territoire", "int"),
    Column("population", "Population de l'EPCI", "int"),
    Column("share_population", "Part de la population de l'EPCI", "percent"),
    Column("entier", "EPCI entier"),
]


_READING_COLUMNS = [
    Column("line", "Ligne", "int"),
    Column("value", "Valeur écrite", width=30),
    Column("retained", "Retenu", width=30),
    Column("effect", "Effet sur la population", width=22),
    Column("message", "Correction", width=60),
]


def _reading_sheet(report) -> Sheet:
    """« Lecture de la liste »: every correction made while reading the file."""
    rows = reading_rows(report)
    frame = pd.DataFrame(rows, columns=[c.key for c in _READING_COLUMNS])
    title = (
        f"Lecture de la liste : {fr_plural(len(rows), 'correction')}"
        if rows
        else "Lecture de la liste : aucune correction, chaque ligne désignait une commune du COG"
    )
    return Sheet("Lecture de la liste", frame, _READING_COLUMNS, title=title)


def _summary_frame(report) -> pd.DataFrame:
    t = report.territory
    statuses = [r.status for r in report.rules]
    vintage = t.get("vintage", {})
    return pd.DataFrame(
        {
            "nom": [t.get("name", "")],
            "resultat": [_status(report.status)],
            "n_communes": [t.get("n_communes")],
            "population": [t.get("population")],
            "aci_size_class": [t.get("aci_size_class")],
            "population_min": [t.get("population_min", t.get("population"))],
            "aci_size_class_min": [t.get("aci_size_class_min", t.get("aci_size_class"))],
            "echecs": [statuses.count("fail")],
            "avertissements": [statuses.count("warn")],
            "cog": [vintage.get("cog")],
            "annee_population": [vintage.get("population")],
        }
    )


def _units_frame(ref, report) -> pd.DataFrame:
    from cpts_geo.checks.findings import finding_by_unit
    from cpts_geo.maps.styles import FINDING_STYLES

    findings = finding_by_unit(ref, report)
    units = pd.DataFrame(report.units, columns=["code", "nom", "population", "epci", "departement"])
    epci_names = ref.epci["nom"]
    units["epci_nom"] = [
        str(epci_names.get(e, "")) if isinstance(e, str) and e else "aucun EPCI" for e in units["epci"]
    ]
    units["constat"] = [FINDING_STYLES[findings.get(c, "territoire")][0] for c in units["code"]]
    return units


def report_workbook(ref, report) -> list[Sheet]:
    """Sheets of ``cpts-geo check -o x.xlsx``: Synthèse, Règles, Communes, EPCI, Lecture de la
    liste."""
    rules = pd.DataFrame(
        {
            "regle": [RULE_LABELS.get(r.id, r.id) for r in report.rules],
            "id": [r.id for r in report.rules],
            "statut": [_status(r.status) for r in report.rules],
            "message": [r.message for r in report.rules],
        }
    )
    epci_rule = next((r for r in report.rules if r.id == "epci_alignment"), None)
    epcis = pd.DataFrame(
        (epci_rule.details.get("epcis", []) if epci_rule else []),
        columns=[c.key for c in _EPCI_COLUMNS[:-1]] + ["whole"],
    )
    epcis["entier"] = ["oui" if w else "non" for w in epcis["whole"]]
    title = f"Vérification du territoire : {report.territory.get('name', '')}"
    sheets = [
        Sheet(
            "Synthèse",
            _summary_frame(report),
            _with_ranges(_SUMMARY_COLUMNS, [report.territory]),
            title=title,
        ),
        Sheet("Règles", rules, _RULE_COLUMNS),
        Sheet("Communes", _units_frame(ref, report), _UNIT_COLUMNS),
        Sheet("EPCI", epcis, _EPCI_COLUMNS),
        _reading_sheet(report),
    ]
    if getattr(report, "zones", None) is not None:
        sheets.append(_report_zone_sheet([(None, report)]))
    return sheets


_ZONE_UNIT_COLUMNS = [
    Column("couche", "Couche de zones"),
    Column("categorie", "Catégorie"),
    Column("code", "Code INSEE", "code"),
    Column("nom", "Commune"),
    Column("population", "Population", "int"),
    Column("part_surface", "Part de sa surface dans la zone (polygones)", "percent", digits=1),
    Column("polygones", "Polygones"),
]


def _report_zone_sheet(reports) -> Sheet:
    """One row per (CPTS,) layer, category and unit of the zones of ``reports``."""
    rows = []
    for cpts_id, rep in reports:
        for z in rep.zones or []:
            for u in z["units"]:
                row = (
                    {} if cpts_id is None else {"cpts_id": cpts_id, "cpts_nom": rep.territory.get("name", "")}
                )
                row.update(
                    {
                        "couche": z["layer"],
                        "categorie": z["category"],
                        "code": u["code"],
                        "nom": u["nom"],
                        "population": u["population"],
                        "part_surface": u.get("share"),
                        "polygones": " ; ".join(u.get("polygones", [])),
                    }
                )
                rows.append(row)
    columns = (
        [Column("cpts_id", "Identifiant CPTS", "code"), Column("cpts_nom", "CPTS")]
        if any(c is not None for c, _ in reports)
        else []
    ) + _ZONE_UNIT_COLUMNS
    frame = pd.DataFrame(rows, columns=[c.key for c in columns])
    return Sheet("Zones", frame, columns, title="Communes du territoire dans les zones données (--zones)")


# ---- check-register ---------------------------------------------------------------------------
def _register_row(rep, cpts, rule_ids: list[str]) -> dict:
    from cpts_geo.inputs.stages import STAGE_LABELS

    t = rep.territory
    row = {
        "cpts_id": rep.cpts_id,
        "cpts_nom": t.get("name", ""),
        "statut": "",
        "date_statut": None,
        "n_communes": t.get("n_communes"),
        "population": t.get("population"),
        "aci_size_class": t.get("aci_size_class"),
        "population_min": t.get("population_min", t.get("population")),
        "aci_size_class_min": t.get("aci_size_class_min", t.get("aci_size_class")),
        "resultat": _status(rep.status),
    }
    if cpts is not None and rep.cpts_id in cpts.index:
        stage = cpts.at[rep.cpts_id, "statut"]
        row["statut"] = STAGE_LABELS.get(stage, stage) if isinstance(stage, str) else ""
        row["date_statut"] = cpts.at[rep.cpts_id, "date_statut"]
    by_id = {r.id: r for r in rep.rules}
    for rid in rule_ids:
        row["regle_" + rid] = _status(by_id[rid].status) if rid in by_id else ""
    return row


def _enclave_frame(rr) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "groupe": k,
                "code": u["code"],
                "nom": u["nom"],
                "n_communes": e["n_communes"],
                "population": e["population"],
                "cpts": " ; ".join(e["cpts"]),
            }
            for k, e in enumerate(rr.enclaves, start=1)
            for u in e["communes"]
        ],
        columns=["groupe", "code", "nom", "n_communes", "population", "cpts"],
    )


_REGISTER_COLUMNS = [
    Column("cpts_id", "Identifiant", "code"),
    Column("cpts_nom", "CPTS"),
    Column("statut", "Stade"),
    Column("date_statut", "Date du stade", "date"),
    Column("n_communes", "Communes", "int"),
    Column("population", "Population", "int"),
    Column("aci_size_class", "Taille ACI", "int"),
    Column("population_min", "Population sans les communes partagées", "int"),
    Column("aci_size_class_min", "Taille ACI sans les communes partagées", "int"),
    Column("resultat", "Résultat"),
]
_SHARED_COLUMNS = [
    Column("code", "Code commune", "code"),
    Column("nom", "Commune"),
    Column("cpts", "CPTS"),
    Column("population", "Population", "int"),
    Column("nature", "Nature"),
]
_ENCLAVE_COLUMNS = [
    Column("groupe", "Groupe", "int"),
    Column("code", "Code commune", "code"),
    Column("nom", "Commune"),
    Column("n_communes", "Communes du groupe", "int"),
    Column("population", "Population du groupe", "int"),
    Column("cpts", "CPTS autour"),
]


#: Columns of a population known only as a range (units declared shared without finer mesh).
_RANGE_KEYS = ("population_min", "aci_size_class_min")


def _with_ranges(columns: list[Column], territories) -> list[Column]:
    """``columns`` without the lower bounds of population and size class when every
    territory's population is known (the sheets are then as they were before the ranges)."""
    if any(not t.get("population_known", True) for t in territories):
        return columns
    return [c for c in columns if c.key not in _RANGE_KEYS]


def register_workbook(rr, register=None) -> list[Sheet]:
    """Sheets of ``cpts-geo check-register -o x.xlsx``: CPTS × règles, communes partagées ou en
    chevauchement, communes enclavées. ``register`` (optional) adds each CPTS' stage and date."""
    rule_ids = [rid for rid in RULE_LABELS if any(r.id == rid for rep in rr.reports for r in rep.rules)]
    cpts = register.cpts if register is not None else None
    table = pd.DataFrame(
        [_register_row(rep, cpts, rule_ids) for rep in rr.reports],
        columns=[c.key for c in _REGISTER_COLUMNS] + ["regle_" + r for r in rule_ids],
    )
    shared = [dict(o, nature="chevauchement") for o in rr.overlaps]
    shared += [dict(o, nature="partage déclaré") for o in getattr(rr, "shared", [])]
    overlaps = pd.DataFrame(shared, columns=["code", "nom", "cpts", "population", "nature"])
    names = {rep.cpts_id: rep.territory.get("name") for rep in rr.reports}
    overlaps["cpts"] = [
        " ; ".join(f"{c} ({names[c]})" if names.get(c) else str(c) for c in ids) for ids in overlaps["cpts"]
    ]
    rule_columns = [Column("regle_" + rid, f"Règle : {RULE_LABELS[rid]}") for rid in rule_ids]
    return [
        Sheet(
            "CPTS × règles",
            table,
            _with_ranges(_REGISTER_COLUMNS, [r.territory for r in rr.reports]) + rule_columns,
        ),
        Sheet(
            "Communes partagées",
            overlaps,
            _SHARED_COLUMNS,
            title="Communes partagées ou en chevauchement entre CPTS",
        ),
        Sheet("Communes enclavées", _enclave_frame(rr), _ENCLAVE_COLUMNS),
    ] + (
        [_report_zone_sheet([(rep.cpts_id, rep) for rep in rr.reports])]
        if any(getattr(rep, "zones", None) is not None for rep in rr.reports)
        else []
    )


# ---- check of several proposals ----------------------------------------------------------------
_BATCH_COLUMNS = [
    Column("fichier", "Fichier", width=40),
    Column("territoire", "Territoire", width=40),
    Column("resultat", "Résultat", width=14),
    Column("n_communes", "Communes", "int"),
    Column("population", "Population municipale", "int"),
    Column("aci_size_class", "Taille ACI", "int"),
]


def _batch_frame(summary) -> tuple[pd.DataFrame, list[Column]]:
    from cpts_geo.checks.batch import RULE_IDS

    rule_columns = [Column(f"regle_{rid}", f"Règle : {RULE_LABELS[rid]}", width=14) for rid in RULE_IDS]
    columns = [*_BATCH_COLUMNS, *rule_columns, Column("constat", "Constat", width=80)]
    return pd.DataFrame(summary.rows(), columns=[c.key for c in columns]), columns


def batch_workbook(summary) -> list[Sheet]:
    """The sheet of ``cpts-geo check DOSSIER/ -o synthese.xlsx``: one row per proposal (file,
    territory, result, communes, population, ACI size class, each rule's result, and what was
    found: the rules not passed, or why the file could not be read)."""
    frame, columns = _batch_frame(summary)
    c = summary.counts()
    title = (
        f"Vérification de {len(summary.entries)} fichier(s) : {c['pass']} OK, {c['warn']} en "
        f"avertissement, {c['fail']} en échec, {c['error']} illisible(s), {c['skipped']} non lu(s)"
    )
    return [Sheet("Synthèse", frame, columns, title=title)]


def batch_csv(summary) -> str:
    """The same table as CSV for a program (comma, UTF-8, French headers; cells a spreadsheet
    would evaluate neutralised)."""
    from cpts_geo._csv import neutralize_frame

    frame, columns = _batch_frame(summary)
    frame = frame.rename(columns={c.key: c.header_fr for c in columns})
    return neutralize_frame(frame).to_csv(index=False)


# ---- coverage ---------------------------------------------------------------------------------
_COVERAGE_HEADERS = {
    "code": ("Code", "code"),
    "nom": ("Nom", "text"),
    "region": ("Région", "code"),
    "cpts": ("CPTS", "int"),
    "population": ("Population", "int"),
    "population_covered": ("Population couverte", "int"),
    "share_covered": ("Part de la population couverte", "percent"),
    "white_zone_population": ("Population en zone blanche", "int"),
    "white_zone_communes": ("Communes en zone blanche", "int"),
    "overlap_communes": ("Communes dans plusieurs CPTS", "int"),
    "overlap_population": ("Population dans plusieurs CPTS", "int"),
    "communes": ("Communes", "int"),
    "goal": ("Objectif (CPTS)", "decimal"),
    "progress": ("Avancement vers l'objectif", "percent"),
    "cpts_shared": ("CPTS partagées avec un autre territoire", "int"),
    "shared_communes": ("Communes partagées déclarées", "int"),
    "shared_population": ("Population des communes partagées déclarées", "int"),
}
#: Headers of the dict-valued keys: one column per stage.
_STAGE_DICT_HEADERS = {
    "by_stage": "CPTS — {stage}",
    "population_covered_by_stage": "Population couverte — {stage} (ou stade plus avancé)",
    "shared_population_by_stage": "dont communes partagées déclarées, au stade le plus avancé de leurs CPTS — "
    "{stage} (ou stade plus avancé)",
}


def _stage_label(key: str) -> str:
    from cpts_geo.inputs.stages import STAGE_LABELS

    return STAGE_LABELS.get("" if key == NOT_GIVEN else key, key)


def _kind(values: list) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "text"
    if present and all(isinstance(v, int) for v in present):
        return "int"
    if present and all(isinstance(v, int | float) for v in present):
        return "decimal"
    return "text"


def _coverage_sheet(name: str, entries: list[dict]) -> Sheet:
    """Every key of the entries as a column (dicts: one column per item), in first-seen order."""
    records: list[dict] = []
    columns: dict[str, Column] = {}
    for e in entries:
        rec: dict = {}
        for k, v in e.items():
            if k == "zones":  # a sheet of their own (_coverage_zone_sheet)
                continue
            if isinstance(v, dict):
                pattern = _STAGE_DICT_HEADERS.get(k, k + " — {stage}")
                for sk, sv in v.items():
                    key = f"{k}.{sk}"
                    rec[key] = sv
                    if key not in columns:
                        columns[key] = Column(key, pattern.format(stage=_stage_label(sk)), "int")
            elif isinstance(v, list | tuple):
                rec[k] = " ; ".join(map(str, v))
                columns.setdefault(k, Column(k, _COVERAGE_HEADERS.get(k, (k, ""))[0]))
            else:
                rec[k] = v
                if k not in columns:
                    header, kind = _COVERAGE_HEADERS.get(k, (k, ""))
                    columns[k] = Column(k, header, kind or "text")
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for key, spec in list(columns.items()):
        if key not in _COVERAGE_HEADERS and "." not in key:
            columns[key] = Column(key, spec.header_fr, _kind(frame[key].tolist()))
        elif "." in key and _kind(frame[key].dropna().tolist()) == "decimal":
            columns[key] = Column(key, spec.header_fr, "decimal")
    return Sheet(name, frame, list(columns.values()))


def coverage_workbook(cov) -> list[Sheet]:
    """Sheets of ``cpts-geo coverage -o x.xlsx``: National, Régions, Départements.

    Every key of the coverage entries becomes a column; dict-valued keys (``by_stage``,
    ``population_covered_by_stage``) one column per stage.
    """
    sheets = [
        _coverage_sheet("National", [cov.national]),
        _coverage_sheet("Régions", cov.regions),
        _coverage_sheet("Départements", cov.departements),
    ]
    if "zones" in cov.national:
        sheets.append(_coverage_zone_sheet(cov))
    return sheets


def _coverage_zone_sheet(cov) -> Sheet:
    """The zones of every entry, one row per (level, area, layer, category)."""
    from cpts_geo.inputs.stages import STAGE_LABELS

    stages = list(cov.national["zones"][0]["population_covered_by_stage"]) if cov.national["zones"] else []
    rows = []
    for level, entries in (
        ("national", [cov.national]),
        ("région", cov.regions),
        ("département", cov.departements),
    ):
        for e in entries:
            for z in e.get("zones", []):
                row = {
                    "niveau": level,
                    "code": e["code"],
                    "nom": e["nom"],
                    "couche": z["layer"],
                    "categorie": z["category"],
                    "population": z["population"],
                    "population_covered": z["population_covered"],
                    "share_covered": z["share_covered"],
                }
                row.update({f"stage.{s}": n for s, n in z["population_covered_by_stage"].items()})
                rows.append(row)
    columns = [
        Column("niveau", "Niveau"),
        Column("code", "Code", "code"),
        Column("nom", "Nom"),
        Column("couche", "Couche de zones"),
        Column("categorie", "Catégorie"),
        Column("population", "Population en zone", "int"),
        Column("population_covered", "Population couverte", "int"),
        Column("share_covered", "Part couverte", "percent", digits=1),
    ] + [
        Column(f"stage.{s}", f"Population couverte — {STAGE_LABELS[s]} (ou plus avancé)", "int")
        for s in stages
    ]
    frame = pd.DataFrame(rows, columns=[c.key for c in columns])
    return Sheet(
        "Zones",
        frame,
        columns,
        title="Couverture des zones données (--zones), chaque habitant compté une fois",
    )


# ---- suggest ----------------------------------------------------------------------------------
def _pieces(df: pd.DataFrame, names: pd.Series, extra: list[str]) -> pd.DataFrame:
    cols = ["territoire_id", *extra, "departement", "population", "n_communes", "communes"]
    out = pd.DataFrame({c: df[c] for c in cols if c in df.columns}).reset_index(drop=True)
    out["noms"] = [", ".join(str(names.get(c, c)) for c in codes) for codes in out["communes"]]
    out["communes"] = [", ".join(codes) for codes in out["communes"]]
    return out


def suggest_workbook(result) -> list[Sheet]:
    """Sheets of ``cpts-geo suggest -o x.xlsx``: Territoires (one row per commune), Extensions,
    Non rattachables."""
    a = result.assignment.reset_index()
    labels = dict(zip(result.territories["territoire_id"], result.territories["label"]))
    sizes = dict(zip(result.territories["territoire_id"], result.territories["aci_size_class"]))
    terr = a[a["type"] == "territoire"].copy()
    terr["label"] = terr["territoire_id"].map(labels)
    terr["aci_size_class"] = terr["territoire_id"].map(sizes)
    totals = terr.groupby("territoire_id")["population"].transform("sum")
    terr["population_territoire"] = totals
    terr = terr.sort_values(["territoire_id", "code_insee"], key=_natural).reset_index(drop=True)
    names = result.assignment["nom"]
    unit_cols = [
        Column("territoire_id", "Territoire", "code"),
        Column("label", "Libellé"),
        Column("population_territoire", "Population du territoire", "int"),
        Column("aci_size_class", "Taille ACI", "int"),
        Column("code_insee", "Code commune", "code"),
        Column("nom", "Commune"),
        Column("population", "Population de la commune", "int"),
        Column("departement", "Département", "code"),
    ]
    piece_cols = [
        Column("departement", "Département", "code"),
        Column("population", "Population", "int"),
        Column("n_communes", "Communes", "int"),
        Column("communes", "Codes des communes", width=40),
        Column("noms", "Noms des communes", width=60),
    ]
    ext = _pieces(result.extensions, names, ["cpts_id", "cpts_nom", "reason"])
    orph = _pieces(result.orphans, names, ["reason"])
    return [
        Sheet("Territoires", terr, unit_cols, title=f"Territoires proposés — {result.area}"),
        Sheet(
            "Extensions",
            ext,
            [
                Column("territoire_id", "Morceau", "code"),
                Column("cpts_id", "CPTS rejointe", "code"),
                Column("cpts_nom", "Nom de la CPTS"),
                *piece_cols,
                Column("reason", "Motif", width=50),
            ],
        ),
        Sheet(
            "Non rattachables",
            orph,
            [Column("territoire_id", "Morceau", "code"), *piece_cols, Column("reason", "Motif", width=50)],
        ),
    ]


def _natural(s: pd.Series) -> pd.Series:
    """Sort key: ids such as T2 before T10."""
    if s.name != "territoire_id":
        return s
    return s.map(lambda v: f"{len(str(v)):04d}{v}")
