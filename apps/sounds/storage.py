"""Where sound files are kept on the portal's side, and where they go on a PBX.

    <SOUNDS_MEDIA_DIR>/<tenant id>/<sound id>/source.<wav|mp3|ogg>   the upload, until converted
    <SOUNDS_MEDIA_DIR>/<tenant id>/<sound id>/sound.wav|sound.ulaw   what Asterisk plays

On a server, under its ``sounds_dir``:

    <tenant>/<name>.wav|.ulaw                   prompts (IVR greetings reference <sounds_dir>/<tenant>/<name>)
    <tenant>/moh/<class>/<name>.wav|.ulaw       music on hold (musiconhold.conf: [<tenant>-<class>])

Every name in these paths comes from validated slugs (tenant slug, sound name, class), never from
an uploaded file's name.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from django.conf import settings


def media_root() -> Path:
    return Path(settings.SOUNDS_MEDIA_DIR)


def sound_dir(tenant_id: int, sound_id: int) -> Path:
    return media_root() / str(int(tenant_id)) / str(int(sound_id))


def source_path(tenant_id: int, sound_id: int, fmt: str) -> Path:
    return sound_dir(tenant_id, sound_id) / f"source.{fmt}"


def converted_path(tenant_id: int, sound_id: int, fmt: str) -> Path:
    return sound_dir(tenant_id, sound_id) / f"sound.{fmt}"


def remove(tenant_id: int, sound_id: int) -> None:
    shutil.rmtree(sound_dir(tenant_id, sound_id), ignore_errors=True)


def sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def server_path(tenant_slug: str, kind: str, moh_class: str, name: str, fmt: str) -> str:
    """The file's path relative to a server's sounds_dir."""
    if kind == "moh":
        return f"{tenant_slug}/moh/{moh_class}/{name}.{fmt}"
    return f"{tenant_slug}/{name}.{fmt}"
