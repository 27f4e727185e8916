"""Blocking: which list names a query is scored against.

Every name variant gives keys: its skeleton tokens, joined neighbours, metaphone codes, the
whole compact name and its acronym. Keys found in more than `max_key_frequency` entries are
ignored (the whole-name key always counts); a query is scored against the `max_candidates`
names sharing the rarest keys with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise

import polars as pl
from rigour.text import metaphone

from assets.resolution.names import skeleton


@lru_cache(maxsize=200_000)
def _token_keys(token: str) -> tuple[str, ...]:
    """The token's own keys: itself and, for words of 4+ letters, its metaphone code."""
    if len(token) >= 4 and token.isalpha():
        return "t:" + token, "m:" + metaphone(token)
    return ("t:" + token,)


def blocking_keys(
    variant: tuple[str, ...], raw: tuple[str, ...], acronyms: Iterable[str] = ()
) -> set[str]:
    """Blocking keys of one variant (skeleton tokens and the Latin tokens they came from):
    tokens, joined neighbours, metaphones, the whole compact name and the acronym. Joined
    forms are skeletons of the joined Latin text ("invest"+"stanko" and "investstanko" agree).
    A one-token name is also keyed as an acronym, so that "RKS" meets "Rossiyskiye
    Kosmicheskiye Sistemy"."""
    keys = {key for token in variant for key in _token_keys(token)}
    keys.update("t:" + skeleton(a + b) for a, b in pairwise(raw))
    keys.add("f:" + skeleton("".join(raw)))
    keys.update("a:" + a for a in acronyms)
    if len(raw) == 1 and raw[0].isalpha():
        keys.add("a:" + raw[0])
    return keys


def block(
    qkeys: pl.DataFrame, acronyms: pl.DataFrame, keys: pl.DataFrame, max_candidates: int
) -> pl.DataFrame:
    """(qid, name_id) candidate pairs: the names sharing the rarest keys with each query
    (`qkeys`: the queries' `blocking_keys` as (qid, key); `acronyms`: their acronyms as
    (qid, akey))."""
    qkeys = pl.concat([qkeys, acronyms.select("qid", ("a:" + pl.col("akey")).alias("key"))])
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
