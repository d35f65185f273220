"""Tests of :mod:`cpts_geo.checks`."""
