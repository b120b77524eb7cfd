"""The three reference adapters as real processes (perl, python3, node), configured from the
environment exactly as their READMEs say."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "adapters" / "sms"
COMMANDS = {
    "perl": ["perl", str(ROOT / "perl" / "thirdlane-sms-adapter.pl")],
    "python": ["python3", str(ROOT / "python" / "thirdlane_sms_adapter.py")],
    "node": ["node", str(ROOT / "node" / "adapter.js")],
}
LANGUAGES = tuple(COMMANDS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AdapterProcess:
    def __init__(self, lang: str, env: dict[str, str]):
        if shutil.which(COMMANDS[lang][0]) is None:
            raise RuntimeError(f"{COMMANDS[lang][0]} is not installed (scripts/ensure_test_deps.sh installs it)")
        self.lang = lang
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PERL5LIB")},
                    **env, "PORT": str(self.port), "BIND": "127.0.0.1"}
        self.process = subprocess.Popen(COMMANDS[lang], env=full_env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{lang} adapter exited: {self.process.stdout.read().decode(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{lang} adapter did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
