"""CRM writes. Every create/update/delete goes through ``_save``/``_delete`` with the object's
``Spec``: normalise (E.164 phones, lower-case e-mails), validate (custom fields, uniqueness,
cross-object rules), persist, then ``record_change`` (audit + ``crm.<object>.<verb>`` event) in
the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from django.db import models, transaction
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.crm import customfields
from apps.crm.models import (
    Account, Activity, Campaign, CampaignMember, Contact, ContactList, CustomField, Deal, DealStage, ImportMap, Lead,
    ListMembership, Task,
)
from apps.crm.phones import PhoneError, to_e164
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import clean, delete, record_change, record_created, record_updated, save


def payload(instance: models.Model) -> dict:
    """Event data: the object's fields (ids for relations), as in the audit snapshot."""
    return snapshot(instance)


@dataclass(frozen=True)
class Spec:
    model: type[models.Model]
    noun: str  # event noun: crm.<noun>.created
    custom_type: str | None = None
    phone_fields: tuple[str, ...] = ()
    email_fields: tuple[str, ...] = ()
    unique_fields: tuple[str, ...] = ()  # blank values are not unique
    clean: Callable[[dict, Any], None] | None = None
    m2m: tuple[str, ...] = field(default=())


def _region(tenant) -> str:
    return getattr(tenant, "default_region", "") or "US"


def _phone_region(data: dict, tenant, instance=None) -> str:
    """National numbers are read with the object's own country (given now or stored), else the
    tenant's default region: the same rule as an import row."""
    from apps.crm.countries import region_of

    country = data.get("country") if "country" in data else getattr(instance, "country", "")
    return region_of(str(country or "")) or _region(tenant)


def _normalise(spec: Spec, data: dict, tenant, instance=None) -> None:
    region = _phone_region(data, tenant, instance) if spec.phone_fields else ""
    for name in spec.phone_fields:
        if data.get(name):
            try:
                data[name] = to_e164(str(data[name]), region)
            except PhoneError as exc:
                raise DomainError(str(exc), code="invalid_phone", field=name) from None
    for name in spec.email_fields:
        if data.get(name):
            try:
                data[name] = customfields.parse_email(data[name])
            except customfields.CustomValueError as exc:
                raise Invalid(str(exc), field=name) from None


def _check_unique(spec: Spec, instance: models.Model) -> None:
    for name in spec.unique_fields:
        value = getattr(instance, name)
        if value in ("", None):
            continue
        clash = spec.model.objects.filter(**{name: value}).exclude(pk=instance.pk).values_list("pk", flat=True).first()
        if clash is not None:
            raise Conflict(f"Another {spec.noun} (id {clash}) already has {name} {value!r}.", code="duplicate",
                           field=name)


@transaction.atomic
def _save(spec: Spec, *, actor, tenant, data: dict[str, Any], instance: models.Model | None = None,
          event: bool = True) -> models.Model:
    data = dict(data)
    creating = instance is None or instance.pk is None
    _normalise(spec, data, tenant, instance)
    m2m = {name: data.pop(name) for name in spec.m2m if name in data}
    custom_values = data.pop("custom", None)
    before = None if creating else snapshot(instance)
    if creating:
        instance = spec.model()
    for key, value in data.items():
        setattr(instance, key, value)
    if spec.custom_type is not None and (creating or custom_values is not None):
        instance.custom = customfields.clean_custom(
            object_type=spec.custom_type, model=spec.model, values=custom_values, instance=instance,
            region=_region(tenant), partial=not creating)
    if spec.clean:
        spec.clean(data, instance)
    _check_unique(spec, instance)  # before clean: it names the field and the other object
    clean(instance, unique=True)
    save(instance)
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    prefix = f"crm.{spec.noun}" if event else None
    if creating:
        record_created(actor=actor, instance=instance, tenant=tenant, prefix=prefix, payload=payload(instance))
    else:
        record_updated(actor=actor, instance=instance, before=before, tenant=tenant, prefix=prefix,
                       payload=payload(instance))
    return instance


@transaction.atomic
def _delete(spec: Spec, *, actor, tenant, instance: models.Model) -> None:
    delete(actor=actor, instance=instance, tenant=tenant, prefix=f"crm.{spec.noun}")


# --- cross-object rules -------------------------------------------------------------------------
def _clean_linked(data: dict, instance) -> None:
    if not any(getattr(instance, f"{name}_id") for name in ("contact", "account", "lead", "deal")):
        if isinstance(instance, Activity):
            raise Invalid("An activity must be linked to a contact, an account, a lead or a deal.", field="contact")


def _clean_campaign(data: dict, instance: Campaign) -> None:
    if instance.starts_on and instance.ends_on and instance.ends_on < instance.starts_on:
        raise Invalid("ends_on is before starts_on.", field="ends_on")


def _clean_deal(data: dict, instance: Deal) -> None:
    if "stage" in data or instance.pk is None:
        kind = instance.stage.kind if instance.stage_id else DealStage.Kind.OPEN
        if kind == DealStage.Kind.OPEN:
            instance.closed_at = None
        elif instance.closed_at is None:
            instance.closed_at = timezone.now()
    if instance.amount is not None and instance.amount < 0:
        raise Invalid("amount cannot be negative.", field="amount")


def _clean_task(data: dict, instance: Task) -> None:
    if instance.status == Task.Status.DONE and instance.completed_at is None:
        instance.completed_at = timezone.now()
    elif instance.status != Task.Status.DONE:
        instance.completed_at = None


def _clean_custom_field(data: dict, instance: CustomField) -> None:
    if instance.field_type in (CustomField.FieldType.CHOICE, CustomField.FieldType.MULTI_CHOICE):
        if not instance.choices:
            raise Invalid("Choice fields need at least one choice.", field="choices")
        if len({c.lower() for c in instance.choices}) != len(instance.choices):
            raise Invalid("Choices must be distinct.", field="choices")
    elif instance.choices:
        raise Invalid("Only choice fields have choices.", field="choices")
    if instance.pk:
        old = CustomField.objects.get(pk=instance.pk)
        if (old.name, old.object_type, old.field_type) != (instance.name, instance.object_type, instance.field_type):
            raise Conflict("A custom field's name, object type and type cannot change; create a new field.",
                           field="name")


CONTACT = Spec(Contact, "contact", "contact", ("phone", "mobile", "work_phone"), ("email", "other_email"),
               ("email", "external_id"))
ACCOUNT = Spec(Account, "account", "account", ("phone",), ("email",), ("external_id",))
LEAD = Spec(Lead, "lead", "lead", ("phone",), ("email",))
LIST = Spec(ContactList, "list")
CUSTOM_FIELD = Spec(CustomField, "custom_field", clean=_clean_custom_field)
ACTIVITY = Spec(Activity, "activity", "activity", clean=_clean_linked)
TASK = Spec(Task, "task", "task", clean=_clean_task)
CAMPAIGN = Spec(Campaign, "campaign", "campaign", clean=_clean_campaign, m2m=("lists",))
DEAL = Spec(Deal, "deal", "deal", clean=_clean_deal)
DEAL_STAGE = Spec(DealStage, "deal_stage")
IMPORT_MAP = Spec(ImportMap, "import_map")


# --- one create/update/delete per object, all through _save/_delete ---------------------------------
# Fields are the object's (see its serializer); custom fields go in ``custom``.
def contact_create(*, actor, tenant, **fields: Any) -> Contact:
    return _save(CONTACT, actor=actor, tenant=tenant, data=fields)


def contact_update(*, actor, tenant, instance: Contact, **fields: Any) -> Contact:
    return _save(CONTACT, actor=actor, tenant=tenant, data=fields, instance=instance)


def contact_delete(*, actor, tenant, instance: Contact) -> None:
    _delete(CONTACT, actor=actor, tenant=tenant, instance=instance)


def account_create(*, actor, tenant, **fields: Any) -> Account:
    return _save(ACCOUNT, actor=actor, tenant=tenant, data=fields)


def account_update(*, actor, tenant, instance: Account, **fields: Any) -> Account:
    return _save(ACCOUNT, actor=actor, tenant=tenant, data=fields, instance=instance)


def account_delete(*, actor, tenant, instance: Account) -> None:
    _delete(ACCOUNT, actor=actor, tenant=tenant, instance=instance)


def lead_create(*, actor, tenant, **fields: Any) -> Lead:
    return _save(LEAD, actor=actor, tenant=tenant, data=fields)


def lead_update(*, actor, tenant, instance: Lead, **fields: Any) -> Lead:
    return _save(LEAD, actor=actor, tenant=tenant, data=fields, instance=instance)


def lead_delete(*, actor, tenant, instance: Lead) -> None:
    _delete(LEAD, actor=actor, tenant=tenant, instance=instance)


def list_create(*, actor, tenant, **fields: Any) -> ContactList:
    return _save(LIST, actor=actor, tenant=tenant, data=fields)


def list_update(*, actor, tenant, instance: ContactList, **fields: Any) -> ContactList:
    return _save(LIST, actor=actor, tenant=tenant, data=fields, instance=instance)


def list_delete(*, actor, tenant, instance: ContactList) -> None:
    _delete(LIST, actor=actor, tenant=tenant, instance=instance)


def custom_field_create(*, actor, tenant, **fields: Any) -> CustomField:
    return _save(CUSTOM_FIELD, actor=actor, tenant=tenant, data=fields)


def custom_field_update(*, actor, tenant, instance: CustomField, **fields: Any) -> CustomField:
    return _save(CUSTOM_FIELD, actor=actor, tenant=tenant, data=fields, instance=instance)


def activity_create(*, actor, tenant, **fields: Any) -> Activity:
    return _save(ACTIVITY, actor=actor, tenant=tenant, data=fields)


def activity_update(*, actor, tenant, instance: Activity, **fields: Any) -> Activity:
    return _save(ACTIVITY, actor=actor, tenant=tenant, data=fields, instance=instance)


def activity_delete(*, actor, tenant, instance: Activity) -> None:
    _delete(ACTIVITY, actor=actor, tenant=tenant, instance=instance)


def task_create(*, actor, tenant, **fields: Any) -> Task:
    return _save(TASK, actor=actor, tenant=tenant, data=fields)


def task_update(*, actor, tenant, instance: Task, **fields: Any) -> Task:
    return _save(TASK, actor=actor, tenant=tenant, data=fields, instance=instance)


def task_delete(*, actor, tenant, instance: Task) -> None:
    _delete(TASK, actor=actor, tenant=tenant, instance=instance)


def campaign_create(*, actor, tenant, **fields: Any) -> Campaign:
    return _save(CAMPAIGN, actor=actor, tenant=tenant, data=fields)


def campaign_update(*, actor, tenant, instance: Campaign, **fields: Any) -> Campaign:
    return _save(CAMPAIGN, actor=actor, tenant=tenant, data=fields, instance=instance)


def campaign_delete(*, actor, tenant, instance: Campaign) -> None:
    _delete(CAMPAIGN, actor=actor, tenant=tenant, instance=instance)


def deal_update(*, actor, tenant, instance: Deal, **fields: Any) -> Deal:
    return _save(DEAL, actor=actor, tenant=tenant, data=fields, instance=instance)


def deal_delete(*, actor, tenant, instance: Deal) -> None:
    _delete(DEAL, actor=actor, tenant=tenant, instance=instance)


def deal_stage_create(*, actor, tenant, **fields: Any) -> DealStage:
    return _save(DEAL_STAGE, actor=actor, tenant=tenant, data=fields)


def deal_stage_update(*, actor, tenant, instance: DealStage, **fields: Any) -> DealStage:
    return _save(DEAL_STAGE, actor=actor, tenant=tenant, data=fields, instance=instance)


def deal_stage_delete(*, actor, tenant, instance: DealStage) -> None:
    _delete(DEAL_STAGE, actor=actor, tenant=tenant, instance=instance)


def import_map_delete(*, actor, tenant, instance: ImportMap) -> None:
    _delete(IMPORT_MAP, actor=actor, tenant=tenant, instance=instance)


@transaction.atomic
def custom_field_delete(*, actor, tenant, instance: CustomField) -> None:
    """Deleting a definition also removes its values from every object of that type."""
    model = {"contact": Contact, "account": Account, "lead": Lead, "deal": Deal, "activity": Activity,
             "task": Task, "campaign": Campaign}[instance.object_type]
    from django.db.models.expressions import RawSQL

    model.objects.filter(custom__has_key=instance.name).update(
        custom=RawSQL("custom - %s", (instance.name,)))
    _delete(CUSTOM_FIELD, actor=actor, tenant=tenant, instance=instance)


# --- deals and their pipeline ---------------------------------------------------------------------
DEFAULT_STAGES = [("Qualification", 10, "open"), ("Proposal", 40, "open"), ("Negotiation", 70, "open"),
                  ("Won", 100, "won"), ("Lost", 0, "lost")]


def ensure_pipeline() -> None:
    """A tenant's pipeline starts with five stages, created the first time it is needed."""
    if not DealStage.objects.exists():
        DealStage.objects.bulk_create([DealStage(name=n, position=i, probability=p, kind=k)
                                       for i, (n, p, k) in enumerate(DEFAULT_STAGES)])


def deal_create(*, actor, tenant, **data) -> Deal:
    if data.get("stage") is None:
        with transaction.atomic():
            ensure_pipeline()
        data["stage"] = DealStage.objects.order_by("position", "id").first()
    return _save(DEAL, actor=actor, tenant=tenant, data=data)


# --- import maps ---------------------------------------------------------------------------------
def _check_map(data: dict, instance: ImportMap | None) -> None:
    from apps.crm.importer.mapping import validate_columns

    dedupe_on = data.get("dedupe_on", getattr(instance, "dedupe_on", ImportMap.DedupeOn.EMAIL))
    on_match = data.get("on_match", getattr(instance, "on_match", ImportMap.OnMatch.UPDATE))
    if "columns" in data:
        data["columns"] = validate_columns(data["columns"])
    if on_match == ImportMap.OnMatch.CREATE and dedupe_on in (ImportMap.DedupeOn.EMAIL, ImportMap.DedupeOn.EXTERNAL_ID):
        raise Invalid(f"Contacts' {dedupe_on} is unique: on a match the row can update or be skipped, "
                      "not create another contact.", field="on_match")


def import_map_create(*, actor, tenant, **data) -> ImportMap:
    _check_map(data, None)
    return _save(IMPORT_MAP, actor=actor, tenant=tenant, data=data)


def import_map_update(*, actor, tenant, instance: ImportMap, **data) -> ImportMap:
    _check_map(data, instance)
    return _save(IMPORT_MAP, actor=actor, tenant=tenant, data=data, instance=instance)


# --- lists ---------------------------------------------------------------------------------------
def _existing_contacts(ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise DomainError(f"No contact(s) with id {', '.join(map(str, missing[:20]))}.", code="reference_not_found",
                          field="contacts")
    return ids


@transaction.atomic
def list_add_members(*, actor, tenant, contact_list: ContactList, contacts: Iterable[int]) -> int:
    ids = _existing_contacts(contacts)
    existing = set(contact_list.memberships.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    new = [i for i in ids if i not in existing]
    ListMembership.objects.bulk_create([ListMembership(contact_list=contact_list, contact_id=i) for i in new],
                                       ignore_conflicts=True)
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=contact_list, tenant=tenant,
                  verb="members_added", event_type="crm.list.members_added",
                  event_data={"id": contact_list.pk, "name": contact_list.name, "contacts": new})
    return len(new)


@transaction.atomic
def list_remove_members(*, actor, tenant, contact_list: ContactList, contacts: Iterable[int]) -> int:
    ids = list(dict.fromkeys(int(i) for i in contacts))
    removed_ids = list(contact_list.memberships.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    contact_list.memberships.filter(contact_id__in=removed_ids).delete()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=contact_list, tenant=tenant,
                  verb="members_removed", event_type="crm.list.members_removed",
                  event_data={"id": contact_list.pk, "name": contact_list.name, "contacts": removed_ids})
    return len(removed_ids)


# --- campaigns -----------------------------------------------------------------------------------
@transaction.atomic
def campaign_add_members(*, actor, tenant, campaign: Campaign, contacts: Iterable[int] = (),
                         lists: Iterable[int] = (), status: str = CampaignMember.Status.PENDING) -> int:
    ids = _existing_contacts(contacts)
    list_ids = list(lists)
    if list_ids:
        found = set(ContactList.objects.filter(pk__in=list_ids).values_list("pk", flat=True))
        if missing := [i for i in list_ids if i not in found]:
            raise Invalid(f"No list(s) with id {', '.join(map(str, missing))}.", field="lists")
        ids += [i for i in ListMembership.objects.filter(contact_list_id__in=list_ids)
                .values_list("contact_id", flat=True).distinct() if i not in set(ids)]
    existing = set(campaign.memberships.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    new = [i for i in dict.fromkeys(ids) if i not in existing]
    CampaignMember.objects.bulk_create([CampaignMember(campaign=campaign, contact_id=i, status=status) for i in new],
                                       ignore_conflicts=True)
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=campaign, tenant=tenant,
                  verb="members_added", event_type="crm.campaign.members_changed",
                  event_data={"id": campaign.pk, "name": campaign.name, "added": new, "removed": [],
                              "status": status})
    return len(new)


@transaction.atomic
def campaign_remove_members(*, actor, tenant, campaign: Campaign, contacts: Iterable[int]) -> int:
    ids = list(dict.fromkeys(int(i) for i in contacts))
    removed = list(campaign.memberships.filter(contact_id__in=ids).values_list("contact_id", flat=True))
    campaign.memberships.filter(contact_id__in=removed).delete()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=campaign, tenant=tenant,
                  verb="members_removed", event_type="crm.campaign.members_changed",
                  event_data={"id": campaign.pk, "name": campaign.name, "added": [], "removed": removed})
    return len(removed)


@transaction.atomic
def campaign_set_member_status(*, actor, tenant, campaign: Campaign, contacts: Iterable[int], status: str) -> int:
    ids = list(dict.fromkeys(int(i) for i in contacts))
    changed = campaign.memberships.filter(contact_id__in=ids).update(status=status, updated_at=timezone.now())
    if changed != len(ids):
        # Data-dependent (which contacts are members), not the request's shape: does_not_exist.
        message = "Some contacts are not members of the campaign."
        raise Invalid(message, errors={"contacts": [{"code": "does_not_exist", "message": message}]})
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=campaign, tenant=tenant,
                  verb="member_status", event_type="crm.campaign.members_changed",
                  event_data={"id": campaign.pk, "name": campaign.name, "added": [], "removed": [],
                              "status": status, "contacts": ids})
    return changed


# --- leads ---------------------------------------------------------------------------------------
@transaction.atomic
def lead_convert(*, actor, tenant, lead: Lead, account: Account | None = None, create_account: bool = True,
                 create_deal: bool = False, deal_name: str = "", amount=None, currency: str = "USD",
                 stage: DealStage | None = None, expected_close=None) -> dict:
    """A qualified lead becomes a contact, (optionally) an account and a deal, in one transaction."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status == Lead.Status.CONVERTED:
        raise Conflict("The lead has already been converted.", code="lead_already_converted")
    if account is None and create_account and lead.company:
        account = Account.objects.filter(name__iexact=lead.company).order_by("pk").first() or account_create(
            actor=actor, tenant=tenant, name=lead.company, phone=lead.phone, owner=lead.owner)
    existing = Contact.objects.filter(email=lead.email).first() if lead.email else None
    if existing is not None:
        contact = existing
        if account is not None and contact.account_id is None:
            contact = contact_update(actor=actor, tenant=tenant, instance=contact, account=account)
    else:
        contact = contact_create(
            actor=actor, tenant=tenant, first_name=lead.first_name, last_name=lead.last_name, title=lead.title,
            email=lead.email, phone=lead.phone, account=account, owner=lead.owner, source=lead.source or "lead",
            notes=lead.notes)
    deal = None
    if create_deal:
        deal = deal_create(actor=actor, tenant=tenant, name=deal_name or f"{lead.company or contact} deal",
                           amount=amount or 0, currency=currency or "USD", stage=stage, account=account,
                           contact=contact, expected_close=expected_close, owner=lead.owner)
    before = snapshot(lead)
    lead.status = Lead.Status.CONVERTED
    lead.converted_at = timezone.now()
    lead.converted_contact, lead.converted_account, lead.converted_deal = contact, account, deal
    lead.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=lead, before=before, tenant=tenant,
                  verb="converted", event_type="crm.lead.converted",
                  event_data={"id": lead.pk, "contact": contact.pk, "account": account.pk if account else None,
                              "deal": deal.pk if deal else None})
    return {"lead": lead, "contact": contact, "account": account, "deal": deal}
