"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

__all__ = ["Mailbox", "smtp_server"]


@dataclass
class Mailbox:
    """Messages received (raw bytes and parsed), and the logins tried."""

    port: int = 0
    raw: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(r, policy=policy.default) for r in self.raw]  # type: ignore[misc]

    def texts(self) -> list[str]:
        """Subject and decoded body of each message."""
        out = []
        for m in self.messages:
            body = m.get_body(preferencelist=("plain",))
            out.append(f"{m['Subject']}\n{body.get_content() if body else ''}")
        return out


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        self.box.raw.append(bytes(envelope.original_content or b""))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(*, password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server on loopback; with ``password``, AUTH LOGIN/PLAIN is required."""
    box = Mailbox(port=_free_port())

    def authenticate(_server: object, _session: Session, _envelope: Envelope, mechanism: str,
                     data: object) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, pw = data.login.decode(), data.password.decode()
            box.logins.append((user, pw))
            return AuthResult(success=pw == password)
        return AuthResult(success=False)

    kwargs: dict[str, object] = {}
    if password is not None:
        kwargs = {"authenticator": authenticate, "auth_require_tls": False,
                  "auth_required": True}
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
