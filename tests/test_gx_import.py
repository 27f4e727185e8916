"""Great Expectations imported with scipy.stats and altair standing in until used
(assets/marts/gx_import.py): they are not loaded, and an expectation that uses them still runs."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _in_a_fresh_interpreter(code: str) -> str:
    """stdout of `code` run by a new interpreter (a module imported once per process)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


IMPORT = """
import math, sys
from assets.marts.gx_import import great_expectations
gx = great_expectations()
import pandas
"""


def test_the_import_leaves_scipy_stats_and_altair_unloaded_until_an_expectation_uses_one() -> None:
    """(One interpreter for both halves: each import of Great Expectations costs seconds.)
    The KL-divergence expectation calls `scipy.stats.entropy` through its module's name."""
    printed = _in_a_fresh_interpreter(
        IMPORT
        + """
# (modules the real ones import; reading an attribute of a stand-in would load it)
print(sorted(n for n in ("scipy.stats._stats_py", "altair.vegalite") if n in sys.modules))
kl = sys.modules["great_expectations.expectations.core.expect_column_kl_divergence_to_be_less_than"]
print(type(kl.stats).__name__, type(kl.alt).__name__, end=" ")
print("scipy.stats" in sys.modules, "altair" in sys.modules)
print("ExpectColumnKLDivergenceToBeLessThan" in dir(gx.expectations))
context = gx.get_context(mode="ephemeral")
batch = (
    context.data_sources.add_pandas("p")
    .add_dataframe_asset("a")
    .add_batch_definition_whole_dataframe("all")
    .get_batch(batch_parameters={"dataframe": pandas.DataFrame({"x": [1, 1, 2, 2, 3, 3] * 50})})
)
result = batch.validate(
    gx.expectations.ExpectColumnKLDivergenceToBeLessThan(
        column="x",
        partition_object={"values": [1, 2, 3], "weights": [1 / 3, 1 / 3, 1 / 3]},
        threshold=0.1,
    )
)
print(result.success, result.result["observed_value"])
print("scipy.stats._stats_py" in sys.modules, type(sys.modules["scipy.stats"]).__name__)
import scipy.stats._stats_py  # once only: the same function through both names
stats = scipy.stats
print(stats.entropy([1, 1]) == math.log(2), stats._stats_py.ttest_ind is stats.ttest_ind)
"""
    )
    # Great Expectations holds stand-ins; nothing else will: a later import gets the real module
    assert printed.splitlines()[:3] == ["[]", "_OnFirstUse _OnFirstUse False False", "True"]
    assert printed.splitlines()[-3:] == ["True 0.0", "True module", "True True"]
