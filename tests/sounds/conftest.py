"""Fixtures of the sound tests: a private media directory, and real audio made by SoX and eSpeak NG."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """SOUNDS_MEDIA_DIR for this test only (to check what is stored, and that refusals store nothing)."""
    root = tmp_path / "media"
    settings.SOUNDS_MEDIA_DIR = str(root)
    return root


def make_audio(path: Path, *, seconds: float = 1.0, rate: int = 44100, channels: int = 2, freq: int = 440) -> Path:
    """A real sine tone in the format of ``path``'s extension (wav, mp3, ogg), written by SoX."""
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), str(path), "synth", str(seconds), "sine",
                    str(freq)], check=True, capture_output=True)
    return path


def speak(path: Path, text: str = "Thank you for calling.") -> Path:
    """A real spoken WAV (eSpeak NG, 22.05 kHz)."""
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "--stdin"], input=text.encode(), check=True,
                   capture_output=True)
    return path


@pytest.fixture
def audio(tmp_path):
    """``audio("tone.mp3", seconds=2)`` -> the file's bytes."""
    def make(name: str, **kw) -> bytes:
        return make_audio(tmp_path / name, **kw).read_bytes()

    return make


def stored_files(root: Path) -> list[str]:
    """Every file under the media directory (temporary uploads included)."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
