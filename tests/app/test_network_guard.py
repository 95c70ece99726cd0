"""The loopback-only guard every test runs under (tests/conftest.py) really refuses the outside world."""

import socket

import pytest


def test_resolving_an_outside_name_is_refused():
    with pytest.raises(OSError, match="only loopback is allowed"):
        socket.getaddrinfo("graph.microsoft.com", 443)


def test_connecting_outside_is_refused_before_any_packet():
    s = socket.socket()
    s.close()  # closed first: even without the guard nothing could be sent (it would fail with EBADF instead)
    with pytest.raises(OSError, match="only loopback is allowed"):
        s.connect(("203.0.113.7", 443))


def test_loopback_still_works():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
