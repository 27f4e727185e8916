"""Quarantine reasons in plain language, derived from the contract rule, the same on both paths."""

import polars as pl
import pytest
from test_contract_sql import _numbered, pandera_validate, sql_validate

from assets.common.contracts import (
    REASONS_COLUMN,
    Column,
    Contract,
    list_contracts,
    load_contract,
)
from assets.common.rule_sentences import (
    RULES,
    check_message,
    describe_pattern,
    reason_group,
    sentence,
)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"^\d{10}$", "10 digits"),
        (r"^\d{10}(\d{2})?$", "10 or 12 digits"),
        (r"^\d{13}(\d{2})?$", "13 or 15 digits"),
        (r"^\d{8}/\d{6}/\d{7}$", "8, 6 and 7 digits separated by /"),
        (r"^([A-Z]{2}|MULTI)$", "2 capital letters or MULTI"),
        (r"^(\d{2}|\d{4}|\d{6}|TOTAL)$", "2, 4 or 6 digits or TOTAL"),
        (r"^[0-9a-f]{64}$", "64 lowercase hexadecimal digits"),
        (r"^[A-Z]{2}( [A-Z]{2})*$", "2 capital letters, or several separated by spaces"),
        (r"^\d{4}-(0[1-9]|1[0-2])$", None),  # not simple enough: the contract says it
        ("^'; drop table x; --", None),
    ],
)
def test_simple_patterns_are_put_in_words(pattern: str, words: str | None) -> None:
    assert describe_pattern(pattern) == words


@pytest.mark.parametrize(
    ("column", "rule", "said"),
    [
        (Column("d", "date", ""), "type", "not a valid YYYY-MM-DD date"),
        (Column("d", "date", "", date_format="%d.%m.%Y"), "type", "not a valid DD.MM.YYYY date"),
        (Column("n", "number", ""), "type", "not a number"),
        (Column("n", "integer", ""), "type", "not a whole number"),
        (Column("n", "number", "", minimum=0), "minimum", "must not be negative"),
        (Column("n", "integer", "", minimum=2000), "minimum", "must be at least 2000"),
        (Column("n", "number", "", maximum=1.0), "maximum", "must be at most 1"),
        (Column("c", "string", "", reference_set="iso3166_alpha2"), "allowed", "not an ISO country code"),  # noqa: E501
        (Column("c", "string", "", reference_set="iso4217"), "allowed", "not an ISO currency code"),
        (Column("c", "string", "", reference_set="new_set"), "allowed", "not in new_set"),
        (Column("c", "string", "", valid_values=("X", "M")), "allowed", "must be one of X, M"),
        (Column("c", "string", "", pattern=r"^\d{10}$"), "pattern", "must be 10 digits"),
        (Column("c", "string", "", pattern=r"^\d{4}-\d+x$"), "pattern", "is not in the expected form"),  # noqa: E501
        (Column("c", "string", "", messages=(("pattern", "must be a month"),), pattern="^x$"),
         "pattern", "must be a month"),
    ],
)  # fmt: skip
def test_each_rule_has_a_sentence(column: Column, rule: str, said: str) -> None:
    assert sentence(column, rule) == said


def test_every_rule_of_every_contract_has_a_sentence_that_groups() -> None:
    for contract_id in list_contracts():
        for column in load_contract(contract_id).columns:
            for rule in RULES:
                try:
                    said = sentence(column, rule)
                except ValueError:
                    continue  # the column has no such rule
                assert said and reason_group(f"{column.name}: {said} (got x)") == (
                    f"{column.name}: {said}"
                ), (contract_id, column.name, rule)


def test_a_contract_message_is_checked() -> None:
    assert check_message("pattern", " must be a month ") == "must be a month"
    with pytest.raises(ValueError, match="unknown rule"):
        check_message("patern", "must be a month")
    with pytest.raises(ValueError, match="without"):
        check_message("pattern", "must be a month (YYYY-MM)")


def test_a_contract_message_reads_the_same_on_both_paths() -> None:
    said = "must be a month as YYYY-MM"
    month = Column(
        "month", "string", "", required=True, pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        messages=(("pattern", said), ("required", "must be given")),
    )  # fmt: skip
    contract = Contract("m", "m", "1", "raw.m", "", (month,), ())
    frame = _numbered(pl.DataFrame({"month": ["2024-01", "2024-13", None]}))
    expected = [[f"month: {said} (got 2024-13)"], ["month: must be given"]]
    for path in (sql_validate, pandera_validate):
        _, bad = path(frame, contract)
        assert bad.get_column(REASONS_COLUMN).to_list() == expected, path.__name__


def test_every_pattern_in_the_contracts_reads_as_words() -> None:
    vague = [
        (contract_id, column.name)
        for contract_id in list_contracts()
        for column in load_contract(contract_id).columns
        if column.pattern and sentence(column, "pattern") == "is not in the expected form"
    ]
    assert vague == [], "put these patterns in words: ruleMessages: {pattern: ...}"
