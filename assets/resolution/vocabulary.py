"""Russian organisational terms as data (`org_terms.yaml`) applied to name tokens.

Every phrase of a term (abbreviation, Russian words, transliterations, English translations)
is reduced to a tuple of *stems*: the romanization-insensitive skeleton of each word with
common Russian and English inflection endings cut, connectors ("and", "of", "i") left out.
`canonicalize` replaces the longest phrase found at each position of a name by the term's id,
so "Nauchno-Proizvodstvennoe Predpriyatie Almaz", "NPP Almaz", "НПП Алмаз" and "Research and
Production Enterprise Almaz" all become `npp almaz`; legal-form terms are taken out of the
name and reported with their compatibility group (`jsc`, `llc`, `unitary`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TERMS_FILE = Path(__file__).with_name("org_terms.yaml")
KINDS = ("org_type", "legal_form", "word")
# Words that may sit inside a phrase in one rendering and not in another.
CONNECTORS = frozenset({"and", "of", "the", "for", "i", "im", "imeni", "named", "after"})
# Inflection endings cut from stems of 5+ letters (skeleton forms: y is i), longest first.
_ENDINGS = tuple(
    sorted(
        (
            "ogo", "ego", "omu", "emu", "imi", "ami", "iami", "ikh", "ih", "oie", "oe", "ie",
            "aia", "iia", "ia", "ii", "ai", "oi", "ei", "ui", "om", "em", "im", "ov", "ev",
            "ou", "es", "s", "a", "o", "e", "i", "u",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_MIN_STEM = 3


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: canonical id, kind and (for legal forms) compatibility group."""

    id: str
    kind: str
    group: str | None


@dataclass(frozen=True)
class Canonical:
    """A name's tokens after the vocabulary: the tokens (terms replaced by their ids), the
    legal forms taken out (ids, in order) and the org-type ids found."""

    tokens: tuple[str, ...]
    legal_forms: tuple[str, ...]
    org_types: tuple[str, ...]


# The shortest stem of 3+ letters followed by the longest ending that fits.
_ENDING = re.compile(rf"^(.{{{_MIN_STEM},}}?)(?:{'|'.join(_ENDINGS)})$")


def stem(token: str, skeleton: Callable[[str], str]) -> str:
    """Skeleton of `token` with one inflection ending cut (kept at 3+ letters)."""
    key = skeleton(token)
    if len(key) < 5 or key.isdigit():
        return key
    found = _ENDING.match(key)
    return found.group(1) if found else key


class Vocabulary:
    """Phrase index over the terms of one vocabulary file."""

    def __init__(
        self,
        terms: Sequence[Mapping[str, Any]],
        latin_forms: Callable[[str], Iterable[tuple[str, ...]]],
        skeleton: Callable[[str], str],
    ) -> None:
        self._skeleton = skeleton
        self._stem_cache: dict[str, str] = {}
        self._term_cache: dict[str, bool] = {}
        self.terms: dict[str, Term] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for raw in terms:
            term = Term(str(raw["id"]), str(raw["kind"]), raw.get("group"))
            if term.kind not in KINDS:
                raise ValueError(f"org term {term.id}: kind must be one of {', '.join(KINDS)}")
            if term.id in self.terms:
                raise ValueError(f"org term {term.id} is defined twice")
            self.terms[term.id] = term
            texts = [term.id] if term.kind != "legal_form" else []
            for key in ("abbreviations", "russian", "transliterations", "english"):
                texts += [str(t) for t in raw.get(key) or []]
            for text in texts:
                for tokens in latin_forms(text):
                    phrase = self._stems(tokens)
                    if phrase:
                        self._phrases.setdefault(phrase[0], []).append((phrase, term.id))
        for options in self._phrases.values():
            # longest phrase first; ties by id so that the index does not depend on file order
            options.sort(key=lambda item: (-len(item[0]), item[1]))

    def _stem(self, token: str) -> str:
        found = self._stem_cache.get(token)
        if found is None:
            if len(self._stem_cache) > 500_000:
                self._stem_cache.clear()
            found = self._stem_cache[token] = stem(token, self._skeleton)
        return found

    def _stems(self, tokens: Iterable[str]) -> tuple[str, ...]:
        return tuple(self._stem(t) for t in tokens if t not in CONNECTORS)

    def group(self, legal_form: str | None) -> str | None:
        """Compatibility group of a legal-form id (None when unknown or not a legal form)."""
        term = self.terms.get(legal_form or "")
        return term.group if term is not None and term.kind == "legal_form" else None

    def is_org_term(self, text: str) -> bool:
        """True when `text` (a cleaned phrase) is an org-type or word term of the vocabulary."""
        from assets.resolution.names import phrase_forms

        known = self._term_cache.get(text)
        if known is not None:
            return known
        answer = False
        for tokens in phrase_forms(text):
            found = self.canonicalize(tokens)
            if len(found.tokens) == 1 and found.tokens[0] in self.terms:
                answer = self.terms[found.tokens[0]].kind != "legal_form"
                break
        self._term_cache[text] = answer
        return answer

    def canonicalize(self, tokens: Sequence[str]) -> Canonical:
        """Replace the longest known phrase at each position by its term id (Latin tokens)."""
        stems = [self._stem(t) for t in tokens]
        if not any(s in self._phrases for s in stems):  # no phrase starts anywhere
            return Canonical(tuple(tokens), (), ())
        out: list[str] = []
        legal: list[str] = []
        org_types: list[str] = []
        i = 0
        while i < len(tokens):
            found = self._match_at(tokens, stems, i)
            if found is None:
                out.append(tokens[i])
                i += 1
                continue
            end, term_id = found
            kind = self.terms[term_id].kind
            if kind == "legal_form":
                legal.append(term_id)
            else:
                out.append(term_id)
                if kind == "org_type":
                    org_types.append(term_id)
            i = end
        if not out:  # a name made only of legal forms keeps its words
            return Canonical(tuple(tokens), (), tuple(org_types))
        return Canonical(tuple(out), tuple(legal), tuple(org_types))

    def _match_at(
        self, tokens: Sequence[str], stems: Sequence[str], start: int
    ) -> tuple[int, str] | None:
        if tokens[start] in CONNECTORS:
            return None
        for phrase, term_id in self._phrases.get(stems[start], ()):
            pos, matched = start, 0
            while matched < len(phrase) and pos < len(tokens):
                if tokens[pos] in CONNECTORS and matched:
                    pos += 1
                    continue
                if stems[pos] != phrase[matched]:
                    break
                matched += 1
                pos += 1
            if matched == len(phrase):
                return pos, term_id
        return None


def load_terms(path: Path = TERMS_FILE) -> list[dict[str, Any]]:
    """The `terms` of a vocabulary file (checked: a mapping with `version` and `terms`)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20x faster when present
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    terms = data.get("terms") if isinstance(data, dict) else None
    if not isinstance(terms, list):
        raise ValueError(f"{path}: expected a mapping with a `terms` list")
    return terms


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The vocabulary of `org_terms.yaml`, with the romanizations of `names`."""
    from assets.resolution.names import phrase_forms, skeleton

    return Vocabulary(load_terms(TERMS_FILE), phrase_forms, skeleton)
