"""Partitioning shared by the trade inputs."""

import warnings

import dagster as dg

# Single-run backfills of the monthly inputs are a deliberate choice; the beta notice is noise.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

SINGLE_RUN = dg.BackfillPolicy.single_run()
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2022-01-01")


def months_of(context: dg.AssetExecutionContext) -> list[str]:
    """The run's months as `YYYY-MM` (one run may cover a range of monthly partitions)."""
    return [key[:7] for key in context.partition_keys]
