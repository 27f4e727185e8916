"""Partitioning shared by the trade inputs."""

import dagster as dg

MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2022-01-01")


def months_of(context: dg.AssetExecutionContext) -> list[str]:
    """The run's months as `YYYY-MM` (one run may cover a range of monthly partitions)."""
    return [key[:7] for key in context.partition_keys]
