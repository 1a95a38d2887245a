"""Framework-neutral HTTP values between the web adapter and the SSO protocols.

The OIDC and CAS logic takes an :class:`HttpCall` and gives back an
:class:`HttpReply` or a typed decision, so it never imports Starlette and the web
adapter stays a thin translation (architecture: adapters talk to domain services
through typed values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HttpCall", "HttpReply", "json_reply"]


@dataclass(frozen=True)
class HttpCall:
    """A request as the protocols see it.

    ``uri`` is rebuilt from the configured issuer (never from the Host header), and
    ``headers`` has lower-case names.
    """

    method: str
    uri: str
    args: Mapping[str, list[str]] = field(default_factory=dict)
    form: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> str | None:
        values = self.args.get(name)
        return values[0] if values else None

    def form_value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None

    def param(self, name: str) -> str | None:
        """The form value if present, else the query value (as RFC 6749 endpoints read)."""
        value = self.form_value(name)
        return value if value is not None else self.arg(name)


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def location(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "location":
                return value
        return None


def json_reply(status: int, body: Mapping[str, Any], *extra: tuple[str, str]) -> HttpReply:
    headers = (
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
        *extra,
    )
    return HttpReply(status, json.dumps(body, ensure_ascii=False), headers)
