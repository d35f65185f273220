"""Fetch the Leaflet files that ``--offline`` maps inline, from the npm registry.

Runs ``npm pack leaflet@<version>`` (npm checks the package's integrity against the registry)
and extracts ``dist/leaflet.js``, ``dist/leaflet.css`` and ``dist/images/*.png`` into
``.cache/map-assets/leaflet-<version>/`` (git-ignored; or ``--dest`` / ``$CPTS_GEO_MAP_ASSETS``).
Does nothing when they are already there.

Usage::

    python scripts/fetch_map_assets.py [--dest FOLDER] [--force]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_geo.maps import LEAFLET_VERSION, map_assets_dir  # noqa: E402

log = logging.getLogger("fetch_map_assets")

FILES = ("package/dist/leaflet.js", "package/dist/leaflet.css", "package/LICENSE")


def fetch(dest: Path, *, force: bool = False) -> Path:
    """Extract Leaflet's dist files into ``dest/leaflet-<version>`` and return that folder."""
    target = dest / f"leaflet-{LEAFLET_VERSION}"
    if (target / "leaflet.js").exists() and (target / "leaflet.css").exists() and not force:
        log.info("déjà présent : %s", target)
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm introuvable : installez Node.js/npm (Debian : apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="cpts-geo-assets-") as tmp:
        out = subprocess.run(
            [npm, "pack", f"leaflet@{LEAFLET_VERSION}", "--json", "--pack-destination", tmp],
            check=True, capture_output=True, text=True,
        )
        info = json.loads(out.stdout)[0]
        log.info("npm pack %s@%s (%s)", info["name"], info["version"], info.get("integrity", ""))
        tgz = Path(tmp) / info["filename"]
        staging = Path(tmp) / "staging"
        staging.mkdir()
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                name = member.name
                wanted = name in FILES or (name.startswith("package/dist/images/") and name.endswith(".png"))
                if not wanted or not member.isfile():
                    continue
                rel = Path(name).relative_to("package/dist") if name.startswith("package/dist/") else Path(
                    Path(name).name)
                path = staging / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tar.extractfile(member).read())
        (staging / "SOURCE.json").write_text(json.dumps(
            {"package": info["name"], "version": info["version"], "integrity": info.get("integrity"),
             "shasum": info.get("shasum")}, indent=2) + "\n")
        dest.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), target)
    log.info("écrit : %s", target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None,
                        help="Folder of the assets (default: $CPTS_GEO_MAP_ASSETS or .cache/map-assets)")
    parser.add_argument("--force", action="store_true", help="Fetch again even if present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dest = args.dest or map_assets_dir()
    if args.dest is None and not dest.exists() and "CPTS_GEO_MAP_ASSETS" not in __import__("os").environ:
        dest = Path(__file__).resolve().parents[1] / ".cache" / "map-assets"
    fetch(dest, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
