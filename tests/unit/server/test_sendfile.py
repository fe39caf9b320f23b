"""_sendfile_now: what the socket takes now goes kernel to kernel, the rest is reported."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from luong.server.connection import _sendfile_now
from luong.storage import FileRegion


def _file(tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "segment.log"
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY)


def _drain(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    out = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return bytes(out)
        if not chunk:
            return bytes(out)
        out += chunk


def test_a_region_that_fits_goes_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64
    fd = _file(tmp_path, data)
    sender, receiver = socket.socketpair()
    sender.setblocking(False)
    try:
        assert _sendfile_now(sender.fileno(), FileRegion(fd, 100, 5000)) == 5000
        assert _drain(receiver) == data[100:5100]
    finally:
        os.close(fd)
        sender.close()
        receiver.close()


def test_a_full_socket_stops_the_send_and_says_how_much_went(tmp_path: Path) -> None:
    data = os.urandom(8 << 20)
    fd = _file(tmp_path, data)
    sender, receiver = socket.socketpair()
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    sender.setblocking(False)
    try:
        sent = _sendfile_now(sender.fileno(), FileRegion(fd, 0, len(data)))
        assert 0 < sent < len(data)  # would block: the caller writes the rest
        assert _drain(receiver) == data[:sent]
    finally:
        os.close(fd)
        sender.close()
        receiver.close()


def test_a_region_past_the_end_of_the_file_sends_what_exists(tmp_path: Path) -> None:
    fd = _file(tmp_path, b"abc")
    sender, receiver = socket.socketpair()
    sender.setblocking(False)
    try:
        assert _sendfile_now(sender.fileno(), FileRegion(fd, 0, 10)) == 3
        assert _drain(receiver) == b"abc"
    finally:
        os.close(fd)
        sender.close()
        receiver.close()
