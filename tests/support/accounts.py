"""Throwaway accounts created through the API, as a newcomer (or a sock) would."""

from __future__ import annotations

import secrets
import uuid

from automod.sandbox import Account, SandboxInfo
from support.wiki import WikiClient


def new_account(sandbox: SandboxInfo, prefix: str = "Sock") -> WikiClient:
    """A brand-new account (edit count 0), logged in."""
    client = WikiClient(sandbox)
    name, password = f"{prefix} {uuid.uuid4().hex[:8]}", secrets.token_urlsafe(18)
    token = client.get(action="query", meta="tokens", type="createaccount")["query"]["tokens"]["createaccounttoken"]
    result = client.post(action="createaccount", username=name, password=password, retype=password,
                         createreturnurl="http://127.0.0.1/", createtoken=token)["createaccount"]
    assert result["status"] == "PASS", result
    token = client.get(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
    login = client.post(action="clientlogin", username=name, password=password,
                        loginreturnurl="http://127.0.0.1/", logintoken=token)["clientlogin"]
    assert login["status"] == "PASS", login
    client.account = Account(name, password, "", "")
    return client
