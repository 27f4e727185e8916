"""The one normalized model every sanctions-list parser produces.

A parser turns the bytes of one received file into a `ParsedList`: four polars frames with the
exact schemas below. Everything downstream (history, deltas, screening) reads only this model,
so a new list format needs a parser and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ENTITY_TYPES = ("entity", "individual", "vessel", "aircraft", "unknown")
ALIAS_QUALITIES = ("strong", "weak")

ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "entry_id": pl.String(),  # the list's own stable key (OFAC ent_num, UN REFERENCE_NUMBER, ...)
    "entity_type": pl.String(),  # one of ENTITY_TYPES
    "name": pl.String(),  # primary name as published, whitespace-trimmed
    "programs": pl.List(pl.String()),  # sanction programs / regimes, sorted, unique
    "countries": pl.List(pl.String()),  # ISO 3166-1 alpha-2 where known, sorted, unique
    "listing_date": pl.Date(),  # the source's designation date; null when it gives none
    "remarks": pl.String(),  # free text as published
    "source_row_number": pl.Int64(),  # record or element number in the file, 1-based
}
ALIAS_SCHEMA: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "alias": pl.String(),
    "alias_type": pl.String(),  # aka, fka, nka, ... as the source says
    "quality": pl.String(),  # strong, weak, or null when the source does not say
}
IDENTIFIER_SCHEMA: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "scheme": pl.String(),  # RU_INN, RU_OGRN, IMO, LEI, PASSPORT, TAX_ID, ...
    "value": pl.String(),
    "country": pl.String(),  # as the source gives it (name or code), or null
    "is_valid": pl.Boolean(),  # check-digit verdict; null when the scheme has no check
}
ADDRESS_SCHEMA: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "address": pl.String(),  # the full address as one line
    "city": pl.String(),
    "country": pl.String(),  # ISO 3166-1 alpha-2 where known, else as given
}


class SnapshotFormatError(ValueError):
    """A received file does not have the shape its list's format promises; it must not be used."""


# A parsed list's frames (its fields below, and the staging tables `sanctions_<name>`) and the
# schema of each
PART_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "entries": ENTRY_SCHEMA,
    "aliases": ALIAS_SCHEMA,
    "identifiers": IDENTIFIER_SCHEMA,
    "addresses": ADDRESS_SCHEMA,
}


@dataclass(frozen=True)
class ParsedList:
    """One received list file in the normalized model."""

    entries: pl.DataFrame
    aliases: pl.DataFrame
    identifiers: pl.DataFrame
    addresses: pl.DataFrame

    def __post_init__(self) -> None:
        for name, schema in PART_SCHEMAS.items():
            frame = getattr(self, name)
            if dict(frame.schema) != schema:
                raise TypeError(f"{name} has schema {dict(frame.schema)}, expected {schema}")


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast `frame` to `schema` (missing columns become null)."""
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )
