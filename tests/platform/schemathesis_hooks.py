"""schemathesis hooks of the contract test (loaded with SCHEMATHESIS_HOOKS).

Tenant paths should name the test world's tenant, or nearly every request stops at 404
``tenant_not_found`` before any validation. A fixed override would also replace the invalid slugs
of negative cases (then counted as "schema-violating request accepted"), so only a generated
slug that is valid becomes ``acme``; an invalid one is sent as generated.

"Schema-valid request rejected" (ST202) is schemathesis' ``positive_data_acceptance`` with one
documented widening (docs/api.md): a schema-valid request may still name data that does not exist
in the database, or collide with data that does, or break one of the few rules JSON Schema cannot
state. Besides the 404/409 schemathesis already accepts for that, the API answers it as a 400
whose every per-field error says so (``ACCEPTED_CODES``). Any other 400 to schema-valid data is a
failure: the document must say what the API refuses.

Phone numbers are valid or not by the numbering plans (libphonenumber's metadata), which no
pattern states: the document marks them ``format: phone`` (E.164, or national in the tenant's
region), and positive cases draw them from libphonenumber's example numbers.
"""
import json
import re

import phonenumbers
import schemathesis
from hypothesis import strategies as st
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")

# Per-field error codes that depend on the database, not on the request's shape:
# a referenced object (an id, a slug, a location code, a destination) does not exist; a value must
# be unique and is taken; a `custom` key names no custom field the tenant defined (they exist per
# tenant, like the `cf_<name>` filters); an extension number has the tenant's extension_length.
STATE_CODES = {"does_not_exist", "reference_not_found", "unique", "unknown_custom_field", "destination_not_found",
               "invalid_number"}
# ... and rules JSON Schema cannot state: list items unique by one of their keys (IVR option
# digits, bulk rows' numbers, a phone's line positions and extensions; uniqueItems compares whole
# items), one field's value compared with another's (a range's end after its start, a phone's model
# one of its vendor's, its line positions within the model's line count), a range cut into more
# buckets than a request may ask for (statistics: `end - start` against the `interval`, in the
# zone's calendar).
UNSTATABLE_CODES = {"duplicate_digit", "duplicate_number", "invalid_range", "range_too_long", "duplicate_line",
                    "invalid_model", "too_many_lines"}
ACCEPTED_CODES = STATE_CODES | UNSTATABLE_CODES


def _state_dependent(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return False
    errors = body.get("errors") or {}
    codes = {item.get("code") for items in errors.values() for item in items if isinstance(item, dict)}
    return bool(codes) and codes <= ACCEPTED_CODES


def _example_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None and phonenumbers.is_valid_number(example):
                numbers.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(set(numbers))


schemathesis.openapi.format("phone", st.sampled_from(_example_numbers()))

# A CSV import (a multipart `file` part or a text/csv body) is a CSV file whose header names contact
# fields; schemathesis' default for a file part is a PNG. Generated contacts, valid as a user's file.
_CSV = st.lists(st.tuples(st.sampled_from(["Ada", "Grace", "Linus", "Mary", "Alan"]),
                          st.sampled_from(["Lovelace", "Hopper", "Torvalds", "Jackson", "Turing"]),
                          st.integers(min_value=0, max_value=9999)), min_size=1, max_size=5).map(
    lambda rows: ("first_name,last_name,email\n" + "".join(
        f"{first},{last},{first.lower()}.{last.lower()}{n}@example.com\n" for first, last, n in rows)).encode())
schemathesis.openapi.media_type("text/csv", _CSV)


def _audio_samples(fmt: str) -> list[bytes]:
    """Real sounds made by SoX (as a customer's files would be): a sound upload's file part is audio
    (its `encoding` says audio/wav, audio/mpeg or audio/ogg); schemathesis' default is a PNG."""
    import subprocess
    import tempfile

    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (rate, channels, seconds) in enumerate(((8000, 1, 0.2), (44100, 2, 0.3))):
            path = f"{tmp}/{index}.{fmt}"
            subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), path, "synth", str(seconds), "sine",
                            "440"], check=True, capture_output=True)
            with open(path, "rb") as handle:
                samples.append(handle.read())
    return samples


for _type, _fmt in (("audio/wav", "wav"), ("audio/mpeg", "mp3"), ("audio/ogg", "ogg")):
    schemathesis.openapi.media_type(_type, st.sampled_from(_audio_samples(_fmt)))


PHONE_CODES = {"invalid_e164", "invalid_phone"}
REGION = "US"  # the test world's tenant's default_region


def _is_phone(value) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(str(value), REGION))
    except phonenumbers.NumberParseException:
        return False


def _value_at(body, path: str):
    """The request value an error names: ``number``, ``options[2].destination`` (a destination's
    ``number``), ``rows[0].mobile``."""
    value = body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return value.get("number") if isinstance(value, dict) else value


def _phone_format_broken(response, case) -> bool:
    """The 400 names only phone numbers, and none of them is one: the case was not schema-valid
    (``format: phone``), although schemathesis, which cannot check a custom format, thought so.
    Its response-data pool feeds values of one operation's fields into another's fields of the
    same name (a queue's ``number`` "00" into a DID's)."""
    try:
        errors = json.loads(response.content or b"{}").get("errors") or {}
    except ValueError:
        return False
    items = [(path, item.get("code")) for path, listed in errors.items() for item in listed if isinstance(item, dict)]
    sent = case.body if isinstance(case.body, dict) else (case.query or {})
    return bool(items) and all(code in PHONE_CODES and not _is_phone(_value_at(sent, path))
                               for path, code in items)


@schemathesis.check
def positive_data_acceptance_of_existing_data(ctx, response, case):
    """schemathesis' positive_data_acceptance (ST202), where a 400 that only says referenced data
    does not exist (or unique data exists), or that a generated phone number is not one, counts as
    accepted. Run instead of the built-in."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _state_dependent(response) or _phone_format_broken(response, case):
            return None
        raise


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # At call time, so it applies in every phase (examples, coverage, fuzzing).
    tenant = (case.path_parameters or {}).get("tenant")
    if isinstance(tenant, str) and SLUG.fullmatch(tenant):
        case.path_parameters["tenant"] = "acme"
    # The CRM lists' `cf_<name>` filters exist per tenant (the document describes the family, it
    # cannot name them) and an unknown one is a 400 unknown_filter by design. The test world's
    # tenant defines no custom fields, so generated cf_* names are left out (docs/api.md).
    if case.query and any(str(k).startswith("cf_") for k in case.query):
        case.query = {k: v for k, v in case.query.items() if not str(k).startswith("cf_")}
    # An import's inline column map names the uploaded file's own headers (which only the file
    # defines, like the tenant's cf_<name> filters): generated maps are left out, the file's header
    # row maps itself (docs/api.md).
    if case.operation.path.endswith(("/import/", "/import/preview/")) and isinstance(case.body, dict) \
            and "columns" in case.body:
        case.body = {k: v for k, v in case.body.items() if k != "columns"}
