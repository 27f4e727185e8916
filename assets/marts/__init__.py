"""Marts: the tables analysts query, one per file in `sql/marts/` (see `catalog`); their assets
are in `assets.marts.assets`. This package's own import brings no Dagster: the suites' worker
imports `suites` and `worker` from it."""
