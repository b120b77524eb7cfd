"""The nine CRM object types (and the deal pipeline's stages).

Phone numbers are stored in E.164 (``+14155550100``) so a caller id finds its contact with an
index lookup; emails are stored lower-cased. Custom field values live with the object in the
``custom`` JSONB column (GIN-indexed, ``jsonb_path_ops``), keyed by the custom field's name;
their definitions are ``CustomField`` rows (``apps.crm.customfields`` validates values).

Owners and assignees are free-text labels (a user name or e-mail), not foreign keys: users live
in the public schema, and a cascade from a public table into every tenant schema is not
something a user deletion should do.
"""
from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

CUSTOM_NAME_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,39}$", "Lower-case letters, digits and underscores, starting with a letter (max 40).",
    code="invalid_name")
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code such as USD or EUR.", code="invalid_currency")


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WithCustomFields(models.Model):
    custom = models.JSONField(default=dict, blank=True, help_text="Custom field values by field name.")

    class Meta:
        abstract = True


def nonblank_index(field: str, name: str) -> models.Index:
    """Most rows leave a phone column empty: index only the filled ones (smaller, and an import
    does not pay an index insert per empty value). Equality look-ups on a value use it."""
    return models.Index(fields=[field], name=name, condition=~Q(**{field: ""}))


def tags_field():
    return ArrayField(models.CharField(max_length=50), default=list, blank=True)


class CustomField(Timestamped):
    class ObjectType(models.TextChoices):
        CONTACT = "contact", "Contact"
        ACCOUNT = "account", "Account"
        LEAD = "lead", "Lead"
        DEAL = "deal", "Deal"
        ACTIVITY = "activity", "Activity"
        TASK = "task", "Task"
        CAMPAIGN = "campaign", "Campaign"

    class FieldType(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes/no"
        CHOICE = "choice", "Choice"
        MULTI_CHOICE = "multi_choice", "Multiple choice"
        URL = "url", "URL"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    name = models.CharField(max_length=40, validators=[CUSTOM_NAME_VALIDATOR],
                            help_text="Key in the object's `custom` values and the `cf_<name>` filter.")
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    unique = models.BooleanField(default=False)
    choices = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                         help_text="Allowed values of choice and multi-choice fields.")
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["object_type", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["object_type", "name"], name="crm_customfield_uniq")]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.name}"


class Account(Timestamped, WithCustomFields):
    name = models.CharField(max_length=200)
    website = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    email = models.CharField(max_length=254, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code.")
    owner = models.CharField(max_length=150, blank=True)
    tags = tags_field()
    external_id = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    created_by_import = models.ForeignKey("crm.ImportJob", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", db_constraint=False, db_index=False, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(Lower("name"), name="crm_account_lname"), nonblank_index("phone", "crm_account_phone"),
                   GinIndex(fields=["custom"], name="crm_account_custom", opclasses=["jsonb_path_ops"])]
        constraints = [models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                               name="crm_account_extid_uniq")]

    def __str__(self) -> str:
        return self.name


class Contact(Timestamped, WithCustomFields):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True, help_text="Lower-cased; unique in the tenant.")
    other_email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    mobile = models.CharField(max_length=20, blank=True, help_text="E.164.")
    work_phone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code.")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
                                db_index=False)
    owner = models.CharField(max_length=150, blank=True)
    tags = tags_field()
    source = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in another system; unique.")
    shared_in_directory = models.BooleanField(default=False, help_text="Shown in the company phone directory.")
    notes = models.TextField(blank=True)
    created_by_import = models.ForeignKey("crm.ImportJob", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", db_constraint=False, db_index=False, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            GinIndex(fields=["custom"], name="crm_contact_custom", opclasses=["jsonb_path_ops"]),
            # Most contacts have no tags: index only those that do (queries add the predicate,
            # see api.filters.TagFilter). No index on created_by_import: undo and the
            # ?import_job= filter are rare, and every imported row would pay for it.
            GinIndex(fields=["tags"], name="crm_contact_tags_set", condition=~Q(tags=[])),
            models.Index(fields=["account"], name="crm_contact_account", condition=Q(account__isnull=False)),
            models.Index(fields=["last_name", "first_name"], name="crm_contact_name"),
            nonblank_index("phone", "crm_contact_phone"),
            nonblank_index("mobile", "crm_contact_mobile"),
            nonblank_index("work_phone", "crm_contact_work_phone"),
        ]
        constraints = [
            # Partial: many contacts have no e-mail. ON CONFLICT must repeat the predicate.
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="crm_contact_email_uniq"),
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                    name="crm_contact_extid_uniq"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Lead(Timestamped, WithCustomFields):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        UNQUALIFIED = "unqualified", "Unqualified"
        CONVERTED = "converted", "Converted"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    source = models.CharField(max_length=100, blank=True)
    owner = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    converted_account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    converted_deal = models.ForeignKey("crm.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [GinIndex(fields=["custom"], name="crm_lead_custom", opclasses=["jsonb_path_ops"]),
                   nonblank_index("email", "crm_lead_email"), nonblank_index("phone", "crm_lead_phone")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.company or self.email or f"Lead {self.pk}"


class ContactList(Timestamped):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(Contact, through="crm.ListMembership", related_name="lists", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListMembership(models.Model):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="list_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_list", "contact"], name="crm_listmember_uniq")]


class DealStage(models.Model):
    """One step of the tenant's deal pipeline. ``kind`` says whether a deal there is open, won or lost."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(default=0, validators=[MinValueValidator(0)],
                                                   help_text="Per cent (0-100).")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Deal(Timestamped, WithCustomFields):
    name = models.CharField(max_length=200)
    stage = models.ForeignKey(DealStage, on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    expected_close = models.DateField(null=True, blank=True)
    owner = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [GinIndex(fields=["custom"], name="crm_deal_custom", opclasses=["jsonb_path_ops"])]

    def __str__(self) -> str:
        return self.name


class LinkedObject(models.Model):
    """An activity or a task is about a contact, an account, a lead or a deal."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Activity(Timestamped, WithCustomFields, LinkedObject):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    kind = models.CharField(max_length=8, choices=Kind.choices, db_index=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    owner = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [GinIndex(fields=["custom"], name="crm_activity_custom", opclasses=["jsonb_path_ops"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class Task(Timestamped, WithCustomFields, LinkedObject):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.CharField(max_length=150, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [GinIndex(fields=["custom"], name="crm_task_custom", opclasses=["jsonb_path_ops"])]

    def __str__(self) -> str:
        return self.title


class Campaign(Timestamped, WithCustomFields):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    lists = models.ManyToManyField(ContactList, related_name="campaigns", blank=True)
    members = models.ManyToManyField(Contact, through="crm.CampaignMember", related_name="campaigns", blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        indexes = [GinIndex(fields=["custom"], name="crm_campaign_custom", opclasses=["jsonb_path_ops"])]

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        RESPONDED = "responded", "Responded"
        CONVERTED = "converted", "Converted"
        BOUNCED = "bounced", "Bounced"
        OPTED_OUT = "opted_out", "Opted out"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="campaign_memberships")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="crm_campaignmember_uniq")]

    def __str__(self) -> str:
        return f"{self.contact} in {self.campaign}: {self.status}"
