"""The guard a snapshot passes before it may replace the one in force.

A truncated, empty or malformed file, or one whose size is outside its list's bounds, must never
delist everyone: it is rejected with a reason and the previous snapshot stays in force.

A well-formed snapshot can still delist too much: a file cut cleanly at a line boundary parses.
So removals are judged too: more than the list's bound (a count and a share of the entries in
force), or any removal of an entry linked to the warehouse, needs a reviewer's approval before
the snapshot comes into force.
"""

from __future__ import annotations

import polars as pl

from assets.sanctions.model import ParsedList, SnapshotFormatError
from assets.sanctions.registry import ListSpec, Snapshot, parse_snapshot


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


def removed_entries(in_force: ParsedList, parsed: ParsedList) -> pl.DataFrame:
    """Entries of the snapshot in force that the new one no longer has (entry_id, name)."""
    return (
        in_force.entries.select("entry_id", "name")
        .join(parsed.entries.select("entry_id"), on="entry_id", how="anti")
        .sort("entry_id")
    )


def review_reasons(spec: ListSpec, removed: int, in_force: int, linked: int) -> list[str]:
    """Why a snapshot's removals need a reviewer's approval; empty when they do not."""
    reasons = []
    if removed > spec.max_removals:
        reasons.append(f"{removed} entries removed, more than the bound of {spec.max_removals}")
    if in_force and removed / in_force > spec.max_removal_share:
        reasons.append(
            f"{removed / in_force:.2%} of {in_force} entries removed, more than the bound of "
            f"{spec.max_removal_share:.2%}"
        )
    if linked:
        reasons.append(f"{linked} removed entries are linked to companies, shipments or matches")
    return reasons
