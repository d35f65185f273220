"""Tests of :mod:`cpts_geo.maps`."""
