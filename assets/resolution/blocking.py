"""Blocking: which list names a query is scored against.

Every name variant gives keys: its skeleton tokens, joined neighbours, metaphone codes, the
whole compact name and its acronym. Keys found in more than `max_key_frequency` entries are
ignored (the whole-name key always counts); a query is scored against the `max_candidates`
names sharing the rarest keys with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import polars as pl
from rigour.text import metaphone

from assets.resolution.names import skeleton


def blocking_keys(
    variant: tuple[str, ...], raw: tuple[str, ...], acronyms: Iterable[str] = ()
) -> set[str]:
    """Blocking keys of one variant (skeleton tokens and the Latin tokens they came from):
    tokens, joined neighbours, metaphones, the whole compact name and the acronym. Joined
    forms are skeletons of the joined Latin text ("invest"+"stanko" and "investstanko" agree).
    A one-token name is also keyed as an acronym, so that "RKS" meets "Rossiyskiye
    Kosmicheskiye Sistemy"."""
    keys = {"t:" + t for t in variant}
    keys.update("t:" + skeleton(a + b) for a, b in pairwise(raw))
    keys.update("m:" + metaphone(t) for t in variant if len(t) >= 4 and t.isalpha())
    keys.add("f:" + skeleton("".join(raw)))
    keys.update("a:" + a for a in acronyms)
    if len(raw) == 1 and raw[0].isalpha():
        keys.add("a:" + raw[0])
    return keys


def block(
    qvariants: pl.DataFrame, acronyms: pl.DataFrame, keys: pl.DataFrame, max_candidates: int
) -> pl.DataFrame:
    """(qid, name_id) candidate pairs: the names sharing the rarest keys with each query
    (`acronyms`: the queries' acronyms as (qid, akey))."""
    rows = [
        (qid, key)
        for qid, tokens, raw in qvariants.select("qid", "qtokens", "qraw").iter_rows()
        for key in blocking_keys(tuple(tokens), tuple(raw))
    ]
    qkeys = pl.concat(
        [
            pl.DataFrame(rows, schema={"qid": pl.UInt32, "key": pl.String}, orient="row"),
            acronyms.select("qid", ("a:" + pl.col("akey")).alias("key")),
        ]
    )
    return (
        qkeys.unique()
        .join(keys, on="key")
        .group_by("qid", "name_id")
        # rounded: a float sum depends on the order of its terms, which must not pick winners
        .agg(pl.col("kw").sum().round(9).alias("prescore"))
        # ties broken by name_id so that every run keeps the same candidates
        .sort(["qid", "prescore", "name_id"], descending=[False, True, False])
        .group_by("qid", maintain_order=True)
        .head(max_candidates)
        .select("qid", "name_id")
    )
