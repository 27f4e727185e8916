"""What the matcher's index keeps of one list name, computed once per name and code.

Normalizing a list's names and making their blocking keys is most of building a matcher (2 s
of 3 s for the full SDN), and a new version of a list repeats almost every name of the one
before. A `NameRecord` depends on the name and on the code and libraries the matcher is built
with only, so the records of the last build (kept beside the kept matchers, in a file keyed by
that code: `matcher_cache`) are used again as they are, and only the new names are normalized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from assets.resolution.blocking import blocking_keys
from assets.resolution.names import normalize, skeleton


class NameRecord(NamedTuple):
    """One list name's forms, as the index uses them (see `names.NameForms`)."""

    weight: float
    legal_form: str | None
    legal_group: str | None
    variants: tuple[tuple[str, ...], ...]
    # the whole name's skeleton, one per variant
    compacts: tuple[str, ...]
    acronyms: tuple[str, ...]
    # the blocking keys of every variant
    keys: tuple[str, ...]


def name_record(name: str) -> NameRecord | None:
    """The record of one list name; None for a name with nothing left to match on."""
    forms = normalize(name)
    if forms.is_empty:
        return None
    keys: set[str] = set()
    for variant, raw in zip(forms.variants, forms.raw_variants, strict=True):
        keys |= blocking_keys(variant, raw, forms.acronyms)
    return NameRecord(
        weight=forms.weight,
        legal_form=forms.legal_form,
        legal_group=forms.legal_group,
        variants=forms.variants,
        compacts=tuple(skeleton("".join(raw)) for raw in forms.raw_variants),
        # sorted tuples: the same order in every process, and a kept file that loads fast
        acronyms=tuple(sorted(forms.acronyms)),
        keys=tuple(sorted(keys)),
    )


class NameRecords:
    """Records by name: those `kept` from an earlier build, the others computed when asked.

    `asked` holds the record of every name asked for, to keep for the next build (the names of
    one list version, so the kept file does not grow with every version).
    """

    def __init__(self, kept: Mapping[str, NameRecord | None] | None = None) -> None:
        self._kept = kept or {}
        self.asked: dict[str, NameRecord | None] = {}

    def __getitem__(self, name: str) -> NameRecord | None:
        if name not in self.asked:
            self.asked[name] = self._kept[name] if name in self._kept else name_record(name)
        return self.asked[name]
