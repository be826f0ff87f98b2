"""Tests on the two-wiki sandbox: a client on either wiki, a central config page governing both,
and the shared false-positive page on the first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from automod.sandbox import SandboxInfo, WikiInstance
from support.moderation_helpers import score_from_wiki, set_config
from support.settings_files import write_settings
from support.wiki import WikiClient

BASE = {"mode": "revert", "max_reverts_per_user_per_page": 1, "skip_rights": ["bot", "autopatrol"]}



def client_for(info: SandboxInfo, wiki: WikiInstance, account: Any = None) -> WikiClient:
    client = WikiClient(info)
    client.api_url = wiki.api_url
    if account is not None:
        client.account = account
        client._login(account)
    return client



def central_settings(info: SandboxInfo, tmp_path: Path, liftwing_url: str, central_page: str, local_page: str,
                     **central: Any) -> Path:
    data = yaml.safe_load(info.settings.read_text())
    data["store"] = str(tmp_path / "automod.sqlite")
    data["liftwing"]["url"] = liftwing_url
    for wiki in data["wikis"]:
        wiki["config_page"] = local_page  # a title no earlier test saved: no local page yet
    data["central_config"] = {"wiki": info.wikis[0].name, "page": central_page, **central}
    path = tmp_path / f"settings-{uuid.uuid4().hex[:6]}.yaml"
    write_settings(path, data)
    return path



def anon(info: SandboxInfo, wiki: WikiInstance, ip: str) -> WikiClient:
    """An anonymous client on ``wiki`` that the wiki sees as ``ip``."""
    client = WikiClient(info, ip=ip)
    client.api_url = wiki.api_url
    return client


def text_of(client: WikiClient, title: str) -> str:
    revs = client.revisions(title, limit=1)
    return revs[0]["slots"]["main"]["content"] if revs else ""


@dataclass(frozen=True)
class SharedSetup:
    """A central page on the first wiki naming a shared report page there; the blocks given."""

    info: SandboxInfo
    uid: str
    central_page: str
    shared: str
    settings_args: tuple[Path, str, str]  # tmp_path, central page, local page

    def settings(self, liftwing_url: str) -> Path:
        tmp_path, central_page, local_page = self.settings_args
        return central_settings(self.info, tmp_path, liftwing_url, central_page, local_page)


def shared_setup(info: SandboxInfo, tmp_path: Path, blocks: dict[str, Any]) -> SharedSetup:
    uid = uuid.uuid4().hex[:8]
    first = info.wikis[0]
    central_page, shared = f"MediaWiki:Automod-central-{uid}.json", f"Project:Automod shared reports {uid}"
    central_admin = client_for(info, first, info.admin)
    central_admin.edit(shared, "Reports about the small wikis.\n")
    set_config(central_admin, {"defaults": BASE, "wikis": blocks, "shared_false_positive_page": shared},
               central_page)
    return SharedSetup(info, uid, central_page, shared, (tmp_path, central_page, f"MediaWiki:Automod-local-{uid}.json"))


def scorers_for(info: SandboxInfo):
    scorers = {w.name.removesuffix("wiki"): score_from_wiki(w.api_url) for w in info.wikis}
    return lambda lang, rev: scorers[lang](lang, rev)

