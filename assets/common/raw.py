"""Read landing files as received: every value a string, every row with its provenance."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

PROVENANCE_COLUMNS = [
    "source_file",
    "source_sha256",
    "source_encoding",
    "source_row_number",
    "loaded_at",
]


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


def _decode(landed: LandedFile, encodings: list[str]) -> tuple[bytes, str]:
    """UTF-8 bytes of a text file and the encoding it was in: the first declared one that fits.

    UTF-8 is strict, so a windows-1251 file is never mistaken for it; the encoding found is
    returned so that it is recorded with every row, not guessed silently.
    """
    data = landed.path.read_bytes()
    tried = []
    for encoding in encodings:
        try:
            if encoding in ("utf-8", "utf-8-sig"):
                data.decode("utf-8")
                return data.removeprefix(b"\xef\xbb\xbf"), "utf-8"
            return data.decode(encoding).encode("utf-8"), encoding
        except UnicodeDecodeError as error:
            tried.append(f"{encoding} ({error.reason} at byte {error.start})")
    raise LandingFileError(f"{landed.relative}: not in a declared encoding: {'; '.join(tried)}")


def read_as_received(
    landed: LandedFile, columns: list[str], encodings: list[str] | None = None
) -> pl.DataFrame:
    """All declared columns as strings plus provenance; the header must name exactly `columns`.

    CSV files are decoded with the first of `encodings` that fits; XLSX files are read from
    their first sheet with every cell as text.
    """
    encoding = "xlsx"
    try:
        if landed.path.suffix.lower() == ".xlsx":
            frame = pl.read_excel(landed.path, infer_schema_length=0)
        else:
            data, encoding = _decode(landed, encodings or ["utf-8"])
            frame = pl.read_csv(data, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise LandingFileError(f"{landed.relative}: cannot read: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        raise LandingFileError(
            f"{landed.relative}: header does not match the contract "
            f"(missing: {missing or 'none'}; unexpected: {extra or 'none'})"
        )
    return frame.select(pl.col(c).cast(pl.String) for c in columns).with_columns(
        pl.lit(landed.relative).alias("source_file"),
        pl.lit(landed.sha256).alias("source_sha256"),
        pl.lit(encoding).alias("source_encoding"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row_number"),
        pl.lit(datetime.now(UTC)).alias("loaded_at"),
    )
