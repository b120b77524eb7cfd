"""Column maps: which CSV column goes to which contact field, and how it is transformed.

A map is ``{"<header>": {"field": "<target>", "transforms": [...], "default": "", "date_format": ""}}``.
Targets are contact fields (``CONTACT_FIELDS``), ``full_name`` (split into first and last name),
``account`` (the company name: an account is found by name or created) and ``cf:<name>`` for
custom fields. An empty target ignores the column.

Transforms, applied in order after the cell is trimmed: ``trim`` (always on), ``lower``,
``upper``, ``title``, ``collapse_spaces``, ``phone`` (E.164 with the tenant's region; implied for
phone fields), ``split_name`` (for ``full_name``: "Ada Lovelace" or "Lovelace, Ada"), ``date`` (with
``date_format``, a strptime format such as ``%d/%m/%Y``), and ``default`` (the value of an empty cell).
"""
from __future__ import annotations

import re

from thirdlane.api.errors import Invalid

# target -> (label, header synonyms)
CONTACT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "first_name": ("First name", ("first name", "firstname", "first", "given name", "forename", "prenom",
                                  "prénom", "vorname", "nombre")),
    "last_name": ("Last name", ("last name", "lastname", "last", "surname", "family name", "nom", "nachname",
                                "apellido")),
    "full_name": ("Full name (split)", ("name", "full name", "fullname", "contact name", "contact", "display name")),
    "title": ("Job title", ("title", "job title", "position", "role", "jobtitle")),
    "email": ("E-mail", ("email", "e mail", "email address", "e mail address", "mail", "primary email",
                         "work email", "courriel")),
    "other_email": ("Other e-mail", ("other email", "secondary email", "email 2", "alternate email",
                                     "personal email", "email2")),
    "phone": ("Phone", ("phone", "telephone", "phone number", "tel", "business phone", "main phone",
                        "primary phone", "telefon", "téléphone")),
    "mobile": ("Mobile", ("mobile", "mobile phone", "cell", "cell phone", "cellphone", "handy", "mobile number",
                          "portable")),
    "work_phone": ("Work phone", ("work phone", "office phone", "direct line", "direct phone", "other phone")),
    "street": ("Street", ("street", "address", "street address", "address line 1", "mailing street", "address 1")),
    "city": ("City", ("city", "town", "mailing city", "ville", "stadt")),
    "region": ("State / region", ("state", "region", "province", "county", "mailing state", "state province")),
    "postal_code": ("Postal code", ("zip", "zip code", "postal code", "postcode", "mailing zip",
                                    "mailing postal code", "plz")),
    "country": ("Country", ("country", "country code", "mailing country", "pays", "land", "country region",
                            "country or region", "country/region", "nation", "país", "paese", "strana")),
    "account": ("Company (account)", ("company", "account", "account name", "organization", "organisation",
                                      "company name", "firma", "société", "employer")),
    "owner": ("Owner", ("owner", "contact owner", "assigned to", "owner email", "sales rep")),
    "tags": ("Tags", ("tags", "labels", "tag", "categories")),
    "source": ("Source", ("source", "lead source", "origin")),
    "external_id": ("External id", ("id", "external id", "record id", "contact id", "externalid", "uid", "uuid")),
    "shared_in_directory": ("Shared in directory", ("shared", "directory", "in directory", "shared in directory")),
    "notes": ("Notes", ("notes", "note", "description", "comments", "comment")),
}
TRANSFORMS = {"trim", "lower", "upper", "title", "collapse_spaces", "phone", "split_name", "date", "default"}
PHONE_FIELDS = ("phone", "mobile", "work_phone")


def norm_header(text: str) -> str:
    text = (text or "").strip().lower().lstrip("\ufeff")
    text = re.sub(r"[_\-./:]+", " ", text)
    text = re.sub(r"[^\w\s@]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def suggest(headers: list[str], custom_defs) -> dict[str, dict]:
    """A map for these headers: exact field names and labels first, then synonyms; each target once."""
    index: dict[str, str] = {}
    for target, (label, synonyms) in CONTACT_FIELDS.items():
        for key in (target, label, *synonyms):
            index.setdefault(norm_header(key), target)
    for d in custom_defs:
        for key in (d.name, d.label, f"cf {d.name}"):
            index.setdefault(norm_header(key), f"cf:{d.name}")
    taken: set[str] = set()
    out: dict[str, dict] = {}
    for header in headers:
        target = index.get(norm_header(header), "")
        if target and target not in taken:
            taken.add(target)
            out[header] = {"field": target, "transforms": default_transforms(target)}
        else:
            out[header] = {"field": "", "transforms": []}
    # "Name" alone is a full name to split, unless first/last are there too.
    if {"first_name", "last_name"} & taken:
        for spec in out.values():
            if spec["field"] == "full_name":
                spec["field"], spec["transforms"] = "", []
    return out


def default_transforms(target: str) -> list[str]:
    if target in PHONE_FIELDS:
        return ["trim", "phone"]
    if target in ("email", "other_email"):
        return ["trim", "lower"]
    if target == "full_name":
        return ["trim", "split_name"]
    return ["trim"]


def validate_columns(columns, custom_names: set[str] | None = None) -> dict:
    """Check a map's shape (not yet against a file); returns it normalised."""
    if not isinstance(columns, dict):
        raise Invalid("columns must be an object of CSV header to {field, transforms, default, date_format}.",
                      field="columns")
    out: dict[str, dict] = {}
    targets: dict[str, str] = {}
    errors: dict[str, list] = {}

    def err(header, message):
        errors.setdefault(f"columns.{header}", []).append({"code": "invalid", "message": message})

    for header, spec in columns.items():
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, dict):
            err(header, "Expected a field name or an object with 'field'.")
            continue
        unknown = set(spec) - {"field", "transforms", "default", "date_format"}
        if unknown:
            err(header, f"Unknown keys: {', '.join(sorted(unknown))}.")
        target = spec.get("field") or ""
        if not isinstance(target, str):
            err(header, "field must be a string.")
            continue
        if target.startswith("cf:"):
            name = target[3:]
            if custom_names is not None and name not in custom_names:
                err(header, f"No contact custom field {name!r}.")
        elif target and target not in CONTACT_FIELDS:
            err(header, f"Unknown field {target!r}. Fields: {', '.join(CONTACT_FIELDS)} or cf:<name>.")
        if target:
            if target in targets:
                err(header, f"Column {targets[target]!r} already goes to {target!r}.")
            targets[target] = header
        transforms = spec.get("transforms", default_transforms(target) if target else [])
        if not isinstance(transforms, list) or not all(isinstance(t, str) for t in transforms):
            err(header, "transforms must be a list of names.")
            transforms = []
        bad = [t for t in transforms if t not in TRANSFORMS]
        if bad:
            err(header, f"Unknown transform(s) {', '.join(bad)}. Known: {', '.join(sorted(TRANSFORMS))}.")
        if "split_name" in transforms and target != "full_name":
            err(header, "split_name only applies to the full_name field.")
        date_format = spec.get("date_format", "") or ""
        if date_format and "%" not in date_format:
            err(header, "date_format is a strptime format such as %d/%m/%Y.")
        default = spec.get("default", "")
        if default is None:
            default = ""
        out[str(header)] = {"field": target, "transforms": transforms, "default": str(default),
                            "date_format": str(date_format)}
    if {"first_name", "last_name"} & set(targets) and "full_name" in targets:
        errors.setdefault("columns", []).append(
            {"code": "invalid", "message": "Map either full_name or first_name/last_name, not both."})
    if errors:
        raise Invalid("The column map is not valid.", errors=errors)
    return out
