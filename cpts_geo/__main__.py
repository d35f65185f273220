"""``python -m cpts_geo``: the ``cpts-geo`` command line."""

from cpts_geo.cli.main import run

if __name__ == "__main__":  # pragma: no cover
    run()
