"""Kept matchers: loaded only for the same list, configuration and code; they screen alike."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from assets.common.paths import REFERENCE_DIR
from assets.resolution import listed_names, matcher_cache
from assets.resolution.listed_names import name_record
from assets.resolution.matcher import MatchConfig
from assets.sanctions import ofac_sdn

SNAPSHOT = REFERENCE_DIR / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"

QUERIES = pl.DataFrame(
    {
        "name": ["Invest Stanko LLC", "OOO INVEST STANKO", "Volga Precision Tools", "Belletech"],
        "inn": ["5047120398", None, None, None],
        "country": ["RU", "RU", "RU", "CN"],
        "entity_type": ["organisation"] * 4,
    }
)


def _parts() -> dict[str, pl.DataFrame]:
    parsed = ofac_sdn.parse(SNAPSHOT.read_bytes())
    return {"entries": parsed.entries, "aliases": parsed.aliases, "identifiers": parsed.identifiers}


def test_a_kept_matcher_is_loaded_for_the_same_list_and_screens_as_a_built_one(
    tmp_path: Path,
) -> None:
    parts, config = _parts(), MatchConfig()
    built, path, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", parts, config)
    assert not loaded and path.is_file()
    # the same rows in another memory layout (as read from the warehouse, in other chunks)
    rechunked = {
        name: pl.concat([f.slice(0, 7), f.slice(7)], rechunk=False) for name, f in parts.items()
    }
    again, same_path, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", rechunked, config)
    assert loaded and same_path == path
    assert again.screen(QUERIES).equals(built.screen(QUERIES))
    assert built.screen(QUERIES).filter(pl.col("decision") == "match").height > 0


def _some_entries(parts: dict[str, pl.DataFrame], entries: int) -> dict[str, pl.DataFrame]:
    """The first entries of the list, with their aliases and identifiers: a smaller list."""
    kept = parts["entries"].head(entries)
    return {
        name: frame
        if name == "entries"
        else frame.filter(pl.col("entry_id").is_in(kept["entry_id"]))
        for name, frame in {**parts, "entries": kept}.items()
    }


def test_another_list_version_or_configuration_builds_a_matcher_of_its_own(
    tmp_path: Path,
) -> None:
    # what makes a version another does not depend on the list's size: 500 entries of it
    parts, config = _some_entries(_parts(), 500), MatchConfig()
    assert parts["aliases"].height > 0
    _, first, _ = matcher_cache.load_or_build(tmp_path, "ofac_sdn", parts, config)
    delisted = {**parts, "entries": parts["entries"].slice(1)}  # one entry fewer
    _, other, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", delisted, config)
    assert not loaded and other != first
    changed = dataclasses.replace(config, match_threshold=config.match_threshold + 0.01)
    _, third, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", parts, changed)
    assert not loaded and third not in (first, other)
    names = matcher_cache.names_path(tmp_path, "ofac_sdn")
    assert set(matcher_cache.prune(tmp_path, {third, names})) == {first, other}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([third.name, names.name])


def test_a_new_list_version_normalizes_only_its_new_names_and_screens_as_if_built_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, config = _parts(), MatchConfig()
    normalized: list[str] = []

    def counted(name: str) -> listed_names.NameRecord | None:
        normalized.append(name)
        return name_record(name)

    monkeypatch.setattr(listed_names, "name_record", counted)
    older = _some_entries(parts, 2000)
    matcher_cache.load_or_build(tmp_path, "ofac_sdn", older, config)
    assert len(normalized) > 2000  # primary names, aliases and the short forms inside names
    # the next version: 30 entries delisted, 200 listed
    newer = _some_entries(parts, 2200)
    newer = {**newer, "entries": newer["entries"].slice(30)}
    normalized.clear()
    built, _, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", newer, config)
    assert not loaded
    new_names = set(newer["entries"]["name"]) - set(older["entries"]["name"])
    assert new_names <= set(normalized) and 200 <= len(normalized) < 400
    # records kept by other code are not used: every name is normalized again
    monkeypatch.setattr(matcher_cache, "code_digest", lambda: "other code")
    normalized.clear()
    afresh, _, loaded = matcher_cache.load_or_build(tmp_path, "ofac_sdn", newer, config)
    assert not loaded and len(normalized) > 2100
    # kept records are only a saving: the same index and results as built from nothing kept
    for frame in ("_names", "_keys", "_acronyms"):
        assert _sorted(getattr(built, frame)).equals(_sorted(getattr(afresh, frame))), frame
    queries = pl.concat(
        [
            QUERIES,
            pl.DataFrame(
                {
                    "name": newer["entries"]["name"].slice(1900, 150).to_list(),
                    "inn": [None] * 150,
                    "country": ["RU"] * 150,
                    "entity_type": ["organisation"] * 150,
                }
            ),
        ]
    )
    found = built.screen(queries)
    assert found.filter(pl.col("decision") == "match").height > 30
    assert _sorted(found).equals(_sorted(afresh.screen(queries)))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(frame.columns)).sort(pl.all(), nulls_last=True)


def test_a_query_screens_alike_whatever_else_is_screened_with_it(tmp_path: Path) -> None:
    """What makes keeping each query's results sound: a query's results do not depend on the
    batch it is screened in (names of the list itself, altered, and the queries above)."""
    parts = _some_entries(_parts(), 400)
    matcher, _, _ = matcher_cache.load_or_build(tmp_path, "ofac_sdn", parts, MatchConfig())
    names = parts["entries"]["name"].head(120).to_list()
    queries = pl.concat(
        [
            QUERIES,
            pl.DataFrame(
                {
                    "name": [n.upper() + (" LLC" if i % 2 else "") for i, n in enumerate(names)],
                    "inn": [None] * len(names),
                    "country": ["RU" if i % 3 else None for i in range(len(names))],
                    "entity_type": ["organisation"] * len(names),
                }
            ),
        ]
    )
    whole = matcher.screen(queries)
    assert whole.filter(pl.col("decision") != "no_match").height > 20
    for cut in (1, 37, 90):
        first = matcher.screen(queries.head(cut))
        rest = matcher.screen(queries.slice(cut)).with_columns(pl.col("query_row") + cut)
        assert _sorted(pl.concat([first, rest])).equals(_sorted(whole)), cut


def test_kept_results_are_what_screening_again_would_find(tmp_path: Path) -> None:
    parts, config = _some_entries(_parts(), 400), MatchConfig()
    names = parts["entries"]["name"].head(40).to_list()
    queries = pl.concat(
        [
            QUERIES.drop("entity_type"),
            pl.DataFrame({"name": names, "inn": [None] * 40, "country": ["RU"] * 40}),
        ]
    )
    some, everyone = queries.head(30), queries
    first, files, screened, how = matcher_cache.screened(tmp_path, "ofac_sdn", parts, config, some)
    assert screened == 30 and all(path.is_file() for path in files) and how == matcher_cache.BUILT
    again, _, screened, how = matcher_cache.screened(tmp_path, "ofac_sdn", parts, config, some)
    assert screened == 0 and _sorted(again).equals(_sorted(first)) and how is None  # no matcher
    more, _, screened, how = matcher_cache.screened(tmp_path, "ofac_sdn", parts, config, everyone)
    assert how == matcher_cache.KEPT
    assert screened == everyone.height - 30
    # the same as a new folder's matcher screening everyone at once
    fresh, _, _, _ = matcher_cache.screened(tmp_path / "new", "ofac_sdn", parts, config, everyone)
    assert _sorted(more).equals(_sorted(fresh)) and more.height > first.height
    # asked about fewer queries: only theirs (the kept ones stay kept)
    fewer, _, screened, how = matcher_cache.screened(
        tmp_path, "ofac_sdn", parts, config, some.head(5)
    )
    assert screened == 0 and how is None
    assert _sorted(fewer).equals(
        _sorted(
            more.join(some.head(5), on=["name", "inn", "country"], how="semi", nulls_equal=True)
        )
    )
    # another list version keeps results of its own
    other = {**parts, "entries": parts["entries"].slice(1)}
    _, other_files, screened, _ = matcher_cache.screened(tmp_path, "ofac_sdn", other, config, some)
    # (the names' records are shared by the list's versions: `listed_names`)
    own = set(other_files) - {matcher_cache.names_path(tmp_path, "ofac_sdn")}
    assert screened == 30 and len(own) == 2 and own.isdisjoint(files)
