"""Servers the alert tests start on 127.0.0.1: a webhook receiver and a minimal SMTP server.

Context managers in a module of their own (not a conftest): other test folders import the root
`conftest` by name, which a second conftest module could shadow.
"""

from __future__ import annotations

import email
import http.server
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any


class _Webhook(http.server.ThreadingHTTPServer):
    received: list[dict[str, Any]]
    status: int


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: _Webhook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(
            {
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "json": json.loads(body),
            }
        )
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def webhook_server(status: int = 200) -> Iterator[_Webhook]:
    """An HTTP server on 127.0.0.1 that records every JSON body POSTed to it."""
    server = _Webhook(("127.0.0.1", 0), _WebhookHandler)
    server.received, server.status = [], status
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mail:
    """One message the SMTP server accepted: envelope and parsed content."""

    sender: str
    recipients: list[str]
    message: Message


@dataclass
class _Outbox:
    mails: list[Mail] = field(default_factory=list)


class _SMTP(socketserver.ThreadingTCPServer):
    outbox: _Outbox


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Enough SMTP to accept messages: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: _SMTP

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        sender, recipients = "", list[str]()
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.upper()
            if verb.startswith(("EHLO", "HELO")):
                self._reply("250 localhost")
            elif verb.startswith("MAIL FROM:"):
                sender, recipients = command[10:].strip().strip("<>"), []
                self._reply("250 OK")
            elif verb.startswith("RCPT TO:"):
                recipients.append(command[8:].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.outbox.mails.append(
                    Mail(sender, recipients, email.message_from_bytes(data))
                )
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


@contextmanager
def smtp_server() -> Iterator[tuple[int, _Outbox]]:
    """A minimal SMTP server on 127.0.0.1: its port and the messages it accepted."""
    server = _SMTP(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.outbox = _Outbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.outbox
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
