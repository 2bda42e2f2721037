"""One run per workdir: ``WORKDIR/train.lock``, held while a run trains and writes checkpoints.

The lock is an ``flock`` on that file, which the kernel drops the moment its process ends, however
it ends: a run killed with SIGKILL never blocks the next one. The file also records who holds it
(pid, host, start time, command), so a refused second run can say which run is in the way. Where
the file system does not support ``flock``, the recorded pid decides instead: a lock whose process
is no longer running on this host is taken over.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import logging
import os
import pathlib
import socket
import sys
from typing import Any

from train import faults
from train.config import ConfigError

LOCK_FILE = "train.lock"
log = logging.getLogger(__name__)


class WorkdirBusyError(ConfigError):
    """Another run holds the workdir's lock (``python -m train`` exits with status 2)."""


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "another run"
    return (
        f"run pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, "
        f"started {holder.get('started', '?')}"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Alive, owned by someone else.
        return True
    return True


class WorkdirLock:
    """Context manager that holds ``WORKDIR/train.lock`` or raises ``WorkdirBusyError``.

    ``enabled=False`` makes it do nothing (the processes of a multi-process run other than the
    first share the first one's lock). The workdir must exist.
    """

    def __init__(self, workdir: pathlib.Path, enabled: bool = True) -> None:
        self.path = pathlib.Path(workdir) / LOCK_FILE
        self.enabled = enabled
        self._fd: int | None = None

    def _busy(self, holder: dict[str, Any]) -> WorkdirBusyError:
        return WorkdirBusyError(
            f"the workdir {self.path.parent} is in use by {_describe(holder)} "
            f"(lock file {self.path}). Two runs writing the same checkpoints would damage "
            "them: wait for that run to end, stop it, or pass another --workdir. A lock left by "
            "a run that was killed does not block; if that run is surely gone, delete the file."
        )

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 65536).decode(errors="replace")
        try:
            holder = json.loads(text)
        except json.JSONDecodeError:
            return {}
        return holder if isinstance(holder, dict) else {}

    def _open(self) -> int:
        """Opens (or creates) the lock file itself, never a file a link points to."""
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except IsADirectoryError:
            raise ConfigError(
                f"{self.path} is a folder, where the workdir's lock file belongs: move it away "
                "(it is not something this harness makes), or pass another --workdir"
            ) from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ConfigError(
                    f"{self.path} is a symbolic link: the lock is never written through a link "
                    "(it could overwrite the file it points to). Delete the link, or pass "
                    "another --workdir"
                ) from None
            raise faults.WriteError.from_os_error(e) from e

    def _open_locked(self) -> tuple[int, dict[str, Any]]:
        """Opens the lock file and locks it; returns the fd and what a previous holder wrote."""
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._read(fd)
                os.close(fd)
                raise self._busy(holder) from None
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    os.close(fd)
                    raise
                holder = self._read(fd)  # No flock here: the recorded pid decides.
                if (
                    holder.get("host") == socket.gethostname()
                    and isinstance(holder.get("pid"), int)
                    and holder["pid"] != os.getpid()
                    and _pid_alive(holder["pid"])
                ) or (holder and holder.get("host") != socket.gethostname()):
                    os.close(fd)
                    raise self._busy(holder) from None
                return fd, holder
            # A run releasing its lock unlinks the file; if it did so between our open and flock,
            # we hold a lock on a file nobody else will open: start again on the new one.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                return fd, self._read(fd)
            os.close(fd)

    def __enter__(self) -> WorkdirLock:
        if not self.enabled:
            return self
        fd, previous = self._open_locked()
        if previous:
            log.warning(
                "taking over %s from a %s that ended without releasing it (killed?)",
                self.path,
                _describe(previous),
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": sys.argv,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is None:
            return
        # Unlinked while still locked, so a run waiting on this file retries on a fresh one.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None
