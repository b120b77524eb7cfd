"""Real audio tools: SoX converts and measures, eSpeak NG speaks.

    sniff(first_bytes)                     "wav" | "mp3" | "ogg" | None, from the content's magic bytes
    probe(path)                            AudioInfo(duration, rate, channels) read by SoX, or NotAudio
    convert(source, directory)             {"wav": path, "ulaw": path}: what Asterisk plays
    synthesise(text, language, voice, out) a WAV spoken by eSpeak NG
    wav_info(path)                         the converted WAV's header, read with the ``wave`` module

What Asterisk plays without transcoding work: ``.wav`` is 8 kHz mono 16-bit signed PCM (format_wav,
"slin" in a RIFF container) and ``.ulaw`` raw G.711 mu-law (format_pcm); Asterisk picks the file
whose format costs least for the channel's codec, and transcodes from slin for anything else
(G.722, Opus). Both come from the same SoX pass, so they always hold the same audio.

The tools are looked up on ``PATH`` (or ``SOUNDS_SOX`` / ``SOUNDS_ESPEAK``) at run time; a
missing one raises ``ToolMissing`` naming the Debian packages to install, which the API answers
as 503 ``sound_tools_missing`` and a conversion job records as its error.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

UPLOAD_FORMATS = ("wav", "mp3", "ogg")
OUTPUT_FORMATS = ("wav", "ulaw")
RATE = 8000

PACKAGES = {"sox": "sox libsox-fmt-mp3", "espeak-ng": "espeak-ng"}


class AudioError(Exception):
    """Base of what can go wrong with a sound."""


class ToolMissing(AudioError):
    def __init__(self, tool: str):
        self.tool = tool
        super().__init__(f"{tool} is not installed on this machine (Debian: apt-get install "
                         f"{PACKAGES.get(tool, tool)}).")


class NotAudio(AudioError):
    """The content is not audio SoX can decode."""


class ConversionFailed(AudioError):
    """SoX or eSpeak NG ran and failed."""


@dataclass(frozen=True)
class AudioInfo:
    duration: float  # seconds
    rate: int
    channels: int
    samples: int


def tool(name: str) -> str:
    """The path of ``name`` (``sox``, ``espeak-ng``), or ToolMissing."""
    configured = getattr(settings, {"sox": "SOUNDS_SOX", "espeak-ng": "SOUNDS_ESPEAK"}.get(name, ""), "") or name
    found = shutil.which(configured)
    if not found:
        raise ToolMissing(name)
    return found


def missing_tools() -> list[str]:
    """What is not installed, for health checks and the admin."""
    missing = []
    for name in ("sox", "espeak-ng"):
        try:
            tool(name)
        except ToolMissing:
            missing.append(name)
    return missing


def _timeout() -> float:
    return float(getattr(settings, "SOUNDS_TOOL_TIMEOUT", 300))


def _run(args: list[str], *, stdin: bytes | None = None, what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(args, input=stdin, capture_output=True, timeout=_timeout(), check=False)
    except subprocess.TimeoutExpired:
        raise ConversionFailed(f"{what} took longer than {_timeout():.0f} s") from None
    except OSError as exc:
        raise ConversionFailed(f"{what} could not run: {exc.strerror or exc}") from None
    return result


def _message(stderr: bytes, *paths: Path | str) -> str:
    """SoX's complaint without our file system paths."""
    text = stderr.decode("utf-8", "replace")
    for path in paths:
        text = text.replace(str(path), os.path.basename(str(path)))
    lines = [line.strip() for line in text.splitlines() if line.strip() and "WARN" not in line]
    return "; ".join(lines)[-300:] or "no detail"


# --- what is it? ---------------------------------------------------------------------------------

def sniff(head: bytes) -> str | None:
    """The container a file's first bytes announce (what its name says is checked against this)."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "mp3"
    return None


_INFO_RATE = re.compile(r"^Sample Rate\s*:\s*(\d+)", re.M)
_INFO_CHANNELS = re.compile(r"^Channels\s*:\s*(\d+)", re.M)
_INFO_SAMPLES = re.compile(r"^Duration\s*:.*?=\s*(\d+) samples", re.M)


def probe(path: Path | str, fmt: str) -> AudioInfo:
    """SoX's reading of the header (``sox --i``); NotAudio when it cannot open the file as ``fmt``."""
    result = _run([tool("sox"), "--i", str(path)], what="sox --i")  # type from the extension
    out = result.stdout.decode("utf-8", "replace")
    rate, channels, samples = (_INFO_RATE.search(out), _INFO_CHANNELS.search(out), _INFO_SAMPLES.search(out))
    if result.returncode != 0 or not (rate and channels and samples):
        raise NotAudio(f"not a readable {fmt.upper()} file ({_message(result.stderr, path)})")
    rate_hz, count = int(rate.group(1)), int(samples.group(1))
    if rate_hz <= 0 or count <= 0:
        raise NotAudio(f"the {fmt.upper()} file holds no audio")
    return AudioInfo(duration=count / rate_hz, rate=rate_hz, channels=int(channels.group(1)), samples=count)


# --- conversion ----------------------------------------------------------------------------------

def convert(source: Path | str, directory: Path | str, *, source_format: str, stem: str = "sound") -> dict[str, Path]:
    """``source`` as ``<stem>.wav`` (8 kHz mono 16-bit PCM) and ``<stem>.ulaw`` in ``directory``.
    Each file is written under a temporary name and renamed, so a reader (a push copying the
    sound) never sees half a file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sox = tool("sox")
    outputs = {fmt: directory / f"{stem}.{fmt}" for fmt in OUTPUT_FORMATS}
    temps = {fmt: directory / f".{stem}.{fmt}.{os.getpid()}.tmp" for fmt in OUTPUT_FORMATS}
    try:
        # -G: guard against clipping while resampling/mixing down (SoX lowers the gain if needed).
        result = _run([sox, "-V1", "-G", "-t", source_format, str(source), "-t", "wav", "-r", str(RATE), "-c", "1",
                       "-b", "16", "-e", "signed-integer", str(temps["wav"])], what="sox")
        if result.returncode != 0:
            raise ConversionFailed(f"sox could not convert the file: {_message(result.stderr, source, temps['wav'])}")
        result = _run([sox, "-V1", "-t", "wav", str(temps["wav"]), "-t", "ul", "-r", str(RATE), "-c", "1",
                       str(temps["ulaw"])], what="sox")
        if result.returncode != 0:
            raise ConversionFailed(f"sox could not write mu-law: {_message(result.stderr, temps['ulaw'])}")
        for fmt in OUTPUT_FORMATS:
            os.replace(temps[fmt], outputs[fmt])
    finally:
        for temp in temps.values():
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
    return outputs


def wav_info(path: Path | str) -> AudioInfo:
    """The converted WAV read back with the standard library (what Asterisk's format_wav checks)."""
    with wave.open(str(path), "rb") as wav:
        rate, frames = wav.getframerate(), wav.getnframes()
        return AudioInfo(duration=frames / rate if rate else 0.0, rate=rate, channels=wav.getnchannels(),
                         samples=frames)


# --- text to speech ------------------------------------------------------------------------------

def _listing(option: str) -> list[list[str]]:
    result = _run([tool("espeak-ng"), option], what="espeak-ng")
    if result.returncode != 0:
        raise ConversionFailed(f"espeak-ng could not list voices: {_message(result.stderr)}")
    return [line.split() for line in result.stdout.decode("utf-8", "replace").splitlines()[1:] if line.strip()]


@functools.lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages eSpeak NG speaks here (``en-us``, ``fr-fr`` ...)."""
    return tuple(sorted({cols[1] for cols in _listing("--voices") if len(cols) >= 2}))


@functools.lru_cache(maxsize=1)
def voices() -> tuple[str, ...]:
    """Voice variants (``f3``, ``m1``, ``klatt`` ...), given after the language as ``en-us+f3``."""
    names = set()
    for cols in _listing("--voices=variant"):
        for col in cols:
            if col.startswith("!v/"):
                names.add(col[3:])
    return tuple(sorted(names))


def synthesise(text: str, out: Path | str, *, language: str, voice: str = "", speed: int = 160) -> None:
    """Speak ``text`` into the WAV ``out`` (eSpeak NG's 22.05 kHz; ``convert`` makes it 8 kHz).
    The text goes through standard input, never the command line, so it can never be an option."""
    name = f"{language}+{voice}" if voice else language
    result = _run([tool("espeak-ng"), "-v", name, "-s", str(int(speed)), "-w", str(out), "--stdin"],
                  stdin=text.encode("utf-8"), what="espeak-ng")
    if result.returncode != 0 or not os.path.exists(out) or os.path.getsize(out) <= 44:
        raise ConversionFailed(f"espeak-ng could not speak the text: {_message(result.stderr, out)}")
