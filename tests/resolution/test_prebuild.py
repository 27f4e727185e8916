"""Matchers built ahead in a process of their own: the same matcher, used only when whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.common.paths import REFERENCE_DIR
from assets.resolution import matcher_cache, prebuild
from assets.resolution.matcher import MatchConfig, Matcher
from assets.sanctions import ofac_sdn

SNAPSHOT = REFERENCE_DIR / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"
DAY = dt.date(2024, 2, 23)


def _queries(parts: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Parties named as some listed entries are (and one that is not)."""
    names = [*parts["entries"]["name"].slice(100, 60).to_list(), "Volga Precision Tools"]
    return pl.DataFrame({"name": names, "inn": [None] * len(names), "country": ["RU"] * len(names)})


def _staged(tmp_path: Path, entries: int = 600) -> duckdb.DuckDBPyConnection:
    """A warehouse whose staging holds the first `entries` entries of the SDN of 2024-02-23
    (and an older version of 10 entries, which is not screened against)."""
    parsed = ofac_sdn.parse(SNAPSHOT.read_bytes())
    kept = parsed.entries.head(entries)
    con = duckdb.connect(str(tmp_path / "chokepoint.build.duckdb"))
    con.execute("create schema staging")
    for table, frame in (
        ("entries", kept),
        ("aliases", parsed.aliases.filter(pl.col("entry_id").is_in(kept["entry_id"]))),
        ("identifiers", parsed.identifiers.filter(pl.col("entry_id").is_in(kept["entry_id"]))),
    ):
        versions = pl.concat(
            [
                frame.with_columns(list_id=pl.lit("ofac_sdn"), snapshot_date=pl.lit(DAY)),
                frame.filter(pl.col("entry_id").is_in(kept["entry_id"].head(10))).with_columns(
                    list_id=pl.lit("ofac_sdn"), snapshot_date=pl.lit(dt.date(2024, 1, 2))
                ),
            ]
        )
        con.register("frame", versions.to_arrow())
        con.execute(f"create table staging.sanctions_{table} as select * from frame")  # noqa: S608
        con.unregister("frame")
    return con


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(frame.columns)).sort(pl.all(), nulls_last=True)


def _never_built_here(*_: object) -> Matcher:
    raise AssertionError("the matcher was built in the run's process")


def test_the_latest_versions_matcher_is_built_ahead_and_used_as_built_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = _staged(tmp_path)
    build_path = str(tmp_path / "chokepoint.build.duckdb")
    config, folder = MatchConfig(), prebuild.folder_of(build_path)
    parts = prebuild.list_parts(con, "ofac_sdn", DAY)
    assert parts["entries"].height == 600
    (started,) = prebuild.start(con, build_path, config)
    assert started == matcher_cache.matcher_path(folder, "ofac_sdn", parts, config)
    assert prebuild.start(con, build_path, config) == []  # already being built
    with monkeypatch.context() as patch:
        patch.setattr(matcher_cache, "build_at", _never_built_here)
        ahead = matcher_cache.screened(folder, "ofac_sdn", parts, config, _queries(parts))
    assert ahead.matcher == matcher_cache.BUILT_AHEAD and started.is_file()
    assert prebuild.start(con, build_path, config) == []  # kept now
    # a version whose names' records are kept is left to the step (about a second)
    started.unlink()
    assert matcher_cache.names_path(folder, "ofac_sdn").is_file()
    assert prebuild.start(con, build_path, config) == []
    # what a matcher built in this process finds
    here = matcher_cache.screened(tmp_path / "here", "ofac_sdn", parts, config, _queries(parts))
    assert here.matcher == matcher_cache.BUILT
    assert ahead.found.filter(pl.col("decision") == "match").height > 20
    assert _sorted(ahead.found).equals(_sorted(here.found))


def test_a_build_process_that_dies_leaves_the_matcher_to_the_step(tmp_path: Path) -> None:
    con = _staged(tmp_path, entries=300)
    build_path = str(tmp_path / "chokepoint.build.duckdb")
    config, folder = MatchConfig(), prebuild.folder_of(build_path)
    (started,) = prebuild.start(con, build_path, config)
    build = prebuild._building[started]
    build._starter.join()
    build.process.kill()  # killed before it wrote the matcher (it takes seconds to import)
    parts = prebuild.list_parts(con, "ofac_sdn", DAY)
    result = matcher_cache.screened(folder, "ofac_sdn", parts, config, _queries(parts))
    assert result.matcher == matcher_cache.BUILT and started.is_file()
    assert result.found.filter(pl.col("decision") == "match").height > 0
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
