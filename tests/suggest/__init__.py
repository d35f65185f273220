"""Tests of :mod:`cpts_geo.suggest`."""
