"""Reading a practice file's bytes safely: contributors' pull requests are untrusted.

Checked with lstat before anything is opened, so a symbolic link out of the folder, a device,
a FIFO or an oversized file is refused without being read; what is read is bounded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kb.characters import printable

MAX_FILE_BYTES = 1_000_000
_NOT_REGULAR = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                (stat.S_ISCHR, "a device file"), (stat.S_ISBLK, "a device file"), (stat.S_ISSOCK, "a socket"))


class Unreadable(Exception):
    """A practice file that is not read at all: the message says why."""


def read_source(path: Path) -> bytes:
    """The bytes of a practice file, or `Unreadable`: no symbolic link out of its folder, no
    device, FIFO or socket, nothing over the size limit (checked before reading, and read at most)."""
    try:
        info = os.lstat(path)
        target = path
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(os.path.realpath(path.parent)):
                raise Unreadable(f"is a symbolic link out of its folder (to {printable(str(target), 80)}); "
                                 "practice files must be regular files in the practices folder")
            info = os.stat(target)
        _check_kind(info)
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
    try:
        _check_kind(os.fstat(fd))  # what was opened, in case the file was swapped after the checks
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(fd, MAX_FILE_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_FILE_BYTES:
        raise Unreadable(f"is over {MAX_FILE_BYTES:,} bytes; at most {MAX_FILE_BYTES:,} allowed")
    return raw


def _check_kind(info: os.stat_result) -> None:
    for test, kind in _NOT_REGULAR:
        if test(info.st_mode):
            raise Unreadable(f"is {kind}, not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise Unreadable(f"is {info.st_size:,} bytes; at most {MAX_FILE_BYTES:,} allowed")
