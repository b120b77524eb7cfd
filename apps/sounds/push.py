"""Sound files onto a server, with its configuration push (apps/pbx/apply.py).

The files a server should have are the ready sounds of the tenants it hosts (the rows the push
rendered from), at ``<sounds_dir>/<tenant>/<name>.<fmt>`` and
``<sounds_dir>/<tenant>/moh/<class>/<name>.<fmt>``. What was written is recorded in a manifest
inside sounds_dir (``.thirdlane-sounds.json``: path -> SHA-256 and size), so a push

- copies only files whose checksum differs from the manifest's, or that are missing or of
  another size on the server (someone deleted or truncated them): an unchanged push copies nothing;
- deletes the files it wrote before that are no longer wanted (a deleted sound, a tenant moved
  away), and the directories that leaves empty; it never touches a file it did not write, so
  sounds_dir may be shared with the operator's own sounds;
- writes each file atomically (temporary name in the same directory, fsync, rename) and the
  manifest last, so an interrupted push is finished by the next one.
"""
from __future__ import annotations

import json
import os
import posixpath
import shutil
import uuid
from dataclasses import dataclass

from apps.pbx.render import sounds as render_sounds
from apps.sounds import storage

MANIFEST = ".thirdlane-sounds.json"
FILE_MODE = 0o644  # Asterisk reads them; nothing secret


class SoundsPushError(Exception):
    """Writing to sounds_dir failed (the push fails with this message)."""


@dataclass(frozen=True)
class Wanted:
    source: str  # converted file in the media directory
    sha256: str
    size: int


def wanted_files(views) -> dict[str, Wanted]:
    """Relative path on the server -> the file that belongs there, for every ready sound."""
    out: dict[str, Wanted] = {}
    for view in views:
        for row in render_sounds.present(view):
            for fmt, info in sorted((row["files"] or {}).items()):
                rel = storage.server_path(view.slug, row["kind"], row["moh_class"], row["name"], fmt)
                out[rel] = Wanted(str(storage.converted_path(view.info.id, row["id"], fmt)), info["sha256"],
                                  int(info["bytes"]))
    return out


def _inside(base: str, rel: str) -> str:
    path = posixpath.normpath(posixpath.join(base, rel))
    if not path.startswith(base.rstrip("/") + "/"):
        raise SoundsPushError(f"refusing to write outside sounds_dir: {rel}")
    return path


def _read_manifest(base: str) -> dict[str, dict]:
    try:
        with open(os.path.join(base, MANIFEST), encoding="utf-8") as handle:
            data = json.load(handle)
        return data.get("files", {}) if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _atomic_copy(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(source, "rb") as src, open(tmp, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_manifest(base: str, files: dict[str, dict]) -> None:
    data = json.dumps({"written_by": "thirdlane portal", "files": files}, indent=1, sort_keys=True).encode()
    tmp = os.path.join(base, f".{MANIFEST}.{uuid.uuid4().hex[:12]}.tmp")
    with open(tmp, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, os.path.join(base, MANIFEST))
    dir_fd = os.open(base, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _prune_dirs(base: str, path: str) -> None:
    directory = os.path.dirname(path)
    while directory.startswith(base.rstrip("/") + "/"):
        try:
            os.rmdir(directory)  # only when empty
        except OSError:
            return
        directory = os.path.dirname(directory)


def write_sounds(sounds_dir: str, wanted: dict[str, Wanted]) -> list[str]:
    """Bring sounds_dir to ``wanted``; returns the paths written or removed (sorted, removed ones
    prefixed with "-")."""
    base = sounds_dir.rstrip("/")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError as exc:
        raise SoundsPushError(f"sounds_dir {sounds_dir}: {exc.strerror or exc}") from exc
    manifest = _read_manifest(base)
    changed: list[str] = []
    kept: dict[str, dict] = {}
    try:
        for rel in sorted(wanted):
            want = wanted[rel]
            target = _inside(base, rel)
            have = manifest.get(rel) or {}
            try:
                size = os.path.getsize(target)
            except OSError:
                size = -1
            if have.get("sha256") != want.sha256 or size != want.size:
                if not os.path.exists(want.source):
                    raise SoundsPushError(f"{rel}: the converted file is missing from the media directory")
                _atomic_copy(want.source, target)
                changed.append(rel)
            kept[rel] = {"sha256": want.sha256, "bytes": want.size}
        for rel in sorted(set(manifest) - set(wanted)):
            target = _inside(base, rel)
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
            _prune_dirs(base, target)
            changed.append(f"-{rel}")
        if changed or set(manifest) != set(kept):
            _write_manifest(base, kept)
    except OSError as exc:
        raise SoundsPushError(f"writing sounds to {sounds_dir}: {exc.strerror or exc}") from exc
    return changed


def moh_changed(changed: list[str]) -> bool:
    """Whether any music-on-hold file came or went (mode=files classes rescan on reload)."""
    return any(path.lstrip("-").split("/")[1:2] == ["moh"] for path in changed)


def push(server, views) -> list[str]:
    """Write this server's sounds (nothing when it has no sounds_dir)."""
    if not (getattr(server, "sounds_dir", "") or "").strip():
        return []
    return write_sounds(server.sounds_dir, wanted_files(views))
