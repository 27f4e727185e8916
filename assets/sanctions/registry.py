"""Which sanctions lists we receive, where their files land, and how each is read.

The facts live in `data_contracts/sanctions_lists.yaml`; this module only reads them and finds
the snapshots present in the landing area.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from assets.common.code_digest import code_digest
from assets.common.contracts import load_contract
from assets.common.landing import RefusedFile, inside
from assets.common.raw import sha256_file
from assets.sanctions.model import PART_SCHEMAS, ParsedList


@dataclass(frozen=True)
class ListSpec:
    """One sanctions list as described by its contract."""

    list_id: str
    name: str
    landing: str
    format: str
    file_pattern: re.Pattern[str]
    main_part: str
    min_entries: int
    max_entries: int
    max_drop_ratio: float
    # Delisting bound: more removals than either needs a reviewer's approval row.
    max_removals: int
    max_removal_share: float


@dataclass(frozen=True)
class LandedFile:
    """One received file of a snapshot."""

    part: str
    path: Path
    sha256: str
    size_bytes: int

    def read(self) -> bytes:
        data = self.path.read_bytes()
        return gzip.decompress(data) if self.path.suffix == ".gz" else data


@dataclass(frozen=True)
class Snapshot:
    """The files of one list received for one date."""

    spec: ListSpec
    as_of: date
    files: dict[str, LandedFile] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return f"{self.spec.list_id}@{self.as_of.isoformat()}"

    @property
    def fingerprint(self) -> str:
        """Identity of the snapshot's bytes: the sha256 of each part, in part order."""
        return "+".join(f"{part}:{f.sha256}" for part, f in sorted(self.files.items()))


@cache
def list_specs() -> dict[str, ListSpec]:
    lists = load_contract("sanctions_lists").custom["lists"]
    return {
        list_id: ListSpec(
            list_id=list_id,
            name=item["name"],
            landing=item["landing"],
            format=item["format"],
            file_pattern=re.compile(item["file_pattern"]),
            main_part=item["main_part"],
            min_entries=int(item["min_entries"]),
            max_entries=int(item["max_entries"]),
            max_drop_ratio=float(item["max_drop_ratio"]),
            max_removals=int(item["max_removals"]),
            max_removal_share=float(item["max_removal_share"]),
        )
        for list_id, item in lists.items()
    }


def _readable(landing_root: Path, path: Path) -> bool:
    """A regular file inside the landing area, reached through no symbolic link."""
    try:
        inside(landing_root, path)
    except RefusedFile:
        return False
    return path.is_file()


def landed_snapshots(landing_root: Path) -> list[Snapshot]:
    """Every snapshot in the landing area with its main file present, oldest first per list."""
    found: list[Snapshot] = []
    for spec in list_specs().values():
        folder = landing_root / spec.landing
        by_date: dict[date, dict[str, LandedFile]] = {}
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            match = spec.file_pattern.match(path.name)
            if not match or not _readable(landing_root, path):
                continue  # listed with its reason by the landing inventory, never read here
            day = date.fromisoformat(match.group("date"))
            by_date.setdefault(day, {})[match.group("part")] = LandedFile(
                match.group("part"), path, sha256_file(path), path.stat().st_size
            )
        found += [
            Snapshot(spec, day, files)
            for day, files in sorted(by_date.items())
            if spec.main_part in files
        ]
    return found


# format -> module holding PARSER_VERSION, PARTS, check_complete(parts) and parse(parts)
PARSER_MODULES: dict[str, str] = {
    "ofac_legacy_csv": "assets.sanctions.ofac_sdn",
    "un_xml": "assets.sanctions.un_xml",
    "uk_conlist_csv": "assets.sanctions.uk_consolidated",
    "eu_fsf": "assets.sanctions.eu_fsf",
    "eu_journal_csv": "assets.sanctions.eu_journal",
    "opensanctions_ftm": "assets.sanctions.opensanctions_ftm",
}


def _lazy_parse(module: str) -> Callable[[dict[str, bytes]], ParsedList]:
    """The module's `parse`, imported on first use (loading the definitions stays cheap)."""

    def parse(parts: dict[str, bytes]) -> ParsedList:
        result: ParsedList = importlib.import_module(module).parse(parts)
        return result

    return parse


# format -> (module holding PARSER_VERSION, function reading a snapshot's parts)
PARSERS: dict[str, tuple[str, Callable[[dict[str, bytes]], ParsedList]]] = {
    fmt: (module, _lazy_parse(module)) for fmt, module in PARSER_MODULES.items()
}


# What a parser's output depends on beside its own module: the normalized model and the helpers
# every parser shares, the safe XML reader, and the libraries they call;
# the step's own code that reads the bytes and labels the rows (`registry`, `snapshots`) too
_PARSER_FILES = (
    "model.py",
    "parsing.py",
    "countries.py",
    "identifiers.py",
    "registry.py",
    "snapshots.py",
)
_PARSER_LIBRARIES = ("polars", "python-stdnum", "pycountry", "defusedxml")


@cache
def parser_digest(spec: ListSpec) -> str:
    """sha256 of the code a list's parser runs: its module, the shared parsing code and the
    libraries' versions. Staged rows are kept only while it is unchanged, so a parser change
    that forgot to bump `PARSER_VERSION` still parses every snapshot again."""
    module = importlib.import_module(PARSERS[spec.format][0])
    package = Path(__file__).resolve().parent
    files = [Path(str(module.__file__)), *(package / name for name in _PARSER_FILES)]
    return code_digest([*files, package.parent / "common" / "xml.py"], _PARSER_LIBRARIES)


def parser_version(spec: ListSpec) -> str:
    module, _ = PARSERS[spec.format]
    return str(importlib.import_module(module).PARSER_VERSION)


# The last lists parsed, by parser and by the bytes of every part. A run parses a new
# snapshot's bytes for the guard, the snapshot in force to count its removals, and then every
# accepted snapshot again for staging (about 0.4 s each for the OFAC SDN): the same bytes,
# parsed by the same function. A `ParsedList` is frozen and no reader changes its frames in
# place, so one parse serves all three. Bounded by the frames' size, not their count: an
# OpenSanctions export parses to far more than the others, and is not kept.
_PARSED: OrderedDict[tuple[object, object, str], tuple[ParsedList, int]] = OrderedDict()
PARSED_KEPT_BYTES = 64 * 2**20  # the OFAC SDN parses to 3.5 MB


def parse_parts(spec: ListSpec, parts: dict[str, bytes]) -> ParsedList:
    """Parse a snapshot's files (raw bytes by part) with its list's parser; the same bytes
    parsed by the same parser earlier in this process are not parsed again."""
    module, parse = PARSERS[spec.format]
    digest = hashlib.sha256()
    for name in sorted(parts):
        for field_ in (name.encode(), parts[name]):
            digest.update(len(field_).to_bytes(8, "big"))
            digest.update(field_)
    # the parser as it is now, its version (bumped whenever its output changes) and its
    # wrapper: a test, or a reload, may replace any of them
    parser = importlib.import_module(module)
    key = (
        parse,
        getattr(parser, "parse", None),
        f"{getattr(parser, 'PARSER_VERSION', '')}:{digest.hexdigest()}",
    )
    if key in _PARSED:
        _PARSED.move_to_end(key)
        return _PARSED[key][0]
    parsed = parse(parts)
    size = int(sum(getattr(parsed, part).estimated_size() for part in PART_SCHEMAS))
    if size <= PARSED_KEPT_BYTES:
        _PARSED[key] = (parsed, size)
        while sum(kept for _, kept in _PARSED.values()) > PARSED_KEPT_BYTES:
            _PARSED.popitem(last=False)
    return parsed


def forget_parsed() -> None:
    """Drop the parses kept (a benchmark timing a run as a new process would)."""
    _PARSED.clear()


def parse_snapshot(snapshot: Snapshot) -> ParsedList:
    """Parse a landed snapshot's files (raises SnapshotFormatError)."""
    parts = {part: landed.read() for part, landed in snapshot.files.items()}
    return parse_parts(snapshot.spec, parts)
