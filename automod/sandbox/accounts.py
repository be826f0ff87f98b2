"""The sandbox's fixed cast of accounts, with fresh random secrets per sandbox.

Every account gets a BotPassword so tests and the bot log in the same way (action=login as
``Name@appid``), which is how automod logs in on real wikis too.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any, Callable, Sequence

__all__ = ["Account", "AccountSpec", "SPECS", "BOT_PASSWORD_ALPHABET", "new_accounts", "create_accounts"]

# MediaWiki only treats a password as a BotPassword if it matches ^[0-9a-w]{32,}$
# (BotPassword::canonicalizeLoginData); anything else becomes a normal login and fails.
BOT_PASSWORD_ALPHABET = string.digits + "abcdefghijklmnopqrstuvw"
BOT_PASSWORD_LENGTH = 32

_BASIC = ("basic", "editpage", "createeditmovepage")


@dataclass(frozen=True)
class AccountSpec:
    """What an account is for: its role key, name, groups and BotPassword grants."""

    role: str
    name: str
    groups: tuple[str, ...]
    appid: str
    grants: tuple[str, ...]


# Groups flagged by createAndPromote options; the rest go through --custom-groups and must
# exist in $wgGroupPermissions (rollbacker and autopatroller are defined by the sandbox).
_BUILTIN_FLAGS = {"sysop", "bureaucrat", "interface-admin", "bot"}

SPECS: tuple[AccountSpec, ...] = (
    AccountSpec(
        "admin", "Admin", ("sysop", "bureaucrat", "interface-admin"), "test",
        _BASIC + ("rollback", "editinterface", "editsiteconfig", "patrol", "protect",
                  "blockusers", "delete", "highvolume"),
    ),
    # editinterface only lends what the groups give; bot/rollbacker give no editinterface,
    # so the bot cannot edit MediaWiki: pages (the community config) — as on a real wiki.
    AccountSpec(
        "bot", "AutomodBot", ("bot", "rollbacker"), "automod",
        # editmyoptions lends editmyuserjson: `automod thresholds --publish User:AutomodBot/Thresholds.json`.
        _BASIC + ("rollback", "highvolume", "editinterface", "editmyoptions"),
    ),
    AccountSpec("patroller", "Patroller", ("autopatroller",), "test", _BASIC),
    AccountSpec("vandal1", "Vandal1", (), "test", _BASIC),
    AccountSpec("vandal2", "Vandal2", (), "test", _BASIC),
)


@dataclass(frozen=True)
class Account:
    """Credentials of one sandbox account (random per sandbox, never constants)."""

    name: str
    password: str
    appid: str
    botpassword: str
    groups: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()

    @property
    def botpassword_login(self) -> str:
        return f"{self.name}@{self.appid}"

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "password": self.password,
            "botpassword_login": self.botpassword_login,
            "botpassword": self.botpassword,
        }

    def to_state(self) -> dict[str, Any]:
        return {**self.to_json(), "appid": self.appid, "groups": list(self.groups),
                "grants": list(self.grants)}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> "Account":
        return cls(name=data["name"], password=data["password"], appid=data["appid"],
                   botpassword=data["botpassword"], groups=tuple(data.get("groups", ())),
                   grants=tuple(data.get("grants", ())))


def _password() -> str:
    # Letters and digits only: a leading "-" would be parsed as an option by maintenance scripts.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24))


def _botpassword() -> str:
    return "".join(secrets.choice(BOT_PASSWORD_ALPHABET) for _ in range(BOT_PASSWORD_LENGTH))


def new_accounts() -> dict[str, Account]:
    """Fresh credentials for every spec, keyed by role."""
    return {
        s.role: Account(s.name, _password(), s.appid, _botpassword(), s.groups, s.grants)
        for s in SPECS
    }


RunPhp = Callable[[str, Sequence[str]], Any]


def create_accounts(accounts: dict[str, Account], run_php: RunPhp) -> None:
    """Create (or, for the installer's Admin, promote) each account and its BotPassword.

    ``run_php(script, args)`` runs a maintenance script with the sandbox's MW_CONFIG_FILE.
    """
    for spec in SPECS:
        acc = accounts[spec.role]
        args = [f"--{g}" for g in spec.groups if g in _BUILTIN_FLAGS]
        custom = [g for g in spec.groups if g not in _BUILTIN_FLAGS]
        if custom:
            args.append("--custom-groups=" + ",".join(custom))
        if spec.role != "admin":  # install.php created Admin in sysop/bureaucrat/interface-admin
            run_php("createAndPromote.php", [*args, acc.name, acc.password])
        run_php(
            "createBotPassword.php",
            [f"--appid={acc.appid}", "--grants=" + ",".join(acc.grants), acc.name, acc.botpassword],
        )
