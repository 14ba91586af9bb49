"""Results on disk: files written atomically, result sets replaced together, folders locked while written.

- ``atomic_write`` writes a file under a temporary name in the same folder and renames it into place,
  so an interrupted write never leaves a half-written file that could be read as a result.
- ``write_run`` writes a run's files (``series.parquet``, ``manifest.json``, and any others the caller
  adds, such as ``headline.png`` or a comparison's tables) as one set: all of them go into a staging
  folder inside the target first, a ``COMMIT`` note is written when the set is complete, and only then
  are the files moved into place, the manifest last. A write interrupted before ``COMMIT`` leaves the
  previous set untouched (the staging folder is removed on the next write or read); one interrupted
  after it is finished on the next write or read. The manifest records the SHA-256 of every file of
  the set, and ``read_run`` checks them, so a series is never read with another run's manifest.
- ``check_writable`` tries a folder before anything is computed: a read-only or full disk is reported
  in one line, not after a long run.
- ``folder_lock`` keeps two processes from writing one results folder at once (an advisory ``flock``,
  released by the operating system when a process dies, even by kill -9).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Callable

import pandas as pd

SERIES = "series.parquet"
MANIFEST = "manifest.json"
COMMIT = "COMMIT"
STAGING_PREFIX = ".staging-"
LOCK = ".lock"


class ResultsError(ValueError):
    """Stored results that cannot be used as they are (missing, corrupt, mismatched, locked, unwritable);
    the message names the file or folder and says what to do."""


def atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; results are meant to be shared
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a text file so that readers see the old or the new file, never half of one."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    atomic_write(path, write)
    return path


def remove_temporaries(*folders: str | Path) -> list[Path]:
    """Delete the ``.*.tmp`` files a killed ``atomic_write`` left in these folders; returns what was removed."""
    removed = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path, what: str = "file") -> dict:
    """A JSON file's content, or a ResultsError naming the file (missing, unreadable or corrupt)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ResultsError(f"{path}: no {what} here") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: corrupt {what} ({exc}); run the command that wrote it again") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: corrupt {what} (a JSON {type(data).__name__}, not a mapping); "
                           "run the command that wrote it again")
    files = data.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ResultsError(f"{path}: corrupt {what} ('files' is not a mapping of file names to SHA-256); "
                           "run the command that wrote it again")
    return data


# --------------------------------------------------------------------------- checks and locks


def check_writable(folder: str | Path, probe_bytes: int = 1 << 16) -> Path:
    """Make sure results can be written to ``folder`` (creating it), with room for a small probe file,
    before anything is computed. Raises ResultsError in one line; anything already there is left alone, and
    folders it had to create to try are removed again."""
    folder = Path(folder)
    created = [p for p in [folder, *folder.parents] if not p.exists()]  # left as they were found: removed after
    try:
        if folder.exists() and not folder.is_dir():
            raise ResultsError(f"cannot write results to {folder}: it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"\0" * probe_bytes)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(probe)
            for path in created:
                with contextlib.suppress(OSError):
                    path.rmdir()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.ENOSPC:
            reason = "no space left on the device"
        raise ResultsError(f"cannot write results to {folder}: {reason}") from None
    return folder


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str = "a run"):
    """Hold an exclusive lock on ``folder`` (its ``.lock`` file) while the block runs.

    A second process asking for the same folder gets a ResultsError naming the holder at once.
    On systems without ``fcntl`` the block runs unlocked.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = folder / LOCK
    fh = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise ResultsError(f"{folder} is in use by {holder}; wait for it to finish or stop it, "
                               "or choose another output folder") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{what} (pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})")
        fh.flush()
        yield
    finally:
        fh.close()  # closing releases the lock


# --------------------------------------------------------------------------- result sets


def write_run(out_dir: str | Path, series: pd.DataFrame, manifest: dict,
              extra: dict[str, Callable[[str], None] | str] | None = None) -> Path:
    """Write ``series.parquet``, ``manifest.json`` and the ``extra`` files (name -> text, or a function
    writing to the path it is given) into ``out_dir`` as one set; returns the folder.

    The manifest gains ``files``: the SHA-256 of every other file of the set, checked by ``read_run``.
    """
    out = Path(out_dir)
    writers: dict[str, Callable[[str], None]] = {SERIES: lambda p: series.to_parquet(p, index=False)}
    for name, content in (extra or {}).items():
        writers[name] = content if callable(content) else _text_writer(content)
    with folder_lock(out, "a run writing its results"):
        _recover(out)
        try:  # files of the set being replaced that the new one lacks (e.g. its figure) go with it
            previous = set(read_json(out / MANIFEST).get("files", {})) if (out / MANIFEST).exists() else set()
        except (ResultsError, AttributeError):
            previous = set()
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        try:
            hashes = {}
            for name, write in writers.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                write(str(target))
                hashes[name] = sha256_of(target)
            manifest = {**manifest, "files": hashes}
            _text_writer(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")(
                str(staging / MANIFEST))
            _write_commit_note(staging, [*writers, MANIFEST], sorted(previous - set(writers) - {MANIFEST}))
        except OSError as exc:  # e.g. the disk filled up after check_writable: the previous set stays
            shutil.rmtree(staging, ignore_errors=True)
            reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise ResultsError(f"cannot write results to {out}: {reason}; the previous results there are "
                               "untouched") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _finish(staging, out)
    return out


def read_run(out_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    """A run's series and manifest, checked to belong together. Raises ResultsError naming the file."""
    out = Path(out_dir)
    if not out.is_dir():
        raise ResultsError(f"{out}: no such results folder")
    with contextlib.suppress(OSError, ResultsError):  # a read-only copy cannot be repaired; it is still checked
        with folder_lock(out, "a reader finishing an interrupted write"):
            _recover(out)
    if not (out / MANIFEST).exists() and not (out / SERIES).exists():
        raise ResultsError(f"{out}: no run results here (expected {SERIES} and {MANIFEST}, written by "
                           "`grassroots run` or `grassroots compare`)")
    manifest = read_json(out / MANIFEST, "run manifest")
    path = out / SERIES
    if not path.exists():
        raise ResultsError(f"{path}: missing (the manifest beside it describes a run whose series is gone)")
    expected = manifest.get("files", {}).get(SERIES)
    if expected is not None and sha256_of(path) != expected:
        raise ResultsError(f"{path} does not match {out / MANIFEST} (it was written by another run or changed "
                           "since); run again to get a consistent set")
    try:
        series = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise ResultsError(f"{path}: corrupt Parquet file ({exc}); run again") from None
    return series, manifest


def _text_writer(text: str) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    return write


def _write_commit_note(staging: Path, names: list[str], remove: list[str]) -> None:
    """The point of no return: once this note exists the set is complete and will be moved into place
    (``names``), and the files of the old set that the new one lacks (``remove``) deleted."""
    for name in names:  # the files' contents reach the disk before the note that vouches for them
        with open(staging / name, "rb") as fh:
            os.fsync(fh.fileno())
    tmp = staging / f".{COMMIT}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"files": names, "remove": remove}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, staging / COMMIT)


def _finish(staging: Path, out: Path) -> None:
    """Move a committed set into place (the manifest last) and remove the staging folder. Idempotent."""
    note = json.loads((staging / COMMIT).read_text(encoding="utf-8"))
    for name in note["remove"]:
        if not Path(name).is_absolute() and ".." not in Path(name).parts:
            (out / name).unlink(missing_ok=True)
    for name in sorted(note["files"], key=lambda n: n == MANIFEST):
        if (staging / name).exists():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, out / name)
    shutil.rmtree(staging, ignore_errors=True)


def _recover(out: Path) -> None:
    """Finish a set whose write was interrupted after its COMMIT note; drop one interrupted before it."""
    for staging in sorted(out.glob(STAGING_PREFIX + "*")):
        if not staging.is_dir():
            continue
        if (staging / COMMIT).exists():
            _finish(staging, out)
        else:
            shutil.rmtree(staging, ignore_errors=True)
    remove_temporaries(out)
