"""The stage vocabulary of a CPTS, in one place: the stages (Atlas des CPTS) and their French
labels, the wordings registers use for them, their ranks, the cumulative levels of "coverage by
stage", and the key of a CPTS whose stage is not given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpts_geo._errors import InputError
from cpts_geo.inputs.cells import fold

#: Stages of a CPTS (Atlas des CPTS), from project to signed contract.
STAGES = ("pre-projet", "lettre-intention", "projet-sante", "aci")


#: French labels of the stages ("" = not given).
STAGE_LABELS = {
    "pre-projet": "Pré-projet",
    "lettre-intention": "Lettre d'intention validée",
    "projet-sante": "Projet de santé validé",
    "aci": "Contrat ACI signé",
    "": "Stade non renseigné",
}


_STAGE_ALIASES = {
    "pre projet": "pre-projet",
    "preprojet": "pre-projet",
    "pre projet de cpts": "pre-projet",
    "en projet": "pre-projet",
    "projet en cours": "pre-projet",
    "en emergence": "pre-projet",
    "emergence": "pre-projet",
    "en reflexion": "pre-projet",
    "lettre intention": "lettre-intention",
    "lettre d intention": "lettre-intention",
    "lettre d intention validee": "lettre-intention",
    "lettre d intention deposee": "lettre-intention",
    "li": "lettre-intention",
    "li validee": "lettre-intention",
    "li deposee": "lettre-intention",
    "projet sante": "projet-sante",
    "projet de sante": "projet-sante",
    "projet de sante valide": "projet-sante",
    "projet de sante depose": "projet-sante",
    "ps": "projet-sante",
    "ps valide": "projet-sante",
    "aci": "aci",
    "aci signe": "aci",
    "aci signee": "aci",
    "contrat aci": "aci",
    "contrat aci signe": "aci",
    "contrat signe": "aci",
    "contractualisee": "aci",
    "signe": "aci",
    "signee": "aci",
    "signature aci": "aci",
    "en fonctionnement": "aci",
}


#: Folded wordings refused because they name two stages.
_AMBIGUOUS_STAGES = {
    "projet": "« projet » désigne soit un pré-projet (« en projet »), soit un projet de santé "
    "(« projet de santé validé »)",
}


def parse_stage(value: str) -> str | None:
    """A stage in canonical form, ``""`` for none, ``None`` when unknown.

    >>> parse_stage("Lettre d'intention validée"), parse_stage("ACI signé"), parse_stage(""), parse_stage("???")
    ('lettre-intention', 'aci', '', None)
    """
    if not value:
        return ""
    if value in STAGES:
        return value
    return _STAGE_ALIASES.get(fold(value))


def stage_problem(value: str) -> str:
    """Why ``value`` is not a stage, with the accepted wordings (for error messages).

    >>> stage_problem("projet").split(" : ")[0]
    "statut 'projet' ambigu"
    """
    wordings = {st: [STAGE_LABELS[st]] for st in STAGES}
    for alias, st in _STAGE_ALIASES.items():
        wordings[st].append(alias)
    accepted = " ; ".join(f"{st} ({', '.join(dict.fromkeys(w))})" for st, w in wordings.items())
    why = _AMBIGUOUS_STAGES.get(fold(value))
    if why:
        return f"statut '{value}' ambigu : {why} ; précisez-le. Formulations acceptées : {accepted}"
    return f"statut '{value}' inconnu ; formulations acceptées : {accepted}"


#: Rank of each stage; ``""`` (no stage given) ranks 0, below every stage.
STAGE_RANK = {"": 0, **{s: i + 1 for i, s in enumerate(STAGES)}}


#: The cumulative levels reported, from the most advanced stage to "any CPTS".
LEVELS = ("aci", "projet-sante", "lettre-intention", "pre-projet", "any")


def stage_ranks(stages) -> np.ndarray:
    """Ranks (0 for ``""``, 1 for ``pre-projet`` ... 4 for ``aci``) of an array of stages.

    Raises
    ------
    InputError
        Naming every value that is not a stage.
    """
    values = pd.Series(stages, dtype=object).fillna("").astype(str)
    ranks = values.map(STAGE_RANK)
    bad = sorted(set(values[ranks.isna()]))
    if bad:
        raise InputError(
            f"statut(s) inconnu(s) : {', '.join(repr(b) for b in bad)} ; attendu {', '.join(STAGES)} ou vide"
        )
    return ranks.to_numpy(dtype=np.int64)


def check_stage(stage: str) -> int:
    if stage not in STAGES:
        raise InputError(f"stade '{stage}' inconnu ; attendu {', '.join(STAGES)}")
    return STAGE_RANK[stage]


#: French labels of the cumulative levels.
LEVEL_LABELS = {
    "aci": "contrat ACI signé",
    "projet-sante": "projet de santé validé ou plus",
    "lettre-intention": "lettre d'intention validée ou plus",
    "pre-projet": "pré-projet ou plus",
    "any": "tout stade",
}


#: The key of a CPTS whose stage is not given, in ``by_stage`` counts (JSON, tables).
NOT_GIVEN = "non-renseigne"

_STAGE_KEYS = {"": NOT_GIVEN}


def stage_key(stage: str) -> str:
    return _STAGE_KEYS.get(stage, stage)
