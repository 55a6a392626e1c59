"""Loaded by a test's server process (on its PYTHONPATH): networking is blocked but for loopback.

Every attempt to reach another host (a connect, or a name lookup of anything but localhost) is refused
with OSError and written, one line each, to the file named by AISLE_TEST_NETWORK_LOG.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("AISLE_TEST_NETWORK_LOG")


def _local(host: object) -> bool:
    if not isinstance(host, str):
        return True  # a unix socket path given as bytes, etc.
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(what + "\n")
    raise OSError(f"network blocked by the test: {what}")


if _LOG:
    with open(_LOG, "a", encoding="utf-8") as _marker:
        _marker.write("# networking blocked but for loopback\n")
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"connect {address!r}")
        return _connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"connect_ex {address!r}")
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is not None and not _local(host):
            _refuse(f"getaddrinfo {host!r}")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
