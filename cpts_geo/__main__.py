"""``python -m cpts_geo``: the ``cpts-geo`` command line."""

from cpts_geo.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    main()
