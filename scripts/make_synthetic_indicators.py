#!/usr/bin/env python
"""Write ``data/examples/indicateurs_synthetiques.csv``: a SYNTHETIC commune-level indicator table.

Every value is drawn from a seeded generator from the communes' populations: the file shows how
to join an indicator table in ``notebooks/01_diagnostic_territoire.ipynb``, and nothing else. It
describes no real commune. Each row says so in its ``donnees`` column.

Communes: those of the Pays de la Loire (région 52) and of every example proposal of
``data/examples/`` (so that each example can be diagnosed). Columns (all synthetic):

- ``medecins_generalistes``, ``infirmiers``, ``sages_femmes``: counts (aggregated with
  statistical secrecy);
- ``depenses_soins_ville_keur``: an amount in thousands of euros (summed);
- ``part_75_ans_plus`` (%), ``taux_pauvrete`` (%), ``apl_medecins`` (consultations per year
  and inhabitant): population-weighted means.

Re-running the script gives the same file. Usage: ``python scripts/make_synthetic_indicators.py
[-o data/examples/indicateurs_synthetiques.csv]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpts_geo.inputs.read import read_proposal
from cpts_geo.reference.units import load_reference

SEED = 2026
REGION = "52"
LABEL = "synthétiques (fictives)"


def make_table(ref, examples: Path) -> pd.DataFrame:
    units = ref.units
    codes = set(units.index[units["region"] == REGION])
    for path in sorted(examples.glob("proposition_*.csv")):
        codes |= set(read_proposal(path, ref).codes)
    u = units.loc[sorted(codes)]
    pop = u["population"].fillna(0).to_numpy(dtype=float)
    rng = np.random.default_rng(SEED)
    n = len(u)
    # Rates vary around French orders of magnitude; small communes vary more.
    spread = 1 + 3 / np.sqrt(np.maximum(pop, 50) / 100)
    out = pd.DataFrame(
        {
            "code_insee": u.index,
            "commune": u["nom"].to_numpy(),
            "donnees": LABEL,
            "medecins_generalistes": rng.poisson(pop / 1_100),
            "infirmiers": rng.poisson(pop / 600),
            "sages_femmes": rng.poisson(pop / 4_500),
            "depenses_soins_ville_keur": np.round(pop * rng.gamma(20, 0.05, n), 1),
            "part_75_ans_plus": np.round(np.clip(rng.normal(11, 2.5 * np.minimum(spread, 2.5), n), 2, 30), 1),
            "taux_pauvrete": np.round(np.clip(rng.normal(10, 2.5 * np.minimum(spread, 2.5), n), 2, 35), 1),
            "apl_medecins": np.round(np.clip(rng.normal(3.2, 0.8, n), 0.5, 7), 2),
        }
    )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, default=ROOT / "data" / "examples" / "indicateurs_synthetiques.csv"
    )
    args = parser.parse_args(argv)
    ref = load_reference()
    table = make_table(ref, ROOT / "data" / "examples")
    table.to_csv(args.output, index=False, lineterminator="\n")
    print(f"{args.output} : {len(table)} communes (données synthétiques)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
