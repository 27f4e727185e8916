"""Plain-language sentences for contract rules, as quarantine reasons say them.

A reason reads `<column>: <sentence>` with an optional detail in one trailing parenthesis,
e.g. `commodity_code: must be 10 digits (got 84717)`. The sentence is derived from the rule
(type, pattern, bounds, valid values, reference set, key) or taken from the contract, whose
column may carry `ruleMessages` ({rule: sentence}) to say it better. A sentence holds no
" (" (`REASON_DETAIL`), so the part before it groups reasons of one kind.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assets.common.contracts import Column

RULES = ("type", "required", "pattern", "minimum", "maximum", "allowed", "control", "unique")
REASON_DETAIL = " ("

# What a value outside each reference set is, in words.
REFERENCE_NOUNS = {
    "iso3166_alpha2": "not an ISO country code",
    "iso4217": "not an ISO currency code",
    "sanctions_lists": "not a registered sanctions list",
    "source_contracts": "not a dataset delivered through the landing area",
    "hs2022_hs6": "not an HS 2022 six-digit code",
}

_TYPE_SENTENCES = {
    "number": "not a number",
    "integer": "not a whole number",
    "boolean": "not true or false",
}
_DATE_PARTS = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "hh", "%M": "mm", "%S": "ss"}


def reason_group(reason: str) -> str:
    """The kind of a reason: its text without the trailing detail."""
    return reason.split(REASON_DETAIL, 1)[0]


def check_message(rule: str, message: str) -> str:
    """A contract's own sentence for a rule, refused when it could not group."""
    if rule not in RULES:
        raise ValueError(f"ruleMessages: unknown rule {rule!r} (one of {', '.join(RULES)})")
    if REASON_DETAIL in message or not message.strip():
        raise ValueError(f"ruleMessages.{rule}: a sentence without ' (' please, got {message!r}")
    return message.strip()


def _number(value: float) -> str:
    return f"{value:g}"


def sentence(column: Column, rule: str) -> str:
    """What is wrong with a value that breaks the column's `rule`."""
    own = dict(column.messages).get(rule)
    if own is not None:
        return own
    if rule == "type":
        if column.logical_type == "date":
            shown = column.date_format or "%Y-%m-%d"
            for code, word in _DATE_PARTS.items():
                shown = shown.replace(code, word)
            return f"not a valid {shown} date"
        return _TYPE_SENTENCES.get(column.logical_type, f"not a {column.logical_type}")
    if rule == "required":
        return "is required but empty"
    if rule == "control":
        return "contains a control character"
    if rule == "finite":
        return "must be a finite number, not NaN or infinity"
    if rule == "unique":
        return "duplicate of an earlier row, which is kept"
    if rule == "minimum" and column.minimum is not None:
        return (
            "must not be negative"
            if column.minimum == 0
            else f"must be at least {_number(column.minimum)}"
        )
    if rule == "maximum" and column.maximum is not None:
        return f"must be at most {_number(column.maximum)}"
    if rule == "allowed":
        if column.reference_set is not None:
            return REFERENCE_NOUNS.get(column.reference_set, f"not in {column.reference_set}")
        return "must be one of " + ", ".join(column.valid_values or ())
    if rule == "pattern" and column.pattern is not None:
        described = describe_pattern(column.pattern)
        return f"must be {described}" if described else "is not in the expected form"
    raise ValueError(f"{column.name}: no rule {rule!r} to describe")


# Patterns: a small subset of regular expressions is put in words; anything else is not.
_CLASSES = {
    r"\d": "digit",
    "[0-9]": "digit",
    "[A-Z]": "capital letter",
    "[a-z]": "lowercase letter",
    "[0-9a-f]": "lowercase hexadecimal digit",
    "[0-9a-fA-F]": "hexadecimal digit",
}
_ATOM = re.compile(r"(\\d|\[[^\]]+\])(?:\{(\d+)\})?")
_OPTIONAL_TAIL = re.compile(r"^(\\d|\[[^\]]+\])\{(\d+)\}\((\\d|\[[^\]]+\])\{(\d+)\}\)\?$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*$")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _run(text: str) -> tuple[str, list[int]] | None:
    """`\\d{10}` or `\\d{10}(\\d{2})?`: the character class and the lengths allowed."""
    whole = _ATOM.fullmatch(text)
    if whole and whole.group(1) in _CLASSES:
        return _CLASSES[whole.group(1)], [int(whole.group(2) or 1)]
    tail = _OPTIONAL_TAIL.match(text)
    if tail and tail.group(1) == tail.group(3) and tail.group(1) in _CLASSES:
        first = int(tail.group(2))
        return _CLASSES[tail.group(1)], [first, first + int(tail.group(4))]
    return None


def _lengths(counts: list[int], noun: str) -> str:
    if len(counts) == 1:
        return _plural(counts[0], noun)
    shown = ", ".join(str(c) for c in counts[:-1])
    return f"{shown} or {counts[-1]} {noun}s"


def _separated(text: str) -> str | None:
    """`\\d{8}/\\d{6}/\\d{7}`: runs of one class with one separator between them."""
    parts = re.split(r"(\\?[^\\\[\]{}()|?*+.^$\w])", text)
    runs, separators = parts[::2], set(parts[1::2])
    if len(runs) < 2 or len(separators) != 1:
        return None
    found = [_run(r) for r in runs]
    if any(f is None or len(f[1]) != 1 for f in found):
        return None
    nouns = {f[0] for f in found if f}
    if len(nouns) != 1:
        return None
    counts = [str(f[1][0]) for f in found if f]
    separator = separators.pop().lstrip("\\")
    return f"{', '.join(counts[:-1])} and {counts[-1]} {nouns.pop()}s separated by {separator}"


_REPEATED = re.compile(r"^(?P<one>[^()|]+)\((?P<sep>\\?.)(?P=one)\)\*$")
_SEPARATOR_NAMES = {" ": "spaces", ",": "commas", ";": "semicolons", "/": "slashes"}


def _repeated(text: str) -> str | None:
    """`[A-Z]{2}( [A-Z]{2})*`: one item, or several with a separator."""
    found = _REPEATED.match(text)
    run = _run(found.group("one")) if found else None
    if found is None or run is None:
        return None
    separator = found.group("sep").lstrip("\\")
    named = _SEPARATOR_NAMES.get(separator, separator)
    return f"{_lengths(run[1], run[0])}, or several separated by {named}"


def _alternatives(text: str) -> list[str]:
    """Split on `|` outside brackets and groups."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0 and (index == 0 or text[index - 1] != "\\"):
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def describe_pattern(pattern: str) -> str | None:
    """A pattern as a noun phrase (`10 or 12 digits`), or None when it is not simple enough."""
    text = pattern.removeprefix("^").removesuffix("$")
    if (repeated := _repeated(text)) is not None:
        return repeated
    if text.startswith("(") and text.endswith(")") and len(_alternatives(text[1:-1])) > 1:
        text = text[1:-1]
    options = _alternatives(text)
    by_noun: dict[str, list[int]] = {}
    words: list[str] = []
    for option in options:
        run = _run(option)
        if run is not None:
            by_noun.setdefault(run[0], []).extend(run[1])
        elif len(options) == 1 and (separated := _separated(option)):
            return separated
        elif _WORD.match(option) and len(options) > 1:
            words.append(option)
        else:
            return None
    phrases = [_lengths(sorted(set(c)), noun) for noun, c in by_noun.items()] + words
    if not phrases:
        return None
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} or {phrases[-1]}"
