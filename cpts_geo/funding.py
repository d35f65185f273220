"""Deprecated: ``cpts_geo.funding`` moved to :mod:`cpts_geo.steering.funding` (kept for one release).

Using a name from here warns :class:`DeprecationWarning` with its new module.
"""

from cpts_geo._lazy import deprecated_module

__getattr__ = deprecated_module(__name__, "cpts_geo.steering.funding")
