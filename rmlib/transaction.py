"""One run per year, one transaction per run: a lock, staged folders, a journal and recovery.

A run builds every folder it will replace (``outputs/<year>``,
``audit/<year>``, ``data/processed/<year>`` and the baselines it rebuilds)
in staging folders beside them. Only when every stage has succeeded does it
*commit*: it writes a journal naming each (staged folder, target, inode of
the staged folder) pair, then swaps each staged folder in. Each swap is one
``renameat2(RENAME_EXCHANGE)`` call on Linux (the target is never absent
for an instant; elsewhere two renames), and the journal lets the next start
finish a commit a kill interrupted: a target whose inode is the staged
folder's is done, any other is swapped now. Before the journal exists the
targets are untouched, so a kill at any instant leaves each target either
exactly as it was or (after the next start says so) exactly the new run's.

:class:`YearLocks` takes an exclusive ``flock`` per year (released by the
kernel when the process dies, so a SIGKILL leaves no stale lock) and the
second run of a year fails at once naming the process that holds it.

:func:`kernel_dir` is a private temporary folder for the notebook kernels'
connection files and IPC sockets (their default names are fixed and land
in the working directory, so two runs collided); it is removed on exit and
on SIGTERM, and the next start removes what a SIGKILL left (stopping a kernel
it recorded there if that kernel still runs).

Written by hand: no library offers a multi-folder atomic swap with
recovery; ``renameat2`` is reached through ``ctypes`` (Python has no binding).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .paths import repo_root

#: the pipeline's own state (locks, journals) under the repository root
STATE_DIR = ".rmlib"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = None


class RunLocked(RuntimeError):
    """Another run of the same year holds the lock."""


class TransactionError(RuntimeError):
    """A commit could not be completed or recovered; the message says what to do."""


class Terminated(BaseException):
    """SIGTERM arrived: unwind (staging and kernels are cleaned up on the way out)."""


def state_dir() -> Path:
    return repo_root() / STATE_DIR


# ----------------------------------------------------------------------------- atomic exchange
def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2``); False if the system cannot."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            _libc.renameat2  # noqa: B018 - raises AttributeError on older C libraries
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    rc = _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _write_json(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# ----------------------------------------------------------------------------- locks
class YearLocks:
    """Exclusive, non-blocking locks for some years; ``acquire`` fails at once naming the holder's PID."""

    def __init__(self):
        self.held: dict[int, int] = {}

    def acquire(self, year: int, what: str = "run") -> None:
        if year in self.held:
            return
        import fcntl

        path = state_dir() / "locks" / f"{year}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip().split("\t")
            os.close(fd)
            pid = holder[0] or "unknown"
            doing = f", {holder[1]}" if len(holder) > 1 else ""
            raise RunLocked(
                f"another run for {year} is in progress (pid {pid}{doing}); wait for it to finish or "
                f"stop it (lock file {path.relative_to(repo_root())})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\t{what}\t{time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode(), 0)
        self.held[year] = fd

    def release(self) -> None:
        import fcntl

        for fd in self.held.values():
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        self.held.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


# ----------------------------------------------------------------------------- staging + journal
def staging_path(target: Path) -> Path:
    """The fixed staging name of a target folder (one run per year holds the lock, so it cannot clash)."""
    return target.parent / f".{target.name}.staging"


def old_path(target: Path) -> Path:
    return target.parent / f".{target.name}.old"


@dataclass
class Transaction:
    """The folders one run replaces, staged; :meth:`commit` makes them visible together."""

    year: int
    swaps: list[tuple[Path, Path]] = field(default_factory=list)  # (staged, target)
    removals: list[Path] = field(default_factory=list)  # removed on commit (e.g. old failure diagnostics)
    scratch: list[Path] = field(default_factory=list)  # removed at the end either way

    def stage(self, target: Path, staged: Path | None = None, seed: bool = False) -> Path:
        """A fresh staging folder for ``target`` (a copy of it when ``seed``), swapped in on commit."""
        staged = staged or staging_path(target)
        _rmtree(staged)
        staged.parent.mkdir(parents=True, exist_ok=True)
        if seed and target.is_dir():
            shutil.copytree(target, staged, symlinks=True)
        else:
            staged.mkdir()
        self.swaps.append((staged, target))
        return staged

    def journal_path(self) -> Path:
        return state_dir() / f"journal-{self.year}.json"

    def commit(self, say: Callable[[str], None] = lambda s: None) -> None:
        """Write the journal, then swap every staged folder in and remove the old ones (SIGTERM waits)."""
        record = {
            "year": self.year,
            "pid": os.getpid(),
            "swaps": [{"staged": str(s), "target": str(t), "inode": list(_inode(s))} for s, t in self.swaps],
            "removals": [str(p) for p in self.removals],
            "scratch": [str(p) for p in self.scratch],
        }
        with deferred_sigterm():
            _write_json(self.journal_path(), record)
            apply_journal(self.journal_path())

    def abort(self) -> None:
        """Remove every staging folder; the targets were never touched."""
        for staged, _ in self.swaps:
            with contextlib.suppress(OSError):
                _rmtree(staged)
        for p in self.scratch:
            with contextlib.suppress(OSError):
                _rmtree(p)


def apply_journal(path: Path) -> list[str]:
    """Complete (or finish completing) the commit a journal describes; return the targets it swapped now.

    Idempotent: a swap already done (the target's inode is the staged
    folder's) is skipped, so a commit killed at any point can be finished by
    calling this again.
    """
    record = json.loads(path.read_text(encoding="utf-8"))
    swapped = []
    for s in record["swaps"]:
        staged, target, ino = Path(s["staged"]), Path(s["target"]), tuple(s["inode"])
        if _inode(target) == ino:
            continue
        if _inode(staged) != ino:
            raise TransactionError(
                f"cannot complete the interrupted commit of {target}: its staged copy {staged} is gone; see {path}"
            )
        if target.exists() or target.is_symlink():
            if not exchange(staged, target):
                old = old_path(target)
                _rmtree(old)
                os.rename(target, old)
                os.rename(staged, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, target)
        swapped.append(str(target))
    for s in record["swaps"]:
        staged, target, ino = Path(s["staged"]), Path(s["target"]), tuple(s["inode"])
        for leftover in (staged, old_path(target)):
            if _inode(leftover) not in (None, ino):
                _rmtree(leftover)  # the replaced (old) folder
    for p in [*record.get("removals", []), *record.get("scratch", [])]:
        with contextlib.suppress(FileNotFoundError):
            _rmtree(Path(p))
    path.unlink()
    return swapped


def recover(year: int, staged_candidates: list[Path], say: Callable[[str], None]) -> None:
    """At the start of a run (lock held): finish an interrupted commit, remove an interrupted run's leftovers."""
    journal = state_dir() / f"journal-{year}.json"
    if journal.is_file():
        done = apply_journal(journal)
        root = repo_root()
        shown = ", ".join(str(Path(t).relative_to(root)) if Path(t).is_relative_to(root) else t for t in done)
        say(
            f"  recovered: finished the commit of an interrupted {year} run"
            + (f" ({shown} now hold that run's results)" if done else "")
        )
    removed = []
    root = repo_root()
    for p in staged_candidates:
        if p.exists() or p.is_symlink():
            _rmtree(p)
            removed.append(str(p.relative_to(root)) if p.is_relative_to(root) else str(p))
    if removed:
        say(
            f"  recovered: removed an interrupted {year} run's staging folders ({', '.join(sorted(removed))}); "
            "the last good results were never touched"
        )
    n = cleanup_kernel_dirs(year)
    if n:
        say(f"  recovered: removed {n} kernel folder(s) an interrupted {year} run left in {tempfile.gettempdir()}")


# ----------------------------------------------------------------------------- kernels
def kernel_prefix(year: int) -> str:
    """Name prefix of a run's kernel folder: the year and the repository (runs of other copies are not ours)."""
    import hashlib

    repo = hashlib.sha256(str(repo_root()).encode()).hexdigest()[:8]
    return f"rmlib-kernels-{repo}-{year}-"


@contextlib.contextmanager
def kernel_dir(year: int) -> Iterator[Path]:
    """A private temporary folder for kernel connection files and sockets; kernels still running are stopped."""
    d = Path(tempfile.mkdtemp(prefix=kernel_prefix(year)))
    try:
        yield d
    finally:
        _stop_kernels(d)
        shutil.rmtree(d, ignore_errors=True)


def record_kernel(folder: Path, pid: int) -> None:
    with open(folder / "kernels.pid", "a", encoding="utf-8") as fh:
        fh.write(f"{pid}\n")


def _stop_kernels(folder: Path) -> None:
    """Stop kernels recorded in ``folder`` that still run and still belong to it (their command names it)."""
    try:
        pids = [int(x) for x in (folder / "kernels.pid").read_text().split()]
    except (OSError, ValueError):
        return
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if str(folder) in cmd:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def cleanup_kernel_dirs(year: int) -> int:
    """Remove kernel folders of earlier runs of ``year`` (call with the year's lock held)."""
    n = 0
    for d in Path(tempfile.gettempdir()).glob(kernel_prefix(year) + "*"):
        if d.is_dir() and not d.is_symlink():
            _stop_kernels(d)
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n


# ----------------------------------------------------------------------------- signals
_deferred = threading.local()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (so cleanup runs) unless a commit defers it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if getattr(_deferred, "depth", 0):
            _deferred.pending = True
            return
        raise Terminated("terminated (SIGTERM)")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def deferred_sigterm() -> Iterator[None]:
    """SIGTERM during the block (a commit) is acted on only once the block is done."""
    _deferred.depth = getattr(_deferred, "depth", 0) + 1
    try:
        yield
    finally:
        _deferred.depth -= 1
        if not _deferred.depth and getattr(_deferred, "pending", False):
            _deferred.pending = False
            raise Terminated("terminated (SIGTERM) after the commit completed")
