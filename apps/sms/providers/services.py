"""Writes of SMS providers: create, update, delete, rotate the signing secret or the provider key.

The signing secret (``whsec_...``) signs what the portal POSTs to the adapter; during a rotation
the old one keeps signing beside the new one for ``overlap_hours`` (two ``v1,`` signatures), so
an adapter can be switched over without dropping a message. The provider key authenticates the
adapter's POSTs back to the portal; it is shown once and stored as a SHA-256 digest.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.sms.providers.models import SmsProvider
from apps.webhooks import targets
from apps.webhooks.signing import new_secret, valid_secret
from thirdlane.api.errors import DomainError
from thirdlane.services import check_fields, clean, delete, record_change, save

FIELDS = {"name", "url", "tenant", "reseller", "require_signature", "enabled", "timeout_seconds", "secret"}
KEY_PREFIX = "smsk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(provider: SmsProvider, key: str) -> bool:
    return bool(provider.key_hash) and hmac.compare_digest(provider.key_hash, key_digest(key or ""))


def _set_key(provider: SmsProvider) -> str:
    key = new_key()
    provider.key_prefix, provider.key_hash = key[:12], key_digest(key)
    return key


def _owner_kwargs(provider: SmsProvider) -> dict:
    return {"tenant": provider.tenant} if provider.tenant_id else {"reseller_id": provider.reseller_id}


def _check_fields(fields: dict) -> None:
    """The adapter's URL obeys the webhook targets' rules (no loopback, private, link-local or
    metadata address unless WEBHOOK_ALLOW_PRIVATE_TARGETS; every POST checks again); a secret of
    the caller's own is a real ``whsec_`` secret."""
    if fields.get("url"):
        try:
            targets.check_url_statically(fields["url"])
        except targets.TargetRefused as exc:
            raise DomainError(str(exc), code="webhook_target_refused", field="url") from exc
    if "secret" in fields and not valid_secret(fields["secret"] or ""):
        raise DomainError("A secret is whsec_ and the base64 of 24-64 random bytes.", code="weak_secret",
                          field="secret")


@transaction.atomic
def provider_create(*, actor, **fields: Any) -> SmsProvider:
    """A new provider; ``provider.secret`` and ``provider.key`` (only now) are what the adapter needs."""
    check_fields(fields, FIELDS)
    _check_fields(fields)
    fields.setdefault("secret", new_secret())
    provider = SmsProvider(**fields, created_by=str(getattr(actor, "label", "") or "")[:150])
    key = _set_key(provider)
    clean(provider)
    save(provider)
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=provider, **_owner_kwargs(provider))
    provider.key = key
    return provider


@transaction.atomic
def provider_update(*, actor, instance: SmsProvider, **fields: Any) -> SmsProvider:
    check_fields(fields, FIELDS - {"tenant", "reseller"})
    _check_fields(fields)
    provider = SmsProvider.objects.select_for_update().get(pk=instance.pk)
    before = snapshot(provider)
    for name, value in fields.items():
        setattr(provider, name, value)
    clean(provider)
    save(provider)
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=provider, before=before,
                  **_owner_kwargs(provider))
    return provider


@transaction.atomic
def provider_rotate_secret(*, actor, instance: SmsProvider, overlap_hours: int = 24) -> SmsProvider:
    """A new signing secret now; the old one keeps signing beside it for ``overlap_hours``."""
    provider = SmsProvider.objects.select_for_update().get(pk=instance.pk)
    before = snapshot(provider)
    provider.previous_secret = provider.secret if overlap_hours > 0 else ""
    provider.previous_secret_expires_at = timezone.now() + timedelta(hours=overlap_hours) if overlap_hours else None
    provider.secret = new_secret()
    provider.save()
    record_change(actor=actor, action=AuditEntry.Action.ACTION, instance=provider, before=before,
                  verb="sms_provider.rotate_secret", **_owner_kwargs(provider))
    return provider


@transaction.atomic
def provider_rotate_key(*, actor, instance: SmsProvider) -> SmsProvider:
    """A new provider key; the old one stops working at once. ``provider.key`` is shown only now."""
    provider = SmsProvider.objects.select_for_update().get(pk=instance.pk)
    key = _set_key(provider)
    provider.save(update_fields=["key_prefix", "key_hash", "updated_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, instance=provider,
                  verb="sms_provider.rotate_key", **_owner_kwargs(provider))
    provider.key = key
    return provider


@transaction.atomic
def provider_delete(*, actor, instance: SmsProvider) -> None:
    delete(actor=actor, instance=instance, **_owner_kwargs(instance))


def signing_secrets(provider: SmsProvider) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during a rotation."""
    out = [provider.secret]
    if provider.previous_secret and provider.previous_secret_expires_at and \
            provider.previous_secret_expires_at > timezone.now():
        out.append(provider.previous_secret)
    return out
