"""Small helpers for admin list columns: short dates, truncated text with the full value in a
tooltip, and human names for ``app_label.model`` strings. Used by ``list_display`` methods so a
changelist reads as a table for people (and fits the page), not as a dump of the model."""
from __future__ import annotations

from django.apps import apps
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

EMPTY = "—"


def short_datetime(value):
    """``2026-05-04 13:07`` in the active time zone; the full timestamp on hover."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html('<span class="tl-nowrap" title="{}">{}</span>', local.isoformat(timespec="seconds"),
                       local.strftime("%Y-%m-%d %H:%M"))


def short_date(value):
    if value is None:
        return EMPTY
    if hasattr(value, "hour"):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html('<span class="tl-nowrap">{}</span>', value.strftime("%Y-%m-%d"))


def truncated(text, width: str = "22em"):
    """At most ``width`` wide on one line, with an ellipsis; the whole text in the tooltip."""
    text = "" if text is None else str(text)
    if not text:
        return EMPTY
    return format_html('<span class="tl-truncate" style="max-width:{}" title="{}">{}</span>', width, text, text)


def model_label(object_type: str) -> str:
    """``telephony.extension`` -> ``Extension`` (the model's verbose name), else the string itself."""
    try:
        return capfirst(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def counted(n: int, model) -> str:
    """``1 contact``, ``2 contacts``: the model's verbose names, so plurals are the model's own."""
    opts = model._meta
    return f"{n} {opts.verbose_name if n == 1 else opts.verbose_name_plural}"
