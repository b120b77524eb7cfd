"""Checking an integrator's custom dialplan before it is stored.

The lines are rendered into the tenant's whole extensions.conf (exactly what a push would write)
and run through the project's config checker (apps/pbx/render/confcheck.py): a line Asterisk
would not load, a jump to a context, extension or label that does not exist, is refused with the
number of the line. On top of the checker:

- only ``exten =>``, ``same =>`` and ``include =>`` lines (no sections, no ``#include``/``#exec``);
- every context named by an include or a jump (Goto, GotoIf, GotoIfTime, Gosub, GosubIf) must be
  one this tenant's rendering defines: never another tenant's, even on the same server, and never
  computed (``${...}``) since a computed context could be anyone's;
- applications from a list that cannot leave the tenant (no System, Dial, AGI, ...), and
  functions from a list that cannot read or write the server (no SHELL, FILE, DB, CURL, ...).
"""
from __future__ import annotations

import re

from apps.hooks.models import MAX_DIALPLAN_CHARS, MAX_DIALPLAN_LINES
from thirdlane.api.errors import DomainError

# Spelled as Asterisk lists them; matched in any case, as Asterisk finds applications (functions:
# exactly, as Asterisk does).
ALLOWED_APPS = frozenset({
    "Answer", "BackGround", "Busy", "Congestion", "ExecIf", "Gosub", "GosubIf", "Goto", "GotoIf", "GotoIfTime",
    "Hangup", "Log", "NoOp", "Playback", "PlayTones", "Progress", "Read", "Return", "Ringing", "SayAlpha",
    "SayDigits", "SayNumber", "Set", "Verbose", "Wait", "WaitExten",
})
_CANONICAL_APP = {name.casefold(): name for name in ALLOWED_APPS}
ALLOWED_FUNCTIONS = frozenset({
    "ARG1", "CALLERID", "CDR", "CONNECTEDLINE", "CUT", "EXISTS", "FIELDQTY", "FILTER", "IF", "IFTIME", "ISNULL",
    "LEN", "MATH", "QUOTE", "RAND", "REGEX", "REPLACE", "SPRINTF", "STRFTIME", "TOLOWER", "TOUPPER",
})
JUMP_APPS = {"Goto", "GotoIf", "GotoIfTime", "Gosub", "GosubIf"}
_LINE = re.compile(r"^(exten|same|include)\s*=>\s*(.+)$")
# Contexts the portal renders (names.py grammar): naming one that is not the tenant's own is an
# attempt to reach another tenant ("foreign_context"); any other unknown name is just missing.
_PORTAL_CONTEXT = re.compile(r"^[a-z][a-z0-9-]*-(?:internal|extensions|from-did|outbound|external|intersite|ivr-\d+|"
                             r"tc-\d+|queue-\d+|outrt-\d+|from-trunk-\d+|custom-did|custom-out|rhook|[a-z]+(?:-\d+)?)$")


def _alternation(names, *, any_case: bool = False) -> str:
    """One regex alternative per name, longest first; ``any_case``: each letter as ``[Xx]`` (the
    pattern is also the OpenAPI ``pattern``, where JavaScript regexes take no inline flags)."""
    def spelled(name: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in name) if any_case else name

    return "(?:" + "|".join(spelled(n) for n in sorted(names, key=lambda n: (-len(n), n))) + ")"


def canonical_app(name: str) -> str:
    """An allowed application's name as Asterisk spells it (``GOTO`` -> ``Goto``), else ``name``."""
    return _CANONICAL_APP.get(name.casefold(), name)


def _grammar() -> str:
    """(whole text, first code line, other code lines, blank/comment line): the whole text as one regular expression (also the OpenAPI ``pattern``): comment and blank
    lines; ``exten => s,1,App(args)`` as the first line of code; then ``same => n,App(args)`` and
    ``include => context`` lines. Applications and functions come from the lists above; a name
    followed by ``(`` is never glued to other letters (``SoftHangup(`` is not ``Hangup(``); ``${``
    and ``$[`` only open variables, allowed functions and expressions; no labels, no ``;`` after
    code, no control characters."""
    sep = r"[ !\"#%&'*+,./:<=>?@^`|~-]"
    word = r"[A-Za-z0-9_]+"
    var = r"\$\{[A-Za-z0-9_]+\}"
    fnvar = r"\$\{" + _alternation(ALLOWED_FUNCTIONS) + r"\((?:" + sep + r"|[A-Za-z0-9_]|" + var + r")*\)\}"
    expr = r"\$\[(?:" + sep + r"|[A-Za-z0-9_]|" + var + "|" + fnvar + r")*\]"
    varish = f"(?:{var}|{fnvar}|{expr})"
    inner = r"(?:" + sep + r"|[A-Za-z0-9_]|" + varish + r")*"
    apps = _alternation(ALLOWED_APPS, any_case=True)
    namecall = f"(?:{_alternation(ALLOWED_FUNCTIONS)}|{apps})" + r"\(" + inner + r"\)"
    args = f"(?:{sep}|{varish}|{namecall}|{word}(?:{sep}|{varish}))*(?:{word})?"
    call = apps + r"\(" + args + r"\)"
    blank = r"[ \t]*(?:;[^\n\x00-\x08\x0a-\x1f\x7f]*)?"
    first = r"[ \t]*exten[ \t]*=>[ \t]*s,1," + call + r"[ \t]*"
    more = r"[ \t]*(?:same[ \t]*=>[ \t]*n," + call + r"|include[ \t]*=>[ \t]*[a-z0-9][a-z0-9_-]*)[ \t]*"
    return f"^(?:{blank}\\n)*{first}(?:\\n(?:{more}|{blank}))*\\n?$", first, more, blank


DIALPLAN_PATTERN, _FIRST, _MORE, _BLANK = _grammar()
_GRAMMAR = re.compile(DIALPLAN_PATTERN)
_FIRST_LINE, _MORE_LINE, _BLANK_LINE = (re.compile(f"^(?:{p})$") for p in (_FIRST, _MORE, _BLANK))


def refuse(line: int, message: str, code: str = "invalid_dialplan") -> DomainError:
    return DomainError(f"Line {line}: {message}", code=code, field="dialplan",
                       extra={"line": line})


def check_lines(dialplan: str) -> list[str]:
    """The text against the grammar (DIALPLAN_PATTERN); the first line that breaks it is named."""
    if len(dialplan) > MAX_DIALPLAN_CHARS:
        raise DomainError(f"At most {MAX_DIALPLAN_CHARS} characters.", code="invalid_dialplan", field="dialplan")
    lines = dialplan.split("\n")
    if _GRAMMAR.match(dialplan):
        return lines
    seen_code = False
    for number, line in enumerate(lines, start=1):
        if _BLANK_LINE.match(line):
            continue
        if not seen_code:
            if not _FIRST_LINE.match(line):
                raise refuse(number, "the first line of code must be `exten => s,1,<Application>(...)` with an "
                                     "allowed application (" + ", ".join(sorted(ALLOWED_APPS)) + ").")
            seen_code = True
        elif not _MORE_LINE.match(line):
            raise refuse(number, "not a `same => n,<Application>(...)` or `include => <context>` line, or it "
                                 "uses an application or function that is not allowed, a label, a section, a "
                                 "directive or a control character.")
    raise DomainError("The dialplan needs an `exten => s,1,...` line: it is entered at s,1.",
                      code="invalid_dialplan", field="dialplan")


def _target_problem(target_ctx: str, own: set[str]) -> tuple[str, str] | None:
    if target_ctx in own:
        return None
    if "${" in target_ctx or "$[" in target_ctx:
        return "foreign_context", "a jump to a computed context could reach another tenant's."
    if _PORTAL_CONTEXT.match(target_ctx):
        return "foreign_context", f"{target_ctx} is not a context of this tenant."
    return "reference_not_found", f"there is no context {target_ctx}."


def check_in_context(*, lines: list[str], first_line: int, context: str, contexts: dict, own: set[str],
                     errors: list[str]) -> None:
    """``contexts``: the parsed rendering; ``first_line``: the file line of the user's line 1;
    ``own``: the contexts this tenant's rendering defines; ``errors``: the checker's messages."""
    from apps.pbx.render.confcheck import goto_targets

    def user_line(file_line: int) -> int:
        return file_line - first_line + 1

    def in_range(message: str) -> int | None:
        match = re.search(r"(?:extensions\.conf:|^line )(\d+)", message)
        if match and first_line <= int(match.group(1)) < first_line + len(lines):
            return int(match.group(1))
        return None

    for message in errors:  # lines Asterisk would not load as written
        if message.startswith("extensions.conf:") and in_range(message):
            text = re.sub(r"^extensions\.conf:\d+: ", "", message)
            raise refuse(user_line(in_range(message)), text)
    ctx = contexts.get(context)
    if ctx is None or "s" not in ctx.extensions:
        raise DomainError("The dialplan needs an `exten => s,1,...` line: it is entered at s,1.",
                          code="invalid_dialplan", field="dialplan")
    for inc in ctx.includes:
        problem = _target_problem(inc, own)
        if problem:
            number = next((i for i, ln in enumerate(lines, 1) if ln.strip().startswith("include")
                           and ln.split("=>", 1)[1].strip() == inc), 1)
            raise refuse(number, f"include of {inc}: {problem[1]}", problem[0])
    for prios in ctx.extensions.values():
        for prio in prios:
            number = user_line(prio.line)
            app = canonical_app(prio.app)  # any case: GOTO() jumps like Goto()
            calls = [(app, prio.args)]
            if app == "ExecIf" and "?" in prio.args:
                calls += [(canonical_app(name), args) for name, args in
                          re.findall(r"([A-Za-z]+)\(((?:[^()]|\([^()]*\))*)\)", prio.args.split("?", 1)[1])]
            for app_name, args in calls:
                if app_name not in JUMP_APPS:
                    continue
                for target in goto_targets("GotoIf" if app_name == "GosubIf" else app_name, args):
                    target = [t.strip() for t in target]
                    problem = _target_problem(target[0], own) if len(target) == 3 else None
                    if problem:
                        raise refuse(number, f"{app_name} to {target[0]}: {problem[1]}", problem[0])
    for message in errors:  # jumps to extensions or priorities that do not exist
        if in_range(message):
            text = re.sub(r"^line \d+: ", "", message)
            raise refuse(user_line(in_range(message)), text, "reference_not_found")
