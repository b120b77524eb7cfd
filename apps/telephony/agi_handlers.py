"""FastAGI ``feature-code``: a phone dialled a feature code that changes something the portal owns.

Dialplan (apps/pbx/render/features.py):
``AGI(agi://<portal>:4573/feature-code?tenant=<slug>,<feature>,${TL_EXTEN},<digits after the code>)``.
``TL_EXTEN`` is set by the calling phone's PJSIP endpoint, so the extension is the caller's own.

Call settings (DND, forwards, follow-me) are changed through ``call_settings_apply`` (the same
service, audit entry and ``config.extension.updated`` event as the API); then the new settings
string is written to AstDB ``TL/<tenant>/<number>`` with the new ``settings_version`` (the rendered
dialplan takes it when it is newer than what the last push rendered). Agent codes go through the
contact center's ``agent_action`` (the same as the API's login/logout/pause/unpause of the
caller's agent, in all its queues), or, with a queue number after the code, its
``agent_queue_code`` (log into or out of that queue alone). The handler answers ``TL_FC`` =
``ok`` or ``error`` (the dialplan plays a beep or an error tone); nothing here may leave a call
waiting: any failure is an ``error`` answer.
"""
from __future__ import annotations

import logging

from django.db import close_old_connections
from django_tenants.utils import schema_context

from apps.pbx.agi import register
from apps.pbx.agi.protocol import quote

logger = logging.getLogger(__name__)
AGENT_ACTIONS = {"agent_login": "login", "agent_logout": "logout", "agent_pause": "pause",
                 "agent_unpause": "unpause"}


def settings_of(tenant, ext) -> str:
    from apps.pbx.render.features import settings_value

    return settings_value(ext.settings_version, ext.dnd, ext.forward_always, ext.forward_busy,
                          ext.forward_no_answer, ext.followme_enabled and bool(ext.followme_numbers))


def _apply(tenant, feature: str, number: str, argument: str, channel) -> None:
    from apps.accounts.principal import Principal
    from apps.pbx.render.features import ASTDB_FAMILY, astdb_key
    from apps.telephony.models import Agent, Extension
    from apps.telephony.services import call_settings_apply

    actor = Principal.system("pbx")
    ext = Extension.objects.filter(number=number, enabled=True).first()
    if ext is None:
        raise LookupError(f"no extension {number}")
    if feature in AGENT_ACTIONS:
        from apps.pbx import contact_center

        agent = Agent.objects.filter(extension=ext).first()
        if agent is None:
            raise LookupError(f"extension {number} is not an agent")
        if argument:  # code + queue number: that queue only
            if not argument.isdigit():
                raise LookupError(f"{argument!r} is not a queue number")
            contact_center.agent_queue_code(actor=actor, tenant=tenant, agent=agent, action=AGENT_ACTIONS[feature],
                                            queue=argument)
        else:
            contact_center.agent_action(actor=actor, tenant=tenant, agent=agent, action=AGENT_ACTIONS[feature],
                                        reason="phone" if feature == "agent_pause" else "")
        return
    ext = call_settings_apply(actor=actor, tenant=tenant, extension=ext, feature=feature, argument=argument)
    channel.command("DATABASE PUT", ASTDB_FAMILY, quote(astdb_key(tenant.slug, ext.number)),
                    quote(settings_of(tenant, ext)))


@register("feature-code")
def feature_code(env, channel) -> None:
    from apps.tenants.models import Tenant
    from thirdlane.api.errors import DomainError

    args = env.args + ["", "", ""]
    feature, number, argument = args[0], args[1], args[2]
    result = "error"
    try:
        slug = env.query.get("tenant", "")
        tenant = Tenant.objects.filter(slug=slug, status=Tenant.Status.ACTIVE).first() if slug else None
        if tenant is None or not number.isdigit():
            channel.verbose(f"feature-code: no tenant or extension ({slug!r}, {number!r})", 3)
        else:
            with schema_context(tenant.schema_name):
                _apply(tenant, feature, number, argument, channel)
            result = "ok"
            logger.info("feature code", extra={"tenant": tenant.slug, "feature": feature, "extension": number})
    except (DomainError, LookupError) as exc:
        logger.info("feature code refused: %s", exc, extra={"feature": feature, "extension": number})
        channel.verbose(f"feature-code {feature}: {exc}"[:200], 3)
    finally:
        close_old_connections()
    channel.set_variable("TL_FC", result)
