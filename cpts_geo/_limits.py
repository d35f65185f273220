"""Bounds of the numeric parameters, shared by the library and the command line.

Every numeric parameter a user sets (``min_population``, ``sea_link_km``, ``goal``,
``effort``, ``seed``) has one range, checked the same way by the library
(:func:`check_param`, raising :class:`InputError`) and by the CLI (its click type is built
from :data:`LIMITS`), so that ``nan``, ``inf``, a negative value or a 40-digit integer is
refused with a French message everywhere instead of reaching numpy.

>>> check_param("sea_link_km", "12.5")
12.5
>>> check_param("goal", float("inf"))
Traceback (most recent call last):
...
cpts_geo._errors.InputError: goal : valeur inf refusée ; attendu un nombre fini de 1 à 100 000
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from cpts_geo._errors import InputError

__all__ = ["LIMITS", "Limit", "check_param"]


@dataclass(frozen=True)
class Limit:
    """The range of one parameter: integers or finite floats from ``low`` to ``high``."""

    integer: bool
    low: float
    high: float
    label: str = ""

    def describe(self) -> str:
        from cpts_geo._text import fr_number

        kind = "un nombre entier" if self.integer else "un nombre fini"
        return f"{kind} de {fr_number(self.low)} à {fr_number(self.high)}".replace("\u00a0", " ")


#: The range of every numeric parameter.
LIMITS: dict[str, Limit] = {
    "min_population": Limit(True, 0, 10_000_000, "population minimale"),
    "sea_link_km": Limit(False, 0.0, 200.0, "distance des liaisons maritimes (km)"),
    "goal": Limit(False, 1.0, 100_000.0, "objectif national"),
    "effort": Limit(True, 1, 10, "effort de recherche"),
    "seed": Limit(True, 0, 2**32 - 1, "graine"),
}


def _parse(value, limit: Limit) -> float | int | None:
    """``value`` as a number of the parameter's kind, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", ".") if not limit.integer else value.strip()
        if len(text) > 40:
            return None
        try:
            value = int(text) if limit.integer else float(text)
        except ValueError:
            if not limit.integer:
                return None
            try:
                value = float(text)
            except ValueError:
                return None
    if not isinstance(value, numbers.Real):
        return None
    try:
        f = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    if not math.isfinite(f):
        return None
    if limit.integer:
        if not f.is_integer():
            return None
        return int(value) if isinstance(value, numbers.Integral) else int(f)
    return f


def check_param(name: str, value, *, allow_none: bool = False):
    """``value`` checked against :data:`LIMITS` ``[name]`` and converted (int or float).

    Raises
    ------
    InputError
        Naming the parameter, the value (cut) and the range expected.
    """
    if value is None and allow_none:
        return None
    limit = LIMITS[name]
    number = _parse(value, limit)
    if number is None or not limit.low <= number <= limit.high:
        from cpts_geo._text import safe

        raise InputError(f"{name} : valeur {safe(value, 60)} refusée ; attendu {limit.describe()}")
    return number
