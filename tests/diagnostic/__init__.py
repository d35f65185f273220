"""Tests of :mod:`cpts_geo.diagnostic`."""
