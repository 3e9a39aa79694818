"""Errors of the capacity subsystem, each a ``DcopsError`` with the right exit code."""

from __future__ import annotations

from dcops.errors import InvalidInputError, UnreachableError


class CloudConfigError(InvalidInputError):
    """The cloud cannot be addressed as configured (unknown cloud in clouds.yaml, missing URL,
    no endpoint for a service in the catalog)."""


class CloudUnreachableError(UnreachableError):
    """Nova or Placement did not answer, refused the credentials, or answered with an error."""


class SnapshotError(InvalidInputError):
    """A snapshot file cannot be read or does not follow the schema."""
