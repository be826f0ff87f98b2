"""The patrol workflow's surfaces on the sandbox wiki: warning levels, notices, talk pages reset."""

from __future__ import annotations

import re
import secrets
import uuid

from automod.sandbox import Account
from support.wiki import ApiError, WikiClient

ANON = "127.0.0.1"


NOTICES = {"talk_notice": {"enabled": True}, "false_positive_page": "User:AutomodBot/False positives"}


LEVEL = re.compile(r"<!-- Template:uw-vandalism(\d) -->")


def delete_page(admin: WikiClient, title: str) -> None:
    """Start from a page with no history (earlier tests warn the same accounts)."""
    try:
        admin.post(action="delete", title=title, reason="test reset", token=admin.token())
    except ApiError as exc:
        if exc.code != "missingtitle":
            raise


def page_text(client: WikiClient, title: str) -> str | None:
    revisions = client.revisions(title, limit=1)
    return revisions[0]["slots"]["main"]["content"] if revisions else None


def fresh_account(sandbox) -> WikiClient:
    """A brand-new account (edit count 0), logged in, as a newcomer would create it."""
    client = WikiClient(sandbox)
    name, password = f"Newcomer {uuid.uuid4().hex[:8]}", secrets.token_urlsafe(18)
    token = client.get(action="query", meta="tokens", type="createaccount")["query"]["tokens"]["createaccounttoken"]
    result = client.post(action="createaccount", username=name, password=password, retype=password,
                         createreturnurl="http://127.0.0.1/", createtoken=token)["createaccount"]
    assert result["status"] == "PASS", result
    token = client.get(action="query", meta="tokens", type="login")["query"]["tokens"]["logintoken"]
    login = client.post(action="clientlogin", username=name, password=password,
                        loginreturnurl="http://127.0.0.1/", logintoken=token)["clientlogin"]
    assert login["status"] == "PASS", login
    client.account = Account(name, password, "", "")
    assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == name
    return client
