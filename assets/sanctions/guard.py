"""The guard a snapshot passes before it may replace the one in force.

A truncated, empty or malformed file, or one whose size is outside its list's bounds, must never
delist everyone: it is rejected with a reason and the previous snapshot stays in force.
"""

from __future__ import annotations

from assets.sanctions.model import ParsedList, SnapshotFormatError
from assets.sanctions.registry import Snapshot, parse_snapshot


def check(snapshot: Snapshot, previous_entries: int | None) -> tuple[ParsedList | None, str | None]:
    """Parse and judge a snapshot: (parsed, None) when accepted, (None, reason) when rejected."""
    spec = snapshot.spec
    empty = [f.path.name for f in snapshot.files.values() if f.size_bytes == 0]
    if empty:
        return None, f"empty file: {', '.join(empty)}"
    try:
        parsed = parse_snapshot(snapshot)
    except SnapshotFormatError as error:
        return None, f"malformed: {error}"
    except (OSError, EOFError) as error:  # e.g. a truncated gzip stream
        return None, f"unreadable: {error}"
    entries = parsed.entries.height
    if not spec.min_entries <= entries <= spec.max_entries:
        return None, (
            f"{entries} entries, outside the expected {spec.min_entries}..{spec.max_entries} "
            f"for {spec.list_id}"
        )
    if previous_entries and entries < previous_entries * (1 - spec.max_drop_ratio):
        return None, (
            f"{entries} entries after {previous_entries} in the snapshot in force: a drop of "
            f"more than {spec.max_drop_ratio:.0%} looks like a truncated file"
        )
    return parsed, None
