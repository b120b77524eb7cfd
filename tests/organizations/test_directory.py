"""The shared directory: one statement over every member schema, ranked, paginated, scoped."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.organizations import selectors
from apps.crm.models import Account, Contact
from tests.organizations.conftest import add_extensions, add_queues

pytestmark = pytest.mark.django_db


def directory(client, org, query=""):
    return client.get(f"/api/organization/{org.organization.pk}/directory/?{query}")


@pytest.fixture
def phonebook(org, world):
    add_extensions(world.acme, [("1001", "Ann Smith", "ann@acme.test"), ("1002", "Bob Annand"),
                                ("1003", "Joanna Lee"), ("1004", "Ann", "", True), ("1005", "Annie Off", "", False)])
    add_extensions(world.globex, [("1001", "Annette Brown"), ("2002", "Carl Jones", "carl@globex.test")])
    add_queues(world.globex, [("3001", "Annual sales")])
    add_extensions(world.initech, [("1001", "Ann Outsider")])  # another reseller: never in the directory


def test_directory_searches_every_member_ranked_then_by_name(api, org, phonebook):
    response = directory(api("reseller"), org, "q=ann")
    assert response.status_code == 200, response.content
    assert [(e["name"], e["site_code"]) for e in response.json()] == [
        ("Ann", "21"),            # exact
        ("Ann Smith", "21"),      # starts with
        ("Annette Brown", "22"),
        ("Annual sales", "22"),
        ("Bob Annand", "21"),     # a word starts with
        ("Joanna Lee", "21"),     # contains
    ]
    assert response["X-Total-Count"] == "6"


def test_directory_entries_carry_site_number_and_phone_username(api, org, phonebook):
    entries = directory(api("reseller"), org, "q=annette").json()
    assert entries == [{
        "type": "extension", "id": entries[0]["id"], "name": "Annette Brown", "number": "1001",
        "intersite_number": "221001", "email": "", "company": "", "phone_username": "1001-globex",
        "site_code": "22", "tenant": "globex", "site_name": "Globex"}]
    queue = directory(api("reseller"), org, "q=annual").json()[0]
    assert queue["type"] == "queue" and queue["phone_username"] is None and queue["intersite_number"] == "223001"


def test_directory_matches_numbers_and_emails(api, org, phonebook):
    assert [e["name"] for e in directory(api("reseller"), org, "q=1001").json()] == ["Ann Smith", "Annette Brown"]
    assert [e["name"] for e in directory(api("reseller"), org, "q=CARL@GLOBEX").json()] == ["Carl Jones"]
    assert directory(api("reseller"), org, "q=%25").json() == []  # % is text, not a wildcard
    assert directory(api("reseller"), org, "q=_").json() == []


def test_directory_type_filter(api, org, phonebook):
    assert [e["type"] for e in directory(api("reseller"), org, "q=ann&type=queue").json()] == ["queue"]
    assert {e["type"] for e in directory(api("reseller"), org, "q=ann&type=extension").json()} == {"extension"}


def test_directory_paginates_with_total_and_links(api, org, phonebook):
    response = directory(api("reseller"), org, "q=ann&limit=2&offset=2")
    assert [e["name"] for e in response.json()] == ["Annette Brown", "Annual sales"]
    assert response["X-Total-Count"] == "6"
    assert 'rel="next"' in response["Link"] and "q=ann" in response["Link"]
    past_the_end = directory(api("reseller"), org, "q=ann&offset=50")
    assert past_the_end.json() == [] and past_the_end["X-Total-Count"] == "6"


def test_directory_leaves_out_disabled_extensions_suspended_and_removed_members(api, org, world, phonebook,
                                                                               system_actor):
    from apps.organizations.services import organization_member_remove
    from apps.tenants.services import tenant_suspend

    names = lambda: [e["name"] for e in directory(api("reseller"), org, "q=ann").json()]  # noqa: E731
    assert "Annie Off" not in names()
    tenant_suspend(actor=system_actor, tenant=world.globex)
    assert names() == ["Ann", "Ann Smith", "Bob Annand", "Joanna Lee"]
    organization_member_remove(actor=system_actor, member=world.acme.organization_membership)
    assert names() == []


@pytest.mark.parametrize("query,code,field", [
    ("", "invalid_query", "q"),
    ("q=", "invalid_query", "q"),
    ("q=%20%20", "invalid_query", "q"),
    ("q=" + "a" * 101, "invalid_query", "q"),
    ("q=ann&type=fax", "invalid_directory_type", "type"),
    ("q=ann&type=", "invalid_directory_type", "type"),
    ("q=ann&kind=queue", "unknown_filter", "kind"),
    ("q=ann&limit=0", "invalid_pagination", "limit"),
])
def test_directory_refuses_bad_input_with_a_field_and_code(api, org, query, code, field):
    response = directory(api("reseller"), org, query)
    assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code and field in response.json()["errors"]


def test_directory_scope(api, org, org_api, other_org, phonebook):
    assert len(directory(org_api(), org, "q=ann").json()) == 6
    assert directory(api("other_reseller"), org, "q=ann").status_code == 404
    response = org_api().get(f"/api/organization/{other_org.pk}/directory/?q=ann")
    assert response.status_code == 404


def test_directory_makes_the_same_number_of_queries_for_two_and_seven_members(
        api, org, world, phonebook, system_actor, django_assert_max_num_queries):
    from apps.organizations.services import organization_member_add
    from apps.tenants.services import tenant_create

    client = api("reseller")
    with django_assert_max_num_queries(20) as two:
        assert len(directory(client, org, "q=ann").json()) == 6
    for i in range(5):
        tenant = tenant_create(actor=system_actor, slug=f"branch-{i}", name=f"Branch {i}", reseller=world.reseller)
        add_extensions(tenant, [("1001", f"Ann Branch{i}")])
        organization_member_add(actor=system_actor, organization=org.organization, tenant=tenant, site_code=f"5{i}")
    with django_assert_max_num_queries(len(two.captured_queries)) as seven:
        response = directory(client, org, "q=ann")
    assert response["X-Total-Count"] == "11"
    searches = [q["sql"] for q in seven.captured_queries if "UNION ALL" in q["sql"]]
    assert len(searches) == 1 and searches[0].count("telephony_extension") == 7


def test_a_member_schema_missing_a_table_does_not_break_the_directory(api, org, world, phonebook):
    from apps.telephony.models import Queue

    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{world.globex.schema_name}"."{Queue._meta.db_table}" CASCADE')
    names = [e["name"] for e in directory(api("reseller"), org, "q=ann").json()]
    assert names == ["Ann", "Ann Smith", "Bob Annand", "Joanna Lee"]  # globex left out until migrated


def statements(captured):
    """What reached the database, less the savepoints that exist only because tests run in a transaction."""
    return [q["sql"].split()[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_directory_search_is_one_prepared_statement_per_member_set(org, world, phonebook, system_actor):
    members = selectors.directory_members(org.organization)
    with CaptureQueriesContext(connection) as first:
        page = selectors.directory_search(members=members, q="ann", limit=3, offset=0)
    assert page.total == 6 and [e.name for e in page.entries] == ["Ann", "Ann Smith", "Annette Brown"]
    assert statements(first) == ["PREPARE", "EXECUTE"]
    with CaptureQueriesContext(connection) as second:
        page = selectors.directory_search(members=members, q="smith", limit=3, offset=0)
    assert statements(second) == ["EXECUTE"] and [e.name for e in page.entries] == ["Ann Smith"]
    # site codes and names are parameters: changing them needs no new statement
    from apps.organizations.services import organization_member_update

    organization_member_update(actor=system_actor, member=world.acme.organization_membership, site_code="29")
    members = selectors.directory_members(org.organization)
    with CaptureQueriesContext(connection) as third:
        page = selectors.directory_search(members=members, q="ann smith")
    assert statements(third) == ["EXECUTE"] and page.entries[0].site_code == "29"


def test_directory_survives_a_session_reset_that_drops_its_prepared_statement(api, org, phonebook):
    assert len(directory(api("reseller"), org, "q=ann").json()) == 6
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does to the session
    assert len(directory(api("reseller"), org, "q=ann").json()) == 6
    assert len(directory(api("reseller"), org, "q=ann").json()) == 6  # and prepares it again


def test_directory_runs_unprepared_when_turned_off(org, phonebook, settings):
    settings.ORGANIZATIONS_DIRECTORY_PREPARED = False
    members = selectors.directory_members(org.organization)
    with CaptureQueriesContext(connection) as captured:
        page = selectors.directory_search(members=members, q="ann")
    assert page.total == 6 and statements(captured) == ["WITH"]


def test_directory_lists_only_contacts_shared_in_the_directory(api, org, world):
    with tenant_context(world.acme):
        account = Account.objects.create(name="Initrode")
        Contact.objects.create(first_name="Anna", last_name="Shared", email="anna@x.test", phone="+14155550100",
                               account=account, shared_in_directory=True)
        Contact.objects.create(first_name="Anna", last_name="Private", shared_in_directory=False)
    entries = directory(api("reseller"), org, "q=anna&type=contact").json()
    assert [(e["name"], e["company"], e["number"], e["type"]) for e in entries] == [
        ("Anna Shared", "Initrode", "+14155550100", "contact")]
    assert entries[0]["intersite_number"] == "" and entries[0]["tenant"] == "acme"
    assert [e["name"] for e in directory(api("reseller"), org, "q=initrode").json()] == ["Anna Shared"]


def test_a_member_tenants_key_searches_its_organizations_directory(api, org, other_org, phonebook):
    assert len(directory(api("globex"), org, "q=ann").json()) == 6
    assert directory(api("initech"), org, "q=ann").status_code == 404
    path = f"/api/organization/{org.organization.pk}/members/"
    response = api("acme").post(path, {"tenant": "acme", "site_code": "9"})
    assert response.status_code == 403


def test_prepared_statements_stay_within_the_connections_budget(org, phonebook, settings):
    members = selectors.directory_members(org.organization)
    branches = 2 * len(selectors.directory_sources())  # two members, one branch per member and type
    settings.ORGANIZATIONS_DIRECTORY_PREPARED_BRANCHES = branches - 1
    with CaptureQueriesContext(connection) as too_big:
        assert selectors.directory_search(members=members, q="ann").total == 6
    assert statements(too_big) == ["WITH"]
    settings.ORGANIZATIONS_DIRECTORY_PREPARED_BRANCHES = branches
    with CaptureQueriesContext(connection) as fits:
        selectors.directory_search(members=members, q="ann")
    with CaptureQueriesContext(connection) as evicts:
        assert selectors.directory_search(members=members, q="ann", types=("queue",)).total == 1
    # (statements earlier tests left on this connection are evicted first)
    assert statements(fits)[-2:] == ["PREPARE", "EXECUTE"]
    assert statements(evicts) == ["DEALLOCATE", "PREPARE", "EXECUTE"]
