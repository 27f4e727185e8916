"""Partitioning shared by the monthly trade inputs: one partition per delivered month.

The months are dynamic partitions created from the files that land (by `register_months`, which
the delivery sensors and the build command call), so the UI never shows a month that no file
can fill. Keys are `YYYY-MM`. Dagster orders dynamic partitions by when they were added and a
run covers a contiguous range of them, so `register_months` keeps them in calendar order: a
month that arrives late (an earlier month after later ones) re-adds the keys in order.
"""

import warnings
from collections.abc import Iterable, Mapping

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

# Single-run backfills of the monthly inputs are a deliberate choice; the beta notice is noise.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

SINGLE_RUN = dg.BackfillPolicy.single_run()
MONTHS_NAME = "months"
MONTHS = dg.DynamicPartitionsDefinition(name=MONTHS_NAME)


def months_of(context: dg.AssetExecutionContext) -> list[str]:
    """The run's months as `YYYY-MM` (one run may cover a range of monthly partitions)."""
    return list(context.partition_keys)


def run_month_range(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The first and last month of a run over monthly partitions, from its tags; else None."""
    if ASSET_PARTITION_RANGE_START_TAG in tags and ASSET_PARTITION_RANGE_END_TAG in tags:
        return tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG], tags[PARTITION_NAME_TAG]
    return None


def register_months(instance: dg.DagsterInstance, months: Iterable[str]) -> list[str]:
    """Add `months` as partitions (idempotent), keeping every key in calendar order.

    Returns the registered months, sorted. Re-adding a key keeps its materialization history
    (Dagster keeps events by key), so re-ordering loses nothing.
    """
    registered = list(instance.get_dynamic_partitions(MONTHS_NAME))
    wanted = sorted(set(registered) | set(months))
    if wanted == registered:
        return wanted
    if registered == wanted[: len(registered)]:  # only later months are new: append them
        instance.add_dynamic_partitions(MONTHS_NAME, wanted[len(registered) :])
        return wanted
    for key in registered:  # an earlier month arrived late: add every key again, in order
        instance.delete_dynamic_partition(MONTHS_NAME, key)
    instance.add_dynamic_partitions(MONTHS_NAME, wanted)
    return wanted


def contiguous_blocks(months: Iterable[str], registered: list[str]) -> list[tuple[str, str]]:
    """`months` grouped into (first, last) runs of neighbours in the registered order."""
    position = {month: index for index, month in enumerate(registered)}
    blocks: list[tuple[str, str]] = []
    previous = None
    for month in sorted(set(months), key=position.__getitem__):
        if blocks and previous is not None and position[month] == position[previous] + 1:
            blocks[-1] = (blocks[-1][0], month)
        else:
            blocks.append((month, month))
        previous = month
    return blocks


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over the months `first`..`last` (single-run backfill)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def every_month_tags(instance: dg.DagsterInstance, delivered: Iterable[str]) -> dict[str, str]:
    """Run tags over every month (registering `delivered` first); empty when there is none.

    For a run that must rebuild the month-partitioned tables over all months: a list change,
    new exchange rates, a reference table.
    """
    registered = register_months(instance, delivered)
    return range_tags(registered[0], registered[-1]) if registered else {}
