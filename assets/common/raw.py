"""Read landing files as received: every value text, every row with its provenance.

CSV files are scanned by DuckDB straight into the warehouse (after a streaming pass that hashes
the file and finds its encoding), so a multi-GB delivery never passes through Python. XLSX files
are read with polars, every cell as text. Either way the rows land in the temporary table
`_received` with the contract's columns and `source_row_number`, the record's position in the file
(1 = the first record after the header).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from assets.common.landing import RefusedFile, inside

PROVENANCE_COLUMNS = [
    "source_file",
    "source_sha256",
    "source_encoding",
    "source_row_number",
    "loaded_at",
]

RECEIVED = "_received"
_BLOCK = 1 << 23


class LandingFileError(ValueError):
    """A landing file is missing or cannot be read in its declared layout."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LandedFile:
    """A landing file and its identity."""

    path: Path
    relative: str
    sha256: str


def land(path: Path, landing_dir: Path) -> LandedFile:
    """A landing file's identity, once it is known to be a regular file inside the landing area."""
    relative = path.relative_to(landing_dir).as_posix()
    try:
        inside(landing_dir, path)
    except RefusedFile as refusal:
        raise LandingFileError(str(refusal)) from None
    if not path.is_file():
        raise LandingFileError(f"{relative}: no file delivered")
    return LandedFile(path, relative, sha256_file(path))


def _fits(path: Path, encoding: str) -> str | None:
    """None if the whole file decodes strictly in `encoding`, else where it first fails."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return f"{error.reason} at byte {offset + error.start}"
    return None


def detect_encoding(landed: LandedFile, encodings: list[str]) -> str:
    """The first declared encoding the whole file decodes in; never a silent guess.

    UTF-8 is strict, so a windows-1251 file is never mistaken for it; the encoding found is
    recorded with every row.
    """
    tried = []
    for encoding in encodings:
        name = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        failure = _fits(landed.path, name)
        if failure is None:
            return name
        tried.append(f"{encoding} ({failure})")
    raise LandingFileError(f"{landed.relative}: not in a declared encoding: {'; '.join(tried)}")


def _header(path: Path, encoding: str) -> list[str]:
    with open(path, encoding=encoding, newline="") as handle:
        line = handle.readline().removeprefix("\ufeff")
    return next(csv.reader(io.StringIO(line)), [])


def _check_header(landed: LandedFile, found: list[str], columns: list[str]) -> None:
    """Refuse a header that is not the contract's; name expected columns only, never the file's."""
    missing = [c for c in columns if c not in found]
    extra = [c for c in found if c not in columns]
    if missing or extra or len(set(found)) != len(found):
        raise LandingFileError(
            f"{landed.relative}: header does not match the contract "
            f"(missing: {', '.join(missing) or 'none'}; {len(extra)} unexpected column(s); "
            f"{len(found) - len(set(found))} repeated)"
        )


_CSV_LINE = re.compile(r"(?:on line|Line):?\s*(\d+)", re.IGNORECASE)


def _layout_error(landed: LandedFile, error: duckdb.Error) -> LandingFileError:
    """A reader error as a message that names the file and line, without the line's content."""
    line = _CSV_LINE.search(str(error))
    where = f" at line {line.group(1)}" if line else ""
    return LandingFileError(
        f"{landed.relative}: a record does not fit the layout{where} "
        "(wrong number of fields or an unclosed quote)"
    )


def _transcoded(landed: LandedFile, encoding: str, workdir: Path) -> Path:
    """A UTF-8 copy of a file in another encoding, written block by block."""
    target = workdir / "utf8.csv"
    with (
        open(landed.path, encoding=encoding, newline="") as source,
        open(target, "w", encoding="utf-8", newline="") as sink,
    ):
        for block in iter(lambda: source.read(_BLOCK), ""):
            sink.write(block)
    return target


def receive(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    columns: list[str],
    encodings: list[str] | None = None,
) -> str:
    """Load a landing file into the temporary table `_received`; return the encoding found.

    The header must name exactly `columns` (in any order). Every value is kept as text, exactly
    as received; a record that does not fit the layout (too many or too few fields, an unclosed
    quote) makes the whole file an error, since no row of it can then be trusted.
    """
    if landed.path.suffix.lower() == ".xlsx":
        _receive_xlsx(con, landed, columns)
        return "xlsx"
    encoding = detect_encoding(landed, encodings or ["utf-8"])
    found = _header(landed.path, encoding)
    _check_header(landed, found, columns)
    with tempfile.TemporaryDirectory() as workdir:
        path = landed.path if encoding == "utf-8" else _transcoded(landed, encoding, Path(workdir))
        # Insertion order is kept, so the temporary table's rowid is the record's position.
        kept = _insertion_order(con)
        con.execute("set preserve_insertion_order = true")
        try:
            con.execute(
                f"create or replace temporary table {RECEIVED} as select * from read_csv($path, "  # noqa: S608
                "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                "strict_mode = true, columns = $columns)",
                {"path": str(path), "columns": {name: "VARCHAR" for name in found}},
            )
        except duckdb.Error as error:
            raise _layout_error(landed, error) from None
        finally:
            con.execute("set preserve_insertion_order = $kept", {"kept": kept})
    return encoding


def _insertion_order(con: duckdb.DuckDBPyConnection) -> bool:
    """The database's `preserve_insertion_order`, to set back (a reset would give the default)."""
    row = con.execute("select current_setting('preserve_insertion_order')").fetchone()
    return bool(row and row[0])


def received_columns(columns: list[str]) -> str:
    """The select list that reads `_received`: the columns by name and each record's position."""
    return ", ".join([*(f'"{c}"' for c in columns), "rowid + 1 as source_row_number"])


def _receive_xlsx(con: duckdb.DuckDBPyConnection, landed: LandedFile, columns: list[str]) -> None:
    try:
        frame = pl.read_excel(landed.path, infer_schema_length=0)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError):
        raise LandingFileError(f"{landed.relative}: not a readable XLSX workbook") from None
    _check_header(landed, frame.columns, columns)
    con.register("_xlsx", frame.select(pl.col(c).cast(pl.String) for c in columns).to_arrow())
    kept = _insertion_order(con)
    con.execute("set preserve_insertion_order = true")
    try:
        con.execute(f"create or replace temporary table {RECEIVED} as select * from _xlsx")  # noqa: S608
    finally:
        con.execute("set preserve_insertion_order = $kept", {"kept": kept})
        con.unregister("_xlsx")
