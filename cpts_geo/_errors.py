"""The exception hierarchy of cpts-geo.

Every error a user can cause is a :class:`CptsGeoError`; the CLI turns them into a message and
exit code 2. They also subclass :class:`ValueError`, so API callers may catch either.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousNameError",
    "CptsGeoError",
    "InputError",
    "ReferenceDataError",
    "UnknownCommuneError",
]


class CptsGeoError(ValueError):
    """Base class of every error cpts-geo raises on purpose."""


class InputError(CptsGeoError):
    """An input (file, option, list of values) could not be read or resolved.

    ``problems`` lists every problem found, each a dict with at least ``message`` and, where
    known, ``file``, ``line`` and ``value``, so that a caller can show all of them at once.
    """

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.problems = problems or []


class UnknownCommuneError(InputError):
    """A value names no commune of the reference."""


class AmbiguousNameError(InputError):
    """A commune name matches several communes and no département was given."""


class ReferenceDataError(CptsGeoError):
    """The reference data are missing, incomplete or inconsistent."""


def os_error_text(exc: OSError) -> str:
    """An error of the file system in French, naming the file: « x.csv : fichier introuvable »
    (the system's own text, in English, for the rarer ones).

    >>> os_error_text(FileNotFoundError(2, "No such file or directory", "x.csv"))
    'x.csv : fichier ou dossier introuvable'
    """
    words = {
        FileNotFoundError: "fichier ou dossier introuvable",
        IsADirectoryError: "est un dossier, pas un fichier",
        NotADirectoryError: "n'est pas un dossier",
        PermissionError: "accès refusé",
        FileExistsError: "existe déjà",
    }
    what = next((w for cls, w in words.items() if isinstance(exc, cls)), None) or exc.strerror or str(exc)
    return f"{exc.filename} : {what}" if exc.filename else what
