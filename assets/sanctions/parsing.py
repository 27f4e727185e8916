"""What every sanctions-list parser shares: the reading helpers and the completeness checks.

Each parser module has one shape: `PARSER_VERSION`, `PARTS` (the parts of a snapshot it reads),
`check_complete(parts)` (what the publisher's format lets us tell about a file cut short) and
`parse(parts) -> ParsedList`, which runs `check_complete` before reading anything. The checks
here raise `IncompleteSnapshotError` with the part's name and the missing structure; they never
quote the file's content. What each format can and cannot show is in
`docs/sanctions_completeness.md`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import polars as pl

from assets.sanctions.model import SnapshotFormatError, empty

Row = dict[str, object]

UTF8_BOM = b"\xef\xbb\xbf"
MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
# How far into a file the root start tag may be, and how far from its end its closing tag.
_HEAD_BYTES = 65536
_TAIL_BYTES = 4096
_ROOT_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*"
    rb"<(?P<name>[A-Za-z_][\w.:-]*)(?P<attributes>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)"
    rb"\s*(?P<empty>/?)>",
    re.S,
)
_ATTRIBUTE = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


class IncompleteSnapshotError(SnapshotFormatError):
    """A received file lacks structure its publisher always writes: it was cut or damaged."""


# --- reading --------------------------------------------------------------------------------


def frame(
    rows: Sequence[Mapping[str, object] | tuple[object, ...]], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """Rows (dicts by column, or tuples in schema order) as a frame of exactly `schema`."""
    if not rows:
        return empty(schema)
    if isinstance(rows[0], Mapping):
        return pl.DataFrame(rows, schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


def refuse_gzip(data: bytes) -> None:
    if data[:2] == b"\x1f\x8b":
        raise SnapshotFormatError("input is gzip-compressed; decompress it before parsing")


def decode_text(data: bytes, encodings: Sequence[str] = ("utf-8", "cp1252")) -> str:
    """The first of `encodings` that decodes, else latin-1 (a UTF-8 BOM dropped): never fails."""
    data = data.removeprefix(UTF8_BOM)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (a BOM dropped); a byte that is not UTF-8 is a format error."""
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotFormatError(f"not UTF-8 at byte {exc.start}") from exc


def clean(value: str | None) -> str | None:
    """Whitespace runs collapsed to one space, trimmed; empty becomes None."""
    if value is None:
        return None
    return " ".join(value.split()) or None


def unique(values: Iterable[str]) -> list[str]:
    """Trimmed, non-empty values, first occurrence kept, in order."""
    return list(dict.fromkeys(value.strip() for value in values if value.strip()))


def read_date(text: str, patterns: Iterable[re.Pattern[str]]) -> date | None:
    """The date the first matching pattern reads (groups `year`, `month`, `day`), else None.

    `month` may be a number or an English month name. None also when the numbers are no date.
    """
    for pattern in patterns:
        match = pattern.match(text)
        if match is None:
            continue
        month = match.group("month")
        number = int(month) if month.isdigit() else MONTHS.get(month.lower())
        if number is None:
            return None
        try:
            return date(int(match.group("year")), number, int(match.group("day")))
        except ValueError:
            return None
    return None


def require_part(parts: Mapping[str, bytes], part: str) -> bytes:
    if part not in parts:
        raise SnapshotFormatError(f"the snapshot has no `{part}` file (has: {sorted(parts)})")
    return parts[part]


# --- completeness ---------------------------------------------------------------------------


def require_data(part: str, data: bytes) -> None:
    """Refuse a gzip stream or a file holding nothing but whitespace."""
    refuse_gzip(data)
    if not data.strip(b" \t\r\n\x1a" + UTF8_BOM):
        raise SnapshotFormatError(f"part {part}: empty input: the file holds no records")


def require_trailer(part: str, data: bytes, trailer: bytes, what: str) -> None:
    """The file ends with `trailer`, which appears nowhere else (two files glued together)."""
    if not data.endswith(trailer):
        ending = "mid-line" if not data.endswith(b"\n") else "after a line break"
        raise IncompleteSnapshotError(
            f"part {part}: the file ends {ending} without {what}: it is incomplete "
            "(cut short in transfer or storage)"
        )
    marker = trailer.lstrip(b"\r\n")
    if data.count(marker) != 1:
        raise IncompleteSnapshotError(
            f"part {part}: {what} appears {data.count(marker)} times, expected once at the end "
            "(files concatenated or damaged)"
        )


def require_final_line_break(part: str, data: bytes) -> None:
    """A CSV whose writer ends every record with a line break: no break at the end is a cut."""
    if not data.endswith(b"\n"):
        raise IncompleteSnapshotError(
            f"part {part}: the last record has no line break: the file is cut mid-line"
        )


def xml_root(part: str, data: bytes) -> tuple[str, dict[str, str], bool]:
    """(local name, attributes, self-closing) of the root start tag, read from the bytes."""
    match = _ROOT_START.match(data[:_HEAD_BYTES])
    if match is None and b"<!DOCTYPE" in data[:_HEAD_BYTES]:
        raise SnapshotFormatError(
            f"part {part}: refusing XML with a DTD or entity declaration; the publisher's files "
            "have none"
        )
    if match is None:
        raise SnapshotFormatError(
            f"part {part}: no XML root element at the start of the file: not an XML document"
        )
    attributes = {
        name.decode("utf-8", "replace"): (double if double is not None else single or b"").decode(
            "utf-8", "replace"
        )
        for name, double, single in _ATTRIBUTE.findall(match.group("attributes"))
    }
    name = match.group("name").decode("ascii", "replace").rsplit(":", 1)[-1]
    return name, attributes, bool(match.group("empty"))


def require_xml_root(part: str, data: bytes, root: str, attribute: str) -> str:
    """The root is `root` (any namespace prefix), carries `attribute`, and is closed at the end.

    Returns the attribute's value. A root closed before the end of the file (trailing
    whitespace aside) or never closed means the file was cut.
    """
    name, attributes, self_closing = xml_root(part, data)
    if name != root:
        raise SnapshotFormatError(f"part {part}: root element is <{name}>, expected <{root}>")
    value = (attributes.get(attribute) or "").strip()
    if not value:
        raise IncompleteSnapshotError(
            f"part {part}: the root <{root}> has no {attribute} attribute, which the publisher "
            "always writes"
        )
    closing = re.compile(rb"</(?:[\w.-]+:)?" + re.escape(root.encode()) + rb"\s*>\s*\Z")
    if not self_closing and closing.search(data[-_TAIL_BYTES:]) is None:
        raise IncompleteSnapshotError(
            f"part {part}: the file does not end with the closing </{root}>: it is cut short"
        )
    return value


def require_elements(part: str, data: bytes, root: str, elements: Iterable[str]) -> None:
    """Every one of `elements` occurs as a tag somewhere in the document."""
    missing = [
        name
        for name in elements
        if re.search(rb"<(?:[\w.-]+:)?" + re.escape(name.encode()) + rb"[\s/>]", data) is None
    ]
    if missing:
        raise IncompleteSnapshotError(
            f"part {part}: <{root}> lacks {', '.join(f'<{name}>' for name in missing)}, which "
            "every release has: the file is incomplete"
        )


def describe_value(value: str, limit: int = 40) -> str:
    """A structural value (a date attribute, a title cell) quoted, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
