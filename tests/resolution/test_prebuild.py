"""Matchers built ahead in a process of their own: the same matcher, used only when whole."""

from __future__ import annotations

import datetime as dt
import multiprocessing.context
import multiprocessing.process
import time
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
    names, aside = matcher_cache.names_path(folder, "ofac_sdn"), tmp_path / "names.pickle"
    names.rename(aside)  # (so that what stops a start below is the kept matcher)
    assert prebuild.start(con, build_path, config) == []  # kept now
    # a version whose names' records are kept is left to the step (about a second)
    aside.rename(names)
    started.unlink()
    assert prebuild.start(con, build_path, config) == []
    # what a matcher built in this process finds
    here = matcher_cache.screened(tmp_path / "here", "ofac_sdn", parts, config, _queries(parts))
    assert here.matcher == matcher_cache.BUILT
    assert ahead.found.filter(pl.col("decision") == "match").height > 20
    assert _sorted(ahead.found).equals(_sorted(here.found))


class _NeverDone:
    """A spawn context whose processes sleep for a minute instead of building: a build ahead
    that cannot have kept its matcher when it is stopped, however fast the machine (a real one
    of 300 entries can finish within the test's wait)."""

    spawn = multiprocessing.get_context("spawn")  # the real one, taken before any patch

    def Process(self, **kwargs: object) -> multiprocessing.process.BaseProcess:
        name = str(kwargs["name"])
        return self.spawn.Process(target=time.sleep, args=(60,), name=name, daemon=True)


def _started_and_parts(
    tmp_path: Path, config: MatchConfig, monkeypatch: pytest.MonkeyPatch
) -> tuple[duckdb.DuckDBPyConnection, Path, dict[str, pl.DataFrame]]:
    """A build ahead started (one that never finishes), and the parts of the list it builds."""
    con = _staged(tmp_path, entries=300)
    with monkeypatch.context() as patch:
        patch.setattr(prebuild.multiprocessing, "get_context", lambda _: _NeverDone())
        (started,) = prebuild.start(con, str(tmp_path / "chokepoint.build.duckdb"), config)
    return con, started, prebuild.list_parts(con, "ofac_sdn", DAY)


def _left_to_the_step(result: matcher_cache.Screened, started: Path, why: str) -> None:
    """The step built the matcher itself, and says why."""
    assert result.matcher == f"{matcher_cache.BUILT} ({why})", result.matcher
    assert started.is_file()
    assert result.found.filter(pl.col("decision") == "match").height > 0


def test_a_build_process_that_dies_leaves_the_matcher_to_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = MatchConfig()
    _, started, parts = _started_and_parts(tmp_path, config, monkeypatch)
    build = prebuild._building[started]
    build._starter.join()
    build.process.kill()  # killed before it wrote the matcher
    result = matcher_cache.screened(started.parent, "ofac_sdn", parts, config, _queries(parts))
    _left_to_the_step(result, started, "the build ahead ended with exit code -9")


def test_a_build_that_takes_too_long_is_stopped_and_left_to_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = MatchConfig()
    _, started, parts = _started_and_parts(tmp_path, config, monkeypatch)
    monkeypatch.setattr(prebuild, "WAIT_SECONDS", 0.2)
    result = matcher_cache.screened(started.parent, "ofac_sdn", parts, config, _queries(parts))
    _left_to_the_step(result, started, "the build ahead took over 0 s and was stopped")


def test_a_build_process_that_cannot_start_leaves_the_matcher_to_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start", refused)
    config = MatchConfig()
    _, started, parts = _started_and_parts(tmp_path, config, monkeypatch)
    result = matcher_cache.screened(started.parent, "ofac_sdn", parts, config, _queries(parts))
    _left_to_the_step(result, started, "the build ahead did not start: no more processes")


def test_a_build_process_running_other_code_keeps_nothing(tmp_path: Path) -> None:
    """The files are named by the run's code: a process whose code on disk changed since
    the run imported it builds nothing."""
    con = _staged(tmp_path, entries=50)
    parts, config = prebuild.list_parts(con, "ofac_sdn", DAY), MatchConfig()
    path = matcher_cache.matcher_path(tmp_path, "ofac_sdn", parts, config)
    with pytest.raises(SystemExit) as ended:
        prebuild._build("another digest", [(path, "ofac_sdn", parts, config)])
    assert ended.value.code == 3 and not path.exists()
    prebuild._build(matcher_cache.code_digest(), [(path, "ofac_sdn", parts, config)])
    assert path.is_file()
