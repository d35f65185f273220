"""The ``cpts-geo`` command line (click): :mod:`.main` is the group, which adds the commands of
each family (:mod:`.check`, :mod:`.coverage`, :mod:`.pilotage`, :mod:`.register`,
:mod:`.suggest`, :mod:`.examples`); :mod:`.options` holds what they share."""

from cpts_geo.cli.main import main, run

__all__ = ["main", "run"]
