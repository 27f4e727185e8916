"""The query side of screening: every query name's forms and blocking keys as flat columns.

This is the per-name Python work of `Matcher.screen` (normalization above all); it is kept in
one pure function of the names so that it can run on chunks in worker processes
(`lay_out_parallel`) and the chunks be joined in order. Tokens of one variant are joined with
`SEP` (no token contains it); `Matcher` splits them into list columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.resolution.blocking import blocking_keys
from assets.resolution.names import name_parts, normalize, skeleton

SEP = "\x1f"


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


def lay_out(names: list[str]) -> QueryNames:
    """The forms of each name (and of the names written inside it, `name_parts`)."""
    out = QueryNames()
    for row, name in enumerate(names):
        parts = name_parts(name)
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
