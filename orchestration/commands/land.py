"""`chokepoint land FILE [--as RELATIVE]`: put a delivery into the landing area, checked first.

A file is landed only when the pipeline would read it: its landing name matches a contract (the
same patterns `assets.common.landing.classify` applies), it is a regular file (a symbolic link is
refused), and for a contract-described CSV or XLSX its header names the contract's columns. The
copy is atomic: written to a temporary file in the target folder, flushed to disk with fsync and
renamed over the target, so a sensor or a run never reads half a delivery. Refusals are one line
and exit code 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import os
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from assets.common import landing
from assets.common.contracts import list_contracts, load_contract
from assets.common.landing import RefusedFile, accepted_patterns, inside
from assets.common.raw import (
    LandedFile,
    LandingFileError,
    _check_header,
    _header,
    detect_encoding,
    sha256_file,
)
from orchestration.commands import BadInput, add_command
from orchestration.commands.published import current_settings

_BLOCK = 1 << 23


def add_to(commands: Any) -> None:
    parser = add_command(
        commands,
        "land",
        "check a delivery's name and header against its contract, then copy it atomically "
        "into the landing area",
        "The landing name is found from the file name (declarations_2025-01.csv lands as\n"
        "customs/declarations_2025-01.csv); give it with --as when the file is named otherwise.\n"
        "Exit codes: 0 landed (or already there), 1 a write failed, 2 refused.",
    )
    parser.add_argument("file", type=Path, help="the delivered file")
    parser.add_argument(
        "--as",
        dest="relative",
        metavar="RELATIVE",
        help="its path inside the landing area, e.g. customs/declarations_2025-01.csv",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = current_settings()
    source: Path = args.file
    check_source(source)
    relative = args.relative or landing_name(source.name)
    dataset, month = classify_name(relative)
    if not dataset.startswith("sanctions:"):
        check_header(source, relative, dataset)
    root = settings.landing_dir
    target = root / relative
    try:
        inside(root, target)
    except RefusedFile as refusal:
        raise BadInput(str(refusal)) from None
    if target.is_file() and sha256_file(target) == sha256_file(source):
        print(f"{relative}: already landed, unchanged")
        return 0
    replaced = target.exists()
    copy_atomically(source, target)
    what = f"{dataset}" + (f", month {month}" if month else "")
    print(f"{relative}: {'replaced' if replaced else 'landed'} ({what}) in {root}")
    return 0


def check_source(source: Path) -> None:
    """Refuse a symbolic link, a missing file or anything but a regular file."""
    try:
        mode = source.lstat().st_mode
    except FileNotFoundError:
        raise BadInput(f"{source}: no such file") from None
    if stat.S_ISLNK(mode):
        raise BadInput(f"{source}: a symbolic link, refused (land the file it points to)")
    if not stat.S_ISREG(mode):
        raise BadInput(f"{source}: not a regular file")


def _landing_folders() -> list[str]:
    """Every landing folder a contract names (customs, tax, approvals, sanctions/<list>, ...)."""
    folders = set()
    for contract_id in list_contracts():
        custom = load_contract(contract_id).custom
        source = custom.get("source")
        if source and source.get("root") != "reference":
            folders.add(str(PurePosixPath(source["landing"]).parent))
        if custom.get("approvals_file"):
            folders.add(str(PurePosixPath(custom["approvals_file"]["landing"]).parent))
        for item in (custom.get("lists") or {}).values():
            folders.add(item["landing"].rstrip("/"))
    return sorted(folders)


def landing_name(name: str) -> str:
    """The landing path a bare file name fits, or BadInput when none (or several) do."""
    fits = [
        f"{folder}/{name}"
        for folder in _landing_folders()
        if any(p.regex.match(f"{folder}/{name}") for p in accepted_patterns())
    ]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        raise BadInput(f"{name}: name matches no contract; rename it or give --as RELATIVE")
    raise BadInput(f"{name}: fits {', '.join(fits)}; say which with --as RELATIVE")


def classify_name(relative: str) -> tuple[str, str | None]:
    """(dataset, month) a landing path feeds, as `landing.classify` decides; else BadInput."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or relative != path.as_posix():
        raise BadInput(f"{relative}: give a path inside the landing area, like customs/<file>")
    try:
        return landing.classify_name(relative)
    except RefusedFile as refusal:
        raise BadInput(str(refusal)) from None


def check_header(source: Path, relative: str, dataset: str) -> None:
    """Refuse a file whose header is not its contract's (names expected columns only)."""
    contract = load_contract(dataset)
    landed = LandedFile(source, relative, "")
    columns = contract.column_names
    try:
        if source.suffix.lower() == ".xlsx":
            import polars as pl

            try:
                found = pl.read_excel(source, infer_schema_length=0).columns
            except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
                raise BadInput(f"{relative}: not a readable XLSX workbook") from None
        else:
            spec = contract.custom.get("source") or contract.custom.get("approvals_file") or {}
            encodings = spec.get("encodings") or [spec.get("encoding", "utf-8")]
            found = _header(source, detect_encoding(landed, encodings))
        if "source" in contract.custom:
            _check_header(landed, found, columns)
        elif missing := [c for c in columns if c not in found]:  # approvals: extra columns ok
            raise BadInput(f"{relative}: missing column(s) {', '.join(missing)}")
    except LandingFileError as refusal:
        raise BadInput(str(refusal)) from None


def copy_atomically(source: Path, target: Path) -> None:
    """Copy through a temporary file in the target's folder, fsync it, rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as sink, open(source, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                sink.write(block)
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
