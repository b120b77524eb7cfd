"""Reads across an organization's member schemas.

Member data lives in one PostgreSQL schema per tenant. Anything that reads several members at
once (extension counts of the site listing, the shared directory) is ONE SQL statement: a
``UNION ALL`` of one small ``SELECT`` per member schema with fully qualified table names, so
the number of queries stays the same whatever the number of members. Table and column names
come from the models' ``_meta``; schema names come from the tenant rows (``t_<slug>``, fixed at
creation) and are quoted anyway.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from django.apps import apps as django_apps
from django.db.models import Q, Count, F

from apps.organizations import prepared
from apps.organizations.models import Organization, OrganizationMember
from apps.tenants.crossschema import qn, run_over_schemas, table
from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

DIRECTORY_TYPES = ("extension", "contact", "queue")
QUERY_MAX_LENGTH = 100


def _model(label: str):
    try:
        return django_apps.get_model(label)
    except LookupError:  # the app that owns it is not installed (or not built yet)
        return None


# --- site listing ------------------------------------------------------------------------------

def extension_counts(tenants: Iterable[Tenant]) -> dict[int, int]:
    """Extensions per tenant, in one statement over the tenants' schemas."""
    tenants = list(tenants)
    extension = _model("telephony.Extension")
    if not tenants or extension is None:
        return {t.pk: 0 for t in tenants}
    by_schema = {t.schema_name: t.pk for t in tenants}

    def build(schemas: list[str]) -> tuple[str, list]:
        parts, params = [], []
        for schema in schemas:
            parts.append(f"SELECT %s::bigint, count(*) FROM {table(extension, schema)}")
            params.append(by_schema[schema])
        return " UNION ALL ".join(parts), params

    counts = {t.pk: 0 for t in tenants}
    rows = run_over_schemas(build, list(by_schema), [extension._meta.db_table])
    counts.update({tenant_id: count for tenant_id, count in rows})
    return counts


def organization_sites(organization: Organization):
    """The members as sites, with what the listing shows loaded (extension counts come separately)."""
    return (organization.members.select_related("tenant__primary_server__location", "location")
            .order_by("site_code"))


def with_extension_counts(members: list[OrganizationMember]) -> list[OrganizationMember]:
    counts = extension_counts(m.tenant for m in members)
    for member in members:
        member.extension_count = counts.get(member.tenant_id, 0)
    return members


# --- the shared directory ----------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """One kind of directory entry and how to select it from one member schema.

    ``select`` is the column list (``type, id, name, number, email, company, phone_username,
    rank``) over alias ``r`` (the row) and ``q`` (the query); ``joins`` maps an alias to a model
    LEFT JOINed in the same schema on ``ON`` conditions; ``where`` filters.
    """

    type: str
    model: Any
    select: str
    where: str
    joins: tuple[tuple[str, Any, str], ...] = ()

    def from_clause(self, schema: str) -> str:
        sql = f"{table(self.model, schema)} r"
        for alias, model, on in self.joins:
            sql += f" LEFT JOIN {table(model, schema)} {alias} ON {on}"
        return sql

    @property
    def tables(self) -> list[str]:
        return [self.model._meta.db_table] + [model._meta.db_table for _, model, _ in self.joins]


def _rank(name_expr: str, number_expr: str | None) -> str:
    """0 exact, 1 starts with, 2 a word starts with, 3 anywhere; names case-insensitively."""
    number_exact = f" OR {number_expr} = q.raw" if number_expr else ""
    number_prefix = f" OR starts_with({number_expr}, q.raw)" if number_expr else ""
    return (f"CASE WHEN lower({name_expr}) = q.lq{number_exact} THEN 0 "
            f"WHEN starts_with(lower({name_expr}), q.lq){number_prefix} THEN 1 "
            f"WHEN strpos(' ' || lower({name_expr}), ' ' || q.lq) > 0 THEN 2 ELSE 3 END")


def _contains(expr: str, lower: bool = True) -> str:
    return f"strpos(lower({expr}), q.lq) > 0" if lower else f"strpos({expr}, q.raw) > 0"


def _col(alias: str, model, field: str) -> str:
    return f"{alias}.{qn(model._meta.get_field(field).column)}"


def _extension_source() -> Source | None:
    model = _model("telephony.Extension")
    if model is None:
        return None
    name, number, email = (_col("r", model, f) for f in ("name", "number", "email"))
    return Source(
        type="extension", model=model,
        select=(f"'extension'::text, {_col('r', model, 'id')}, {name}::text, {number}::text, {email}::text, "
                f"''::text, {number} || '-' || %(slug)s, {_rank(name, number)}"),
        where=(f"{_col('r', model, 'enabled')} AND "
               f"({_contains(name)} OR {_contains(number, lower=False)} OR {_contains(email)})"),
    )


def _queue_source() -> Source | None:
    model = _model("telephony.Queue")
    if model is None:
        return None
    name, number = _col("r", model, "name"), _col("r", model, "number")
    return Source(
        type="queue", model=model,
        select=(f"'queue'::text, {_col('r', model, 'id')}, {name}::text, {number}::text, ''::text, ''::text, "
                f"NULL::text, {_rank(name, number)}"),
        where=f"({_contains(name)} OR {_contains(number, lower=False)})",
    )


def _contact_source() -> Source | None:
    """CRM contacts marked ``shared_in_directory``; company is the contact's account name."""
    model = _model("crm.Contact")
    if model is None:
        return None
    account = model._meta.get_field("account").related_model
    first, last, email = (_col("r", model, f) for f in ("first_name", "last_name", "email"))
    phones = [_col("r", model, f) for f in ("work_phone", "phone", "mobile")]
    name = f"trim(concat_ws(' ', {first}, {last}))"
    number = "coalesce(" + ", ".join(f"nullif({p}, '')" for p in phones) + ", '')"
    company = f"coalesce({_col('a', account, 'name')}, '')"
    searched = [_contains(name), _contains(email), _contains(company)] + [_contains(p, lower=False) for p in phones]
    return Source(
        type="contact", model=model,
        select=(f"'contact'::text, {_col('r', model, 'id')}, {name}, {number}, {email}::text, {company}::text, "
                f"NULL::text, {_rank(name, number)}"),
        where=f"{_col('r', model, 'shared_in_directory')} AND (" + " OR ".join(searched) + ")",
        joins=(("a", account, f"{_col('a', account, 'id')} = {_col('r', model, 'account')}"),),
    )


def directory_sources(types: Iterable[str] = DIRECTORY_TYPES) -> list[Source]:
    makers = {"extension": _extension_source, "contact": _contact_source, "queue": _queue_source}
    return [s for s in (makers[t]() for t in types) if s is not None]


class DirectoryEntry(NamedTuple):
    type: str
    id: int
    name: str
    number: str
    email: str
    company: str
    phone_username: str | None
    rank: int
    site_code: str
    tenant: str
    site_name: str

    @property
    def intersite_number(self) -> str:
        return f"{self.site_code}{self.number}" if self.type in ("extension", "queue") else ""


@dataclass
class DirectoryPage:
    entries: list[DirectoryEntry]
    total: int


def directory_members(organization: Organization) -> list[OrganizationMember]:
    """The members whose data is in the directory: active tenants only."""
    return list(organization.members.filter(tenant__status=Tenant.Status.ACTIVE)
                .select_related("tenant").order_by("site_code"))


def directory_search(*, organization: Organization | None = None, members: list[OrganizationMember] | None = None,
                     q: str, types: Iterable[str] = DIRECTORY_TYPES, limit: int = 50,
                     offset: int = 0) -> DirectoryPage:
    """Search every member's directory entries in one statement, best matches first, then by name.

    Names compare lower-cased in code-point order (``COLLATE "C"``), so the order is the same
    whatever collation the database was created with. The page and the total come back
    together (``count(*) OVER ()``); only a page past the end, which has no row to carry the
    total, costs a second (count) statement. The statement runs as a prepared statement of the
    connection when it can (``prepared.py``): the first search of a member set prepares it.
    """
    if members is None:
        members = directory_members(organization)
    sources = directory_sources(types)
    if not members or not sources:
        return DirectoryPage([], 0)
    # In tenant order, so the statement's text (and its prepared form) outlives site code changes.
    by_schema = {m.tenant.schema_name: m for m in sorted(members, key=lambda m: m.tenant_id)}
    tables = sorted({table for source in sources for table in source.tables})

    def build(schemas: list[str], count_only: bool = False):
        params: dict[str, Any] = {"lq": q.lower(), "raw": q, "limit": limit, "offset": offset}
        parts = []
        for index, schema in enumerate(schemas):
            member = by_schema[schema]
            params[f"code{index}"] = member.site_code
            params[f"slug{index}"] = member.tenant.slug
            params[f"site{index}"] = member.tenant.name
            for source in sources:
                select = source.select.replace("%(slug)s", f"%(slug{index})s")
                parts.append(f"SELECT {select}, %(code{index})s::text, %(slug{index})s::text, "
                             f"%(site{index})s::text FROM {source.from_clause(schema)}, q WHERE {source.where}")
        head = ("WITH q AS (SELECT %(lq)s::text AS lq, %(raw)s::text AS raw), "
                f"hits({', '.join(DirectoryEntry._fields)}) AS ({' UNION ALL '.join(parts)}) ")
        if count_only:
            return head + "SELECT count(*) FROM hits", params
        return head + ("SELECT hits.*, count(*) OVER () FROM hits "
                       "ORDER BY rank, lower(name) COLLATE \"C\", site_code, number, type, id "
                       "LIMIT %(limit)s OFFSET %(offset)s"), params

    rows = None
    if prepared.enabled():
        sql, params = build(list(by_schema))
        rows = prepared.run(sql, params, identity=",".join(str(m.tenant_id) for m in by_schema.values()))
    if rows is None:
        rows = run_over_schemas(build, list(by_schema), tables)
    if rows:
        return DirectoryPage([DirectoryEntry(*row[:-1]) for row in rows], rows[0][-1])
    if offset == 0:
        return DirectoryPage([], 0)
    counted = run_over_schemas(lambda schemas: build(schemas, count_only=True), list(by_schema), tables)
    return DirectoryPage([], counted[0][0] if counted else 0)


# --- inter-site dialing ------------------------------------------------------------------------

class IntersiteRoute(NamedTuple):
    site_code: str
    tenant_slug: str
    extension_length: int


def intersite_routes(tenant: Tenant, *, server=None) -> list[IntersiteRoute]:
    """What ``tenant``'s dialplan should route by site code: every active member of its
    organization (itself included), as (site code, member tenant slug, extension length),
    ordered by site code.

    Empty when the tenant is in no organization. With ``server``, only members whose primary
    server is that server (their contexts exist in the same Asterisk). One query.
    """
    return intersite_routes_by_tenant([tenant], server=server).get(tenant.pk, [])


def intersite_routes_by_tenant(tenants: Iterable[Tenant], *, server=None) -> dict[int, list[IntersiteRoute]]:
    """``intersite_routes`` for many tenants at once (a server's whole configuration), in one
    query: tenant id -> routes, for the tenants that are in an organization."""
    ids = [t.pk for t in tenants]
    if not ids:
        return {}
    members = (OrganizationMember.objects
               .filter(organization__members__tenant_id__in=ids, tenant__status=Tenant.Status.ACTIVE)
               .annotate(route_for=F("organization__members__tenant_id")))
    if server is not None:
        members = members.filter(tenant__primary_server=server)
    routes: dict[int, list[IntersiteRoute]] = {}
    rows = members.order_by("site_code").values_list("route_for", "site_code", "tenant__slug",
                                                       "tenant__extension_length")
    for route_for, code, slug, length in rows:
        routes.setdefault(route_for, []).append(IntersiteRoute(code, slug, length))
    return routes


# --- organizations visible to a principal ------------------------------------------------------

def organizations_for(principal, queryset=None, *, member_reads: bool = False):
    """The organizations ``principal`` may see; with ``member_reads`` (API reads), a tenant
    credential sees the organization its tenant is a member of."""
    from apps.accounts.models import Scope

    queryset = queryset if queryset is not None else Organization.objects.all()
    visible = principal.scope_q(reseller="reseller", organization="")
    if member_reads and principal.scope == Scope.TENANT and principal.tenant_id:
        # A member reads its own organization: the directory is shared by its sites.
        visible |= Q(members__tenant_id=principal.tenant_id)
    return queryset.filter(visible)


def with_member_count(queryset):
    return queryset.annotate(member_count=Count("members", distinct=True))

