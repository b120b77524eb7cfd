"""The reference adapters (adapters/sms/<lang>/) as zip files, built from the files in the
checkout, so what is downloaded is what the conformance suite ran."""
from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR) / "adapters" / "sms"
LANGUAGES = {"perl": "perl", "python": "python", "node": "node"}
_SKIP_DIRS = {"__pycache__", "node_modules", ".pytest_cache"}


def files(lang: str) -> list[Path]:
    base = ROOT / LANGUAGES[lang]
    return sorted(p for p in base.rglob("*") if p.is_file() and not _SKIP_DIRS & set(p.relative_to(base).parts)
                  and not p.name.endswith((".pyc", ".log")))


@lru_cache(maxsize=8)
def _zip(lang: str, stamp: tuple) -> bytes:
    buffer = io.BytesIO()
    base = ROOT / LANGUAGES[lang]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files(lang):
            info = zipfile.ZipInfo(f"thirdlane-sms-adapter-{lang}/{path.relative_to(base)}", (2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def zip_of(lang: str) -> bytes:
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files(lang))
    return _zip(lang, stamp)
