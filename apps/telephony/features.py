"""Feature codes: what a phone dials to change its settings or reach a PBX feature.

Every tenant has every feature with the default code below; a ``FeatureCode`` row changes a
feature's code or turns it off. ``argument`` features take digits after the code (``*72`` +
``1002`` forwards to 1002); for those, no other code may start with the code, or a dialled
string would be ambiguous. The defaults are FreePBX's, which most users already know.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    key: str
    default: str
    label: str
    argument: str = ""  # what follows the code: "" (nothing), "number", "extension", "queue" (optional)
    agi: bool = False  # handled by the portal's FastAGI server (writes the database)


FEATURES: tuple[Feature, ...] = (
    Feature("voicemail", "*97", "Voicemail: own mailbox"),
    Feature("voicemail_any", "*98", "Voicemail: any mailbox"),
    Feature("dnd_on", "*78", "Do not disturb on", agi=True),
    Feature("dnd_off", "*79", "Do not disturb off", agi=True),
    Feature("dnd_toggle", "*76", "Do not disturb toggle", agi=True),
    Feature("cf_always_set", "*72", "Call forward always: set (code + number)", "number", agi=True),
    Feature("cf_always_clear", "*73", "Call forward always: clear", agi=True),
    Feature("cf_busy_set", "*90", "Call forward on busy: set (code + number)", "number", agi=True),
    Feature("cf_busy_clear", "*91", "Call forward on busy: clear", agi=True),
    Feature("cf_no_answer_set", "*52", "Call forward on no answer: set (code + number)", "number", agi=True),
    Feature("cf_no_answer_clear", "*53", "Call forward on no answer: clear", agi=True),
    Feature("followme_toggle", "*21", "Follow-me toggle", agi=True),
    Feature("pickup", "*8", "Pick up a call ringing in the tenant"),
    Feature("directed_pickup", "**", "Pick up the call ringing at an extension (code + extension)", "extension"),
    Feature("park", "*70", "Park the call (blind transfer to the code) in the first parking lot"),
    Feature("intercom", "*80", "Intercom: page one extension, auto-answered (code + extension)", "extension"),
    # The agent of the calling extension: log in / out of all its queues, or of one (code + queue
    # number); pause and unpause are per agent (apps.pbx.contact_center).
    Feature("agent_login", "*61", "Agent log in (code: every queue; code + queue number: that queue)", "queue",
            agi=True),
    Feature("agent_logout", "*62", "Agent log out (code: every queue; code + queue number: that queue)", "queue",
            agi=True),
    Feature("agent_pause", "*63", "Agent pause", agi=True),
    Feature("agent_unpause", "*64", "Agent unpause", agi=True),
)
BY_KEY = {f.key: f for f in FEATURES}
CODE_PATTERN = r"^[*#0-9][*#0-9]{1,7}$"


@dataclass(frozen=True)
class EffectiveCode:
    feature: Feature
    code: str
    enabled: bool
    customised: bool


def effective(rows) -> list[EffectiveCode]:
    """Every feature with its code for a tenant, from its ``FeatureCode`` rows (dicts or models)."""
    own = {}
    for row in rows:
        get = row.get if isinstance(row, dict) else (lambda k, r=row: getattr(r, k))
        own[get("feature")] = (get("code"), get("enabled"))
    out = []
    for feature in FEATURES:
        code, enabled = own.get(feature.key, (feature.default, True))
        out.append(EffectiveCode(feature, code, enabled, feature.key in own))
    return out


def conflicts(codes: list[tuple[str, str, bool]]) -> list[tuple[str, str, str]]:
    """``codes``: (feature, code, takes digits) of the enabled features. (feature, other feature,
    why) for each pair that clashes: equal codes, or a
    code that starts with the code of a feature taking digits after it."""
    out = []
    for i, (key, code, takes_arg) in enumerate(codes):
        for other, other_code, other_arg in codes[i + 1:]:
            if code == other_code:
                out.append((key, other, f"both use {code}"))
            elif takes_arg and other_code.startswith(code):
                out.append((other, key, f"{other_code} starts with {code}, which takes digits after it"))
            elif other_arg and code.startswith(other_code):
                out.append((key, other, f"{code} starts with {other_code}, which takes digits after it"))
    return out
