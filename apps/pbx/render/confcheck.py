"""A parser and validator for the Asterisk config we render.

Used before every push (a configuration that fails here is never written to a server) and by
the tests. It knows the subset of Asterisk's syntax we emit and is strict about it:

- files: ``[section]`` / ``[section](!)`` / ``[section](template)``, ``key = value`` and
  ``key => value``, ``;`` comments (``\\;`` is a literal semicolon); nothing before the first
  section; no ``#include``/``#exec``.
- extensions.conf: ``exten => name,1[(label)],App(args)`` then ``same => n[(label)],App(args)``;
  an extension starts at priority 1; labels are unique per extension; no context is defined twice;
  ``include`` and every ``Goto``/``GotoIf``/``GotoIfTime`` target resolves (context, extension
  - literal or pattern, through includes - and priority or label), unless it is computed at run
  time (``${...}``).
- pjsip.conf: every object has a type; no two objects share a (name, type); endpoints' auth, aors,
  outbound_auth, transport and context exist; registrations and identifies name real objects.
- across files: ``Dial(PJSIP/<endpoint>)``, ``Queue(<name>)``, ``VoiceMail(<box>@<context>)``,
  queue members and endpoint mailboxes exist.
- musiconhold.conf (when given): known modes, one plain directory per mode=files class, a
  ``default`` class, no class twice, and every queue's ``musicclass`` defined there.

``validate(files)`` returns a list of problems (empty when the bundle is good).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

SECTION_RE = re.compile(r"^\[([^\[\]]+)\](?:\(([^()]*)\))?$")
ITEM_RE = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(=>|=)\s*(.*)$")
PRIORITY_RE = re.compile(r"^(\d+|n)(?:\(([A-Za-z0-9_-]+)\))?$")
APP_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\((.*)\)$", re.S)
NO_SECTION_FILES = ()


class ConfError(ValueError):
    pass


@dataclass
class Item:
    key: str
    op: str
    value: str
    line: int


@dataclass
class Section:
    name: str
    line: int
    template: bool = False
    parents: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def get(self, key: str) -> list[str]:
        return [i.value for i in self.items if i.key == key]


_COMMENT = re.compile(r"(?<!\\);")


def _strip_comment(line: str) -> str:
    """Cut at the first ``;`` that is not escaped; ``\\;`` is a literal semicolon."""
    if ";" not in line:
        return line.strip()
    match = _COMMENT.search(line)
    if match:
        line = line[:match.start()]
    return line.replace("\\;", ";").strip()


def parse(text: str, filename: str = "<conf>") -> list[Section]:
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw) if ";" in raw else raw.strip()
        if not line:
            continue
        if line[0] == "#":
            raise ConfError(f"{filename}:{number}: directives ({line.split()[0]}) are not allowed in rendered files")
        match = SECTION_RE.match(line) if line[0] == "[" else None
        if match:
            options = [o.strip() for o in (match.group(2) or "").split(",") if o.strip()]
            sections.append(Section(match.group(1).strip(), number, "!" in options,
                                    [o for o in options if o != "!"]))
            continue
        match = ITEM_RE.match(line)
        if not match:
            raise ConfError(f"{filename}:{number}: not a section or key/value line: {raw.strip()[:80]!r}")
        if not sections:
            raise ConfError(f"{filename}:{number}: {match.group(1)} before the first [section]")
        sections[-1].items.append(Item(match.group(1), match.group(2), match.group(3).strip(), number))
    return sections


# --- dialplan ---------------------------------------------------------------------------------

@dataclass
class Priority:
    number: int
    label: str
    app: str
    args: str
    line: int


@dataclass
class Context:
    name: str
    extensions: dict[str, list[Priority]] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    _patterns: list | None = None

    @property
    def patterns(self) -> list[tuple[re.Pattern, list[Priority]]]:
        if self._patterns is None:
            self._patterns = [(pattern_regex(name), prios) for name, prios in sorted(self.extensions.items())
                              if name.startswith("_")]
        return self._patterns


def split_args(args: str) -> list[str]:
    """Split application arguments on top-level commas (not inside (), [] or ${})."""
    parts, depth, current = [], 0, []
    for ch in args:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _balanced(value: str) -> bool:
    """Brackets pair up (counted, which is what matters for the argument splitting Asterisk does)."""
    return (value.count("(") == value.count(")") and value.count("[") == value.count("]")
            and value.count("{") == value.count("}"))


def parse_dialplan(text: str, filename: str = "extensions.conf") -> tuple[dict[str, Context], list[str]]:
    errors: list[str] = []
    contexts: dict[str, Context] = {}
    for section in parse(text, filename):
        if section.name in ("general", "globals"):
            continue
        if section.name in contexts:
            errors.append(f"{filename}:{section.line}: context {section.name} defined twice")
            continue
        ctx = contexts[section.name] = Context(section.name)
        current: str | None = None
        for item in section.items:
            where = item.line  # only formatted when there is something to say
            if item.key == "include" and item.op == "=>":
                ctx.includes.append(item.value)
                continue
            if item.key not in ("exten", "same") or item.op != "=>":
                errors.append(f"{filename}:{where}: unexpected {item.key} {item.op} in context {ctx.name}")
                continue
            parts = item.value.split(",", 2) if item.key == "exten" else [current or "", *item.value.split(",", 1)]
            if len(parts) != 3:
                errors.append(f"{filename}:{where}: expected name,priority,application")
                continue
            name, priority, app = parts[0].strip(), parts[1].strip(), parts[2].strip()
            if item.key == "same" and current is None:
                errors.append(f"{filename}:{where}: 'same' before any 'exten' in {ctx.name}")
                continue
            match = PRIORITY_RE.match(priority)
            app_match = APP_RE.match(app)
            if not match or not app_match or not _balanced(app_match.group(2)):
                errors.append(f"{filename}:{where}: bad priority or application: {item.value[:80]!r}")
                continue
            prios = ctx.extensions.setdefault(name, [])
            if item.key == "exten":
                if match.group(1) == "n" or (int(match.group(1)) == 1) != (not prios):
                    errors.append(f"{filename}:{where}: extension {name} in {ctx.name} must start at priority 1, once")
                    continue
                current = name
            number = len(prios) + 1 if match.group(1) == "n" else int(match.group(1))
            if number != len(prios) + 1:
                errors.append(f"{filename}:{where}: priority {number} of {name} in {ctx.name} is out of sequence")
            label = match.group(2) or ""
            if label and any(p.label == label for p in prios):
                errors.append(f"{filename}:{where}: label {label} repeated in {ctx.name},{name}")
            prios.append(Priority(number, label, app_match.group(1), app_match.group(2), item.line))
    for ctx in contexts.values():
        for inc in ctx.includes:
            if inc not in contexts:
                errors.append(f"{filename}: {ctx.name} includes unknown context {inc}")
    return contexts, errors


@lru_cache(maxsize=4096)
def pattern_regex(pattern: str) -> re.Pattern:
    out, i, body = [], 0, pattern[1:]
    while i < len(body):
        ch = body[i].upper() if body[i] in "xzn" else body[i]
        if ch == "X":
            out.append("[0-9]")
        elif ch == "Z":
            out.append("[1-9]")
        elif ch == "N":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch == "[":
            end = body.index("]", i)
            out.append("[" + re.sub(r"([\\^])", r"\\\1", body[i + 1:end]) + "]")
            i = end
        elif ch == "-":
            pass
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def find_extension(contexts: dict[str, Context], ctx_name: str, exten: str, seen=None) -> list[Priority] | None:
    """The priorities ``exten`` reaches in ``ctx_name`` (exact, then patterns, then includes)."""
    seen = seen or set()
    ctx = contexts.get(ctx_name)
    if ctx is None or ctx_name in seen:
        return None
    seen.add(ctx_name)
    if exten in ctx.extensions:
        return ctx.extensions[exten]
    for regex, prios in ctx.patterns:
        if regex.match(exten):
            return prios
    for inc in ctx.includes:
        found = find_extension(contexts, inc, exten, seen)
        if found is not None:
            return found
    return None


def _pattern_tokens(pattern: str) -> list[str]:
    """``_1[2-4]X.`` -> ["[1]", "[2-4]", "[0-9]", "."]: one regex class per digit position."""
    regex = pattern_regex(pattern).pattern[1:-1]
    return re.findall(r"\[[^\]]*\]|\.\+|\.\*|\\.|.", regex)


def matches_more(contexts: dict[str, Context], ctx_name: str, exten: str, seen=None) -> bool:
    """Whether more digits after ``exten`` could still reach another extension of ``ctx_name``
    (its own or through includes): what Asterisk's ast_matchmore_extension asks after each digit a
    caller presses in Background()/WaitExten(). True means the caller waits TIMEOUT(digit)."""
    seen = seen or set()
    ctx = contexts.get(ctx_name)
    if ctx is None or ctx_name in seen:
        return False
    seen.add(ctx_name)
    for name in ctx.extensions:
        if not name.startswith("_"):
            if len(name) > len(exten) and name.startswith(exten):
                return True
            continue
        tokens = _pattern_tokens(name)
        for index, char in enumerate(exten):
            if index >= len(tokens):
                break
            token = tokens[index]
            if token in (".+", ".*"):
                return True
            if not re.fullmatch(token, char):
                break
        else:
            if len(tokens) > len(exten):
                return True
    return any(matches_more(contexts, inc, exten, seen) for inc in ctx.includes)


def goto_targets(app: str, args: str) -> list[list[str]]:
    """The [context,]extension,]priority targets an application can jump to (its name in any case,
    as Asterisk finds applications)."""
    app = app.casefold()
    if app in ("goto", "gosub"):
        return [split_args(args)]
    if app in ("gotoif", "gotoiftime") and "?" in args:
        branches = args.rsplit("?", 1)[1]
        return [split_args(b) for b in branches.split(":") if b.strip()]
    return []


def check_dialplan(contexts: dict[str, Context]) -> list[str]:
    errors: list[str] = []
    for ctx in contexts.values():
        for exten, prios in ctx.extensions.items():
            for prio in prios:
                for target in goto_targets(prio.app, prio.args):
                    problem = _check_target(contexts, ctx.name, exten, prios, target)
                    if problem:
                        errors.append(f"line {prio.line}: {ctx.name},{exten}: {prio.app} target "
                                      f"{','.join(target)}: {problem}")
    return errors


def _check_target(contexts, ctx_name, exten, prios, target) -> str | None:
    target = [t.strip() for t in target]
    if len(target) == 1:
        target = [ctx_name, exten, target[0]]
    elif len(target) == 2:
        target = [ctx_name, *target]
    elif len(target) != 3:
        return "wrong number of parts"
    context, extension, priority = target
    priority = re.sub(r"\(.*\)$", "", priority)  # Gosub(context,exten,1(arg1,arg2))
    if "${" in context:
        return None
    if context not in contexts:
        return "no such context"
    if "${" in extension:
        return None
    reached = prios if (context == ctx_name and extension == exten) else find_extension(contexts, context, extension)
    if reached is None:
        return "no such extension"
    if "${" in priority or priority.isdigit() and int(priority) <= len(reached):
        return None
    if any(p.label == priority for p in reached):
        return None
    return "no such priority or label"


# --- pjsip ---------------------------------------------------------------------------------------

def pjsip_objects(sections: list[Section]) -> tuple[dict[tuple[str, str], Section], list[str]]:
    """(name, type) -> section for every concrete object; templates resolved for ``type``."""
    templates = {s.name: s for s in sections if s.template}
    objects: dict[tuple[str, str], Section] = {}
    errors: list[str] = []
    for s in sections:
        if s.template:
            continue
        types = s.get("type")
        for parent in s.parents:
            if parent not in templates:
                errors.append(f"pjsip.conf:{s.line}: [{s.name}] uses unknown template {parent}")
            else:
                types = types or templates[parent].get("type")
        if len(types) != 1:
            errors.append(f"pjsip.conf:{s.line}: [{s.name}] must have exactly one type")
            continue
        key = (s.name, types[0])
        if key in objects:
            errors.append(f"pjsip.conf:{s.line}: duplicate {types[0]} {s.name}")
        objects[key] = s
    return objects, errors


def _values(section: Section, key: str) -> list[str]:
    return [v.strip() for value in section.get(key) for v in value.split(",") if v.strip()]


def check_pjsip(objects, contexts, mailboxes) -> list[str]:
    errors = []
    for (name, kind), s in sorted(objects.items()):
        refs = []
        if kind == "endpoint":
            refs = [("auth", a) for a in _values(s, "auth")] + [("aor", a) for a in _values(s, "aors")]
            refs += [("auth", a) for a in _values(s, "outbound_auth")]
            refs += [("transport", t) for t in _values(s, "transport")]
            for ctx in s.get("context"):
                if contexts is not None and ctx not in contexts:
                    errors.append(f"endpoint {name}: context {ctx} does not exist")
            for box in _values(s, "mailboxes"):
                if mailboxes is not None and box not in mailboxes:
                    errors.append(f"endpoint {name}: mailbox {box} does not exist")
        elif kind == "registration":
            refs = [("auth", a) for a in _values(s, "outbound_auth")] + [("endpoint", e) for e in _values(s, "endpoint")]
            refs += [("transport", t) for t in _values(s, "transport")]
        elif kind == "identify":
            refs = [("endpoint", e) for e in _values(s, "endpoint")]
            if not s.get("match"):
                errors.append(f"identify {name}: no match")
        for ref_kind, ref in refs:
            if (ref, ref_kind) not in objects:
                errors.append(f"{kind} {name}: {ref_kind} {ref} does not exist")
    return errors


# --- the whole bundle ----------------------------------------------------------------------------

def references(contexts: dict[str, Context]):
    """(context, kind, target) for everything a context can reach: includes, jump targets'
    contexts, PJSIP endpoints dialled, queues and mailboxes. Used by the isolation tests."""
    for ctx in contexts.values():
        for inc in ctx.includes:
            yield ctx.name, "include", inc
        for prios in ctx.extensions.values():
            for p in prios:
                for target in goto_targets(p.app, p.args):
                    if len(target) == 3:
                        yield ctx.name, "context", target[0].strip()
                if p.app in ("Dial", "Page"):
                    for dest in split_args(p.args)[0].split("&"):
                        tech, _, rest = dest.partition("/")
                        if tech == "Local":  # Local/<exten>@<context>[/n]: a jump into that context
                            yield ctx.name, "context", rest.partition("@")[2].split("/")[0]
                            continue
                        yield ctx.name, "endpoint", rest.rsplit("@", 1)[-1] if "@" in rest else rest
                elif p.app == "Queue":
                    yield ctx.name, "queue", split_args(p.args)[0]
                elif p.app in ("VoiceMail", "VoiceMailMain"):
                    yield ctx.name, "voicemail", split_args(p.args)[0]
                elif p.app == "ExecIf" or p.app == "Set":
                    for inner in re.findall(r"(Goto|Dial|Queue)\(", p.args):
                        yield ctx.name, "nested", inner


MOH_MODES = {"files", "mp3", "quietmp3", "mp3nb", "quietmp3nb", "custom", "playlist"}
MOH_SORTS = {"random", "alpha", "randstart"}


def check_musiconhold(text: str, queue_sections: list[Section]) -> list[str]:
    """musiconhold.conf: ``[general]``, then classes with a known mode, an (absolute, or relative to
    the data directory) ``directory`` for mode files, no class twice; every queue's ``musicclass``
    names one of them."""
    errors: list[str] = []
    try:
        sections = parse(text, "musiconhold.conf")
    except ConfError as exc:
        return [str(exc)]
    classes: set[str] = set()
    for s in sections:
        if s.name == "general":
            continue
        if s.name in classes:
            errors.append(f"musiconhold.conf:{s.line}: class {s.name} defined twice")
        classes.add(s.name)
        mode, directory, sort = s.get("mode"), s.get("directory"), s.get("sort")
        if len(mode) != 1 or mode[0] not in MOH_MODES:
            errors.append(f"musiconhold.conf:{s.line}: class {s.name}: mode must be one of {sorted(MOH_MODES)}")
        elif mode[0] == "files" and (len(directory) != 1 or not re.match(r"^/?[A-Za-z0-9_][A-Za-z0-9._/-]*$",
                                                                        directory[0]) or ".." in directory[0]):
            errors.append(f"musiconhold.conf:{s.line}: class {s.name}: mode files needs one plain directory")
        if sort and (len(sort) != 1 or sort[0] not in MOH_SORTS):
            errors.append(f"musiconhold.conf:{s.line}: class {s.name}: sort must be one of {sorted(MOH_SORTS)}")
        unknown = {i.key for i in s.items} - {"mode", "directory", "sort", "application", "format", "digit",
                                               "announcement", "kill_escalation_delay", "kill_method"}
        if unknown:
            errors.append(f"musiconhold.conf:{s.line}: class {s.name}: unknown options {sorted(unknown)}")
    if "default" not in classes:
        errors.append("musiconhold.conf: no default class")
    for s in queue_sections:
        for value in s.get("musicclass"):
            if value not in classes:
                errors.append(f"queues.conf: queue {s.name}: musicclass {value} is not in musiconhold.conf")
    return errors


def validate(files: dict[str, str]) -> list[str]:
    errors: list[str] = []
    try:
        contexts, dp_errors = parse_dialplan(files.get("extensions.conf", ""))
        errors += dp_errors + check_dialplan(contexts)
        pjsip_sections = parse(files.get("pjsip.conf", ""), "pjsip.conf")
        queue_sections = parse(files.get("queues.conf", ""), "queues.conf")
        vm_sections = parse(files.get("voicemail.conf", ""), "voicemail.conf")
    except ConfError as exc:
        return errors + [str(exc)]
    if "musiconhold.conf" in files:
        errors += check_musiconhold(files["musiconhold.conf"], queue_sections)
    objects, pj_errors = pjsip_objects(pjsip_sections)
    errors += pj_errors
    mailboxes, vm_contexts = set(), set()
    for s in vm_sections:
        if s.name in ("general", "zonemessages"):
            continue
        if s.name in vm_contexts:
            errors.append(f"voicemail.conf:{s.line}: context {s.name} defined twice")
        vm_contexts.add(s.name)
        for item in s.items:
            box = f"{item.key}@{s.name}"
            if item.op != "=>" or box in mailboxes:
                errors.append(f"voicemail.conf:{item.line}: bad or repeated mailbox {box}")
            mailboxes.add(box)
    errors += check_pjsip(objects, contexts, mailboxes)
    queues, endpoints = set(), {name for (name, kind) in objects if kind == "endpoint"}
    for s in queue_sections:
        if s.name == "general":
            continue
        if s.name in queues:
            errors.append(f"queues.conf:{s.line}: queue {s.name} defined twice")
        queues.add(s.name)
        for member in s.get("member"):
            iface = member.split(",")[0]
            if not iface.startswith("PJSIP/") or iface[6:] not in endpoints:
                errors.append(f"queues.conf: queue {s.name}: member {iface} is not a PJSIP endpoint here")
    for ctx_name, kind, target in references(contexts):
        if "${" in target:
            continue
        if kind == "endpoint" and target not in endpoints:
            errors.append(f"extensions.conf: {ctx_name} dials unknown endpoint {target}")
        elif kind == "queue" and target not in queues:
            errors.append(f"extensions.conf: {ctx_name} uses unknown queue {target}")
        elif kind == "voicemail":
            box, _, vm_context = target.rpartition("@")
            if vm_context not in vm_contexts or (box and target not in mailboxes):
                errors.append(f"extensions.conf: {ctx_name} uses unknown mailbox {target}")
    from apps.pbx.render import confcheck_features  # apps, functions, Local/Page/Park/ConfBridge targets

    errors += confcheck_features.check(contexts, files)
    return errors
