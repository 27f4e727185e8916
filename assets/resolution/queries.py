"""The query side of screening: every query name's forms and blocking keys as flat columns.

This is the per-name Python work of `Matcher.screen` (normalization above all), kept in one
pure function of the names (`lay_out`) so that a worker process can share it: `Helper` gives
the batches in order. The caller lays out the first batch while a spawned worker starts
on the second and keeps ahead, chunk by chunk, as the caller scores; a chunk the worker has not
taken when the caller needs it is laid out by the caller (a worker slow to start, on a busy
machine, is never waited for beyond the chunk it is on). Spawn, not fork:
Dagster and DuckDB run threads. Tokens of one variant are joined with `SEP` (no token contains
it); `Matcher` splits them into list columns.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from assets.resolution.blocking import blocking_keys
from assets.resolution.names import name_parts, normalize, skeleton

SEP = "\x1f"
T = TypeVar("T")


@dataclass
class QueryNames:
    """Query rows (`weight`...`is_org`, one per name), their distinct variants (`vq`: the
    query's row, then its tokens, sorted and joined, and compact form), blocking keys (`kq`,
    `key`: distinct per query) and acronyms (`aq`, `akey`)."""

    weight: list[float] = field(default_factory=list)
    legal: list[str | None] = field(default_factory=list)
    group: list[str | None] = field(default_factory=list)
    is_org: list[bool] = field(default_factory=list)
    vq: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    compact: list[str] = field(default_factory=list)
    kq: list[int] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    aq: list[int] = field(default_factory=list)
    akey: list[str] = field(default_factory=list)

    def extend(self, other: QueryNames) -> None:
        """Append the rows of `other` (its query rows follow this one's)."""
        offset = len(self.weight)
        for name in ("weight", "legal", "group", "is_org", "tokens", "joined", "compact"):
            getattr(self, name).extend(getattr(other, name))
        self.key.extend(other.key)
        self.akey.extend(other.akey)
        self.vq.extend(q + offset for q in other.vq)
        self.kq.extend(q + offset for q in other.kq)
        self.aq.extend(q + offset for q in other.aq)


def lay_out(names: list[list[str]]) -> QueryNames:
    """The forms of each name, given as its `name_parts` (the whole name first)."""
    out = QueryNames()
    for row, parts in enumerate(names):
        forms = normalize(parts[0])
        out.weight.append(forms.weight)
        out.legal.append(forms.legal_form)
        out.group.append(forms.legal_group)
        out.is_org.append(forms.is_organisation)
        seen: set[tuple[str, ...]] = set()
        keys: set[str] = set()
        for index, part in enumerate(parts):
            part_forms = forms if index == 0 else normalize(part)
            for variant, raw in zip(part_forms.variants, part_forms.raw_variants, strict=True):
                if variant in seen:
                    continue
                seen.add(variant)
                out.vq.append(row)
                out.tokens.append(SEP.join(variant))
                out.joined.append(" ".join(sorted(variant)))
                out.compact.append(skeleton("".join(raw)))
                keys |= blocking_keys(variant, raw)
            out.aq.extend(row for _ in part_forms.acronyms)
            out.akey.extend(part_forms.acronyms)
        out.kq.extend(row for _ in keys)
        out.key.extend(keys)
    return out


class Helper:
    """Lays out batches of query names (`laid_out`), with `workers` spawned processes helping
    when there is more than one batch (each batch shared out in `pieces` chunks); `submit`
    gives a worker other work. Closes its workers on leaving a `with` block."""

    def __init__(self, batches: list[list[str]], workers: int = 0, pieces: int = 8) -> None:
        self._batches = batches
        self._chunks: list[list[list[str]]] = []
        self._spans: list[range] = []
        self._ahead: _Ahead | None = None
        if workers < 1 or len(batches) < 2:
            return
        # name_parts stays here: its country check imports the sanctions package (and Dagster).
        for names in batches:
            size = -(-len(names) // pieces)
            first = len(self._chunks)
            self._chunks += [
                [name_parts(name) for name in names[i : i + size]]
                for i in range(0, len(names), size)
            ]
            self._spans.append(range(first, len(self._chunks)))
        self._ahead = _Ahead(self._chunks, self._spans, workers)

    def laid_out(self) -> Iterator[QueryNames]:
        """`lay_out` of each batch, in order."""
        if self._ahead is None:
            for names in self._batches:
                yield lay_out([name_parts(name) for name in names])
            return
        for span in self._spans:
            laid = QueryNames()
            for index in span:
                future = self._ahead.claim(index)
                laid.extend(lay_out(self._chunks[index]) if future is None else future.result())
            yield laid

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        """`fn(*args)` in a worker process (None when there is none)."""
        return None if self._ahead is None else self._ahead.submit(fn, *args)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, *_: object) -> None:
        if self._ahead is not None:
            self._ahead.close()


class _Ahead:
    """Hands chunks to worker processes in order, one at a time per worker, from the batch
    after the one the caller is on; `claim` takes a chunk for the caller: the worker's future
    when a worker has it, else None (the caller lays it out)."""

    def __init__(self, parts: list[list[list[str]]], spans: list[range], workers: int) -> None:
        self._parts = parts
        # chunk -> first chunk of the next batch
        self._after = [span.stop for span in spans for _ in span]
        self._lock = threading.Lock()
        self._next = spans[0].stop  # the next chunk a worker may take
        self._front = 0  # chunks before this one belong to the caller
        self._futures: dict[int, Future[QueryNames]] = {}
        self._closed = False
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        for _ in range(workers):
            self._submit()

    def _submit(self, _: object = None) -> None:
        with self._lock:
            index = max(self._next, self._front)
            if self._closed or index >= len(self._parts):
                return
            self._next = index + 1
            future = self._executor.submit(lay_out, self._parts[index])
            self._futures[index] = future
        future.add_done_callback(self._submit)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        with self._lock:
            return None if self._closed else self._executor.submit(fn, *args)

    def claim(self, index: int) -> Future[QueryNames] | None:
        with self._lock:
            self._front = max(self._front, self._after[index])
            return self._futures.pop(index, None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
