"""SMS providers (public schema): the shared half of apps.sms.

Providers are found by the inbound URL (``/api/sms/inbound/<provider>``) before any tenant is
known, and a reseller's or the system's provider serves many tenants, so they live in ``public``
like webhook subscriptions. The messages themselves live in each tenant's schema (apps.sms).
"""
