"""Text that ends up in the PBX configuration is refused when it could change its meaning."""
import pytest

from tests.telephony.conftest import fields

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, body, field", [
    ("extensions", {"number": "1001", "name": "Bob\n[evil]"}, "name"),
    ("extensions", {"number": "1001", "name": "Bob", "caller_id_name": "x\r\ny"}, "caller_id_name"),
    ("trunks", {"name": "t", "host": "sip.example.com\nregister=>x", "auth_type": "ip_auth"}, "host"),
    ("trunks", {"name": "t", "host": "-bad-.example", "auth_type": "ip_auth"}, "host"),
    ("trunks", {"name": "t", "host": "h", "username": "u;x", "secret": "abc"}, "username"),
    ("trunks", {"name": "t", "host": "h", "username": "u", "secret": "a\nb"}, "secret"),
    ("queues", {"number": "5000", "name": "Q", "music_on_hold": "../etc"}, "music_on_hold"),
    ("ivrs", {"name": "I", "greeting_recording": "../../etc/passwd"}, "greeting_recording"),
    ("ivrs", {"name": "I\tX"}, "name"),
    ("dids", {"number": "+14155550100", "description": "a\nb"}, "description"),
    ("schedules", {"name": "S\nX"}, "name"),
    ("agents", {"name": "A\rB", "login_code": "77"}, "name"),
])
def test_unsafe_text_is_refused(api, world, path, body, field):
    response = api("acme").post(f"/api/{path}/acme/", body)
    assert response.status_code == 400, response.content
    assert field in fields(response)


@pytest.mark.parametrize("host", ["sip.carrier.example", "10.0.0.5", "[2001:db8::1]", "2001:db8::1", "carrier"])
def test_good_hosts(api, world, host):
    assert api("acme").post("/api/trunks/acme/", {"name": "t", "host": host, "auth_type": "ip_auth"}).status_code == 201


def test_good_sound_and_music(api, world):
    assert api("acme").post("/api/ivrs/acme/", {"name": "I", "greeting_recording": "custom/acme/welcome.wav"}
                            ).status_code == 201
    assert api("acme").post("/api/queues/acme/", {"number": "5000", "name": "Q", "music_on_hold": "jazz-1"}
                            ).status_code == 201
