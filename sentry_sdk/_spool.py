"""The offline spool: envelopes that could not be sent wait on disk for a later chance.

One file per envelope, written atomically (a temporary name, then a rename), so a process killed
at any moment leaves whole files or none. Bounded in count and bytes: the oldest files go first.
A file is claimed by renaming it to a name of the claiming process before it is read, so two
processes sharing the directory never send the same file twice; a claimed file whose process died
is taken over after a while. A file that cannot be read is removed, and so is the temporary file
of a process killed while writing one, once it is as old as a stale claim.
"""

from __future__ import annotations

import os
import time

from ._log import logger

__all__ = ["Spool"]

_SUFFIX = ".envelope"
_CLAIMED = ".claimed-"
_TEMPORARY = ".tmp-"
# A claim older than this belongs to a process that died while sending: the file is free again.
_STALE_CLAIM_SECONDS = 300.0


class Spool:
    """A directory of envelopes waiting to be sent."""

    def __init__(self, directory: str, max_files: int = 1000, max_bytes: int = 50 * 1024 * 1024) -> None:
        self.directory = directory
        self.max_files = max_files
        self.max_bytes = max_bytes
        os.makedirs(directory, exist_ok=True)

    def write(self, body: bytes) -> list[str]:
        """Store one envelope; returns the names of older files dropped to stay within bounds."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}{_SUFFIX}"
        temporary = os.path.join(self.directory, f"{_TEMPORARY}{name}")
        with open(temporary, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, os.path.join(self.directory, name))
        return self._enforce_bounds()

    def _waiting(self) -> list[str]:
        try:
            return sorted(
                n for n in os.listdir(self.directory) if n.endswith(_SUFFIX) and not n.startswith(".")
            )
        except OSError:
            return []

    def _enforce_bounds(self) -> list[str]:
        names = self._waiting()
        sizes = {}
        for name in names:
            try:
                sizes[name] = os.path.getsize(os.path.join(self.directory, name))
            except OSError:
                sizes[name] = 0
        dropped = []
        total = sum(sizes.values())
        while names and (len(names) > self.max_files or total > self.max_bytes):
            oldest = names.pop(0)
            if self._remove(oldest):
                dropped.append(oldest)
            total -= sizes[oldest]
        return dropped

    def _remove(self, name: str) -> bool:
        try:
            os.remove(os.path.join(self.directory, name))
            return True
        except OSError:
            return False

    def claim(self) -> list[tuple[str, bytes]]:
        """Take the waiting envelopes for this process, oldest first: ``(claim path, bytes)``.

        The caller removes each claim path once the envelope is dealt with (``release``).
        """
        self._free_stale_claims()
        claimed = []
        tag = f"{_CLAIMED}{os.getpid()}-{os.urandom(4).hex()}"
        for name in self._waiting():
            source = os.path.join(self.directory, name)
            target = source + tag
            try:
                os.rename(source, target)  # atomic: only one process gets it
                os.utime(target)  # the claim's age, for _free_stale_claims
            except OSError:
                continue  # another process claimed it first
            try:
                with open(target, "rb") as f:
                    claimed.append((target, f.read()))
            except OSError as exc:
                logger.warning("spooled file %s could not be read (%s); removed", name, exc)
                self.release(target)
        return claimed

    def unclaim(self, path: str) -> None:
        """Put a claimed file back for a later attempt."""
        try:
            os.rename(path, path.split(_CLAIMED, 1)[0])
        except OSError:
            pass

    def release(self, path: str) -> None:
        """Forget a claimed file (sent, re-spooled or unreadable)."""
        try:
            os.remove(path)
        except OSError:
            pass

    def _free_stale_claims(self) -> None:
        now = time.time()
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            temporary = name.startswith(_TEMPORARY)
            if not temporary and _CLAIMED not in name:
                continue
            path = os.path.join(self.directory, name)
            try:
                if now - os.path.getmtime(path) <= _STALE_CLAIM_SECONDS:
                    continue
                if temporary:  # never finished: its writer died between writing and renaming it
                    os.remove(path)
                else:
                    os.rename(path, os.path.join(self.directory, name.split(_CLAIMED, 1)[0]))
            except OSError:
                pass

    def __len__(self) -> int:
        return len(self._waiting())
