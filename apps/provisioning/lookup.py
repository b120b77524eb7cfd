"""The two reads behind every file a phone fetches, in two SQL statements.

This is the hot path of provisioning (issue 12: a file in <= 20 ms p99, also when a whole office
reboots at once), so it reads with plain SQL built from the models' own table and column names:

    device   the platform index row of the MAC, its tenant and the tenant's primary server
             (public tables, one statement)
    phone    the phone, its lines and their extensions (and the tenant's voicemail feature
             code), with schema-qualified table names, so
             the connection's search path is never switched (no SET round trips) and no ORM
             query is compiled per request

Encrypted columns are decrypted here (``thirdlane.crypto.decrypt``), as the model fields would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db import connection
from django.utils import timezone

from apps.pbx.models import Server
from apps.pbx.render.names import endpoint
from apps.provisioning.models import Phone, PhoneLine
from apps.provisioning.registry.models import Device
from apps.telephony.features import BY_KEY
from apps.telephony.models import Extension, FeatureCode
from apps.tenants.models import Tenant
from thirdlane.crypto import decrypt


@dataclass
class ServerRow:
    id: int
    name: str
    sip_address: str
    sip_port: int
    is_active: bool


@dataclass
class TenantRow:
    id: int
    slug: str
    name: str
    timezone: str
    status: str
    schema_name: str

    @property
    def is_active(self) -> bool:
        return self.status == Tenant.Status.ACTIVE


@dataclass
class DeviceRow:
    id: int
    mac: str
    phone_id: int
    password: str
    previous_password: str
    previous_valid_until: datetime | None
    last_seen_at: datetime | None
    last_seen_ip: str | None
    tenant: TenantRow
    server: ServerRow | None

    def passwords(self) -> list[str]:
        if self.previous_password and self.previous_valid_until and self.previous_valid_until > timezone.now():
            return [self.password, self.previous_password]
        return [self.password]


@dataclass
class ExtensionRow:
    number: str
    name: str
    caller_id_name: str
    sip_secret: str
    voicemail_enabled: bool
    enabled: bool

    def phone_username_for(self, slug: str) -> str:
        return endpoint(self.number, slug)  # the PJSIP endpoint, named as apps.pbx.render names it


@dataclass
class LineRow:
    position: int
    label: str
    extension: ExtensionRow


@dataclass
class PhoneRow:
    id: int
    mac: str
    vendor: str
    model: str
    name: str
    admin_password: str
    enabled: bool
    voicemail_code: str = ""  # the tenant's voicemail feature code; "" when turned off
    lines: list[LineRow] = field(default_factory=list)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _cols(model, alias: str, names: list[str]) -> str:
    return ", ".join(f"{alias}.{_q(model._meta.get_field(n).column)}" for n in names)


DEVICE_FIELDS = ["id", "mac", "phone_id", "password", "previous_password", "previous_valid_until", "last_seen_at",
                 "last_seen_ip"]
TENANT_FIELDS = ["id", "slug", "name", "timezone", "status", "schema_name"]
SERVER_FIELDS = ["id", "name", "sip_address", "sip_port", "is_active"]
PHONE_FIELDS = ["id", "mac", "vendor", "model", "name", "admin_password", "enabled"]
LINE_FIELDS = ["position", "label"]
EXTENSION_FIELDS = ["number", "name", "caller_id_name", "sip_secret", "voicemail_enabled", "enabled"]


@lru_cache(maxsize=1)
def _device_sql() -> str:
    public = _q("public")
    tenant_id = _q(Device._meta.get_field("tenant").column)
    server_id = _q(Tenant._meta.get_field("primary_server").column)
    return (f"SELECT {_cols(Device, 'd', DEVICE_FIELDS)}, {_cols(Tenant, 't', TENANT_FIELDS)}, "
            f"{_cols(Server, 's', SERVER_FIELDS)} "
            f"FROM {public}.{_q(Device._meta.db_table)} d "
            f"JOIN {public}.{_q(Tenant._meta.db_table)} t ON t.{_q('id')} = d.{tenant_id} "
            f"LEFT JOIN {public}.{_q(Server._meta.db_table)} s ON s.{_q('id')} = t.{server_id} "
            f"WHERE d.{_q('mac')} = %s")


def device(mac: str) -> DeviceRow | None:
    with connection.cursor() as cursor:
        cursor.execute(_device_sql(), [mac])
        row = cursor.fetchone()
    if row is None:
        return None
    d = dict(zip(DEVICE_FIELDS, row[:8]))
    tenant = TenantRow(*row[8:14])
    server = ServerRow(*row[14:19]) if row[14] is not None else None
    return DeviceRow(d["id"], d["mac"], d["phone_id"], decrypt(d["password"]),
                     decrypt(d["previous_password"]) if d["previous_password"] else "", d["previous_valid_until"],
                     d["last_seen_at"], d["last_seen_ip"], tenant, server)


def _phone_sql(schema: str) -> str:
    def table(model) -> str:
        return f"{_q(schema)}.{_q(model._meta.db_table)}"

    code, enabled, feature = (_q(FeatureCode._meta.get_field(n).column) for n in ("code", "enabled", "feature"))
    voicemail = (f"(SELECT CASE WHEN fc.{enabled} THEN fc.{code} ELSE '' END FROM {table(FeatureCode)} fc "
                 f"WHERE fc.{feature} = 'voicemail')")
    return (f"SELECT {_cols(Phone, 'p', PHONE_FIELDS)}, {_cols(PhoneLine, 'l', LINE_FIELDS)}, "
            f"{_cols(Extension, 'e', EXTENSION_FIELDS)}, {voicemail} "
            f"FROM {table(Phone)} p "
            f"LEFT JOIN {table(PhoneLine)} l ON l.{_q(PhoneLine._meta.get_field('phone').column)} = p.{_q('id')} "
            f"LEFT JOIN {table(Extension)} e ON e.{_q('id')} = l.{_q(PhoneLine._meta.get_field('extension').column)} "
            f"WHERE p.{_q('id')} = %s ORDER BY l.{_q('position')}")


def phone(found: DeviceRow) -> PhoneRow | None:
    """The phone with its lines (in position order) and their extensions, from its tenant's schema."""
    with connection.cursor() as cursor:
        cursor.execute(_phone_sql(found.tenant.schema_name), [found.phone_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = dict(zip(PHONE_FIELDS, rows[0][:7]))
    voicemail = rows[0][15]
    result = PhoneRow(first["id"], first["mac"], first["vendor"], first["model"], first["name"],
                      decrypt(first["admin_password"]) if first["admin_password"] else "", first["enabled"],
                      BY_KEY["voicemail"].default if voicemail is None else voicemail)
    for row in rows:
        if row[7] is None:  # a phone without lines
            continue
        ext = dict(zip(EXTENSION_FIELDS, row[9:15]))
        ext["sip_secret"] = decrypt(ext["sip_secret"]) if ext["sip_secret"] else ""
        result.lines.append(LineRow(row[7], row[8], ExtensionRow(**ext)))
    return result
