"""The notifier: how an alert reaches a person, whichever sensor noticed the problem.

Every alert is appended to a JSON-lines file first (under `data/` by default) and logged, so an
alert is never lost: a webhook or mail server that is down or refuses the message only costs that
channel, and its failure is logged beside the alert. The webhook speaks plain HTTP POST of the
alert as JSON, or a Slack-compatible `{"text": ...}` payload (an incoming webhook), with the
standard library only. E-mail goes through SMTP, with optional STARTTLS and login.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import dagster as dg

# The fields of an alert, in the order they are written.
ALERT_FIELDS = ("raised_at", "severity", "source", "subject", "message", "run_id")

WebhookKind = Literal["json", "slack"]


def make_alert(
    severity: str,
    source: str,
    subject: str,
    message: str,
    run_id: str | None = None,
    raised_at: datetime | str | None = None,
) -> dict[str, Any]:
    """An alert record with every field present (`raised_at` now unless given)."""
    when = raised_at or datetime.now(UTC)
    return {
        "raised_at": when.isoformat(timespec="seconds") if isinstance(when, datetime) else when,
        "severity": severity,
        "source": source,
        "subject": subject,
        "message": message,
        "run_id": run_id,
    }


def one_line(alert: Mapping[str, Any]) -> str:
    """The alert as one human-readable line (log, Slack text, mail subject prefix)."""
    run = f" (run {alert['run_id']})" if alert.get("run_id") else ""
    return (
        f"[{alert.get('severity')}] {alert.get('source')}: {alert.get('subject')}: "
        f"{alert.get('message')}{run}"
    )


@dataclass
class Delivery:
    """Which channels took the alert and why the others did not."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Notifier(dg.ConfigurableResource):  # type: ignore[misc]
    """Sends alerts to a JSON-lines file and the log, and optionally a webhook and e-mail."""

    alerts_file: str
    webhook_url: str | None = None
    webhook_kind: WebhookKind = "json"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    # Comma-separated recipients.
    smtp_to: str | None = None
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    # Seconds a channel may take before it counts as down (a sensor tick has about a minute).
    timeout_seconds: float = 10.0

    def send(self, alert: Mapping[str, Any], log: logging.Logger | None = None) -> Delivery:
        """Record the alert in the file and the log, then try every configured channel.

        Raises only if the file cannot be written (the caller then keeps its cursor and retries);
        a failing webhook or mail server is logged and reported in the returned `Delivery`.
        """
        log = log or dg.get_dagster_logger()
        record = {name: alert.get(name) for name in ALERT_FIELDS}
        record.update({k: v for k, v in alert.items() if k not in record})
        self._append(record)
        level = logging.WARNING if str(record["severity"]).upper() == "WARN" else logging.ERROR
        log.log(level, f"alert: {one_line(record)}")
        delivery = Delivery(delivered=["file", "log"])
        channels = []
        if self.webhook_url:
            channels.append(("webhook", self._post))
        if self.smtp_host:
            channels.append(("email", self._mail))
        for name, deliver in channels:
            try:
                deliver(record)
            except Exception as error:
                delivery.failed[name] = f"{type(error).__name__}: {error}"
                log.error(
                    f"alert not delivered by {name} ({delivery.failed[name]}); "
                    f"it is recorded in {self.alerts_file}"
                )
            else:
                delivery.delivered.append(name)
        return delivery

    def _append(self, record: Mapping[str, Any]) -> None:
        path = Path(self.alerts_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
        # One write in append mode: lines from sensors in other processes do not interleave.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _post(self, record: Mapping[str, Any]) -> None:
        payload = {"text": one_line(record)} if self.webhook_kind == "slack" else dict(record)
        request = urllib.request.Request(
            str(self.webhook_url),
            data=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            response.read()  # a status >= 400 raises HTTPError before this

    def _mail(self, record: Mapping[str, Any]) -> None:
        recipients = [a.strip() for a in (self.smtp_to or "").split(",") if a.strip()]
        if not recipients or not self.smtp_from:
            raise ValueError("SMTP needs a sender and at least one recipient")
        message = EmailMessage()
        message["From"] = self.smtp_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = (
            f"[chokepoint {record.get('severity')}] {record.get('source')}: {record.get('subject')}"
        )
        message.set_content(
            "\n".join(f"{name}: {record.get(name)}" for name in ALERT_FIELDS) + "\n"
        )
        host = str(self.smtp_host)
        with smtplib.SMTP(host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
            if self.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message, from_addr=self.smtp_from, to_addrs=recipients)
