"""Settings: the global command-line options merged over the config file and the environment.

Precedence, highest first: command-line option, environment variable, config file, default.

* config file: ``--config PATH``, else ``$DCOPS_CONFIG``, else ``$XDG_CONFIG_HOME/dcops/config.yaml``
  (``~/.config/dcops/config.yaml``) when it exists.
* state store: ``--state URL``, ``$DCOPS_STATE``, config ``state:``, else SQLite at
  ``$XDG_STATE_HOME/dcops/dcops.db`` (``~/.local/state/dcops/dcops.db``).
* inventory: ``--inventory/-i`` (repeatable), ``$DCOPS_INVENTORY`` (``:``-separated), config
  ``inventory:`` (a path or a list), else ``./inventories/`` when it holds a ``site.yaml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dcops.errors import InvalidInputError, Problem

CONFIG_KEYS = {"state", "inventory", "baselines", "output", "parallel", "actor", "notify", "patrol", "capacity",
               "assets", "sim", "tls", "provision", "serve", "credentials", "heartbeat", "drill",
               "console"}


@dataclass
class Settings:
    """The resolved global options of one invocation."""

    inventory: list[str] = field(default_factory=list)
    config: str | None = None
    state: str | None = None
    output: str = "table"
    limit: list[str] = field(default_factory=list)
    parallel: int = 20
    verbose: int = 0
    debug: bool = False
    file_config: dict[str, Any] = field(default_factory=dict)
    command: str | None = None  # the subcommand being run ("power status"), once parsed
    columns: list[str] = field(default_factory=list)  # --columns

    def section(self, name: str) -> dict[str, Any]:
        """A config-file section (empty when absent)."""
        value = self.file_config.get(name) or {}
        return value if isinstance(value, dict) else {}


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dcops" / "config.yaml"


def default_state_url() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return f"sqlite:///{Path(base) / 'dcops' / 'dcops.db'}"


def load_config_file(path: str | None) -> tuple[str | None, dict[str, Any]]:
    """Read the config file; a named file that is missing or malformed is an error, the default one
    may be absent. Returns the path used (or None) and its mapping."""
    explicit = path or os.environ.get("DCOPS_CONFIG")
    candidate = Path(explicit).expanduser() if explicit else default_config_path()
    if not candidate.exists():
        if explicit:
            raise InvalidInputError(f"{candidate}: config file not found")
        return None, {}
    try:
        data = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else 0  # type: ignore[attr-defined]
        problem = Problem(str(candidate), line, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        raise InvalidInputError(str(problem), [problem]) from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{candidate}: config must be a mapping")
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        problem = Problem(str(candidate), 0, f"unknown config key(s): {', '.join(unknown)}")
        raise InvalidInputError(str(problem), [problem])
    if "credentials" in data:
        from dcops.secrets import check_named_credentials

        wrong = check_named_credentials(data["credentials"])
        if wrong:
            problems = [Problem(str(candidate), 0, w) for w in wrong]
            raise InvalidInputError("; ".join(str(p) for p in problems), problems)
    return str(candidate), data


def finish(settings: Settings) -> Settings:
    """Fill what the command line left open from the environment, the config file and defaults."""
    settings.config, settings.file_config = load_config_file(settings.config)
    cfg = settings.file_config
    from dcops.secrets import use_named_credentials

    # The operator's named credentials: the only way a book reaches a secret-store command.
    use_named_credentials(dict(cfg.get("credentials") or {}))
    if not settings.state:
        settings.state = os.environ.get("DCOPS_STATE") or cfg.get("state") or default_state_url()
    if not settings.inventory:
        env = os.environ.get("DCOPS_INVENTORY")
        if env:
            settings.inventory = [p for p in env.split(os.pathsep) if p]
        elif cfg.get("inventory"):
            value = cfg["inventory"]
            settings.inventory = [value] if isinstance(value, str) else [str(v) for v in value]
        elif Path("inventories/site.yaml").exists():
            settings.inventory = ["inventories/site.yaml"]
    return settings


def actor() -> str:
    """Who is acting, for the audit log: always the operating-system user running dcops.

    ``$DCOPS_ACTOR`` never replaces it (anyone can set a variable): it is recorded beside it as
    the person or job acted *for* (``on_behalf_of``)."""
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return f"uid:{os.getuid()}"


def on_behalf_of() -> str | None:
    """``$DCOPS_ACTOR``: whom the OS user acts for (a CI job's requester, the on-call engineer)."""
    return os.environ.get("DCOPS_ACTOR") or None


def display_actor() -> str:
    """The name shown on an acknowledgement or a silence: ``$DCOPS_ACTOR`` when set (the on-call
    engineer behind a shared account), else the OS user. The audit keeps both apart."""
    return on_behalf_of() or actor()
