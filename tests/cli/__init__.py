"""Tests of :mod:`cpts_geo.cli`."""
