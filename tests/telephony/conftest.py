"""Helpers of the telephony tests (the world and api fixtures come from tests/conftest.py)."""
from __future__ import annotations


def codes(response) -> str:
    return response.json().get("code")


def fields(response) -> dict:
    return response.json().get("errors") or {}
