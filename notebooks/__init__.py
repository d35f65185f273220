"""The notebooks, shipped as package data (``cpts-geo exemples`` copies them)."""
