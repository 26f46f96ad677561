"""File writes that a killed run, a full disk or a second process cannot turn into half an output.

* :func:`write_text_atomic` writes a temporary file beside the target, fsyncs it and renames it over
  the target: a reader sees the old file or the new one, never half of one. The fsync can be left
  out (``durable=False``) for a file a later run checks and re-derives on its own.
* :func:`write_texts_atomic` does the same for several files that belong together (a report's md,
  json and html): every temporary file is written first, and only when all of them are whole are
  they renamed into place, so a disk that fills up half-way leaves the old outputs (or none), never
  two files of three.
* Files are created with the permissions the umask gives (``tempfile.mkstemp`` alone makes 0600).
* :func:`check_writable` proves a folder can take a file *before* a run pays for model calls.
* :class:`AtomicTextFile` is the same for a file written piece by piece (a batch's summary).
* :class:`FolderLock` keeps two runs from writing one output folder at the same time.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from drafter.errors import UserError

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (reading it means setting it, so briefly and under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _write_temp(target: Path, text: str, mode: int, durable: bool = True) -> str:
    """A whole temporary copy of ``text`` beside ``target`` (fsynced if ``durable``); returns its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return tmp_name


def write_text_atomic(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> Path:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    ``durable=False`` leaves out the fsync: the rename still means no reader (and no killed run)
    ever sees half a file, but after a power cut the file may be empty or short. Only for files
    whose loss a later run detects and repairs on its own (see :func:`write_texts_atomic`).
    """
    target = Path(path)
    tmp_name = _write_temp(target, text, 0o666 & ~current_umask(), durable)
    try:
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def write_texts_atomic(texts: Mapping[Path, str], *, durable: bool = True) -> list[Path]:
    """Write several files all or nothing: every temporary file whole first, then the renames.

    ``durable=False``: no fsync (see :func:`write_text_atomic`). A batch writes its reports so: a
    report is re-derived from the response cache, and the pack's manifest, fsynced and written
    after it, records each report's size, so a report a power cut left short is drafted again.
    """
    mode = 0o666 & ~current_umask()
    temps: dict[Path, str] = {}
    try:
        for target, text in texts.items():
            temps[target] = _write_temp(target, text, mode, durable)
        for target, tmp_name in temps.items():
            os.replace(tmp_name, target)
    except BaseException:
        for tmp_name in temps.values():
            Path(tmp_name).unlink(missing_ok=True)
        raise
    return list(texts)


class AtomicTextFile:
    """A file written in pieces that appears whole or not at all: :func:`write_text_atomic` for text
    that arrives over time (a batch's summary, one line per finished pack).

    The pieces go to a temporary file beside ``path``; :meth:`commit` fsyncs it and renames it over
    ``path``; :meth:`discard` (or a failed commit) removes it, leaving the old file as it was. The
    temporary file is created at the first :meth:`write`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None
        self._tmp: str | None = None

    def write(self, text: str) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            os.fchmod(fd, 0o666 & ~current_umask())
            self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._handle.write(text)

    def commit(self) -> Path:
        self.write("")  # a file with nothing written is an empty file, still replaced atomically
        assert self._handle is not None and self._tmp is not None
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
            os.replace(self._tmp, self.path)
            self._tmp = None
        finally:
            self.discard()
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None


def check_writable(directory: Path, what: str) -> None:
    """Create ``directory`` if needed and write, fsync and remove one byte there; else a UserError.

    Run before the first model call, so a read-only or unusable folder costs nothing.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".drafter-write-check.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(b"x")
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"{directory}: {what} is not writable ({reason}); nothing was drafted") from None


class FolderLock:
    """An exclusive, advisory lock on ``directory/.drafter.lock`` (``fcntl.flock``), held for a run.

    Two batches on one output folder would both pay for every call and overwrite each other's
    reports; the second one is refused at once with a message saying who holds the lock. The lock
    goes with the process (a killed run leaves nothing to clean up).
    """

    NAME = ".drafter.lock"

    def __init__(self, directory: Path) -> None:
        self.path = directory / self.NAME
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = f" (pid {int(os.pread(fd, 32, 0).decode().strip())})"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise UserError(f"{self.path.parent}: another drafter run{holder} is writing to this folder "
                                f"(it holds {self.path}); wait for it to finish or choose another --out") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
