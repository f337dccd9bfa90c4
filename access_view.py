"""Who may do what on the web chat: sign-in, roles, limits and the audit log, per request.

Thin: ``Access`` holds the pieces of ``assistant.access`` for one app process and answers,
for a Gradio request, who it is and whether it may ask or change the documents; app.py
calls it at the top of each handler. Three ways to run:

- users in ``ASSISTANT_USERS_FILE``: sign-in on; readers ask, editors also add and remove;
- no users, on 127.0.0.1 (the default): one person's page, everything allowed;
- no users on another address: refused, unless ``ASSISTANT_OPEN_PAGE=1`` asks for an
  open page, which is then read-only (nobody adds or removes) and limited per address.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from assistant import Settings
from assistant.access import Audit, Gate, Limits
from assistant.errors import ConfigError
from assistant.users import Users

log = logging.getLogger("app")


def is_loopback(host: str) -> bool:
    """Example: "127.0.0.1" -> True; "localhost" -> True; "0.0.0.0" -> False."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Access:
    gate: Gate | None  # None: no sign-in
    limits: Limits
    audit: Audit | None
    read_only: bool = False

    @classmethod
    def for_host(cls, settings: Settings, host: str) -> Access:
        """The policy for serving on ``host``; ``ConfigError`` when that would be unsafe."""
        users = Users(settings.users_file) if settings.users_file else None
        signed = users is not None and users.exists()
        if not signed and not is_loopback(host) and not settings.open_page:
            raise ConfigError(
                f"refusing to serve on {host} without sign-in: add a user with "
                "`ASSISTANT_USERS_FILE=~/.config/assistant/users.json assistant user add NAME "
                "--role editor`, or set ASSISTANT_OPEN_PAGE=1 for an open, read-only page"
            )
        audit = Audit(settings.audit_path) if settings.audit_path else None
        limits = Limits(settings.questions_per_minute, settings.uploads_per_hour)
        gate = Gate(users, audit) if signed and users is not None else None
        return cls(gate, limits, audit, read_only=not signed and not is_loopback(host))

    def who(self, request: Any) -> str:
        """The user's name, or "address 10.0.0.7" on a page without sign-in."""
        name = getattr(request, "username", None)
        if name:
            return str(name)
        client = getattr(request, "client", None)
        return f"address {getattr(client, 'host', 'unknown')}"

    def may_ask(self, request: Any) -> str | None:
        """None when the request may ask now, else the message to show (one person's page
        on loopback has no limit)."""
        if self.gate is not None and self.gate.user(getattr(request, "username", None)) is None:
            return "sign in first"
        if self.gate is None and not self.read_only:
            return None
        return self.limits.question(self.who(request))

    def may_edit(self, request: Any, files: int = 1) -> str | None:
        """None when the request may add or remove ``files`` documents now, else why not."""
        if self.read_only:
            return "this page is read-only: documents are added on the server"
        if self.gate is not None:
            user = self.gate.user(getattr(request, "username", None))
            if user is None or not user.can_edit:
                return "only an editor can add or remove documents"
        return self.limits.upload(self.who(request), files) if files else None

    def can_edit(self, request: Any) -> bool:
        """Whether the request's user sees the upload and remove controls."""
        return self.may_edit(request, files=0) is None

    def record(self, request: Any, action: str, **fields: str) -> None:
        if self.audit is not None:
            self.audit.record(self.who(request), action, **fields)
