"""Concurrent writes that must serialise (committed data, several connections)."""
import threading

from django.db import connection, transaction

from apps.telephony.services import did_create
from thirdlane.api.errors import DomainError


def test_concurrent_claims_of_one_number_in_two_tenants_serialise_on_the_lock(committed_world, system_actor):
    world = committed_world
    first_holds_lock, release_first = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        try:
            with transaction.atomic():
                did_create(actor=system_actor, tenant=world.acme, number="+14155550100")
                first_holds_lock.set()
                release_first.wait(10)
            outcome["first"] = "created"
        finally:
            connection.close()

    def second():
        try:
            first_holds_lock.wait(10)
            did_create(actor=system_actor, tenant=world.globex, number="+1 415 555 0100")
            outcome["second"] = "created"
        except DomainError as exc:
            outcome["second"] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds_lock.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the second claim must wait for the first transaction"
    release_first.set()
    for t in threads:
        t.join(10)
    assert outcome == {"first": "created", "second": "number_taken"}


def test_concurrent_creations_cannot_both_pass_the_extension_limit(committed_world, system_actor):
    from apps.telephony.services import extension_create

    world = committed_world
    world.acme.max_extensions = 1
    world.acme.save()
    first_holds_lock, release_first = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        try:
            with transaction.atomic():
                extension_create(actor=system_actor, tenant=world.acme, number="1001", name="A")
                first_holds_lock.set()
                release_first.wait(10)
            outcome["first"] = "created"
        finally:
            connection.close()

    def second():
        try:
            first_holds_lock.wait(10)
            extension_create(actor=system_actor, tenant=world.acme, number="1002", name="B")
            outcome["second"] = "created"
        except DomainError as exc:
            outcome["second"] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_holds_lock.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the second creation must wait for the first transaction"
    release_first.set()
    for t in threads:
        t.join(10)
    assert outcome == {"first": "created", "second": "limit_exceeded"}
