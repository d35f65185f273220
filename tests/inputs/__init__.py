"""Tests of :mod:`cpts_geo.inputs`."""
