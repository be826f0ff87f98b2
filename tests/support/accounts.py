"""Throwaway accounts created through the API, as a newcomer (or a sock) would."""

from __future__ import annotations

import secrets
import uuid

from automod.sandbox import SandboxInfo
from support.wiki import WikiClient


def new_account(sandbox: SandboxInfo, prefix: str = "Sock") -> WikiClient:
    """A brand-new account (edit count 0), logged in (``createaccount``, then ``clientlogin``)."""
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    client = WikiClient(sandbox).sign_up(name, secrets.token_urlsafe(18))
    assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == name
    return client
