"""The notifier: every alert lands in the JSON-lines file and the log; webhook and SMTP are tried.

Webhook and mail are sent to servers the tests start on 127.0.0.1 (no network).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from alert_servers import closed_port, smtp_server, webhook_server

from assets.audit.notify import Notifier, make_alert
from orchestration.resources import notifier_for
from orchestration.settings import Settings

ALERT = make_alert(
    "ERROR",
    "sanctions_guard",
    "ofac_sdn@2024-02-23",
    "held for review: would delist 3 entries",
    run_id="run-123",
    raised_at="2024-03-01T10:00:00+00:00",
)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_alert_is_appended_to_the_jsonl_file_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / "alerts.jsonl"
    notifier = Notifier(alerts_file=str(path))
    with caplog.at_level(logging.WARNING, logger="alerts-test"):
        first = notifier.send(ALERT, log=logging.getLogger("alerts-test"))
        notifier.send(
            {**ALERT, "severity": "WARN", "subject": "volume"}, log=logging.getLogger("alerts-test")
        )
    assert first.delivered == ["file", "log"] and not first.failed
    records = _lines(path)
    assert records[0] == ALERT
    assert list(records[0]) == ["raised_at", "severity", "source", "subject", "message", "run_id"]
    assert records[1]["subject"] == "volume"
    assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.WARNING]
    assert "ofac_sdn@2024-02-23" in caplog.records[0].getMessage()
    assert "run-123" in caplog.records[0].getMessage()


def test_a_plain_webhook_receives_the_alert_as_json(tmp_path: Path) -> None:
    with webhook_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks/chokepoint"
        delivery = Notifier(alerts_file=str(tmp_path / "a.jsonl"), webhook_url=url).send(ALERT)
    assert delivery.delivered == ["file", "log", "webhook"]
    (request,) = server.received
    assert request["path"] == "/hooks/chokepoint"
    assert request["content_type"] == "application/json"
    assert request["json"] == ALERT


def test_a_slack_webhook_receives_a_text_payload(tmp_path: Path) -> None:
    with webhook_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/services/T/B/X"
        Notifier(alerts_file=str(tmp_path / "a.jsonl"), webhook_url=url, webhook_kind="slack").send(
            ALERT
        )
    (request,) = server.received
    assert set(request["json"]) == {"text"}
    text = request["json"]["text"]
    assert text.startswith("[ERROR] sanctions_guard: ofac_sdn@2024-02-23")
    assert "would delist 3 entries" in text and "run-123" in text


def test_smtp_delivers_one_mail_with_sender_recipients_and_subject(tmp_path: Path) -> None:
    with smtp_server() as (port, outbox):
        delivery = Notifier(
            alerts_file=str(tmp_path / "a.jsonl"),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="chokepoint@example.org",
            smtp_to="analyst@example.org, ops@example.org",
        ).send(ALERT)
    assert delivery.delivered == ["file", "log", "email"]
    (mail,) = outbox.mails
    assert mail.sender == "chokepoint@example.org"
    assert mail.recipients == ["analyst@example.org", "ops@example.org"]
    assert mail.message["Subject"] == "[chokepoint ERROR] sanctions_guard: ofac_sdn@2024-02-23"
    payload = mail.message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "message: held for review: would delist 3 entries" in body
    assert "run_id: run-123" in body


def test_channels_that_are_down_still_leave_the_jsonl_record_and_log_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "alerts.jsonl"
    port = closed_port()
    notifier = Notifier(
        alerts_file=str(path),
        webhook_url=f"http://127.0.0.1:{port}/hook",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="chokepoint@example.org",
        smtp_to="ops@example.org",
        timeout_seconds=2,
    )
    with caplog.at_level(logging.ERROR, logger="alerts-test"):
        delivery = notifier.send(ALERT, log=logging.getLogger("alerts-test"))
    assert delivery.delivered == ["file", "log"]
    assert set(delivery.failed) == {"webhook", "email"}
    assert "ConnectionRefusedError" in delivery.failed["email"]
    assert _lines(path) == [ALERT]
    failures = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(failures) == 2 and all(str(path) in m for m in failures)


def test_a_webhook_answering_an_error_status_counts_as_failed(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with webhook_server(status=500) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        delivery = Notifier(alerts_file=str(path), webhook_url=url).send(ALERT)
    assert len(server.received) == 1
    assert "HTTP Error 500" in delivery.failed["webhook"]
    assert _lines(path) == [ALERT]


def test_the_settings_configure_the_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHOKEPOINT_DATA_DIR", str(tmp_path))
    for name in ("CHOKEPOINT_ALERTS_FILE", "CHOKEPOINT_ALERT_WEBHOOK_URL", "CHOKEPOINT_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    plain = notifier_for(Settings.from_env())
    assert plain.alerts_file == str(tmp_path / "alerts.jsonl")
    assert plain.webhook_url is None and plain.smtp_host is None

    monkeypatch.setenv("CHOKEPOINT_ALERTS_FILE", str(tmp_path / "elsewhere.jsonl"))
    monkeypatch.setenv("CHOKEPOINT_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("CHOKEPOINT_ALERT_WEBHOOK_KIND", "slack")
    monkeypatch.setenv("CHOKEPOINT_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("CHOKEPOINT_SMTP_PORT", "587")
    monkeypatch.setenv("CHOKEPOINT_SMTP_TO", "a@example.org,b@example.org")
    monkeypatch.setenv("CHOKEPOINT_SMTP_STARTTLS", "true")
    configured = notifier_for(Settings.from_env())
    assert configured.alerts_file == str(tmp_path / "elsewhere.jsonl")
    assert configured.webhook_kind == "slack"
    assert (configured.smtp_host, configured.smtp_port) == ("mail.example.org", 587)
    assert configured.smtp_starttls is True

    monkeypatch.setenv("CHOKEPOINT_SMTP_PORT", "smtp")
    with pytest.raises(ValueError, match="CHOKEPOINT_SMTP_PORT"):
        Settings.from_env()
    monkeypatch.setenv("CHOKEPOINT_SMTP_PORT", "25")
    monkeypatch.setenv("CHOKEPOINT_ALERT_WEBHOOK_KIND", "teams")
    with pytest.raises(ValueError, match="CHOKEPOINT_ALERT_WEBHOOK_KIND"):
        Settings.from_env()
