"""Why a BMC gave no answer, in words an SRE can act on (and nothing from exception texts)."""

from __future__ import annotations

import socket
import ssl

import pytest

from dcops.bmc.redfish.connector import describe_failure


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as final:  # noqa: BLE001
        return final


@pytest.mark.parametrize("exc, words", [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (chained(RuntimeError("wrapper"), ConnectionRefusedError()), "connection refused"),
    (chained(RuntimeError("wrapper"), ssl.SSLCertVerificationError("bad cert for https://u:p@x")),
     "TLS handshake or certificate verification failed"),
    (TimeoutError("timed out"), "timed out"),
    (socket.gaierror("no such host"), "name does not resolve"),
    (ConnectionResetError(), "connection reset by the BMC"),
    (ValueError("https://admin:secret@bmc/"), "ValueError"),
])
def test_describe_failure(exc: BaseException, words: str) -> None:
    text = describe_failure(exc)
    assert text == words
    assert "secret" not in text
