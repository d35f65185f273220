"""Areas of the reference (France, a région, one or more départements): read from what users type
(codes or names), named in French. Every command reads areas through :func:`resolve_scope` and
:func:`resolve_area`, so that they all accept and refuse the same values."""

from __future__ import annotations

import difflib

import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo.reference.names import normalize_name
from cpts_geo.reference.units import Reference

__all__ = ["area_label", "area_name", "one_area", "resolve_area", "resolve_scope"]

#: Why a région and a département cannot both be given (the CLI says it with its flags).
BOTH_AREAS = "choisissez soit une région, soit un département, pas les deux"


def one_area(*, region=None, departement=None) -> None:
    """Refuse a région and a département given together.

    Raises
    ------
    InputError
        When both are given.
    """
    if region is not None and departement is not None:
        raise InputError(BOTH_AREAS)


def resolve_scope(ref: Reference, *, region: str | None = None, departement: str | None = None) -> dict:
    """Check a région or département given by code (or name) and return it.

    Returns
    -------
    dict
        ``{"level": "national"|"region"|"departement", "code": ..., "nom": ...}``.

    Raises
    ------
    InputError
        For an unknown code, listing the valid codes or the closest matches.
    """
    one_area(region=region, departement=departement)
    if region is None and departement is None:
        return {"level": "national", "code": "FR", "nom": "France entière"}
    if region is not None:
        table, level, value, word = ref.regions, "region", str(region).strip(), "région"
        code = value.zfill(2) if value.isdigit() and len(value) < 2 else value
    else:
        table, level, value, word = ref.departements, "departement", str(departement).strip(), "département"
        code = value.upper()
        code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
    if code not in table.index:
        by_name = {normalize_name(n): c for c, n in table["nom"].items()}
        match = by_name.get(normalize_name(value))
        if match is None:
            raise InputError(
                f"{word} '{value}' inconnu(e) du COG {ref.vintage['cog']} ; "
                + _scope_hint(table, level, code, value, by_name)
            )
        code = match
    return {"level": level, "code": code, "nom": str(table.at[code, "nom"])}


def _scope_hint(table: pd.DataFrame, level: str, code: str, value: str, by_name: dict) -> str:
    """How to fix an unknown région or département: the closest names, or the valid codes."""
    if level == "departement" and code == "20":
        return "la Corse a deux départements : 2A (Corse-du-Sud) et 2B (Haute-Corse)"
    close = difflib.get_close_matches(normalize_name(value), list(by_name), n=3, cutoff=0.6)
    if close:
        return (
            "vouliez-vous dire "
            + ", ".join(f"{by_name[c]} ({table.at[by_name[c], 'nom']})" for c in close)
            + " ?"
        )
    if level == "region":
        return "codes valides : " + ", ".join(f"{c} ({n})" for c, n in table["nom"].items())
    return "codes valides : " + ", ".join(table.index) + " (ou le nom du département)"


# ---------------------------------------------------------------------------------------------
# Area and bounds
# ---------------------------------------------------------------------------------------------
def resolve_area(ref: Reference, *, departement=None, region=None) -> list[str]:
    """Département codes of an area: one or more départements, a région, or all of France.

    Parameters
    ----------
    departement
        A code or a name (``"49"``, ``"2a"``, ``"1"``, ``"Maine-et-Loire"``), or a list of them.
    region
        A région code or name (``"52"``, ``"Pays de la Loire"``).

    Raises
    ------
    InputError
        Naming every unknown value, with the closest names or the valid codes (as
        :func:`resolve_scope`, so every command reads areas the same way).

    Examples
    --------
    >>> import cpts_geo as cg
    >>> resolve_area(cg.load_reference(), region="Pays de la Loire")
    ['44', '49', '53', '72', '85']
    """

    one_area(region=region, departement=departement)
    if region is not None:
        code = resolve_scope(ref, region=region)["code"]
        return sorted(ref.departements.index[ref.departements["region"] == code])
    if departement is None:
        return sorted(ref.departements.index)
    values = [departement] if isinstance(departement, str) else list(departement)
    out, problems = [], []
    for v in values:
        try:
            code = resolve_scope(ref, departement=str(v))["code"]
        except InputError as exc:
            problems.append(str(exc))
            continue
        if code not in out:
            out.append(code)
    if problems:
        raise InputError("\n".join(problems))
    return out


def area_name(ref: Reference, departements: list[str]) -> str:
    if len(departements) == len(ref.departements):
        return "la France entière"
    regs = ref.departements.loc[departements, "region"].unique()
    if len(regs) == 1:
        reg_deps = ref.departements.index[ref.departements["region"] == regs[0]]
        if len(departements) > 1 and set(reg_deps) == set(departements):
            return f"la région {ref.regions.at[regs[0], 'nom']}"
    if len(departements) == 1:
        d = departements[0]
        return f"le département {ref.departements.at[d, 'nom']} ({d})"
    return "les départements " + ", ".join(departements)


def area_label(ref: Reference, departements: list[str]) -> str:
    """The area as the summary names it: "France entière", "département Cantal (15)", "région ..."."""
    if len(departements) == len(ref.departements):
        return "France entière"
    if len(departements) == 1:
        d = departements[0]
        return f"département {ref.departements.at[d, 'nom']} ({d})"
    regs = ref.departements.loc[departements, "region"].unique()
    if len(regs) == 1:
        return f"région {ref.regions.at[regs[0], 'nom']} ({regs[0]})"
    return "départements " + ", ".join(departements)
