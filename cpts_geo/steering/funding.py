"""An estimate of the ACI funding of CPTS: the maximum annual envelope by size class.

The amounts come from a versioned table shipped in ``data/financement_aci.csv`` (its sources,
dates and gaps are in ``data/financement_aci.md``), or from another table in the same format.
What a CPTS actually receives depends on the missions it has started and on how far it meets its
indicators (the variable part): every figure here is an **estimate** of the ceiling, fixed and
variable parts at 100 %.

Examples
--------
>>> import pandas as pd
>>> cpts = pd.DataFrame({"cpts_nom": ["CPTS A"], "statut": ["aci"], "aci_size_class": [2],
...                      "departements": [["49"]], "regions": [["52"]]},
...                     index=pd.Index(["A"], name="cpts_id"))
>>> est = funding_estimate(cpts, read_funding_table())
>>> est.national["montant_max_eur"], est.version
(287000, 'aci-2019')
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo._text import fr_agree, fr_int, fr_plural
from cpts_geo.inputs.stages import STAGE_LABELS, STAGES

__all__ = [
    "FUNDING_COLUMNS",
    "FundingEstimate",
    "default_funding_table",
    "funding_estimate",
    "read_funding_table",
]

FUNDING_COLUMNS = (
    "version",
    "texte",
    "date_texte",
    "taille",
    "poste",
    "part",
    "montant_annuel_eur",
    "statut",
    "source",
    "date_source",
    "remarque",
)
POSTES = (
    "total_maximum",
    "fonctionnement",
    "acces_soins",
    "parcours",
    "prevention",
    "crise_sanitaire",
    "qualite_pertinence",
    "accompagnement_professionnels",
)
PARTS = ("fixe", "variable", "total")
STATUTS = ("trouvé", "dérivé", "non trouvé")

NOTE_ESTIMATE = (
    "Estimation : enveloppe annuelle maximale selon la taille de la CPTS (parts fixe et variable "
    "atteintes à 100 %). Les versements réels dépendent des missions engagées et de l'atteinte des "
    "indicateurs fixés dans le contrat de chaque CPTS avec la CPAM et l'ARS."
)
NOTE_MULTI = (
    "Une CPTS qui s'étend sur plusieurs départements (ou régions) est comptée, avec toute son "
    "enveloppe, dans chacun : la somme des lignes peut dépasser le total national, où elle est "
    "comptée une fois."
)

NOTE_RANGE = (
    "Une CPTS qui partage une commune déclarée partagée (commune_partagee) sans découpage plus fin "
    "(IRIS, secteurs) a une population inconnue, donc une taille inconnue : son enveloppe est une "
    "fourchette, de la taille sans les communes partagées à la taille avec elles entières, et les "
    "totaux aussi (le haut suppose chaque commune partagée comptée entière dans chacune de ses CPTS)."
)

_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


#: An annual amount above this (one CPTS, one item) is a typo: the largest ACI envelope is about
#: 450,000 EUR a year.
MAX_AMOUNT = 10_000_000


def default_funding_table() -> Path:
    """The shipped table, ``financement_aci.csv`` in the data folder (the reference's data folder,
    else the ``data/`` folder next to the source tree)."""
    from cpts_geo.reference.units import default_data_dir

    name = "financement_aci.csv"
    for folder in (default_data_dir(), Path(__file__).resolve().parents[2] / "data"):
        if (folder / name).exists():
            return folder / name
    return default_data_dir() / name


def read_funding_table(path=None) -> pd.DataFrame:
    """Read and check a funding table (default: the shipped one).

    Parameters
    ----------
    path
        A CSV (comma-separated, UTF-8) with the columns of :data:`FUNDING_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The rows, ``taille`` as int, ``montant_annuel_eur`` as float (NaN when not found), and
        ``line`` (line in the file).

    Raises
    ------
    InputError
        Naming the file, the line and the value of every problem (missing column, unknown size
        class, poste, part or statut, an amount that is not a positive number, a figure found
        without amount or given with the statut ``non trouvé``, a malformed date, a duplicate).
    """
    path = Path(path) if path is not None else default_funding_table()
    src = str(path)
    if not path.exists():
        raise InputError(f"{src} : fichier introuvable")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{src} : encodage non UTF-8 ; enregistrez le tableau en CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, r) for r in reader]
    except csv.Error as exc:
        raise InputError(f"{src} : ligne {reader.line_num} : CSV illisible ({exc})") from None
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{src} : fichier vide")
    header = [h.strip() for h in rows[0][1]]
    missing = [c for c in FUNDING_COLUMNS if c not in header and c != "remarque"]
    if missing:
        raise InputError(
            f"{src} : ligne {rows[0][0]} : colonne(s) {', '.join(missing)} introuvable(s) ; "
            f"attendu {', '.join(FUNDING_COLUMNS)}"
        )
    problems: list[dict] = []
    records = []
    seen: dict[tuple, int] = {}

    def bad(line, value, message):
        problems.append({"file": src, "line": line, "value": value, "message": f"ligne {line} : {message}"})

    for line, cells in rows[1:]:
        r = {
            c: (cells[header.index(c)].strip() if c in header and header.index(c) < len(cells) else "")
            for c in FUNDING_COLUMNS
        }
        if not r["version"]:
            bad(line, "", "version manquante")
        taille = int(r["taille"]) if r["taille"] in ("1", "2", "3", "4") else None
        if taille is None:
            bad(line, r["taille"], f"taille '{r['taille']}' inconnue ; attendu 1, 2, 3 ou 4")
        if r["poste"] not in POSTES:
            bad(line, r["poste"], f"poste '{r['poste']}' inconnu ; attendu {', '.join(POSTES)}")
        if r["part"] not in PARTS:
            bad(line, r["part"], f"part '{r['part']}' inconnue ; attendu {', '.join(PARTS)}")
        elif (r["poste"] == "total_maximum") != (r["part"] == "total"):
            bad(line, r["part"], "la part 'total' va avec le poste 'total_maximum', et lui seul")
        if r["statut"] not in STATUTS:
            bad(line, r["statut"], f"statut '{r['statut']}' inconnu ; attendu {', '.join(STATUTS)}")
        amount = np.nan
        raw = r["montant_annuel_eur"].replace(" ", "").replace("\u202f", "").replace(",", ".")
        if raw:
            try:
                amount = float(raw)
            except ValueError:
                bad(
                    line,
                    r["montant_annuel_eur"],
                    f"montant '{r['montant_annuel_eur']}' illisible ; attendu un nombre d'euros",
                )
            else:
                if not math.isfinite(amount):  # nan, inf, 1e400
                    bad(
                        line,
                        r["montant_annuel_eur"],
                        f"montant '{r['montant_annuel_eur']}' illisible ; attendu un nombre d'euros",
                    )
                    amount = np.nan
                elif amount < 0:
                    bad(line, r["montant_annuel_eur"], f"montant {r['montant_annuel_eur']} négatif")
                elif amount > MAX_AMOUNT:
                    bad(
                        line,
                        r["montant_annuel_eur"],
                        f"montant {r['montant_annuel_eur']} invraisemblable (plus de {fr_int(MAX_AMOUNT)} € par an)",
                    )
        if r["statut"] == "non trouvé" and raw:
            bad(
                line,
                r["montant_annuel_eur"],
                "montant donné avec le statut 'non trouvé' ; videz le montant ou donnez sa source",
            )
        if r["statut"] in ("trouvé", "dérivé") and not raw:
            bad(line, "", f"montant manquant pour un chiffre '{r['statut']}'")
        if r["statut"] in ("trouvé", "dérivé") and not r["source"]:
            bad(line, "", "source manquante pour un montant donné")
        for col in ("date_texte", "date_source"):
            if r[col] and not _DATE.fullmatch(r[col]):
                bad(line, r[col], f"{col} '{r[col]}' illisible ; attendu AAAA-MM-JJ ou AAAA-MM")
        key = (r["version"], taille, r["poste"], r["part"])
        if taille is not None and key in seen:
            bad(
                line,
                r["poste"],
                f"doublon de la ligne {seen[key]} (version {r['version']}, taille {taille}, "
                f"{r['poste']}, {r['part']})",
            )
        seen.setdefault(key, line)
        records.append({**r, "taille": taille, "montant_annuel_eur": amount, "line": line})
    if problems:
        raise InputError("\n".join(f"{src} : {p['message']}" for p in problems), problems)
    table = pd.DataFrame.from_records(records, columns=[*FUNDING_COLUMNS, "line"])
    table["taille"] = table["taille"].astype(int)
    table.attrs["source"] = src
    return table


def _ceilings(table: pd.DataFrame, version: str) -> pd.DataFrame:
    """Maximum by size class for one version: the published total, else the sum of all parts."""
    t = table[table["version"] == version]
    rows = []
    for taille in (1, 2, 3, 4):
        s = t[t["taille"] == taille]
        total = s[s["poste"] == "total_maximum"]["montant_annuel_eur"].dropna()
        parts = s[s["poste"] != "total_maximum"]["montant_annuel_eur"]
        if len(total):
            rows.append((taille, float(total.iloc[0]), "total publié"))
        elif len(parts) and parts.notna().all():
            rows.append((taille, float(parts.sum()), "somme des postes"))
        else:
            rows.append((taille, np.nan, "non trouvé"))
    return pd.DataFrame(rows, columns=["taille", "montant", "base"]).set_index("taille")


def _default_version(table: pd.DataFrame) -> str:
    """The latest version (by date of its text) with a ceiling for every size class."""
    versions = table.groupby("version")["date_texte"].max().sort_values(ascending=False)
    for v in versions.index:
        if _ceilings(table, v)["montant"].notna().all():
            return str(v)
    raise InputError(
        f"{table.attrs.get('source', 'tableau de financement')} : aucune version ne donne de montant "
        "pour les quatre tailles ; précisez la version"
    )


@dataclass
class FundingEstimate:
    """Estimated maximum annual ACI envelopes: by CPTS, département, région and nation.

    Attributes
    ----------
    per_cpts
        Indexed by ``cpts_id``: ``cpts_nom``, ``statut``, ``population`` (when given),
        ``taille``, ``montant_max_eur`` (NaN when
        the table has no figure for the size class), ``base`` (``total publié``, ``somme des
        postes`` or ``non trouvé``), ``departements``, ``regions``.
    by_departement, by_region
        Indexed by code: ``cpts``, ``montant_max_eur`` and ``cpts_sans_montant``.
    national
        ``{"cpts", "montant_max_eur", "cpts_sans_montant"}``: every CPTS of the register.
    area
        The area of the coverage it goes with (« département Maine-et-Loire (49) »), empty for
        the nation: the text then says that its first total is the whole register's, the area's
        being in its rows.
    """

    per_cpts: pd.DataFrame
    by_departement: pd.DataFrame
    by_region: pd.DataFrame
    national: dict
    version: str
    stages: tuple
    excluded: int = 0
    table_source: str = ""
    notes: list[str] = field(default_factory=list)
    area: str = ""
    area_key: tuple[str, str] | None = None

    def to_dict(self) -> dict:
        """JSON: ``estimate`` (true), ``version``, ``stages``, ``national``, ``departements``,
        ``regions``, ``cpts`` and ``notes``."""

        def rows(frame):
            return [
                {
                    "code": str(code),
                    "cpts": int(r["cpts"]),
                    "montant_max_eur": _num(r["montant_max_eur"]),
                    "cpts_sans_montant": int(r["cpts_sans_montant"]),
                    "montant_max_eur_bas": _num(r["montant_max_eur_bas"]),
                    "montant_max_eur_haut": _num(r["montant_max_eur_haut"]),
                    "cpts_taille_inconnue": int(r["cpts_taille_inconnue"]),
                }
                for code, r in frame.iterrows()
            ]

        return {
            "estimate": True,
            "version": self.version,
            "table": self.table_source,
            "stages": list(self.stages),
            "national": self.national,
            "departements": rows(self.by_departement),
            "regions": rows(self.by_region),
            "cpts": [
                {
                    "cpts_id": str(cid),
                    "cpts_nom": r["cpts_nom"],
                    "statut": r["statut"],
                    "taille": int(r["taille"]),
                    "montant_max_eur": _num(r["montant_max_eur"]),
                    "base": r["base"],
                    "taille_min": int(r["taille_min"]),
                    "taille_max": int(r["taille"]),
                    "taille_connue": bool(r["taille_connue"]),
                    "montant_max_eur_bas": _num(r["montant_max_eur_bas"]),
                    "montant_max_eur_haut": _num(r["montant_max_eur_haut"]),
                }
                for cid, r in self.per_cpts.iterrows()
            ],
            "notes": self.notes,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """French tables: by CPTS, by département, by région (with the low end of the ranges
        when a CPTS's size class is not known, see :data:`NOTE_RANGE`)."""
        ranged = bool(self.national.get("cpts_taille_inconnue"))
        per = self.per_cpts.reset_index()
        if ranged:
            per = per.drop(columns=["montant_max_eur_haut", "taille_connue"])
        else:
            per = per.drop(
                columns=["taille_min", "montant_max_eur_bas", "montant_max_eur_haut", "taille_connue"]
                + (["population_min"] if "population_min" in per.columns else [])
            )
        per = per.rename(
            columns={
                "cpts_id": "Identifiant",
                "cpts_nom": "Nom",
                "statut": "Stade",
                "population": "Population",
                "taille": "Taille ACI",
                "montant_max_eur": "Enveloppe annuelle maximale estimée (€)",
                "base": "Base",
                "population_min": "Population sans les communes partagées",
                "taille_min": "Taille ACI sans les communes partagées",
                "montant_max_eur_bas": "Enveloppe sans les communes partagées (€)",
            }
        )
        per["departements"] = per["departements"].map(", ".join)
        per["regions"] = per["regions"].map(", ".join)
        per = per.rename(columns={"departements": "Départements", "regions": "Régions"})

        def area(frame, word):
            extra = ["montant_max_eur_haut"] + (
                [] if ranged else ["montant_max_eur_bas", "cpts_taille_inconnue"]
            )
            return (
                frame.drop(columns=[c for c in extra if c in frame.columns])
                .reset_index()
                .rename(
                    columns={
                        frame.index.name or "index": word,
                        "cpts": "CPTS",
                        "montant_max_eur": "Enveloppe annuelle maximale estimée (€)",
                        "cpts_sans_montant": "CPTS sans montant",
                        "montant_max_eur_bas": "Enveloppe sans les communes partagées (€)",
                        "cpts_taille_inconnue": "CPTS de taille inconnue",
                    }
                )
            )

        return {
            "Estimation par CPTS": per,
            "Par département": area(self.by_departement, "Département"),
            "Par région": area(self.by_region, "Région"),
        }

    def to_text(self) -> str:
        """A French summary, saying that it is an estimate."""
        n = self.national
        stages = ", ".join(STAGE_LABELS.get(s, s) for s in self.stages)
        unknown = int(n.get("cpts_taille_inconnue", 0))
        lines = [f"Estimation du financement ACI (barème {self.version}) — CPTS au stade : {stages}"]
        if self.area and self.area_key is not None:
            level, code = self.area_key
            frame = self.by_region if level == "region" else self.by_departement
            if code in frame.index:
                r = frame.loc[code]
                lines.append(
                    f"Enveloppe annuelle maximale estimée, {self.area} : "
                    f"{_eur_range(r, int(r.get('cpts_taille_inconnue', 0)))} pour "
                    f"{fr_plural(r['cpts'], 'CPTS', 'CPTS')} qui la touchent"
                )
            else:
                lines.append(f"Aucune CPTS comptée dans la zone ({self.area}).")
        lines.append(
            f"Enveloppe annuelle maximale estimée{', registre entier' if self.area else ''} : "
            f"{_eur_range(n, unknown)} pour {fr_plural(n['cpts'], 'CPTS', 'CPTS')}"
        )
        if unknown:
            lines.append(
                f"  dont {fr_plural(unknown, 'CPTS', 'CPTS')} de taille inconnue (communes déclarées "
                "partagées sans découpage plus fin) : fourchette de la taille sans ces communes à la "
                "taille avec elles entières"
            )
        if n["cpts_sans_montant"]:
            lines.append(
                f"  dont {fr_plural(n['cpts_sans_montant'], 'CPTS', 'CPTS')} sans montant dans le barème "
                "(taille non chiffrée), hors total"
            )
        if self.excluded:
            lines.append(
                f"{fr_plural(self.excluded, 'CPTS', 'CPTS')} à un autre stade, non "
                f"{fr_agree(self.excluded, 'comptée')}"
            )
        width = 38 if unknown else 30
        for frame, word in ((self.by_region, "Région"), (self.by_departement, "Dép.")):
            if len(frame):
                lines += ["", f"{word:<8}{'CPTS':>6}{'Enveloppe maximale estimée':>{width}}"]
                lines += [
                    f"{code:<8}{fr_int(r['cpts']):>6}"
                    f"{_eur_range(r, int(r.get('cpts_taille_inconnue', 0))):>{width}}"
                    for code, r in frame.iterrows()
                ]
        lines += ["", *(f"Note : {x}" for x in self.notes)]
        return "\n".join(lines)


def _num(v):
    return None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))


def _eur(v) -> str:
    return "non chiffrée" if v is None or pd.isna(v) else f"{fr_int(round(float(v)))} €"


def _eur_range(row, unknown: int) -> str:
    """An estimate's total: one amount, or « entre … et … » when sizes are not known."""
    high = row["montant_max_eur"]
    if not unknown:
        return _eur(high)
    low = row.get("montant_max_eur_bas", high)
    if low is None or high is None or pd.isna(low) or pd.isna(high) or low == high:
        return _eur(high)
    return f"entre {_eur(low)} et {_eur(high)}"


def _lists(frame: pd.DataFrame, plural: str, single: str) -> list[list[str]]:
    if plural in frame.columns:
        return [
            sorted(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray) else [str(v)]
            for v in frame[plural]
        ]
    if single in frame.columns:
        return [[str(v)] for v in frame[single]]
    raise InputError(f"colonne {plural} (ou {single}) attendue pour les totaux par zone")


def funding_estimate(
    cpts: pd.DataFrame,
    table: pd.DataFrame | None = None,
    *,
    stages=("aci",),
    version: str | None = None,
) -> FundingEstimate:
    """Estimated maximum annual ACI envelope of each CPTS, and totals by area.

    Parameters
    ----------
    cpts
        One row per CPTS indexed by ``cpts_id``: ``cpts_nom``, ``statut``, ``aci_size_class``
        (1–4), ``departements`` and ``regions`` (lists of codes; or ``departement`` and
        ``region``, one code each), as :func:`cpts_geo.cpts_table` gives.
    table
        A funding table (:func:`read_funding_table`); default the shipped one.
    stages
        The stages counted (default CPTS under ACI only; all four stages to project the envelope
        of CPTS in preparation).
    version
        The version of the table; default the latest one with a figure for every size class.

    Returns
    -------
    FundingEstimate

    Raises
    ------
    InputError
        Unknown stage or version, missing columns, a size class outside 1–4.
    """
    table = read_funding_table() if table is None else table
    stages = (stages,) if isinstance(stages, str) else tuple(stages)
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise InputError(
            f"stade(s) {', '.join(repr(s) for s in bad)} inconnu(s) ; attendu {', '.join(STAGES)}"
        )
    if version is None:
        version = _default_version(table)
    elif version not in set(table["version"]):
        raise InputError(
            f"version '{version}' absente du tableau de financement ; versions : "
            f"{', '.join(sorted(set(table['version'])))}"
        )
    missing = [c for c in ("cpts_nom", "statut", "aci_size_class") if c not in cpts.columns]
    if missing:
        raise InputError(f"colonne(s) {', '.join(missing)} attendue(s) pour l'estimation du financement")
    ceilings = _ceilings(table, version)
    statut = cpts["statut"].fillna("").astype(str)
    kept = cpts[statut.isin(stages).to_numpy()]
    size = pd.to_numeric(kept["aci_size_class"], errors="coerce")
    wrong = kept.index[~size.isin([1, 2, 3, 4])]
    if len(wrong):
        raise InputError("taille ACI hors de 1 à 4 pour la (les) CPTS " + ", ".join(map(str, wrong[:10])))
    size = size.astype(int)
    low = size
    if "aci_size_class_min" in kept.columns:
        low = pd.to_numeric(kept["aci_size_class_min"], errors="coerce").fillna(size).astype(int)
        wrong = kept.index[~low.isin([1, 2, 3, 4]) | (low > size)]
        if len(wrong):
            raise InputError(
                "taille ACI minimale hors de 1 à 4 ou au-dessus de la taille pour la (les) CPTS "
                + ", ".join(map(str, wrong[:10]))
            )
    amount = ceilings["montant"].reindex(size).to_numpy()
    per = pd.DataFrame(
        {
            "cpts_nom": kept["cpts_nom"].astype(str),
            "statut": kept["statut"].astype(str),
            "taille": size,
            "montant_max_eur": amount,
            "base": ceilings["base"].reindex(size).to_numpy(),
            "taille_min": low.to_numpy(),
            "montant_max_eur_bas": ceilings["montant"].reindex(low).to_numpy(),
            "montant_max_eur_haut": amount,
        },
        index=kept.index,
    )
    per["taille_connue"] = per["taille_min"] == per["taille"]
    if "population" in kept.columns:
        per.insert(2, "population", kept["population"].astype(np.int64))
        if "population_min" in kept.columns:
            per.insert(3, "population_min", kept["population_min"].astype(np.int64))
    per["departements"] = pd.Series(
        _lists(kept, "departements", "departement"), index=kept.index, dtype=object
    )
    per["regions"] = pd.Series(_lists(kept, "regions", "region"), index=kept.index, dtype=object)

    def by(col):
        e = per[["montant_max_eur", "montant_max_eur_bas", "taille_connue", col]].explode(col)
        g = e.groupby(col)
        out = pd.DataFrame(
            {
                "cpts": g.size(),
                "montant_max_eur": g["montant_max_eur"].sum(min_count=0),
                "cpts_sans_montant": g["montant_max_eur"].apply(lambda s: int(s.isna().sum())),
                "montant_max_eur_bas": g["montant_max_eur_bas"].sum(min_count=0),
                "cpts_taille_inconnue": g["taille_connue"].apply(lambda s: int((~s.astype(bool)).sum())),
            }
        )
        out["montant_max_eur_haut"] = out["montant_max_eur"]
        out.index.name = col[:-1]
        return out.astype({"cpts": int, "cpts_sans_montant": int, "cpts_taille_inconnue": int})

    national = {
        "cpts": len(per),
        "montant_max_eur": _num(per["montant_max_eur"].sum()),
        "cpts_sans_montant": int(per["montant_max_eur"].isna().sum()),
        "montant_max_eur_bas": _num(per["montant_max_eur_bas"].sum()),
        "montant_max_eur_haut": _num(per["montant_max_eur"].sum()),
        "cpts_taille_inconnue": int((~per["taille_connue"]).sum()),
    }
    src = table.attrs.get("source", "")
    notes = [NOTE_ESTIMATE]
    used = table[(table["version"] == version) & (table["statut"] != "non trouvé")]
    by_total = ceilings.index[ceilings["base"] == "total publié"]
    by_parts = ceilings.index[ceilings["base"] == "somme des postes"]
    used = used[
        (used["taille"].isin(by_total) & (used["poste"] == "total_maximum"))
        | (used["taille"].isin(by_parts) & (used["poste"] != "total_maximum"))
    ]
    sources = sorted(set(used["source"]))
    if sources:
        notes.append(
            f"Barème {version} ({table.loc[table['version'] == version, 'texte'].iloc[0]}) ; "
            "sources : " + " ; ".join(s.split(" — ")[0] for s in sources) + "."
        )
    later = table[table["date_texte"] > table.loc[table["version"] == version, "date_texte"].max()]
    if len(later):
        notes.append(
            f"Des textes plus récents ({', '.join(sorted(set(later['version'])))}) ont relevé les montants, "
            "mais leur barème complet par taille n'a pas pu être confirmé : cette estimation est basse."
        )
    if ceilings["montant"].isna().any():
        missing_sizes = [str(t) for t, v in ceilings["montant"].items() if pd.isna(v)]
        notes.append(
            f"Aucun montant confirmé pour la (les) taille(s) {', '.join(missing_sizes)} dans le barème "
            f"{version} : ces CPTS sont comptées sans montant."
        )
    if any(len(d) > 1 for d in per["departements"]) or any(len(r) > 1 for r in per["regions"]):
        notes.append(NOTE_MULTI)
    if national["cpts_taille_inconnue"]:
        notes.append(NOTE_RANGE)
    return FundingEstimate(
        per_cpts=per,
        by_departement=by("departements"),
        by_region=by("regions"),
        national=national,
        version=version,
        stages=stages,
        excluded=int(len(cpts) - len(kept)),
        table_source=src,
        notes=notes,
    )
