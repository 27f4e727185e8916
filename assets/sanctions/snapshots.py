"""OFAC SDN snapshots: land every received file as-is, then normalize each snapshot.

The legacy SDN files carry no designation dates, so listing history comes from comparing
snapshots; every snapshot is kept, identified by its sha256, and loading the same bytes twice
changes nothing.
"""

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from assets.common.landing import LandingArea
from assets.common.raw import sha256_file
from assets.common.warehouse import Warehouse, log_step, replace_table, scalar
from assets.sanctions import ofac_sdn

LIST_ID = "ofac_sdn"
LANDING_SUBDIR = "sanctions/ofac_sdn"
_SNAPSHOT_NAME = re.compile(r"^sdn_(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$")


@dataclass(frozen=True)
class Snapshot:
    """One received SDN file."""

    path: Path
    as_of: date
    sha256: str


def landed_snapshots(landing_root: Path) -> list[Snapshot]:
    """Every `sdn_YYYY-MM-DD.csv[.gz]` in the landing folder, oldest first."""
    folder = landing_root / LANDING_SUBDIR
    found = []
    for path in sorted(folder.glob("sdn_*")) if folder.is_dir() else []:
        match = _SNAPSHOT_NAME.match(path.name)
        if match:
            found.append(Snapshot(path, date.fromisoformat(match.group(1)), sha256_file(path)))
    return sorted(found, key=lambda s: (s.as_of, s.path.name))


def read_snapshot_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@dg.asset(key=["raw", "ofac_sdn"], group_name="sanctions", kinds={"duckdb", "csv"})
def raw_ofac_sdn(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: LandingArea
) -> dg.MaterializeResult:
    """OFAC SDN snapshots as received, one row per record, with snapshot date and provenance."""
    snapshots = landed_snapshots(landing.root)
    with warehouse.connect() as con:
        exists = scalar(
            con,
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'ofac_sdn'",
        )
        known: set[str] = set()
        if exists:
            known = {
                row[0]
                for row in con.execute("select distinct source_sha256 from raw.ofac_sdn").fetchall()
            }
        new = [s for s in snapshots if s.sha256 not in known]
        added = 0
        for snapshot in new:
            frame = ofac_sdn.read_legacy_csv(
                read_snapshot_bytes(snapshot.path), ofac_sdn.SDN_COLUMNS
            )
            frame = frame.rename({"row_number": "source_row_number"}).with_columns(
                pl.lit(LIST_ID).alias("list_id"),
                pl.lit(snapshot.as_of).alias("snapshot_date"),
                pl.lit(snapshot.path.relative_to(landing.root).as_posix()).alias("source_file"),
                pl.lit(snapshot.sha256).alias("source_sha256"),
                pl.lit(datetime.now(UTC)).alias("loaded_at"),
            )
            con.register("_frame", frame.to_arrow())
            con.execute("create table if not exists raw.ofac_sdn as select * from _frame limit 0")
            con.execute("insert into raw.ofac_sdn by name select * from _frame")
            con.unregister("_frame")
            added += frame.height
            context.log.info(f"landed {snapshot.path.name}: {frame.height} records")
        log_step(con, context, rows_received=added, rows_written=added)
    return dg.MaterializeResult(
        metadata={
            "snapshots_received": len(snapshots),
            "snapshots_new": dg.MetadataValue.json([s.path.name for s in new]),
            "rows_added": added,
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staging", "ofac_sdn_entries"],
            deps=[["raw", "ofac_sdn"]],
            group_name="sanctions",
            description="OFAC SDN entries per snapshot, normalized (programs split, nulls, types).",
            kinds={"duckdb", "polars"},
        ),
        dg.AssetSpec(
            ["staging", "ofac_sdn_identifiers"],
            deps=[["raw", "ofac_sdn"]],
            group_name="sanctions",
            description="Identifiers (INN, OGRN, registration numbers) parsed from SDN remarks.",
            kinds={"duckdb", "polars"},
        ),
    ]
)
def staging_ofac_sdn(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    """Normalize every landed SDN snapshot with the current parser version."""
    with warehouse.connect() as con:
        raw = con.sql("select * from raw.ofac_sdn order by snapshot_date, source_row_number").pl()
        entries, identifiers = [], []
        for (snapshot_date, sha256), rows in raw.group_by(
            ["snapshot_date", "source_sha256"], maintain_order=True
        ):
            snapshot_cols = [
                pl.lit(LIST_ID).alias("list_id"),
                pl.lit(snapshot_date).alias("snapshot_date"),
                pl.lit(sha256).alias("source_sha256"),
                pl.lit(ofac_sdn.PARSER_VERSION).alias("parser_version"),
            ]
            normalized = ofac_sdn.normalize_sdn(
                rows.select(*ofac_sdn.SDN_COLUMNS, "source_row_number")
            )
            entries.append(normalized.with_columns(snapshot_cols))
            identifiers.append(ofac_sdn.extract_identifiers(normalized).with_columns(snapshot_cols))
        written = replace_table(con, "staging", "ofac_sdn_entries", pl.concat(entries))
        found = replace_table(con, "staging", "ofac_sdn_identifiers", pl.concat(identifiers))
        for table, rows in (("ofac_sdn_entries", written), ("ofac_sdn_identifiers", found)):
            key = dg.AssetKey(["staging", table])
            log_step(con, context, rows_received=raw.height, rows_written=rows, asset_key=key)
    meta: dict[str, str | int] = {
        "parser_version": ofac_sdn.PARSER_VERSION,
        "snapshots": len(entries),
    }
    yield dg.MaterializeResult(
        asset_key=["staging", "ofac_sdn_entries"], metadata={**meta, "rows": written}
    )
    yield dg.MaterializeResult(
        asset_key=["staging", "ofac_sdn_identifiers"], metadata={**meta, "rows": found}
    )
