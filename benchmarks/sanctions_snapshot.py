"""Benchmark: ingest one full OFAC SDN snapshot and diff it against the previous one.

Target (issue 3): under 5 s on 2 cores. Run with `make benchmark`; not part of the test suite.
The warehouse already holds sdn_2024-02-20; the timed part lands sdn_2024-02-23 and rebuilds
every sanctions asset (guard + parse, normalized staging, history, deltas, identifiers).

`--history N` first lands N earlier daily snapshots (sdn_2024-02-20 with its first 1..N entries
left out, dated from 2023-12-01): what a list change costs once a list has a history, as OFAC's
has after a few weeks of updates.
"""

import argparse
import logging
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

import assets.sanctions.assets
from assets.common.landing import LandingArea
from assets.common.paths import REFERENCE_DIR
from assets.common.warehouse import Warehouse

SNAPSHOTS = REFERENCE_DIR / "sanctions" / "ofac_sdn"


def _build(landing: Path, warehouse: Warehouse) -> float:
    started = time.perf_counter()
    result = dg.materialize(
        assets.sanctions.assets.defs,
        resources={"warehouse": warehouse, "landing": LandingArea(path=str(landing))},
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit("build failed")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=0, help="earlier snapshots to land first")
    args = parser.parse_args()
    logging.getLogger("dagster").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "landing" / "sanctions" / "ofac_sdn"
        folder.mkdir(parents=True)
        warehouse = Warehouse(
            build_path=str(root / "w.build.duckdb"), published_path=str(root / "w.duckdb")
        )
        shutil.copyfile(SNAPSHOTS / "sdn_2024-02-20.csv", folder / "sdn_2024-02-20.csv")
        data = (SNAPSHOTS / "sdn_2024-02-20.csv").read_bytes()
        lines = data.split(b"\r\n")
        for i in range(args.history):
            day = date(2023, 12, 1) + timedelta(days=i)
            earlier = b"\r\n".join(lines[args.history - i :])
            (folder / f"sdn_{day.isoformat()}.csv").write_bytes(earlier)
        first = _build(root / "landing", warehouse)
        shutil.copyfile(SNAPSHOTS / "sdn_2024-02-23.csv", folder / "sdn_2024-02-23.csv")
        timings = []
        second = _build(root / "landing", warehouse)
        timings.append(second)
        # Repeat the same rebuild (nothing new to land) to separate start-up noise.
        timings.append(_build(root / "landing", warehouse))
    if args.history:
        print(f"with {args.history} earlier snapshots landed before")
    print(f"first snapshot (2024-02-20, 13,931 entries), cold start: {first:.2f} s")
    print(f"ingest 2024-02-23 (14,484 entries) + diff against 2024-02-20: {second:.2f} s")
    print(f"same rebuild with nothing new landed:                      {timings[1]:.2f} s")
    print("target: < 5 s on 2 cores -> " + ("met" if second < 5 else "MISSED"))
    return 0 if second < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
