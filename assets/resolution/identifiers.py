"""Queries, candidates and identifiers: what is screened, what comes back, and the list's
identifier index (an equal valid RU INN/OGRN is a match, a different one a conflict)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

_VALIDATORS = {"RU_INN": ru_inn.is_valid, "RU_OGRN": ru_ogrn.is_valid}


@dataclass(frozen=True)
class Query:
    """One counterparty to screen (`entity_type`: organisation or person, when known)."""

    name: str
    inn: str | None = None
    ogrn: str | None = None
    identifier: str | None = None
    country: str | None = None
    entity_type: str | None = None


@dataclass(frozen=True)
class Candidate:
    """One list entry found for a query, with its score, decision and reasons."""

    list_id: str
    entry_id: str
    matched_name: str
    matched_name_kind: str
    score: float
    decision: str
    explanation: str
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryIdentifier:
    """An identifier given with a query: scheme, compact value and check-digit verdict."""

    scheme: str
    value: str
    is_valid: bool | None


def parse_identifiers(
    inn: str | None = None, ogrn: str | None = None, identifier: str | None = None
) -> list[QueryIdentifier]:
    """Identifiers of a query. A generic `identifier` gets its scheme from its length
    (10 or 12 digits: RU_INN; 13 or 15: RU_OGRN; anything else: OTHER, never joined)."""
    found: list[QueryIdentifier] = []
    for scheme, raw in (("RU_INN", inn), ("RU_OGRN", ogrn), (None, identifier)):
        value = "".join(str(raw or "").split())
        if not value or value.lower() in ("none", "nan", "null"):
            continue
        if scheme is None:
            digits = value.isdigit()
            if digits and len(value) in (10, 12):
                scheme = "RU_INN"
            elif digits and len(value) in (13, 15):
                scheme = "RU_OGRN"
            else:
                scheme = "OTHER"
        validator = _VALIDATORS.get(scheme)
        found.append(QueryIdentifier(scheme, value, validator(value) if validator else None))
    return found


class IdentifierIndex:
    """The list's valid identifiers by (scheme, value) and by entry."""

    def __init__(self, identifiers: pl.DataFrame | None) -> None:
        self._by_identifier: dict[tuple[str, str], set[str]] = {}
        self._entry_identifiers: dict[str, dict[str, set[str]]] = {}
        if identifiers is None or not identifiers.height:
            return
        valid = identifiers.filter(
            pl.col("is_valid").fill_null(False) & pl.col("scheme").is_in(list(_VALIDATORS))
        )
        for entry_id, scheme, value in valid.select("entry_id", "scheme", "value").iter_rows():
            compact = "".join(str(value).split())
            self._by_identifier.setdefault((scheme, compact), set()).add(str(entry_id))
            per_entry = self._entry_identifiers.setdefault(str(entry_id), {})
            per_entry.setdefault(scheme, set()).add(compact)

    def facts(self, query_ids: Mapping[int, list[QueryIdentifier]]) -> pl.DataFrame:
        """(qid, entry_id, id_match, id_conflict) for every query-entry pair related by a
        valid query identifier: equal (a match) or different in the same scheme (a conflict)."""
        rows: list[tuple[int, str, str | None, str | None]] = []
        for qid, idents in query_ids.items():
            for ident in idents:
                if not ident.is_valid:
                    continue
                for entry_id in self._by_identifier.get((ident.scheme, ident.value), ()):
                    rows.append((qid, entry_id, f"{ident.scheme} {ident.value}", None))
        return pl.DataFrame(
            rows,
            schema={
                "qid": pl.UInt32,
                "entry_id": pl.String,
                "id_match": pl.String,
                "id_conflict": pl.String,
            },
            orient="row",
        )

    def add_conflicts(
        self, merged: pl.DataFrame, query_ids: Mapping[int, list[QueryIdentifier]]
    ) -> pl.DataFrame:
        """Set `id_conflict` where a valid query identifier differs from the entry's valid
        identifier of the same scheme; list `invalid_ids` failing their check."""
        conflicts: list[tuple[int, str, str]] = []
        invalid: list[tuple[int, str]] = []
        for qid, idents in query_ids.items():
            bad = [f"{i.scheme} {i.value}" for i in idents if i.is_valid is False]
            bad += [f"{i.value} (no known scheme)" for i in idents if i.scheme == "OTHER"]
            if bad:
                invalid.append((qid, "; ".join(bad)))
        related = set(query_ids)
        if related:
            subset = merged.filter(pl.col("qid").is_in(list(related))).select("qid", "entry_id")
            for qid, entry_id in subset.iter_rows():
                listed = self._entry_identifiers.get(entry_id, {})
                for ident in query_ids[qid]:
                    values = listed.get(ident.scheme)
                    if ident.is_valid and values and ident.value not in values:
                        conflicts.append(
                            (qid, entry_id,
                             f"{ident.scheme} {ident.value} vs {', '.join(sorted(values))}")
                        )  # fmt: skip
        conflict_frame = pl.DataFrame(
            conflicts,
            schema={"qid": pl.UInt32, "entry_id": pl.String, "conflict": pl.String},
            orient="row",
        ).unique(["qid", "entry_id"])
        invalid_frame = pl.DataFrame(
            invalid, schema={"qid": pl.UInt32, "invalid_ids": pl.String}, orient="row"
        )
        return (
            merged.join(conflict_frame, on=["qid", "entry_id"], how="left")
            .with_columns(pl.coalesce("id_conflict", "conflict").alias("id_conflict"))
            .drop("conflict")
            .join(invalid_frame, on="qid", how="left")
        )


def to_candidate(row: Mapping[str, Any]) -> Candidate:
    """A `Candidate` from one row of a `screen` result."""
    return Candidate(
        list_id=row["list_id"],
        entry_id=row["entry_id"],
        matched_name=row["matched_name"],
        matched_name_kind=row["matched_name_kind"],
        score=row["score"],
        decision=row["decision"],
        explanation=row["explanation"],
        features=json.loads(row["features"]),
    )
