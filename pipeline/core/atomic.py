"""Replace a folder or file so that a reader only ever sees the old version or the new one, complete.

One helper for run folders, saved models and ``advisory parse --out`` files: :func:`replacing`
stages the new version in a hidden sibling (``.NAME.advisory-tmp-PID-XXXX``) and swaps it in only
when everything in it is written.

- **No gap.** A folder is swapped with ``renameat2(RENAME_EXCHANGE)`` (Linux), one atomic step:
  at every moment the target is either the complete old folder or the complete new one. Where the
  call is missing, two renames are used and the old folder is put back if the second fails.
- **Several targets, all or nothing.** A run with ``--save-model`` stages the run folder and the
  model together; they are committed only when both are written, and the first is swapped back
  if the second cannot be committed.
- **Refusals before any work.** ``accepts(path)`` says whether an existing target may be
  replaced (:class:`FolderKind`, the one rule: "an earlier run folder", "a saved theme model");
  otherwise :class:`~pipeline.core.errors.InputError` is raised at the start, with nothing touched.
- **Interruptions.** ``SIGTERM`` is turned into ``SystemExit`` while staging (``SIGINT`` already
  raises ``KeyboardInterrupt``), so the staging folders are removed on the way out. A harder
  kill leaves them behind; the next :func:`replacing` on the same parent folder removes every
  staging entry whose process is gone.
- **Concurrent writers.** Commits into one parent folder are serialised with ``flock``. A run
  that finds its target replaced by another process since it started gets a one-line
  ``InputError`` and writes nothing (the other run's folder stays).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import InputError

STAGING_MARK = ".advisory-tmp-"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_LIBC = ctypes.CDLL(None, use_errno=True)
_RENAMEAT2 = getattr(_LIBC, "renameat2", None)


@dataclass
class Target:
    """One thing to replace: a folder (``kind="dir"``) or a file (``kind="file"``).

    ``accepts(path)`` returns ``None`` when an existing ``path`` may be replaced, else the reason
    it may not (shown to the user); ``carry`` names files of the old folder copied into the new
    one (the repository's ``.gitkeep``). Filled in by :func:`replacing`: ``staging`` (where to write
    the new version) and the target's identity when staging began.
    """

    path: Path
    kind: str = "dir"
    accepts: Callable[[Path], str | None] | None = None
    carry: tuple[str, ...] = ()
    staging: Path = field(init=False)
    _identity: tuple[int, int] | None = field(init=False, default=None)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def _staging_name(path: Path) -> Path:
    return path.parent / f".{path.name}{STAGING_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_debris(parent: Path) -> list[Path]:
    """Remove the staging entries in ``parent`` left by processes that no longer run; returns them."""
    removed = []
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        if not entry.name.startswith(".") or STAGING_MARK not in entry.name:
            continue
        pid = entry.name.rsplit(STAGING_MARK, 1)[1].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        _remove(entry)
        removed.append(entry)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the system cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _commit(target: Target) -> bool:
    """Swap ``target.staging`` into place; afterwards ``staging`` holds the old version, if any.

    Returns whether there was an old version. Raises ``InputError`` when another process
    replaced the target since staging began.
    """
    with _parent_lock(target.path.parent):
        if _identity(target.path) != target._identity:
            raise InputError(str(target.path), "이 실행 중에 다른 실행이 이 폴더에 썼습니다; "
                                               "이 실행의 결과는 쓰지 않았습니다 (다시 실행하세요)")
        if target._identity is None:
            os.rename(target.staging, target.path)
            return False
        if target.kind == "file":
            # A file keeps no old version: os.replace is already atomic.
            os.replace(target.staging, target.path)
            return False
        if _exchange(target.staging, target.path):
            return True
        aside = _staging_name(target.path)
        os.rename(target.path, aside)
        try:
            os.rename(target.staging, target.path)
        except BaseException:
            os.rename(aside, target.path)
            raise
        os.rename(aside, target.staging)
        return True


def _undo(target: Target) -> None:
    """Put the old version back after a later target of the same commit failed."""
    if target.kind == "dir" and target.staging.exists():
        if not _exchange(target.staging, target.path):
            shutil.rmtree(target.path)
            os.rename(target.staging, target.path)
    else:
        _remove(target.path)


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While staging, SIGTERM unwinds the stack (so staging folders are removed) instead of killing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check(target: Target) -> None:
    path = target.path
    if target.kind == "dir" and path.exists() and not path.is_dir():
        raise InputError(str(path), "폴더가 아니라 파일입니다; 아무것도 바꾸지 않았습니다")
    if target.kind == "file" and path.is_dir():
        raise InputError(str(path), "파일이 아니라 폴더입니다; 아무것도 바꾸지 않았습니다")
    if path.exists() and target.accepts is not None:
        reason = target.accepts(path)
        if reason:
            raise InputError(str(path), f"{reason}; 폴더 안의 아무것도 바꾸지 않았습니다")


@contextlib.contextmanager
def replacing(targets: Sequence[Target]) -> Iterator[list[Path]]:
    """Stage new versions of ``targets``; yields their staging paths (empty folders / unwritten files).

    On normal exit every target is swapped in (all or none), and the old versions are removed.
    On an exception, ``SIGINT`` or ``SIGTERM`` the staging paths are removed and the targets are
    left exactly as they were. Raises ``InputError`` (before yielding) for a target ``accepts``
    refuses, and at commit for a target another process replaced meanwhile.
    """
    for target in targets:
        _check(target)
    for target in targets:
        target.path.parent.mkdir(parents=True, exist_ok=True)
        remove_debris(target.path.parent)
    staged: list[Target] = []
    committed: list[tuple[Target, bool]] = []
    with _sigterm_unwinds():
        try:
            for target in targets:
                target._identity = _identity(target.path)
                target.staging = _staging_name(target.path)
                if target.kind == "dir":
                    target.staging.mkdir()
                staged.append(target)
            yield [t.staging for t in targets]
            for target in targets:
                for name in target.carry:
                    if (target.path / name).is_file():
                        shutil.copy2(target.path / name, target.staging / name)
            for target in targets:
                committed.append((target, _commit(target)))
        except BaseException:
            for target, _ in reversed(committed):
                _undo(target)
            for target in staged:
                _remove(target.staging)
            raise
    for target, had_old in committed:
        if had_old:
            _remove(target.staging)


@dataclass(frozen=True)
class FolderKind:
    """A kind of folder the pipeline writes as a whole (a run folder, a saved model, trend tables, an export):
    the one rule for whether an existing folder may be replaced by a new one of the kind.

    It may when it is empty (``placeholder`` aside: the repository's ``.gitkeep``, carried into the new
    folder) or an earlier folder of the kind: it holds ``marker`` and, where ``files`` names everything a
    write makes, nothing else, so replacing it loses nothing the pipeline did not make. ``what`` names the
    kind in messages (``이전 결과 폴더``).
    """

    what: str
    marker: str
    files: tuple[str, ...] | None = None
    placeholder: str | None = None

    def refusal(self, folder: Path) -> str | None:
        """Why the existing ``folder`` may not be replaced; ``None`` when it may."""
        entries = sorted(p.name for p in Path(folder).iterdir() if p.name != self.placeholder)
        if not entries:
            return None
        if self.marker not in entries:
            return f"비어 있지 않고 {self.what}도 아닙니다 ({self.marker} 없음); 새 폴더나 빈 폴더를 고르세요"
        foreign = [name for name in entries if self.files is not None and name not in self.files]
        if foreign:
            return (f"{self.what}이지만 파이프라인이 쓰지 않는 {foreign[0]!r}도 들어 있습니다; "
                    "그것을 옮기거나 다른 폴더를 고르세요")
        return None

    def holds(self, folder: Path) -> bool:
        """Whether ``folder`` is an earlier folder of this kind (not merely an empty one) that may be replaced."""
        folder = Path(folder)
        return (folder / self.marker).is_file() and self.refusal(folder) is None

    def target(self, path: str | os.PathLike) -> Target:
        """The :func:`replacing` target of a folder of this kind at ``path``."""
        return Target(Path(path), "dir", self.refusal, carry=(self.placeholder,) if self.placeholder else ())


def refuse_inside(out: str | os.PathLike, folder: str | os.PathLike, option: str = "--out") -> None:
    """Raise ``InputError`` when the file ``out`` would be written inside ``folder`` (a run folder).

    A file there would replace one of the folder's own files (``--out RUN/recommendations.csv``) or sit
    among them as a file the pipeline does not write, so that the next write into the folder is refused.
    """
    target, inside = Path(out).resolve(), Path(folder).resolve()
    if inside == target or inside in target.parents:
        raise InputError(str(out), f"{option}이(가) 결과 폴더 {folder} 안에 있습니다. 그 폴더의 파일은 실행이 "
                                   "관리하므로 폴더 밖에 쓰세요")


def write_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to the file ``path`` as one :func:`replacing` step: readers see the old file or the
    whole new one, never half of it."""
    with replacing([Target(Path(path), "file")]) as (staging,):
        staging.write_bytes(data)
