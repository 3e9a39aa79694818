"""Playbooks through ansible-runner: the only importer of ``ansible_runner``.

Each run gets a private data directory (inventory, extra vars, the playbook's project directory
linked in), runs the ``ansible-playbook`` of this Python environment (its bin directory first on
PATH: ansible-runner runs whatever ``ansible-playbook`` PATH finds), and is translated into a
``PlaybookResult`` naming the task that failed. ansible-runner's own errors become ``ApplyError``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcops.errors import ApplyError, InvalidInputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaybookResult:
    playbook: str
    ok: bool
    rc: int
    status: str  # successful | failed | timeout | canceled
    failed_task: str | None = None
    failed_host: str | None = None
    message: str | None = None
    stats: Mapping[str, Any] = field(default_factory=dict)
    tasks_ok: int = 0
    tasks_changed: int = 0
    seconds: float = 0.0
    changed_tasks: tuple[str, ...] = ()  # names of the tasks that changed (or would, in check mode)

    def describe(self) -> str:
        if self.ok:
            return f"{self.playbook}: ok ({self.tasks_ok} ok, {self.tasks_changed} changed)"
        where = f" at task \"{self.failed_task}\"" if self.failed_task else ""
        host = f" on {self.failed_host}" if self.failed_host else ""
        return f"{self.playbook}: {self.status}{where}{host}: {self.message or f'rc {self.rc}'}"


def _failure_message(res: Mapping[str, Any], default: str) -> str:
    """The first line a person needs: for a loop, the failed item's label and message."""
    for item in res.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("_ansible_item_label") or item.get("item")
            if isinstance(label, dict):
                label = label.get("id") or label.get("name") or label
            inner = _failure_message(item, default)
            return f"item {label}: {inner}"
    text = str(res.get("msg") or res.get("stderr") or res.get("reason") or default).strip()
    return text.splitlines()[0][:300] if text else default


def _env_bin() -> str:
    return str(Path(sys.executable).parent)


def run_playbook(playbook: str | Path, *, hosts: Mapping[str, Mapping[str, Any]],
                 extravars: Mapping[str, Any] | None = None, connection: str | None = None,
                 timeout: float | None = None, keep_artifacts: str | Path | None = None,
                 check: bool = False) -> PlaybookResult:
    """Run ``playbook`` against ``hosts`` (name -> host vars, e.g. ``ansible_host``).

    ``connection`` (``local`` in tests, ``ssh`` by default) sets ``ansible_connection`` for every
    host. ``check`` runs it in Ansible's check mode (``--check``): nothing changes, and the tasks
    that would change are the drift. Raises InvalidInputError when the playbook does not exist, ApplyError when ansible-runner
    itself cannot start; a failing playbook is a result with ``ok`` False, not an exception.
    """
    try:
        import ansible_runner  # the one import of it
    except ImportError as exc:  # an install without dcops[provision]
        from dcops.errors import MissingExtraError

        raise MissingExtraError("running playbooks", "provision", "ansible-runner") from exc

    path = Path(playbook).resolve()
    if not path.is_file():
        raise InvalidInputError(f"playbook {playbook} not found")
    private = Path(tempfile.mkdtemp(prefix="dcops-ansible-"))
    started = time.monotonic()
    try:
        project = private / "project"
        shutil.copytree(path.parent, project, symlinks=True,
                        ignore=shutil.ignore_patterns(".*", "__pycache__", "*.retry"))
        host_vars = {}
        for name, values in hosts.items():
            entry = dict(values)
            if connection:
                entry["ansible_connection"] = connection
                if connection == "local":
                    entry.setdefault("ansible_python_interpreter", sys.executable)
            host_vars[name] = entry
        inventory = {"all": {"hosts": host_vars}}
        env = {"PATH": _env_bin() + os.pathsep + os.environ.get("PATH", ""),
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
               "ANSIBLE_LOCAL_TEMP": str(private / "tmp"), "ANSIBLE_REMOTE_TEMP": str(private / "tmp"),
               "ANSIBLE_HOME": str(private / "home")}
        try:
            runner = ansible_runner.run(private_data_dir=str(private), playbook=path.name, inventory=inventory,
                                        extravars=dict(extravars or {}), envvars=env, quiet=True,
                                        timeout=int(timeout) if timeout else None,
                                        cmdline="--check" if check else None)
        except Exception as exc:  # noqa: BLE001 - ansible-runner raises bare exceptions of many kinds
            raise ApplyError(f"playbook {path.name}: ansible-runner could not start: {type(exc).__name__}: {exc}") \
                from exc
        failed_task = failed_host = message = None
        ok_count = changed = 0
        changed_tasks: list[str] = []
        for event in runner.events:
            kind = event.get("event")
            data = event.get("event_data") or {}
            if kind == "runner_on_ok":
                ok_count += 1
                if (data.get("res") or {}).get("changed"):
                    changed += 1
                    changed_tasks.append(str(data.get("task")))
            if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors") \
                    and failed_task is None:
                failed_task = data.get("task")
                failed_host = data.get("host")
                message = _failure_message(data.get("res") or {}, str(kind))
        status = str(runner.status)
        rc = int(runner.rc if runner.rc is not None else -1)
        ok = status == "successful" and rc == 0 and failed_task is None
        if not ok and message is None:
            stdout = ""
            try:
                stdout = runner.stdout.read()[-500:]
            except Exception:  # noqa: BLE001 - best effort for the message
                stdout = ""
            message = "rc 127: ansible-playbook not found" if rc == 127 else (stdout.strip().splitlines() or
                                                                             [f"rc {rc}"])[-1]
        result = PlaybookResult(path.name, ok, rc, status, failed_task, failed_host, message,
                                dict(runner.stats or {}), ok_count, changed, time.monotonic() - started,
                                tuple(changed_tasks))
        if keep_artifacts and not ok:
            shutil.copytree(private / "artifacts", Path(keep_artifacts), dirs_exist_ok=True)
        return result
    finally:
        shutil.rmtree(private, ignore_errors=True)
