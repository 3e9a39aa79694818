"""The DcopsError tree and the one table of exit codes.

Every command maps its outcome to one of these codes; when several apply, the most severe wins
(see ``worst``). Library code raises ``DcopsError`` subclasses; the CLI is the only place that turns
them into a one-line message on stderr and an exit status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/exit-codes.md."""

    OK = 0  # done, nothing found
    FINDINGS = 1  # drift, unhealthy hardware, discrepancies, capacity below the rule
    USAGE = 2  # bad command line (click's own code)
    INVALID_INPUT = 3  # inventory, baseline or config fails validation
    INCOMPLETE = 4  # some targets unreachable or refused login; results are partial
    APPLY_FAILED = 5  # an apply step, provisioning step or playbook failed
    INTERNAL = 70  # a bug in dcops
    INTERRUPTED = 130  # Ctrl-C / SIGINT


# Most severe last. USAGE and INTERRUPTED end a run before results exist, so they rank by
# their own meaning: an interrupted run outranks everything, a usage error outranks findings.
_SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.OK,
    ExitCode.FINDINGS,
    ExitCode.USAGE,
    ExitCode.INVALID_INPUT,
    ExitCode.INCOMPLETE,
    ExitCode.APPLY_FAILED,
    ExitCode.INTERNAL,
    ExitCode.INTERRUPTED,
)

EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done, nothing found",
    ExitCode.FINDINGS: "findings: drift, unhealthy hardware, discrepancies, capacity below the rule",
    ExitCode.USAGE: "usage error",
    ExitCode.INVALID_INPUT: "invalid input: inventory, baseline or config fails validation",
    ExitCode.INCOMPLETE: "incomplete: some targets unreachable or refused login; results are partial",
    ExitCode.APPLY_FAILED: "an apply step, provisioning step or playbook failed",
    ExitCode.INTERNAL: "internal error (traceback only with --debug)",
    ExitCode.INTERRUPTED: "interrupted",
}


def worst(*codes: int) -> ExitCode:
    """Return the most severe of ``codes`` (70 > 5 > 4 > 3 > 1 > 0); OK when none given."""
    result = ExitCode.OK
    for code in codes:
        code = ExitCode(code)
        if _SEVERITY.index(code) > _SEVERITY.index(result):
            result = code
    return result


@dataclass(frozen=True)
class Problem:
    """One validation problem, located in a file (line 0 when the file as a whole is at fault)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class DcopsError(Exception):
    """Base of every error dcops raises on purpose; ``exit_code`` says how the CLI ends."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(DcopsError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = ExitCode.USAGE


class MissingExtraError(UsageError):
    """A command needs an optional part of dcops that is not installed (``dcops[openstack]``...)."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra ({module} is not installed): "
                         f"pip install 'dcops[{extra}]'")


class InvalidInputError(DcopsError):
    """An input file (inventory, baseline, config, mapping) fails validation.

    ``problems`` lists every problem found, each naming file and line.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])


class CredentialError(InvalidInputError):
    """A credential reference cannot be resolved (missing env var, unreadable file, no tty)."""


class StateStoreError(DcopsError):
    """The state store cannot be opened or migrated."""

    exit_code = ExitCode.INVALID_INPUT


class UnreachableError(DcopsError):
    """A target did not answer or refused the login."""

    exit_code = ExitCode.INCOMPLETE


class ApplyError(DcopsError):
    """A change could not be applied."""

    exit_code = ExitCode.APPLY_FAILED


class RefusedError(ApplyError):
    """A plan refused before its first write (data loss not allowed, a baseline that cannot apply
    to the server): nothing was changed. Exit 3 when the baseline cannot apply, else 5."""

    def __init__(self, message: str, *, invalid: bool = False) -> None:
        super().__init__(message)
        if invalid:
            self.exit_code = ExitCode.INVALID_INPUT
