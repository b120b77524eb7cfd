"""The crm-lookup FastAGI script names a caller from the tenant's CRM (Asterisk's side played by
the test peer, in the recorded protocol)."""
import re

import pytest
from django_tenants.utils import tenant_context

from apps.pbx.agi import FastAgiServer
from tests.pbx.peers import FastAgiAsterisk

pytestmark = pytest.mark.django_db(transaction=True)


def env_for(request: str, context: str, number: str) -> dict:
    return {"agi_network": "yes", "agi_network_script": request.split("/", 3)[3], "agi_request": request,
            "agi_channel": "Local/7000@acme-internal-00000001;2", "agi_language": "en", "agi_type": "Local",
            "agi_uniqueid": "1795750900.12", "agi_version": "22.10.1", "agi_callerid": number,
            "agi_calleridname": "Unknown Caller", "agi_context": context, "agi_extension": "7000",
            "agi_priority": "3", "agi_arg_1": number}


def run(request: str, context: str, number: str):
    sets = []

    def answer(line: bytes) -> bytes:
        text = line.decode().strip()
        if text.startswith("SET VARIABLE"):
            sets.append(text)
        if text.startswith("GET VARIABLE CALLERID(num)"):
            return f"200 result=1 ({number})\n".encode()
        return b"200 result=1\n"

    with FastAgiServer("127.0.0.1", 0) as server:
        result = FastAgiAsterisk(*server.address).session(env_for(request, context, number), answer)
    assert result.closed_by_server and not result.errors
    return sets


@pytest.fixture
def jane(committed_world, system_actor):
    from apps.crm.models import Account, Contact

    with tenant_context(committed_world.acme):
        account = Account.objects.create(name="Initrode")
        Contact.objects.create(first_name="Jane", last_name="Doe", phone="+14155552671", account=account)
    return committed_world


def test_known_caller_gets_a_name_in_any_number_format(jane):
    for number in ("+14155552671", "(415) 555-2671", "14155552671"):
        sets = run("agi://127.0.0.1:4573/crm-lookup?tenant=acme", "acme-from-did", number)
        assert sets == ['SET VARIABLE CALLERID(name) "Jane Doe (Initrode)"'], number


def test_tenant_from_the_context_when_not_given(jane):
    sets = run("agi://127.0.0.1:4573/crm-lookup", "acme-internal", "+14155552671")
    assert sets and re.search(r"Jane Doe", sets[0])


def test_another_tenant_never_sees_the_contact(jane):
    assert run("agi://127.0.0.1:4573/crm-lookup?tenant=globex", "globex-from-did", "+14155552671") == []


def test_unknown_caller_and_bad_input_leave_the_call_alone(jane):
    assert run("agi://127.0.0.1:4573/crm-lookup?tenant=acme", "acme-from-did", "+15550000000") == []
    assert run("agi://127.0.0.1:4573/crm-lookup?tenant=acme", "acme-from-did", "anonymous") == []
    assert run("agi://127.0.0.1:4573/crm-lookup?tenant=nope", "nope-from-did", "+14155552671") == []
