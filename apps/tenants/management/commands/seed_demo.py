"""Demo data for a first run, so every admin list and API list has rows on first look.

Creates a system admin, a reseller (`demo`) with two tenants (`acme`, `globex`), a tenant admin
and one API key per scope; a location and a PBX server that hosts both tenants; in acme
extensions, DIDs, a trunk and an outbound route, a queue with agents, an IVR, office hours with a
time condition, three desk phones (Yealink, Polycom, Grandstream) with lines on the extensions, and CRM accounts, contacts, a lead, a list, a deal, a task, an activity, a
campaign and an import map; in globex a few extensions; an organization joining both tenants;
and a webhook subscription (disabled: point it at your endpoint, then enable it).

Every object is made by the same service functions as the API (validation, audit entries,
outbox events). Each one is looked up first, so running the command again changes nothing, and
a database seeded by an older version gets what is missing. Passwords and keys are printed once,
when they are created (rotate keys in the admin or with the API).
"""
from __future__ import annotations

import datetime
import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Scope, User
from apps.accounts.principal import Principal
from apps.accounts.services import api_key_create
from apps.tenants.models import Reseller, Tenant
from apps.tenants.services import reseller_create, tenant_create, tenant_update

DEMO_RESELLER = "demo"
DEMO_TENANTS = [("acme", "Acme Corp"), ("globex", "Globex Inc")]
# The README's first API call creates this tenant; the demo never does.
README_TENANT = "initech"


class Command(BaseCommand):
    help = "Create demo data (idempotent) and print its credentials once."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000"),
                            help="URL used in the printed curl lines.")

    def handle(self, *args, base_url, **options):
        actor = Principal.system("seed_demo")
        self.created: list[str] = []
        self.phone_login: tuple[str, str] | None = None  # a demo phone's provisioning login, when made now
        with transaction.atomic():
            credentials = self.ensure_accounts(actor)
            reseller = Reseller.objects.get(slug=DEMO_RESELLER)
            tenants = {t.slug: t for t in Tenant.objects.filter(reseller=reseller)}
            server = self.ensure_platform(actor, tenants)
            self.ensure_organization(actor, reseller, tenants)
            if "acme" in tenants:
                acme = Tenant.objects.get(pk=tenants["acme"].pk)
                self.ensure_telephony(actor, acme)
                self.ensure_phones(actor, acme)
                self.ensure_crm(actor, acme)
                self.ensure_webhook(actor, acme)
                self.ensure_hooks(actor, acme)
                self.ensure_sounds(actor, acme, server)
                self.ensure_calls(server, acme)
            if "globex" in tenants:
                self.ensure_globex(actor, Tenant.objects.get(pk=tenants["globex"].pk))
            if "acme" in tenants:
                self.ensure_sms(actor, reseller, Tenant.objects.get(pk=tenants["acme"].pk))
            self.ensure_exports(actor, reseller)
        w = self.stdout.write
        if credentials is None:
            if self.created:
                w(self.style.SUCCESS(f"Demo data completed: added {', '.join(self.created)}."))
            w("Demo data already present; its keys were printed when it was created. "
              "Issue new ones at /admin/accounts/apikey/ or POST /api/api-keys/.")
            return
        password, keys = credentials
        w(self.style.SUCCESS("\nDemo data created. These secrets are shown once; copy them now.\n"))
        w(f"  Admin:        {base_url}/admin/   users admin / reseller / acme-admin, password: {password}")
        w(f"  API docs:     {base_url}/api/docs/")
        w(f"  PBX server:   {server.name} ({server.host}), hosting {', '.join(sorted(tenants))}")
        for label, key in keys.items():
            w(f"  {label + ' key:':<28} {key}")
        # Reads only: the README's first API call is the one that creates a tenant (initech).
        w("\nTry:")
        w(f"  curl -s -H 'X-API-Key: {keys['reseller']}' {base_url}/api/tenants/")
        w(f"  curl -s -H 'X-API-Key: {keys['tenant (acme)']}' {base_url}/api/extensions/acme/")
        w(f"  curl -s -H 'X-API-Key: {keys['tenant (acme)']}' '{base_url}/api/crm-contacts/acme/?search=ada'")
        w(f"  curl -s -u reseller:{password} {base_url}/api/api-keys/")
        if self.phone_login:  # what the demo Yealink fetches at boot (docs/provisioning.md)
            mac, phone_password = self.phone_login
            w(f"  curl -s --digest -u {mac}:{phone_password} {base_url}/provisioning/{mac}.cfg")
        w("")

    # --- billing: a nightly CDR export of the reseller's tenants, run once -----------------------
    def ensure_exports(self, actor, reseller):
        from apps.exports import runner
        from apps.exports.models import ExportRun, ExportSchedule
        from apps.exports.services import schedule_create

        if ExportSchedule.objects.filter(reseller=reseller).exists():
            return
        self.created.append("a nightly CDR export")
        schedule = schedule_create(actor=actor, name="Nightly CDRs", reseller=reseller, dataset="cdrs", format="csv",
                                   cron="0 2 * * *", timezone="Europe/Berlin", destination_type="directory",
                                   destination={"path": "demo"})
        run = ExportRun.objects.create(schedule=schedule, trigger=ExportRun.Trigger.MANUAL, requested_by="seed_demo")
        transaction.on_commit(lambda: runner.execute(run.pk))  # the demo's call records, as a first file

    # --- helpers -------------------------------------------------------------------------------
    def _once(self, queryset, label: str, create):
        """The first object of ``queryset``, or ``create()`` when there is none."""
        found = queryset.first()
        if found is not None:
            return found
        self.created.append(label)
        return create()

    # --- users, reseller, tenants, keys ---------------------------------------------------------
    def ensure_accounts(self, actor):
        """Returns (password, keys) when they were created now, else None (never shown twice)."""
        if Reseller.objects.filter(slug=DEMO_RESELLER).exists():
            return None
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        reseller = reseller_create(actor=actor, name="Demo Reseller", slug=DEMO_RESELLER,
                                   contact_email="ops@demo.example")
        tenants = [tenant_create(actor=actor, slug=slug, name=name, reseller=reseller) for slug, name in DEMO_TENANTS]
        User.objects.create_superuser("admin", "admin@demo.example", password, role=User.Role.SYSTEM_ADMIN)
        User.objects.create_user("reseller", "reseller@demo.example", password, role=User.Role.RESELLER_ADMIN,
                                 reseller=reseller, is_staff=True)
        User.objects.create_user("acme-admin", "admin@acme.example", password, role=User.Role.TENANT_ADMIN,
                                 tenant=tenants[0], is_staff=True)
        keys = {
            "system": api_key_create(actor=actor, name="demo system key", scope=Scope.SYSTEM).key,
            "reseller": api_key_create(actor=actor, name="demo reseller key", scope=Scope.RESELLER,
                                       reseller=reseller).key,
            "tenant (acme)": api_key_create(actor=actor, name="demo acme key", scope=Scope.TENANT,
                                            tenant=tenants[0]).key,
            "read-only tenant (acme)": api_key_create(actor=actor, name="demo acme read-only key",
                                                      scope=Scope.TENANT, tenant=tenants[0], read_only=True).key,
        }
        return password, keys

    # --- public: location, server, organization ---------------------------------------------------
    def ensure_platform(self, actor, tenants: dict):
        from apps.pbx.models import Location, Server
        from apps.pbx.services import location_create, server_create

        location = self._once(Location.objects.filter(code="fra1"), "a location", lambda: location_create(
            actor=actor, name="Frankfurt", code="fra1", timezone="Europe/Berlin",
            description="Demo data centre"))
        server = self._once(Server.objects.filter(name="pbx1"), "a PBX server", lambda: server_create(
            actor=actor, name="pbx1", host="pbx1.demo.example", sip_address="sip1.demo.example",
            ami_host="pbx1.demo.example", ami_username="portal", ami_secret=secrets.token_urlsafe(18),
            location=location))
        for tenant in tenants.values():
            if tenant.primary_server_id is None:
                self.created.append(f"{tenant.slug}'s primary server")
                tenant_update(actor=actor, tenant=tenant, primary_server=server)
        return server

    def ensure_organization(self, actor, reseller, tenants: dict):
        from apps.organizations.models import Organization, OrganizationMember
        from apps.organizations.services import organization_create, organization_member_add

        organization = self._once(Organization.objects.filter(slug="demo-group"), "an organization",
                                  lambda: organization_create(actor=actor, name="Demo Group", slug="demo-group",
                                                              reseller=reseller,
                                                              description="Acme and Globex dial each other"))
        for site_code, slug in (("7", "acme"), ("8", "globex")):
            tenant = tenants.get(slug)
            if tenant is not None and not OrganizationMember.objects.filter(tenant=tenant).exists():
                self.created.append(f"{slug}'s organization membership")
                organization_member_add(actor=actor, organization=organization, tenant=tenant, site_code=site_code)

    # --- acme: telephony ------------------------------------------------------------------------
    def ensure_telephony(self, actor, tenant):
        from apps.telephony import services as tel
        from apps.telephony.models import Agent, Did, Extension, Ivr, OutboundRoute, Queue, Schedule, TimeCondition, \
            Trunk

        kw = {"actor": actor, "tenant": tenant}
        with tenant_context(tenant):
            exts = {}
            for number, name, email in (("1001", "Alice Adams", "alice@acme.example"),
                                        ("1002", "Bob Brown", "bob@acme.example"),
                                        ("1003", "Carol Chen", "carol@acme.example"),
                                        ("1004", "Dan Diaz", "dan@acme.example"),
                                        ("1005", "Reception", "")):
                exts[number] = self._once(
                    Extension.objects.filter(number=number), f"extension {number}",
                    lambda n=number, nm=name, e=email: tel.extension_create(**kw, number=n, name=nm, email=e,
                                                                            location="fra1"))
            agents = [
                self._once(Agent.objects.filter(login_code=code), f"agent {name}",
                           lambda n=name, c=code, x=ext: tel.agent_create(**kw, name=n, login_code=c, extension=x))
                for name, code, ext in (("Alice Adams", "101", exts["1001"]), ("Bob Brown", "102", exts["1002"]))
            ]
            queue = self._once(Queue.objects.filter(number="5000"), "a queue", lambda: tel.queue_create(
                **kw, number="5000", name="Support", strategy="rrmemory",
                members=[{"agent": a.pk} for a in agents] + [{"extension": exts["1003"].pk, "penalty": 1}]))
            ivr = self._once(Ivr.objects.filter(name="Main menu"), "an IVR", lambda: tel.ivr_create(
                **kw, name="Main menu", number="5100", greeting_text="Thanks for calling Acme.",
                options=[{"digit": "1", "dest": {"type": "queue", "id": queue.pk}},
                         {"digit": "2", "dest": {"type": "extension", "id": exts["1004"].pk}},
                         {"digit": "0", "dest": {"type": "extension", "id": exts["1005"].pk}}]))
            schedule = self._once(Schedule.objects.filter(name="Office hours"), "a schedule",
                                  lambda: tel.schedule_create(**kw, name="Office hours", weekly_ranges=[
                                      {"day_of_week": day, "start_time": "09:00", "end_time": "17:00"}
                                      for day in range(5)]))
            open_hours = self._once(TimeCondition.objects.filter(name="Open?"), "a time condition",
                                    lambda: tel.time_condition_create(
                                        **kw, name="Open?", schedule=schedule, match={"type": "ivr", "id": ivr.pk},
                                        no_match={"type": "voicemail", "id": exts["1005"].pk}))
            for number, description, dest in (
                    ("+14155550100", "Main number", {"type": "time_condition", "id": open_hours.pk}),
                    ("+14155550101", "Support line", {"type": "queue", "id": queue.pk}),
                    ("+14155550102", "Dan's direct line", {"type": "extension", "id": exts["1004"].pk})):
                self._once(Did.objects.filter(number=number), f"DID {number}",
                           lambda n=number, d=description, t=dest: tel.did_create(**kw, number=n, description=d,
                                                                                  dest=t))
            trunk = self._once(Trunk.objects.filter(name="carrier"), "a trunk", lambda: tel.trunk_create(
                # An address (TEST-NET-3), not a name: a PBX loading the demo resolves nothing, and the
                # IP-auth trunk's identify is rendered as a real carrier's would be.
                **kw, name="carrier", auth_type="ip_auth", host="203.0.113.10"))
            self._once(OutboundRoute.objects.filter(name="US and Canada"), "an outbound route",
                       lambda: tel.outbound_route_create(**kw, name="US and Canada",
                                                         dial_patterns=["_1NXXNXXXXXX", "_NXXNXXXXXX"],
                                                         trunks=[trunk]))
            self.ensure_pbx_features(kw, exts)

    def ensure_pbx_features(self, kw, exts):
        """Issue 12: a ring group, a block list, a feature code, a conference, a parking lot, paging."""
        from apps.telephony import services as tel
        from apps.telephony.models import BlockList, Conference, FeatureCode, PagingGroup, ParkingLot, RingGroup

        self._once(RingGroup.objects.filter(number="5200"), "a ring group", lambda: tel.ring_group_create(
            **kw, number="5200", name="Front desk", members=[
                {"extension": exts["1005"].pk}, {"extension": exts["1001"].pk, "delay": 10},
                {"number": "+14155550177", "delay": 20}],
            no_answer={"type": "voicemail", "id": exts["1005"].pk}))
        self._once(BlockList.objects.filter(name="Spam callers"), "a block list", lambda: tel.block_list_create(
            **kw, name="Spam callers", block_anonymous=True,
            entries=[{"value": "+14155550666", "description": "robocaller"},
                     {"kind": "pattern", "value": "_+1900X.", "description": "premium numbers"}]))
        self._once(FeatureCode.objects.filter(feature="dnd_toggle"), "a feature code",
                   lambda: tel.feature_code_create(**kw, feature="dnd_toggle", code="*31"))
        self._once(Conference.objects.filter(number="5300"), "a conference", lambda: tel.conference_create(
            **kw, number="5300", name="Team meeting", pin="2468", admin_pin="13579", max_members=20))
        self._once(ParkingLot.objects.filter(number="5400"), "a parking lot", lambda: tel.parking_lot_create(
            **kw, name="Main lot", number="5400", slot_start="5401", slot_end="5410"))
        self._once(PagingGroup.objects.filter(number="5500"), "a paging group", lambda: tel.paging_group_create(
            **kw, number="5500", name="All desks", members=[e.pk for e in exts.values()]))

    # --- acme: desk phones (one per shipped vendor template) ---------------------------------------
    def ensure_phones(self, actor, tenant):
        from apps.provisioning.models import Phone
        from apps.provisioning.services import phone_create
        from apps.telephony.models import Extension

        with tenant_context(tenant):
            exts = {e.number: e.pk for e in Extension.objects.filter(number__in=["1001", "1002", "1003", "1005"])}
            for mac, model, name, numbers in (("00:15:65:1a:2b:01", "T54W", "Alice's desk", ["1001", "1005"]),
                                              ("00:04:f2:1a:2b:02", "VVX450", "Bob's desk", ["1002"]),
                                              ("c0:74:ad:1a:2b:03", "GRP2614", "Support room", ["1003", "1005"])):
                if not all(n in exts for n in numbers):
                    continue
                phone = self._once(Phone.objects.filter(mac=mac.replace(":", "")), f"phone {mac}",
                                   lambda m=mac, mo=model, nm=name, ns=numbers: phone_create(
                                       actor=actor, tenant=tenant, mac=m, model=mo, name=nm,
                                       lines=[{"extension": exts[n]} for n in ns]))
                if getattr(phone, "generated_password", None) and not self.phone_login:
                    self.phone_login = (phone.mac, phone.generated_password)

    # --- acme: CRM ------------------------------------------------------------------------------
    def ensure_crm(self, actor, tenant):
        from apps.crm import services as crm
        from apps.crm.models import (
            Account, Activity, Campaign, Contact, ContactList, CustomField, Deal, ImportMap, Lead, Task,
        )

        kw = {"actor": actor, "tenant": tenant}
        with tenant_context(tenant):
            self._once(CustomField.objects.filter(object_type="contact", name="tier"), "a custom field",
                       lambda: crm.custom_field_create(**kw, object_type="contact", name="tier", label="Customer tier",
                                                       field_type="choice", choices=["gold", "silver", "bronze"]))
            accounts = {}
            for name, website, industry, phone in (
                    ("Initrode Ltd", "initrode.example", "Software", "+14155550150"),
                    ("Vandelay Industries", "vandelay.example", "Import/export", "+12125550160"),
                    ("Soylent Foods", "soylent.example", "Food", "+13125550170")):
                accounts[name] = self._once(
                    Account.objects.filter(name=name), f"account {name}",
                    lambda n=name, w=website, i=industry, p=phone: crm.account_create(
                        **kw, name=n, website=w, industry=i, phone=p, country="US", owner="alice@acme.example"))
            contacts = []
            for first, last, email, phone, account, tier in (
                    ("Ada", "Lovelace", "ada@initrode.example", "+14155550121", "Initrode Ltd", "gold"),
                    ("Charles", "Babbage", "charles@initrode.example", "+14155550122", "Initrode Ltd", "silver"),
                    ("Art", "Vandelay", "art@vandelay.example", "+12125550161", "Vandelay Industries", "gold"),
                    ("Grace", "Hopper", "grace@soylent.example", "+13125550171", "Soylent Foods", None),
                    ("Alan", "Turing", "alan.turing@example.org", "+14155550123", None, None)):
                contacts.append(self._once(
                    Contact.objects.filter(email=email), f"contact {email}",
                    lambda f=first, la=last, e=email, p=phone, a=account, t=tier: crm.contact_create(
                        **kw, first_name=f, last_name=la, email=e, phone=p,
                        account=accounts[a] if a else None, source="demo", shared_in_directory=a is not None,
                        custom={"tier": t} if t else {})))
            self._once(Lead.objects.filter(email="hank@example.net"), "a lead", lambda: crm.lead_create(
                **kw, first_name="Hank", last_name="Scorpio", company="Globex Partners", email="hank@example.net",
                phone="+14155550124", source="website"))
            vip = self._once(ContactList.objects.filter(name="Key customers"), "a contact list",
                             lambda: crm.list_create(**kw, name="Key customers",
                                                     description="Gold-tier contacts"))
            if not vip.memberships.exists():
                crm.list_add_members(**kw, contact_list=vip, contacts=[contacts[0].pk, contacts[2].pk])
            self._once(Campaign.objects.filter(name="Spring renewal"), "a campaign", lambda: crm.campaign_create(
                **kw, name="Spring renewal", status="planned", starts_on=datetime.date(2026, 3, 1),
                ends_on=datetime.date(2026, 4, 30), lists=[vip]))
            deal = self._once(Deal.objects.filter(name="Initrode: 50 seats"), "a deal", lambda: crm.deal_create(
                **kw, name="Initrode: 50 seats", amount=12500, currency="USD", account=accounts["Initrode Ltd"],
                contact=contacts[0], owner="alice@acme.example", expected_close=datetime.date(2026, 6, 30)))
            self._once(Task.objects.filter(title="Send the Initrode proposal"), "a task", lambda: crm.task_create(
                **kw, title="Send the Initrode proposal", due_date=datetime.date(2026, 5, 15), priority="high",
                assignee="alice@acme.example", contact=contacts[0], deal=deal))
            self._once(Activity.objects.filter(subject="Intro call with Ada"), "an activity",
                       lambda: crm.activity_create(**kw, kind="call", subject="Intro call with Ada",
                                                   occurred_at=timezone.now().replace(microsecond=0),
                                                   duration_seconds=420, owner="alice@acme.example",
                                                   contact=contacts[0], account=accounts["Initrode Ltd"]))
            self._once(ImportMap.objects.filter(name="Trade-show leads"), "an import map",
                       lambda: crm.import_map_create(**kw, name="Trade-show leads",
                                                     description="Badge-scanner export", columns={
                                                         "Name": {"field": "full_name",
                                                                  "transforms": ["trim", "split_name"]},
                                                         "Company": {"field": "account", "transforms": ["trim"]},
                                                         "E-mail": {"field": "email", "transforms": ["trim", "lower"]},
                                                         "Phone": {"field": "phone", "transforms": ["trim", "phone"]},
                                                     }))

    # --- acme: a webhook --------------------------------------------------------------------------
    def ensure_calls(self, server, tenant):
        """A few call records (made from AMI-shaped events, like the listener makes them), so the
        call list and the CRM's call activities are not empty before a PBX is connected."""
        from apps.calls.demo import seed_calls
        from apps.calls.models import Call
        from apps.telephony.models import Trunk

        with tenant_context(tenant):
            if Call.objects.exists():
                return
            trunk = Trunk.objects.filter(name="carrier").first()
            seed_calls(server, tenant, trunk=f"{tenant.slug}-trunk-{trunk.pk}" if trunk else f"{tenant.slug}-trunk-1",
                       caller_phone="+14155550121")
        self.created.append("call records")

    def ensure_webhook(self, actor, tenant):
        from apps.webhooks.models import Subscription
        from apps.webhooks.services import subscription_create

        # Disabled: the worker would otherwise retry deliveries to a host that does not exist.
        self._once(Subscription.objects.filter(tenant=tenant, url="https://hooks.acme.example/thirdlane"),
                   "a webhook subscription", lambda: subscription_create(
                       actor=actor, tenant=tenant, url="https://hooks.acme.example/thirdlane",
                       event_types=["config.*", "crm.*"], enabled=False,
                       description="Demo: point it at your endpoint, then enable it"))

    def ensure_hooks(self, actor, tenant):
        """Integrator hooks (apps.hooks): a custom dialplan before inbound DIDs, and a routing hook
        (disabled: the host does not exist; every DID call would take the fallback)."""
        from apps.hooks import services as hooks
        from apps.hooks.models import CustomDialplan, RoutingHook
        from apps.telephony.models import Queue

        kw = {"actor": actor, "tenant": tenant}
        with tenant_context(tenant):
            self._once(CustomDialplan.objects.filter(point="inbound_did"), "a custom dialplan",
                       lambda: hooks.custom_dialplan_create(
                           **kw, point="inbound_did", description="Tag DID calls in the CDR",
                           dialplan="exten => s,1,Set(CDR(userfield)=did-${ARG1})\n same => n,Return()\n"))
            queue = Queue.objects.filter(number="5000").first()
            self._once(RoutingHook.objects.filter(name="crm-router"), "a routing hook",
                       lambda: hooks.routing_hook_create(
                           **kw, name="crm-router", url="https://crm.acme.example/thirdlane/route", enabled=False,
                           timeout_ms=1500, fallback={"type": "queue", "id": queue.pk} if queue else None))

    # --- SMS: the reseller's custom HTTP provider, acme's main number SMS-capable, a conversation ------
    def ensure_sms(self, actor, reseller, tenant):
        from apps.sms import services as sms
        from apps.sms.models import SmsMessage, SmsOptOut, SmsSettings
        from apps.sms.providers.models import SmsProvider
        from apps.sms.providers.services import provider_create
        from apps.telephony import services as tel
        from apps.telephony.models import Did

        provider = self._once(SmsProvider.objects.filter(name="Demo SMS adapter"), "an SMS provider",
                              lambda: provider_create(actor=actor, name="Demo SMS adapter", reseller=reseller,
                                                      url="https://sms-adapter.demo.example/messages"))
        with tenant_context(tenant):
            did = Did.objects.filter(number="+14155550100").first()
            if did is None:
                return
            if not did.sms_enabled:
                tel.did_update(actor=actor, tenant=tenant, instance=did, sms_enabled=True)
            self._once(SmsSettings.objects.all(), "SMS settings", lambda: sms.sms_settings_update(
                actor=actor, tenant=tenant, max_segments=5))
            has_messages = SmsMessage.objects.exists()
            has_opt_outs = SmsOptOut.objects.exists()
        if not has_messages:
            self.created.append("an SMS conversation")
            sms.inbound_receive(provider=provider, carrier_message_id="demo-1", sender="+14155550123",
                                to="+14155550100", text="Hi, is the support line open on Saturday?")
        if not has_opt_outs:
            self.created.append("an SMS opt-out")
            with tenant_context(tenant):
                sms.opt_out_create(actor=actor, tenant=tenant, did="+14155550100", remote="+14155550199")

    # --- globex ------------------------------------------------------------------------------------
    def ensure_sounds(self, actor, tenant, server):
        """acme: a spoken welcome prompt, a music-on-hold class (calm) that the support queue plays, and
        the prompts the portal speaks for the IVRs. Converted here (no worker needed); skipped with a
        note when SoX or eSpeak NG is not installed."""
        import subprocess
        import tempfile

        from apps.sounds import audio, ivr_prompts
        from apps.sounds import services as snd
        from apps.sounds.models import SoundFile
        from apps.telephony import services as tel
        from apps.telephony.models import Queue

        missing = audio.missing_tools()
        if missing:
            self.stdout.write(f"Demo sounds skipped: {', '.join(missing)} not installed (docs/sounds.md).")
            return
        kw = {"actor": actor, "tenant": tenant}
        with tenant_context(tenant):
            made = []
            if not SoundFile.objects.filter(name="welcome", kind="prompt").exists():
                made.append(snd.sound_tts_create(**kw, name="welcome",
                                                 text="Welcome to Acme Corp. Your call is important to us."))
            if not SoundFile.objects.filter(kind="moh", moh_class="calm").exists():
                with tempfile.TemporaryDirectory() as tmp:
                    path = f"{tmp}/calm.wav"  # a soft tone, made by SoX like any customer's file
                    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", path, "synth", "8", "sine", "220",
                                    "sine", "277", "vol", "0.3", "fade", "1", "8", "1"], check=True,
                                   capture_output=True)
                    with open(path, "rb") as handle:
                        made.append(snd.sound_upload(**kw, name="calm-1", kind="moh", moh_class="calm",
                                                     upload=handle.read(), file_name="calm.wav"))
                support = Queue.objects.filter(number="5000").first()
                if support is not None and support.music_on_hold == "default":
                    tel.queue_update(**kw, instance=support, music_on_hold="calm")
            for sound in made:
                snd.convert_now(tenant, sound)
                self.created.append(f"sound {sound}")
        if ivr_prompts.sync_server(server):
            self.created.append("the IVRs' spoken prompts")

    def ensure_globex(self, actor, tenant):
        from apps.telephony import services as tel
        from apps.telephony.models import Extension

        with tenant_context(tenant):
            for number, name in (("2001", "Hank Scorpio"), ("2002", "Frank Grimes")):
                self._once(Extension.objects.filter(number=number), f"globex extension {number}",
                           lambda n=number, nm=name: tel.extension_create(actor=actor, tenant=tenant, number=n,
                                                                          name=nm))
