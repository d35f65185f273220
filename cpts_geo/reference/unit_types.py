"""The kinds of territorial unit a reference holds (``type`` of ``Reference.units``)."""

from __future__ import annotations

#: ``type`` of the units below the commune in ``units.parquet``.
SUBUNIT_TYPE = "infracommunal"
