"""Fetch the Leaflet files that ``--offline`` maps inline, from the npm registry.

Runs ``npm pack leaflet@<version>`` (npm checks the tarball against the registry's integrity
hash) and extracts ``dist/leaflet.js``, ``dist/leaflet.css``, ``dist/images/*.png`` and the
licence into ``<dest>/leaflet-<version>/`` (default: ``.cache/map-assets`` of the checkout,
git-ignored, or ``$CPTS_GEO_MAP_ASSETS``). Does nothing when they are already there. The test
suite calls the same function (:func:`cpts_geo.maps.fetch_map_assets`) when they are missing.

Usage::

    python scripts/fetch_map_assets.py [--dest FOLDER] [--force]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_geo.maps import MapAssetsMissingError, fetch_map_assets, map_assets_dir  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=f"Parent folder of leaflet-<version>/ (default: {map_assets_dir()})",
    )
    parser.add_argument("--force", action="store_true", help="Fetch again even if present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        target = fetch_map_assets(args.dest, force=args.force)
    except MapAssetsMissingError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    source = json.loads((target / "SOURCE.json").read_text())
    print(f"{target} : {source['package']}@{source['version']} ({source.get('integrity')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
