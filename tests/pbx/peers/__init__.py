"""Protocol-faithful test peers built from the recorded Asterisk 22 sessions.

- AmiReplayServer: replays a recorded AMI session (ActionIDs rewritten, optional
  re-chunking and recorded timing).
- ScriptedAmiServer / AmiScript: silence, hung server, drops, refused logins.
- FastAgiAsterisk: plays Asterisk's side of a FastAGI session against our server.
"""

from .agi_asterisk import AgiSessionResult, FastAgiAsterisk
from .ami_replay import AmiReplayServer
from .ami_scripted import FULLY_BOOTED, AmiScript, ScriptedAmiServer
from .fixtures import Transcript, fixtures_dir, load_transcript

__all__ = [
    "FULLY_BOOTED",
    "AgiSessionResult",
    "AmiReplayServer",
    "AmiScript",
    "FastAgiAsterisk",
    "ScriptedAmiServer",
    "Transcript",
    "fixtures_dir",
    "load_transcript",
]
