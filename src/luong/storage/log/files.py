"""Small durable-file helpers shared by the log engine."""

from __future__ import annotations

import os

__all__ = ["fsync_directory", "read_offset_file", "write_atomically"]


def write_atomically(path: str, text: str) -> None:
    """Write `text` to a temporary file, fsync it and rename it over `path`."""
    temporary = f"{path}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def fsync_directory(path: str) -> None:
    """fsync a directory so the names created or removed in it are durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_offset_file(path: str, default: int) -> int:
    """The decimal offset a `write_atomically` file holds, or `default` if none."""
    try:
        with open(path, encoding="ascii") as file:
            return int(file.read())
    except (FileNotFoundError, ValueError):
        return default
