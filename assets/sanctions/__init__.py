"""Sanctions lists: received snapshots, normalized entries, history, deltas and identifiers.

The Dagster definitions are in `assets.sanctions.assets`: the package itself imports nothing,
so a process that needs only its parsers or `countries` (the matcher's build ahead, the suites'
worker) does not import Dagster (about 1 s).
"""
