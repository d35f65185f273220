"""Packages of cpts-geo: every sub-package of ``cpts_geo`` found, plus the shipped data and notebooks
(which live at the top of the checkout, mapped by ``package_dir`` in setup.cfg). Everything else
is in setup.cfg."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["cpts_geo", "cpts_geo.*"]), "cpts_geo.data", "cpts_geo.notebooks"])
