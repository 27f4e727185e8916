"""Name scoring: token similarity and rarity-weighted token alignment, vectorised in numpy.

`TokenTable` keeps every token seen (query and list) as an integer id with its length, digit
flag, metaphone code and rarity weight; `score_names` scores (query variant, list variant)
pairs: each token's best match on the other side, weighted by rarity, blended with rapidfuzz
whole-string similarity. The result per pair also carries how much distinctive weight each side
left unmatched (`q_unmatched`, `c_unmatched`), which the `extra_tokens` rule reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rigour.text import metaphone

from assets.resolution.config import MatchConfig

SCORED_SCHEMA: dict[str, pl.DataType] = {
    "qid": pl.UInt32(),
    "name_id": pl.UInt32(),
    "qvid": pl.UInt32(),
    "vid": pl.UInt32(),
    "name_score": pl.Float64(),
    "token_score": pl.Float64(),
    "string_score": pl.Float64(),
    "exact": pl.Boolean(),
    "q_unmatched": pl.Float64(),
    "c_unmatched": pl.Float64(),
}
_SCORERS: dict[str, Any] = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "ratio": fuzz.ratio,
}


def _unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(keys, return_inverse=True)` by one sort (numpy's hashes, then sorts too)."""
    order = np.argsort(keys)
    ordered = keys[order]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(keys.size, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


class TokenTable:
    """Token ids, token features and rarity weights (idf over list entries)."""

    def __init__(
        self, config: MatchConfig, token_entries: Mapping[str, int], n_entries: int
    ) -> None:
        self.config = config
        self.n_entries = max(1, n_entries)
        self.weights = {token: self.idf(count) for token, count in token_entries.items()}
        self.unseen = self.idf(1)
        self._vocab: dict[str, int] = {}
        self.tokens: list[str] = []
        self._length: list[int] = []
        self._digit: list[bool] = []
        self._code: list[int] = []
        self._codes: dict[str, int] = {"": 0}

    def idf(self, df: int) -> float:
        return math.log(1 + self.n_entries / max(1, df))

    def weight(self, token: str) -> float:
        """Rarity weight of a skeleton token; unknown tokens weigh most."""
        return self.weights.get(token, self.unseen)

    def token_id(self, token: str) -> int:
        found = self._vocab.get(token)
        if found is not None:
            return found
        index = len(self.tokens)
        self._vocab[token] = index
        self.tokens.append(token)
        self._length.append(len(token))
        self._digit.append(any(ch.isdigit() for ch in token))
        code = metaphone(token) if len(token) >= 4 and token.isalpha() else ""
        self._code.append(self._codes.setdefault(code, len(self._codes)))
        return index

    def ids(self, tokens: list[str]) -> np.ndarray:
        """Token ids of `tokens` (new tokens are added to the table)."""
        get = self._vocab.get
        found = [get(t) for t in tokens]
        if None in found:
            found = [
                self.token_id(t) if i is None else i for t, i in zip(tokens, found, strict=True)
            ]
        return np.fromiter(found, dtype=np.int64, count=len(found))

    def csr(self, token_lists: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start, length, token ids, token weights) of token lists laid end to end."""
        length = token_lists.list.len().fill_null(0).to_numpy().astype(np.int64)
        start = np.cumsum(length) - length
        flat = token_lists.explode().drop_nulls().to_list()
        ids = self.ids(flat)
        initial, get, unseen = self.config.initial_weight, self.weights.get, self.unseen
        weights = np.fromiter(
            (get(t, unseen) * initial if len(t) == 1 else get(t, unseen) for t in flat),
            dtype=np.float64,
            count=len(flat),
        )
        return start, length, ids, weights

    def similarity(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Similarity (0..1) of token pairs given as ids: Jaro-Winkler (or ratio) gated by
        Levenshtein, zero below the floor; tokens with one metaphone code at least
        `phonetic_similarity`; short tokens and tokens with digits 1 when equal, else 0."""
        cfg = self.config
        if not left.size:
            return np.zeros(0)
        size = len(self.tokens)
        unique, inverse = _unique_inverse(left * size + right)
        uq, uc = unique // size, unique % size
        vocab = np.array(self.tokens, dtype=object)
        qs, cs = vocab[uq].tolist(), vocab[uc].tolist()
        if cfg.token_scorer == "ratio":
            sim = process.cpdist(qs, cs, scorer=fuzz.ratio, workers=-1) / 100
        else:
            sim = process.cpdist(qs, cs, scorer=_SCORERS[cfg.token_scorer], workers=-1)
            # The Levenshtein gate can only change pairs similar enough to count (below both
            # the floor and the phonetic score a pair scores the same either way).
            gated = np.flatnonzero(sim >= min(cfg.token_similarity_floor, cfg.phonetic_similarity))
            edit = process.cpdist(
                [qs[k] for k in gated],
                [cs[k] for k in gated],
                scorer=Levenshtein.normalized_similarity,
                workers=-1,
            )
            sim[gated[edit < cfg.token_min_ratio]] = 0.0
        length = np.asarray(self._length)
        digit = np.asarray(self._digit)
        code = np.asarray(self._code)
        strict = (
            digit[uq]
            | digit[uc]
            | ((length[uq] <= cfg.exact_token_length) & (length[uc] <= cfg.exact_token_length))
        )
        phonetic = (code[uq] == code[uc]) & (code[uq] > 0)
        result = np.where(sim >= cfg.token_similarity_floor, sim, 0.0)
        result = np.where(phonetic, np.maximum(sim, cfg.phonetic_similarity), result)
        result = np.where(strict, (uq == uc).astype(np.float64), result)
        return np.asarray(result[inverse].reshape(-1), dtype=np.float64)


class ListVariants:
    """The list side laid out for scoring: token CSR arrays and joined/compact strings."""

    def __init__(self, table: TokenTable, variants: pl.DataFrame) -> None:
        self.frame = variants.select("vid", "name_id")
        self.start, self.length, self.ids, self.weights = table.csr(variants["ctokens"])
        self.joined = np.array(variants["cjoined"].to_list() or [""], dtype=object)
        self.compact = np.array(variants["ccompact"].to_list() or [""], dtype=object)


def score_names(
    table: TokenTable, listed: ListVariants, qvariants: pl.DataFrame, pairs: pl.DataFrame
) -> pl.DataFrame:
    """Best name score per (qid, name_id) over all pairs of romanization variants.

    For each variant pair every (query token, list token) pair is scored once per distinct
    pair, the best match of each token on each side is kept, and the rarity-weighted coverage
    of both sides is summed per pair.
    """
    cfg = table.config
    vp = pairs.join(qvariants.select("qvid", "qid"), on="qid").join(listed.frame, on="name_id")
    if not vp.height:
        return pl.DataFrame(schema=SCORED_SCHEMA)
    q_start, q_len, q_ids, q_w = table.csr(qvariants["qtokens"])
    qvid = vp["qvid"].to_numpy().astype(np.int64)
    vid = vp["vid"].to_numpy().astype(np.int64)
    count = len(qvid)
    ql, cl = q_len[qvid], listed.length[vid]
    n = ql * cl
    pair = np.repeat(np.arange(count), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    cl_pair = cl[pair]
    i = k // cl_pair
    j = k - i * cl_pair
    sim = table.similarity(q_ids[q_start[qvid][pair] + i], listed.ids[listed.start[vid][pair] + j])
    # Query side: pairs are laid out (pair, i, j) with j fastest.
    runs = np.flatnonzero(j == 0)
    q_best = np.maximum.reduceat(sim, runs)
    weight = q_w[q_start[qvid][pair[runs]] + i[runs]]
    per_pair = np.flatnonzero(i[runs] == 0)
    qm = np.add.reduceat(weight * q_best, per_pair)
    qt = np.add.reduceat(weight, per_pair)
    # List side: scatter the best over i into (pair, j) slots.
    c_offset = np.cumsum(cl) - cl
    c_best = np.zeros(int(cl.sum()))
    np.maximum.at(c_best, c_offset[pair] + j, sim)
    c_pair = np.repeat(np.arange(count), cl)
    jj = np.arange(c_best.size) - c_offset[c_pair]
    c_weight = listed.weights[listed.start[vid][c_pair] + jj]
    cm = np.add.reduceat(c_weight * c_best, c_offset)
    ct = np.add.reduceat(c_weight, c_offset)

    union = (qm + cm) / (qt + ct)
    floor = max(cfg.subset_min_weight * table.unseen, 1e-9)
    one_side = np.maximum(
        qm / qt * np.minimum(1.0, qt / floor), cm / ct * np.minimum(1.0, ct / floor)
    )
    token_score = (1 - cfg.subset_weight) * union + cfg.subset_weight * one_side
    qjoined = np.array(qvariants["qjoined"].to_list(), dtype=object)[qvid]
    qcompact = np.array(qvariants["qcompact"].to_list(), dtype=object)[qvid]
    cjoined, ccompact = listed.joined[vid], listed.compact[vid]
    sort_sim = process.cpdist(
        qjoined.tolist(), cjoined.tolist(), scorer=fuzz.token_sort_ratio, workers=-1
    )
    compact_sim = process.cpdist(
        qcompact.tolist(), ccompact.tolist(), scorer=fuzz.ratio, workers=-1
    )
    string_score = np.maximum(sort_sim, compact_sim) / 100
    exact = (qjoined == cjoined) | (qcompact == ccompact)
    name_score = np.where(
        exact, 1.0, cfg.token_weight * token_score + (1 - cfg.token_weight) * string_score
    )
    return (
        vp.select("qid", "name_id", "qvid", "vid")
        .with_columns(
            pl.Series("name_score", name_score, dtype=pl.Float64),
            pl.Series("token_score", token_score, dtype=pl.Float64),
            pl.Series("string_score", string_score, dtype=pl.Float64),
            pl.Series("exact", exact.astype(bool), dtype=pl.Boolean),
            pl.Series("q_unmatched", np.where(exact, 0.0, qt - qm), dtype=pl.Float64),
            pl.Series("c_unmatched", np.where(exact, 0.0, ct - cm), dtype=pl.Float64),
        )
        .sort(
            ["name_score", "exact", "qid", "name_id", "qvid", "vid"],
            descending=[True, True, False, False, False, False],
        )
        .unique(["qid", "name_id"], keep="first", maintain_order=True)
        .select(list(SCORED_SCHEMA))
    )
