"""Tests of :mod:`cpts_geo.steering`."""
