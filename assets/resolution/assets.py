"""Screening in the pipeline: every company against every list's latest snapshot."""

from pathlib import Path

import dagster as dg
import polars as pl

from assets.common.ingest import csv_source_assets
from assets.common.warehouse import Warehouse, log_step, replace_table
from assets.resolution import prebuild
from assets.resolution.config import MATCHING_FILE

_SCHEMA = {
    "party_type": pl.String,
    "party_key": pl.String,
    "inn": pl.String,
    "party_name": pl.String,
    "party_country": pl.String,
    "list_id": pl.String,
    "list_version": pl.String,
    "entry_id": pl.String,
    "matched_name": pl.String,
    "matched_name_kind": pl.String,
    "score": pl.Float64,
    "decision": pl.String,
    "explanation": pl.String,
    "features": pl.String,
}


# Who is screened: Russian companies by INN, and foreign exporters by name and country.
_PARTIES = """
select 'company' as party_type, inn as party_key, inn, coalesce(customs_name, name_ru) as name,
       'RU' as country
from core.companies
where coalesce(customs_name, name_ru) is not null
union all
select 'exporter' as party_type, exporter_name || '|' || exporter_country as party_key,
       null as inn, exporter_name as name, exporter_country as country
-- the pairs first, then their keys: at 10M declarations 1.0 s -> 0.2 s
from (select distinct exporter_name, exporter_country from staging.customs_declarations)
order by party_type, party_key
"""


@dg.asset(
    key=["core", "entity_matches"],
    deps=[
        dg.AssetKey(["core", "companies"]),
        dg.AssetKey(["staging", "customs_declarations"]),
        dg.AssetKey(["core", "sanctions_snapshots"]),
        dg.AssetKey(["staging", "sanctions_entries"]),
        dg.AssetKey(["staging", "sanctions_aliases"]),
        dg.AssetKey(["staging", "sanctions_identifiers"]),
    ],
    group_name="resolution",
    kinds={"duckdb", "rapidfuzz"},
)
def entity_matches(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Candidate matches of companies and exporters with list entries: score, decision, why."""
    # imported here: the matcher's name tables would add about a second to loading the definitions
    from assets.resolution import matcher_cache
    from assets.resolution.matcher import MatchConfig

    config = MatchConfig()  # defaults from matching.yaml
    frames = [pl.DataFrame(schema=_SCHEMA)]
    kept = prebuild.folder_of(warehouse.build_path)
    used: set[Path] = set()
    # how each list version's matcher came: kept, built ahead (`prebuild`), built here
    matchers: dict[str, str] = {}
    with warehouse.connect() as con:
        parties = con.sql(_PARTIES).pl()
        latest = con.execute(
            "select list_id, max(snapshot_date) from core.sanctions_snapshots "
            "group by list_id order by list_id"
        ).fetchall()
        for list_id, day in latest:
            parts = prebuild.list_parts(con, list_id, day)
            # only the parties this matcher has not screened before (see `screened`)
            result = matcher_cache.screened(kept, list_id, parts, config, parties)
            used.update(result.files)
            matchers[f"{list_id}@{day}"] = result.matcher or "not needed"
            frames.append(
                result.found.join(parties, on=list(matcher_cache.QUERY), nulls_equal=True)
                .rename({"name": "party_name", "country": "party_country"})
                .with_columns(pl.lit(f"{list_id}@{day}").alias("list_version"))
                .select(list(_SCHEMA))
            )
            context.log.info(
                f"screened {result.screened_now} of {parties.height} parties against "
                f"{list_id}@{day} (the others were screened by this matcher before); "
                f"matcher: {result.matcher or 'not needed'}"
            )
        matches = pl.concat(frames).sort(
            "party_key",
            "list_id",
            "score",
            "entry_id",
            "matched_name",
            descending=[False, False, True, False, False],
        )
        rows_written = replace_table(con, "core", "entity_matches", matches)
        log_step(con, context, rows_received=parties.height, rows_written=rows_written)
    matcher_cache.prune(kept, used)
    return dg.MaterializeResult(
        metadata={
            "candidates": rows_written,
            "matches": matches.filter(pl.col("decision") == "match").height,
            "config": dg.MetadataValue.path(str(MATCHING_FILE)),
            "matchers": dg.MetadataValue.json(matchers),
        }
    )


defs = [*csv_source_assets("match_decisions", group="resolution"), entity_matches]
