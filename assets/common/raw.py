"""Read landing files as received: every value text, every row with its provenance.

CSV files are scanned by DuckDB straight into the warehouse (after a streaming pass that hashes
the file and finds its encoding), several files by one parallel scan, so a multi-GB delivery
never passes through Python. XLSX files are read with polars, every cell as text. Either way the
rows land in the temporary table `_received` with the contract's columns; the view
`_received_rows` adds `source_row_number`, the record's position in its file (1 = the first
record after the header). A record that does not fit the layout refuses its file, and so does a
blank line between records, which DuckDB would skip without a word.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl

from assets.common.landing import RefusedFile, inside
from assets.common.sql import quote_ident

PROVENANCE_COLUMNS = [
    "source_file",
    "source_sha256",
    "source_encoding",
    "source_row_number",
    "loaded_at",
]

RECEIVED = "_received"
RECEIVED_ROWS = "_received_rows"  # `_received` with each record's position in its file
_PATH = "_path"
_BLOCK = 1 << 23
_TAIL = 1 << 16


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


def _relative(path: Path, landing_dir: Path) -> str:
    """The file's path in the landing area, once it is known to be a regular file inside it."""
    relative = path.relative_to(landing_dir).as_posix()
    try:
        inside(landing_dir, path)
    except RefusedFile as refusal:
        raise LandingFileError(str(refusal)) from None
    if not path.is_file():
        raise LandingFileError(f"{relative}: no file delivered")
    return relative


def land(path: Path, landing_dir: Path) -> LandedFile:
    """A landing file's identity, once it is known to be a regular file inside the landing area."""
    relative = _relative(path, landing_dir)
    return LandedFile(path, relative, sha256_file(path))


def _blank_line(path: Path) -> int | None:
    """The physical line of the first blank line of a UTF-8 file that hides a record, if any.

    DuckDB skips a blank line in a file of two or more columns without a word, where the
    layout says it is a record with too few fields; blank lines only at the end are no record.
    Python's csv reader splits records as DuckDB does (a quote opens a quoted value only at the
    start of a field, a line break inside one belongs to the value) and gives a blank line as
    an empty record. A few MB a second: run only on a file whose record count says it may
    hold one (`_hidden_by_blank_line`).
    """
    csv.field_size_limit(max(csv.field_size_limit(), _BLOCK))  # a long quoted value is no error
    blank = None
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if not record:
                blank = reader.line_num if blank is None else blank
            elif blank is not None:
                return blank
    return None


def _trailing_line_ends(path: Path) -> int:
    """How many line feeds the file's trailing run of line ends holds."""
    size = path.stat().st_size
    found = 0
    with open(path, "rb") as handle:
        while size > 0:
            start = max(0, size - _TAIL)
            handle.seek(start)
            block = handle.read(size - start)
            kept = block.rstrip(b"\r\n")
            found += block.count(b"\n", len(kept))
            if kept:
                break
            size = start
    return found


def _fits(path: Path, encoding: str) -> tuple[str | None, int]:
    """Where the file first fails to decode in `encoding` (None if it never does), and how many
    line feeds (bytes 0x0A) it holds."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = line_feeds = 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
                line_feeds += block.count(b"\n")
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return f"{error.reason} at byte {offset + error.start}", line_feeds
    return None, line_feeds


def decodes_in(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes in `encoding` (read in blocks)."""
    return _fits(path, encoding)[0] is None


def detect_encoding(landed: LandedFile, encodings: list[str]) -> str:
    """The first declared encoding the whole file decodes in; never a silent guess.

    UTF-8 is strict, so a windows-1251 file is never mistaken for it; the encoding found is
    recorded with every row.
    """
    return _decode(landed, encodings)[0]


def _decode(landed: LandedFile, encodings: list[str]) -> tuple[str, int]:
    """`detect_encoding`, and the file's count of line feeds."""
    tried = []
    for encoding in encodings:
        name = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        failure, line_feeds = _fits(landed.path, name)
        if failure is None:
            return name, line_feeds
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


def _layout_error(landed: LandedFile, line: int | str | None, why: str) -> LandingFileError:
    """A record that does not fit the layout: the file and line named, never the line's content."""
    where = f" at line {line}" if line is not None else ""
    return LandingFileError(f"{landed.relative}: a record does not fit the layout{where} ({why})")


def _reader_error(landed: LandedFile, error: duckdb.Error) -> LandingFileError:
    """DuckDB's reader error as `_layout_error`, with the line it names."""
    line = _CSV_LINE.search(str(error))
    return _layout_error(
        landed, line.group(1) if line else None, "wrong number of fields or an unclosed quote"
    )


def _transcoded(landed: LandedFile, encoding: str, workdir: Path) -> tuple[Path, int]:
    """A UTF-8 copy of a file in another encoding, written block by block; its line feeds."""
    handle, name = tempfile.mkstemp(suffix=".csv", dir=workdir)  # one per file, never shared
    os.close(handle)
    target = Path(name)
    line_feeds = 0
    with (
        open(landed.path, encoding=encoding, newline="") as source,
        open(target, "w", encoding="utf-8", newline="") as sink,
    ):
        for block in iter(lambda: source.read(_BLOCK), ""):
            sink.write(block)
            line_feeds += block.count("\n")
    return target, line_feeds


@dataclass(frozen=True)
class Delivery:
    """A landing file whose encoding and header are known: ready to be scanned."""

    landed: LandedFile
    encoding: str  # "xlsx" for a workbook
    header: tuple[str, ...]  # the file's columns in its order (a workbook's are read with it)
    scanned: Path  # what DuckDB reads: the landed file itself, or its UTF-8 copy
    size: int  # bytes of `scanned`
    plain_records: int | None = None  # records if no value spans lines and no line is blank


def prepare(
    landed: LandedFile, columns: list[str], workdir: Path, encodings: list[str] | None = None
) -> Delivery:
    """Find a file's encoding and check its header against `columns` (in any order).

    A file in another declared encoding than UTF-8 is copied to UTF-8 in `workdir`, which
    must outlive the scan.
    """
    if landed.path.suffix.lower() == ".xlsx":
        return Delivery(landed, "xlsx", (), landed.path, landed.path.stat().st_size)
    encoding, line_feeds = _decode(landed, encodings or ["utf-8"])
    found = _header(landed.path, encoding)
    _check_header(landed, found, columns)
    scanned = landed.path
    if encoding != "utf-8":
        scanned, line_feeds = _transcoded(landed, encoding, workdir)
    # one record per line after the header, unless a value spans lines or a line is blank
    plain = line_feeds - _trailing_line_ends(scanned)
    return Delivery(landed, encoding, tuple(found), scanned, scanned.stat().st_size, plain)


def land_and_prepare(
    path: Path,
    landing_dir: Path,
    columns: list[str],
    workdir: Path,
    encodings: list[str] | None = None,
) -> Delivery:
    """`land` and `prepare` in one: the file is hashed in a thread while its encoding is checked.

    hashlib lets go of the GIL as it hashes and the decoder does not, so the two passes over the
    file overlap on two cores (at 10M declarations 1.8 s of hashing and 1.3 s of decoding).
    """
    relative = _relative(path, landing_dir)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(sha256_file, path)
        delivery = prepare(LandedFile(path, relative, ""), columns, workdir, encodings)
        landed = LandedFile(path, relative, digest.result())
    return replace(delivery, landed=landed)


def scan(
    con: duckdb.DuckDBPyConnection, deliveries: list[Delivery], columns: list[str]
) -> tuple[dict[Path, int], list[tuple[Delivery, LandingFileError]]]:
    """Load deliveries into the temporary table `_received`; rows of each file read, files refused.

    Every value is kept as text, exactly as received, with `_path` (the file scanned). CSV files
    that share a header are scanned by one `read_csv`, in parallel; a record that does not fit the
    layout (too many or too few fields, an unclosed quote) refuses its whole file, since no row of
    it can then be trusted, and the files scanned with it are scanned again without it. Read the
    rows through `RECEIVED_ROWS`, which numbers each file's records.
    """
    scanned = [d.scanned for d in deliveries]
    if len(set(scanned)) != len(scanned):  # its rows would be read, and stored, more than once
        raise ValueError(f"a file is delivered twice in one scan: {sorted(map(str, scanned))}")
    con.execute(f"drop view if exists {RECEIVED_ROWS}")
    con.execute(f"drop table if exists {RECEIVED}")
    typed = ", ".join(f"{quote_ident(c)} varchar" for c in [*columns, _PATH])
    con.execute(f"create temporary table {RECEIVED} ({typed})")
    refused: list[tuple[Delivery, LandingFileError]] = []
    # Insertion order is kept, so each file's records get consecutive rowids in file order.
    kept = _insertion_order(con)
    con.execute("set preserve_insertion_order = true")
    try:
        groups: dict[tuple[str, ...], list[Delivery]] = {}
        for delivery in deliveries:
            if delivery.encoding == "xlsx":
                try:
                    _scan_xlsx(con, delivery, columns)
                except LandingFileError as refusal:
                    refused.append((delivery, refusal))
            else:
                groups.setdefault(delivery.header, []).append(delivery)
        for header, group in groups.items():
            try:
                _scan_csv(con, group, header)
            except duckdb.Error:
                for delivery in group:  # scan them one by one to find the files at fault
                    try:
                        _scan_csv(con, [delivery], header)
                    except duckdb.Error as error:
                        refused.append((delivery, _reader_error(delivery.landed, error)))
    finally:
        con.execute("set preserve_insertion_order = $kept", {"kept": kept})
    con.execute(
        f"create temporary view {RECEIVED_ROWS} as "  # noqa: S608
        f"select _r.*, _r.rowid - _f.first + 1 as source_row_number from {RECEIVED} as _r "
        f"join (select {_PATH}, min(rowid) as first from {RECEIVED} group by all) as _f "
        f"using ({_PATH})"
    )
    counts = dict(con.execute(f"select {_PATH}, count(*) from {RECEIVED} group by all").fetchall())  # noqa: S608
    unread = {d.scanned for d, _ in refused}
    for delivery in deliveries:
        line = None if delivery.scanned in unread else _hidden_by_blank_line(delivery, counts)
        if line is not None:
            why = f"a blank line in a file of {len(delivery.header)} columns"
            refused.append((delivery, _layout_error(delivery.landed, line, why)))
            unread.add(delivery.scanned)
            where = {"path": str(delivery.scanned)}
            con.execute(f"delete from {RECEIVED} where {_PATH} = $path", where)  # noqa: S608
    read = [d.scanned for d in deliveries if d.scanned not in unread]
    return {path: int(counts.get(str(path), 0)) for path in read}, refused


def _hidden_by_blank_line(delivery: Delivery, counts: dict[str, int]) -> int | None:
    """The line of a blank line that hid a record of a file of 2+ columns from the scan.

    DuckDB skips such a line. A file is searched for one only when the scan read another number
    of records than the file has lines after its header (a value spans lines, a line is blank,
    or the lines end in a lone carriage return).
    """
    if delivery.plain_records is None or len(delivery.header) < 2:
        return None  # a workbook; or one column, where a blank line is an empty value
    if counts.get(str(delivery.scanned), 0) == delivery.plain_records:
        return None
    return _blank_line(delivery.scanned)


def receive(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    columns: list[str],
    encodings: list[str] | None = None,
) -> str:
    """Load one landing file into `_received` (see `scan`); return the encoding found."""
    with tempfile.TemporaryDirectory() as workdir:
        delivery = prepare(landed, columns, Path(workdir), encodings)
        _, refused = scan(con, [delivery], columns)
    if refused:
        raise refused[0][1]
    return delivery.encoding


def _scan_csv(
    con: duckdb.DuckDBPyConnection, group: list[Delivery], header: tuple[str, ...]
) -> None:
    con.execute(
        f"insert into {RECEIVED} by name select * from read_csv($paths, header = true, "  # noqa: S608
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"columns = $columns, filename = '{_PATH}')",
        {
            "paths": [str(d.scanned) for d in group],
            "columns": {name: "VARCHAR" for name in header},
        },
    )


def _insertion_order(con: duckdb.DuckDBPyConnection) -> bool:
    """The database's `preserve_insertion_order`, to set back (a reset would give the default)."""
    row = con.execute("select current_setting('preserve_insertion_order')").fetchone()
    return bool(row and row[0])


def received_columns(columns: list[str]) -> str:
    """The select list over `RECEIVED_ROWS`: the columns by name and each record's position."""
    return ", ".join([*(quote_ident(c) for c in columns), "source_row_number"])


def _scan_xlsx(con: duckdb.DuckDBPyConnection, delivery: Delivery, columns: list[str]) -> None:
    landed = delivery.landed
    try:
        frame = pl.read_excel(landed.path, infer_schema_length=0)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError):
        raise LandingFileError(f"{landed.relative}: not a readable XLSX workbook") from None
    _check_header(landed, frame.columns, columns)
    text = frame.select(pl.col(c).cast(pl.String) for c in columns)
    con.register("_xlsx", text.with_columns(pl.lit(str(delivery.scanned)).alias(_PATH)).to_arrow())
    try:
        con.execute(f"insert into {RECEIVED} by name select * from _xlsx")  # noqa: S608
    finally:
        con.unregister("_xlsx")
