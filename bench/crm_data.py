"""Realistic international contact files, generated here (nothing downloaded).

26 countries; each row's phone is a real-looking number of its country (built from phonenumbers'
own example numbers with other digits, kept only when valid), written in national or
international format with the separators people use; a quarter of the rows also have a mobile.
The country column holds an ISO code, the English name or the country's own name; about 3% of
rows leave it empty and give the country at the end of the street address instead. Names come in
the countries' scripts (Latin with diacritics, Cyrillic, Greek, Han, Kana, Hangul, Devanagari,
Arabic, Hebrew, Thai). About 0.5% of rows are invalid (a phone with digits missing, or an e-mail
like x..y@ or @-domain) and about 2% repeat an earlier row's e-mail (the import skips them).

``write(path, rows, seed)`` returns the counts the import must reproduce.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass

import phonenumbers

PNF = phonenumbers.PhoneNumberFormat
COUNTRIES = {
    # ISO: (English name, own name, given names, family names, cities)
    "US": ("United States", "USA", ["James", "Mary", "Aiden", "Chloe"], ["Smith", "Johnson", "O'Neil"], ["Austin", "Boston"]),
    "CA": ("Canada", "Canada", ["Liam", "Émilie"], ["Tremblay", "Roy"], ["Montréal", "Toronto"]),
    "MX": ("Mexico", "México", ["José", "Lucía"], ["Hernández", "García"], ["Ciudad de México", "Puebla"]),
    "BR": ("Brazil", "Brasil", ["João", "Ana"], ["Silva", "Conceição"], ["São Paulo", "Recife"]),
    "AR": ("Argentina", "Argentina", ["Martín", "Sofía"], ["González", "Rodríguez"], ["Córdoba", "Rosario"]),
    "GB": ("United Kingdom", "UK", ["Oliver", "Amelia"], ["Taylor", "Davies"], ["Leeds", "Bristol"]),
    "IE": ("Ireland", "Éire", ["Seán", "Aoife"], ["Ó Briain", "Murphy"], ["Cork", "Galway"]),
    "FR": ("France", "France", ["Élodie", "Théo"], ["Château", "Lefèvre"], ["Paris", "Lyon"]),
    "DE": ("Germany", "Deutschland", ["Jürgen", "Anja"], ["Müller", "Groß"], ["Köln", "München"]),
    "AT": ("Austria", "Österreich", ["Lukas", "Anna"], ["Gruber", "Huber"], ["Wien", "Graz"]),
    "CH": ("Switzerland", "Schweiz", ["Luca", "Léa"], ["Meier", "Keller"], ["Zürich", "Genève"]),
    "NL": ("Netherlands", "Nederland", ["Daan", "Sanne"], ["de Vries", "van Dijk"], ["Utrecht", "Delft"]),
    "BE": ("Belgium", "België", ["Noah", "Louise"], ["Peeters", "Dubois"], ["Gent", "Liège"]),
    "ES": ("Spain", "España", ["Álvaro", "Lucía"], ["Núñez", "Martínez"], ["Sevilla", "Málaga"]),
    "PT": ("Portugal", "Portugal", ["Tomás", "Inês"], ["Gonçalves", "Sousa"], ["Lisboa", "Porto"]),
    "IT": ("Italy", "Italia", ["Niccolò", "Giulia"], ["Rossi", "Esposito"], ["Milano", "Napoli"]),
    "SE": ("Sweden", "Sverige", ["Björn", "Åsa"], ["Lindqvist", "Öberg"], ["Göteborg", "Malmö"]),
    "PL": ("Poland", "Polska", ["Łukasz", "Zofia"], ["Wiśniewski", "Kowalczyk"], ["Łódź", "Kraków"]),
    "GR": ("Greece", "Ελλάδα", ["Γιώργος", "Ελένη"], ["Παπαδόπουλος", "Νικολάου"], ["Αθήνα", "Πάτρα"]),
    "RU": ("Russia", "Россия", ["Дмитрий", "Анна"], ["Иванов", "Смирнова"], ["Москва", "Казань"]),
    "TR": ("Turkey", "Türkiye", ["Çağrı", "Ayşe"], ["Yılmaz", "Öztürk"], ["İstanbul", "İzmir"]),
    "IN": ("India", "भारत", ["Priya", "अर्जुन"], ["Sharma", "पटेल"], ["Mumbai", "Pune"]),
    "JP": ("Japan", "日本", ["陽翔", "さくら"], ["佐藤", "鈴木"], ["東京", "大阪"]),
    "KR": ("South Korea", "대한민국", ["민준", "서연"], ["김", "이"], ["서울", "부산"]),
    "AE": ("United Arab Emirates", "الإمارات العربية المتحدة", ["محمد", "Fatima"], ["الهاشمي", "Khan"], ["Dubai", "دبي"]),
    "AU": ("Australia", "Australia", ["Jack", "Isla"], ["Nguyen", "Wilson"], ["Perth", "Hobart"]),
}
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent"]
HEADER = ["First Name", "Last Name", "Email", "Phone", "Mobile", "Company", "Street", "City", "Country", "Tier"]
TIERS = ("gold", "silver", "bronze")
SEPARATORS = (" ", "", "-", ".", " ")


@dataclass
class Counts:
    rows: int = 0
    invalid: int = 0  # rows the import must refuse
    duplicates: int = 0  # rows with an earlier row's e-mail (skipped)
    distinct: int = 0  # contacts the import creates (in a tenant without them)
    no_country_column: int = 0  # rows whose country is only in the address


class NumberBank:
    """Valid numbers per country, built from phonenumbers' example numbers."""

    def __init__(self, rng: random.Random, per_country: int = 400):
        self.numbers: dict[str, list] = {}
        for region in COUNTRIES:
            found = []
            for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is None:
                    continue
                digits = str(example.national_number)
                tries = 0
                while len(found) < per_country * (1 if kind == phonenumbers.PhoneNumberType.FIXED_LINE else 0.5) \
                        and tries < per_country * 20:
                    tries += 1
                    keep = max(2, len(digits) - 5)
                    candidate = digits[:keep] + "".join(rng.choice("0123456789") for _ in digits[keep:])
                    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(candidate),
                                                      italian_leading_zero=example.italian_leading_zero)
                    if phonenumbers.is_valid_number_for_region(number, region):
                        found.append(number)
            self.numbers[region] = found

    def written(self, rng: random.Random, region: str) -> str:
        number = rng.choice(self.numbers[region])
        text = phonenumbers.format_number(number, PNF.NATIONAL if rng.random() < 0.6 else PNF.INTERNATIONAL)
        separator = rng.choice(SEPARATORS)
        return text.replace(" ", separator) if separator != " " else text


def write(path, rows: int, seed: int = 14) -> Counts:
    rng = random.Random(seed)
    bank = NumberBank(rng)
    counts = Counts(rows=rows)
    emails: list[str] = []
    regions = list(COUNTRIES)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            region = regions[i % len(regions)] if i < len(regions) else rng.choice(regions)
            english, own, given, family, cities = COUNTRIES[region]
            first, last, city = rng.choice(given), rng.choice(family), rng.choice(cities)
            email = f"{_ascii(first)}.{_ascii(last)}.{i}@{rng.choice(COMPANIES).lower()}-mail.example"
            phone = bank.written(rng, region)
            mobile = bank.written(rng, region) if rng.random() < 0.25 else ""
            street = f"{rng.randint(1, 200)} Main Street"
            country = rng.choice((region, english, own, english))
            roll = rng.random()
            if roll < 0.005:  # invalid: a phone missing digits, or an e-mail Django refuses
                counts.invalid += 1
                if rng.random() < 0.5:
                    phone = phone[:4]
                else:
                    email = rng.choice((f"x..{i}@ex.example", f".lead{i}@ex.example", f"b{i}@-meridian.example"))
            elif roll < 0.025 and emails:  # a duplicate of an earlier row's e-mail
                email = rng.choice(emails)
                counts.duplicates += 1
            else:
                emails.append(email)
                counts.distinct += 1
            if roll >= 0.005 and rng.random() < 0.03:  # the country only in the address
                street, country = f"{street}, {city}, {english}", ""
                counts.no_country_column += 1
            writer.writerow([first, last, email, phone, mobile, f"{rng.choice(COMPANIES)} {i % 200}", street, city,
                             country, rng.choice(TIERS)])
    return counts


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in plain if c.isalnum()) or "u"
