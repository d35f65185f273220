"""Deprecated: ``cpts_geo.examples`` moved to :mod:`cpts_geo.outputs.examples` (kept for one release).

Using a name from here warns :class:`DeprecationWarning` with its new module.
"""

from cpts_geo._lazy import deprecated_module

__getattr__ = deprecated_module(__name__, "cpts_geo.outputs.examples")
