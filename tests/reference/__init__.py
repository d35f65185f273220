"""Tests of :mod:`cpts_geo.reference`."""
