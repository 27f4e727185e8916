"""The checks a publication records: its own run's, and those of the runs it re-executes."""

from types import SimpleNamespace

import dagster as dg
from conftest import record_run
from dagster._core.events import DagsterEvent, DagsterEventType

from assets.audit.manifest import check_results


def _evaluated(
    instance: dg.DagsterInstance, run_id: str, check: str, passed: bool, text: str
) -> None:
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["core", "shipments"]),
        check_name=check,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=text,
    )
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION.value,
        job_name="build_everything",
        event_specific_data=evaluation,
    )
    instance.report_dagster_event(event, run_id=run_id)


def test_a_re_execution_records_its_parents_checks_and_its_own_latest() -> None:
    with dg.instance_for_test() as instance:
        parent = record_run(instance, dg.DagsterRunStatus.FAILURE)
        _evaluated(instance, parent.run_id, "volume_within_bounds", False, "parent: low")
        _evaluated(instance, parent.run_id, "matches_contract", False, "parent: failed")
        child = record_run(instance, dg.DagsterRunStatus.STARTED, parent_run_id=parent.run_id)
        _evaluated(instance, child.run_id, "matches_contract", True, "child: ok")
        other = record_run(instance, dg.DagsterRunStatus.SUCCESS)
        _evaluated(instance, other.run_id, "unrelated", False, "another run's")

        found = check_results(SimpleNamespace(run=child, instance=instance))  # type: ignore[arg-type]
        alone = check_results(SimpleNamespace(run=parent, instance=instance))  # type: ignore[arg-type]
    assert [(r["check"], r["passed"], r["description"]) for r in found] == [
        ("matches_contract", True, "child: ok"),  # re-evaluated: the child's outcome
        ("volume_within_bounds", False, "parent: low"),  # the parent's WARN is kept
    ]
    assert [r["description"] for r in alone] == ["parent: failed", "parent: low"]
