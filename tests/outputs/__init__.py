"""Tests of :mod:`cpts_geo.outputs`."""
