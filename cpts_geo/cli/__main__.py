"""``python -m cpts_geo.cli``: the ``cpts-geo`` command line."""

from cpts_geo.cli.main import run

run()
