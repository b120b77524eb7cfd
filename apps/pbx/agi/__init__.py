"""FastAGI server core for dialplan look-ups (`manage.py agi_serve`).

Dialplan: `same => n,AGI(agi://portal-host:4573/crm-lookup,${CALLERID(num)})`.
Asterisk connects, sends the `agi_*` environment, and then answers one line per
command we send. A handler registered for the script path gets the parsed
environment and a channel to talk to:

    from apps.pbx.agi import register

    @register("crm-lookup")
    def crm_lookup(env, channel):
        name = find_contact_name(env.args[0])          # Django code is fine here
        if name:
            channel.set_variable("CALLERID(name)", name)

- protocol.py  AgiEnv, AgiReply, parse_reply, quoting, exceptions
- channel.py   AgiChannel (get_variable, set_variable, verbose, command,
               wait_for_hangup) over a line reader that survives partial reads
- registry.py  register(path)(func), AgiRegistry
- server.py    FastAgiServer (threaded)
This package imports nothing from Django.
"""

from .channel import AgiChannel
from .protocol import (
    AgiCommandError,
    AgiEnv,
    AgiError,
    AgiHangup,
    AgiReply,
    AgiTimeout,
    parse_reply,
    quote,
)
from .registry import AgiRegistry, register, registry
from .server import FastAgiServer

__all__ = [
    "AgiChannel",
    "AgiCommandError",
    "AgiEnv",
    "AgiError",
    "AgiHangup",
    "AgiRegistry",
    "AgiReply",
    "AgiTimeout",
    "FastAgiServer",
    "parse_reply",
    "quote",
    "register",
    "registry",
]
