"""Screen a CSV of counterparty names against a sanctions list file.

    python -m assets.resolution.screen --names names.csv --list sdn.csv [--alt alt.csv]
        [--add add.csv] [--format ofac_legacy_csv] [--out out.csv|out.json] [--top 3]
        [--config matcher.yaml] [--min-score 0.5]

`names.csv` has a header with a `name` column and optionally `inn`, `ogrn`, `identifier`,
`country` and `entity_type` (`organisation` or `person`; without it a name with a legal form
or an organisational term is taken as an organisation). The list file is read with the
parser of `--format` (a format of `assets.sanctions.registry.PARSERS`; gzip files are
decompressed). For every input row the
output holds its best candidates (the list's own entry id, e.g. the OFAC ent_num, matched
name, score, decision, explanation), or one row with decision `no_match` and no entry when
nothing scored at least `--min-score`. CSV output is one row per (input row, candidate); JSON
output is one object per input row with a `candidates` array.

`names.csv` is read as UTF-8 (a leading byte-order mark is allowed) unless `--encoding` names
another codec (e.g. windows-1251); bytes that are not valid in it are refused with the row
number, never replaced, since a mangled name would be screened as a different name.
Bad input (a missing, empty or undecodable file, no `name` column, a list file that is not of
`--format`) ends with one line `screen: error: ...` on stderr and exit code 2, no traceback.
CSV cells that a spreadsheet would run as formulas get a leading apostrophe
(`assets.common.safe_output`); JSON is left as is.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from assets.common.safe_output import neutralize_frame
from assets.resolution.matcher import MatchConfig, Matcher
from assets.sanctions.model import ParsedList, SnapshotFormatError
from assets.sanctions.registry import PARSERS

# format -> (part the --list file is, part of --alt, part of --add)
FORMAT_PARTS: dict[str, tuple[str, str | None, str | None]] = {
    "ofac_legacy_csv": ("sdn", "alt", "add"),
    "un_xml": ("consolidated", None, None),
}
# format -> what its --list file is, for error messages
FORMAT_NAMES: dict[str, str] = {
    "ofac_legacy_csv": "an OFAC legacy SDN file (sdn.csv: 12 comma-separated fields a row)",
    "un_xml": "a UN consolidated list XML file (<CONSOLIDATED_LIST>)",
}
NAMES_FORMAT = "a CSV with a header row that has a `name` column"
QUERY_COLUMNS = ("name", "inn", "ogrn", "identifier", "country", "entity_type")
OUTPUT_COLUMNS = (
    "row",
    "name",
    "rank",
    "list_id",
    "entry_id",
    "matched_name",
    "matched_name_kind",
    "score",
    "decision",
    "explanation",
)


class InputError(Exception):
    """Input the command cannot use; its message is the one line the user sees."""


def read_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when it is gzip."""
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise InputError(f"{path}: damaged gzip file ({_first_line(error)})") from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def parse_list(
    fmt: str, list_path: Path, alt: Path | None = None, add: Path | None = None
) -> ParsedList:
    """Parse a list file (and OFAC's alt/add files) with the registry's parser for `fmt`."""
    if fmt not in PARSERS or fmt not in FORMAT_PARTS:
        known = ", ".join(sorted(set(PARSERS) & set(FORMAT_PARTS)))
        raise InputError(f"unknown list format {fmt!r}; known: {known}")
    main, alt_part, add_part = FORMAT_PARTS[fmt]
    files = {main: list_path}
    for part, path in ((alt_part, alt), (add_part, add)):
        if path is not None:
            if part is None:
                raise InputError(f"format {fmt} has no separate alias/address files")
            files[part] = path
    expected = FORMAT_NAMES.get(fmt, f"a {fmt} list")
    parts = {part: read_bytes(path) for part, path in files.items()}
    _, parse = PARSERS[fmt]
    try:
        parsed = parse(parts)
    except (SnapshotFormatError, pl.exceptions.PolarsError, UnicodeError, ValueError) as error:
        named = ", ".join(str(p) for p in files.values())
        raise InputError(f"{named}: not {expected}: {_first_line(error)}") from error
    if parsed.entries.is_empty():
        raise InputError(f"{list_path}: holds no list entries; expected {expected}")
    return parsed


def decode_names(path: Path, data: bytes, encoding: str) -> str:
    """The names file as text; bytes invalid in `encoding` are refused with their row number."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        row = _row_of(data[: error.start].decode(encoding))
        where = "the header" if row == 0 else f"row {row}"
        raise InputError(
            f"{path}: {where} is not valid {encoding} (byte {error.start}); "
            "give the file's encoding with --encoding, e.g. --encoding windows-1251"
        ) from error
    return text.removeprefix("\ufeff")


def _row_of(prefix: str) -> int:
    """Data row (1 = first after the header) that the text following `prefix` belongs to."""
    records = sum(1 for _ in csv.reader(io.StringIO(prefix)))
    at_record_start = prefix == "" or prefix.endswith(("\n", "\r"))
    return records if at_record_start else records - 1


def read_queries(path: Path, encoding: str = "utf-8") -> pl.DataFrame:
    """The names to screen, one query row per CSV row, with the columns of QUERY_COLUMNS."""
    text = decode_names(path, read_bytes(path), encoding)
    if not text.strip():
        raise InputError(f"{path}: empty file; expected {NAMES_FORMAT}")
    try:
        frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise InputError(
            f"{path}: not a readable CSV ({_first_line(error)}); expected {NAMES_FORMAT}"
        ) from error
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "name" not in frame.columns:
        raise InputError(
            f"{path}: no `name` column in the first row ({', '.join(frame.columns)[:120]}); "
            f"expected {NAMES_FORMAT}"
        )
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None, dtype=pl.String)).alias(c)
        for c in QUERY_COLUMNS
    )


def load_config(path: Path | None) -> MatchConfig:
    if path is None:
        return MatchConfig()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return MatchConfig.from_mapping(document.get("matcher", document))
    except (yaml.YAMLError, UnicodeError, AttributeError, TypeError, ValueError) as error:
        raise InputError(f"{path}: not a matcher settings YAML ({_first_line(error)})") from error


def screen_file(
    queries: pl.DataFrame, matcher: Matcher, top: int, min_score: float | None
) -> pl.DataFrame:
    """One row per (input row, candidate); input rows without candidates get one empty row."""
    found = matcher.screen(queries, top=top, min_score=min_score).with_columns(
        (pl.col("query_row") + 1).alias("row"),
        pl.int_range(1, pl.len() + 1).over("query_row").alias("rank"),
    )
    inputs = queries.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    floor = matcher.config.min_report_score if min_score is None else min_score
    missing = (
        inputs.join(found.select("row"), on="row", how="anti")
        .select("row", "name")
        .with_columns(
            pl.lit(None, dtype=pl.Int64).alias("rank"),
            pl.lit(matcher.list_id).alias("list_id"),
            pl.lit("no_match").alias("decision"),
            pl.lit(0.0).alias("score"),
            pl.lit(f"No candidate scored at least {floor:.2f}.").alias("explanation"),
        )
    )
    return (
        pl.concat(
            [found.select("row", "rank", *[c for c in OUTPUT_COLUMNS[3:]]).join(
                inputs.select("row", "name"), on="row"
            ), missing],
            how="diagonal_relaxed",
        )
        .select(OUTPUT_COLUMNS)
        .sort("row", "rank", nulls_last=True)
    )  # fmt: skip


def write(result: pl.DataFrame, queries: pl.DataFrame, out: Path | None) -> None:
    if out is not None and out.suffix.lower() == ".json":
        records: list[dict[str, Any]] = []
        inputs = queries.with_row_index("row", offset=1).to_dicts()
        by_row: dict[int, list[dict[str, Any]]] = {}
        for item in result.filter(pl.col("entry_id").is_not_null()).to_dicts():
            by_row.setdefault(item["row"], []).append(
                {k: item[k] for k in OUTPUT_COLUMNS if k not in ("row", "name")}
            )
        for item in inputs:
            records.append({**item, "candidates": by_row.get(item["row"], [])})
        # JSON is not neutralized: no spreadsheet runs a JSON string as a formula, and programs
        # reading it must get the names exactly as given.
        out.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif out is not None:
        # written by Python, not polars: polars shortens a long path in its error message
        with out.open("w", encoding="utf-8", newline="") as handle:
            handle.write(neutralize_frame(result).write_csv())
    else:
        sys.stdout.write(neutralize_frame(result).write_csv())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assets.resolution.screen", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--names", type=Path, required=True, help="CSV with a `name` column")
    parser.add_argument("--list", type=Path, required=True, help="the list file (e.g. sdn.csv)")
    parser.add_argument("--alt", type=Path, help="OFAC alt.csv (strong aliases)")
    parser.add_argument("--add", type=Path, help="OFAC add.csv (addresses, for countries)")
    parser.add_argument("--format", default="ofac_legacy_csv", help="list format")
    parser.add_argument("--list-id", default=None, help="list id written to the output")
    parser.add_argument("--out", type=Path, help="output .csv or .json (default: CSV to stdout)")
    parser.add_argument("--top", type=int, default=3, help="candidates per input row")
    parser.add_argument("--min-score", type=float, default=None, help="report floor")
    parser.add_argument("--config", type=Path, help="YAML with matcher settings")
    parser.add_argument(
        "--encoding", default="utf-8", help="encoding of the names file (default utf-8)"
    )
    args = parser.parse_args(argv)
    try:
        return run(args)
    except InputError as error:
        message = str(error)
    except OSError as error:
        message = f"{error.filename or ''}: {error.strerror or error}".removeprefix(": ")
    print(f"screen: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Screen, write the output and print a summary; bad input raises InputError."""
    try:
        codecs.lookup(args.encoding)
    except LookupError as error:
        raise InputError(f"unknown encoding {args.encoding!r} for --encoding") from error
    if args.out is not None and not args.out.parent.is_dir():
        raise InputError(f"{args.out.parent}: no such folder for --out")  # before screening
    queries = read_queries(args.names, args.encoding)
    parsed = parse_list(args.format, args.list, args.alt, args.add)
    matcher = Matcher(
        parsed.entries,
        parsed.aliases,
        parsed.identifiers,
        load_config(args.config),
        list_id=args.list_id or args.format,
    )
    result = screen_file(queries, matcher, args.top, args.min_score)
    write(result, queries, args.out)
    best = result.sort("row", "rank", nulls_last=True).unique("row", keep="first")
    counts = dict(best.group_by("decision").len().iter_rows())
    print(
        f"screened {queries.height} names against {matcher.entries_count} entries: "
        + ", ".join(f"{counts.get(d, 0)} {d}" for d in ("match", "possible", "no_match")),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
