"""Read landing files as received: every value a string, every row with its provenance."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

PROVENANCE_COLUMNS = ["source_file", "source_sha256", "source_row_number", "loaded_at"]


class LandingFileError(ValueError):
    """A landing file is missing or cannot be read in its declared layout."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LandedFile:
    """A landing file and its identity."""

    path: Path
    relative: str
    sha256: str


def land(path: Path, landing_dir: Path) -> LandedFile:
    if not path.is_file():
        raise LandingFileError(f"no landing file at {path}")
    return LandedFile(path, path.relative_to(landing_dir).as_posix(), sha256_file(path))


def read_csv_as_received(
    landed: LandedFile, columns: list[str], encoding: str = "utf-8"
) -> pl.DataFrame:
    """All declared columns as strings plus provenance; the header must name exactly `columns`."""
    data = landed.path.read_bytes()
    if encoding in ("utf-8", "utf-8-sig"):
        data = data.removeprefix(b"\xef\xbb\xbf")
    else:
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError as error:
            raise LandingFileError(f"{landed.relative}: not {encoding}: {error}") from error
    try:
        frame = pl.read_csv(data, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise LandingFileError(f"{landed.relative}: cannot read as CSV: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        raise LandingFileError(
            f"{landed.relative}: header does not match the contract "
            f"(missing: {missing or 'none'}; unexpected: {extra or 'none'})"
        )
    return frame.select(columns).with_columns(
        pl.lit(landed.relative).alias("source_file"),
        pl.lit(landed.sha256).alias("source_sha256"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row_number"),
        pl.lit(datetime.now(UTC)).alias("loaded_at"),
    )
