"""Lazy faces (PEP 562): a package's public names imported on first use.

``import cpts_geo`` and the faces of its sub-packages load nothing heavy: pandas, geopandas and
the rest load when a function that needs them is first used, so that ``cpts-geo --help`` and a
``check`` of a list of codes start at once. Also the stubs that keep a moved module's old import
path working for one release, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["attach", "deprecated_module"]


def attach(
    package: str, exports: dict[str, str], moved: dict[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` of a lazy face.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name -> module of the package that defines it (relative: ``"units"``).
    moved
        Names this package used to export, -> the module that defines them now (absolute); using
        one warns :class:`DeprecationWarning`.

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("cpts_geo.reference", {"Reference": "units"})
    >>> getattr_("Reference").__name__
    'Reference'
    """
    moved = moved or {}

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        if name in moved:
            warnings.warn(
                f"{package}.{name} is deprecated: import it from {moved[name]}",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(moved[name]), name)
        try:  # a submodule: cpts_geo.maps.styles, ...
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__, sorted(exports)


def deprecated_module(old: str, *new: str) -> Callable[[str], Any]:
    """``__getattr__`` of a stub left at a moved module's old path: each name is looked up in the
    new modules, in order, with a :class:`DeprecationWarning` naming where it lives now."""

    def __getattr__(name: str) -> Any:
        for target in new:
            module = importlib.import_module(target)
            if hasattr(module, name):
                warnings.warn(
                    f"{old} is deprecated: import {name} from {target}", DeprecationWarning, stacklevel=2
                )
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
