"""Formula neutralization for outputs meant for people: the rule, and its frame form."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.common.safe_output import FORMULA_TRIGGERS, neutralize, neutralize_frame


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://x","y")',
        "+7 495 123",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "\t=1",
        "\rfoo",
        "-",
        "--1",
        "-1+1",
        "+1e",
    ],
)
def test_formula_like_text_gets_an_apostrophe(text: str) -> None:
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "OOO Romashka", "'=already", " =1", "12", "-3.5", "+7", "-.5", "1e-3", "-2E+10"]
)
def test_plain_text_and_numbers_stay_as_they_are(text: str) -> None:
    assert neutralize(text) == text


def test_frame_neutralizes_string_columns_only() -> None:
    frame = pl.DataFrame(
        {"name": ["=cmd", "Acme", None, "-4"], "score": [-3.5, 1.0, 0.0, -1.0], "n": [-1, 2, 3, 4]}
    )
    result = neutralize_frame(frame)
    assert result["name"].to_list() == ["'=cmd", "Acme", None, "-4"]
    assert result["score"].to_list() == frame["score"].to_list()
    assert result.schema == frame.schema
    lines = result.write_csv().splitlines()[1:]
    assert lines == ["'=cmd,-3.5,-1", "Acme,1.0,2", ",0.0,3", "-4,-1.0,4"]


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from("=+-@\t\r0123456789.eE a")))))
def test_frame_and_text_rules_agree(values: list[str | None]) -> None:
    frame = pl.DataFrame({"cell": values}, schema={"cell": pl.String})
    expected = [None if v is None else neutralize(v) for v in values]
    assert neutralize_frame(frame)["cell"].to_list() == expected


@given(st.text())
def test_neutralized_text_never_starts_a_formula_unless_it_is_a_number(text: str) -> None:
    result = neutralize(text)
    assert not result.startswith(FORMULA_TRIGGERS) or float(result) == float(text)
    assert result.removeprefix("'") == text or result == text
