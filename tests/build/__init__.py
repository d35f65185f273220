"""Tests of :mod:`cpts_geo.build`."""
