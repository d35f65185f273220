"""Deprecated: ``cpts_geo.history`` moved to :mod:`cpts_geo.steering.history` (kept for one release).

Using a name from here warns :class:`DeprecationWarning` with its new module.
"""

from cpts_geo._lazy import deprecated_module

__getattr__ = deprecated_module(
    __name__, "cpts_geo.steering.history", "cpts_geo.inputs.cells", "cpts_geo.inputs.stages"
)
