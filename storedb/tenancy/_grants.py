"""The documented grant list: every privilege the application role may hold.

``storedb check --tenancy`` compares what ``storedb_app`` can actually do
(its own grants, PUBLIC's and those of roles it belongs to) with this table and
reports anything beyond it.  Only *extra* privileges are violations: revoking a
privilege (say, table-wide UPDATE replaced by UPDATE on some columns) never is,
so tightening the schema needs no change here; granting something new does,
deliberately, in the same change as the migration.  infra/db/README.md shows
the same list (tests/tenancy/test_check.py keeps the two equal).

Each entry is ``object -> privileges`` in GRANT syntax: ``select, insert
(a, b), update (c), delete``.  A privilege without a column list is allowed on
the whole table; with one, only on those columns.  Objects are named as
``database``, ``schema <name>``, ``table <schema>.<name>`` (views and
sequences too: ``sequence <schema>.<name>``) and ``function
<schema>.<name>(<argument types>)``.
"""

from __future__ import annotations

import re

#: The group role of the application's login roles: what the list is about.
APP_ROLE = "storedb_app"

_CRUD = "select, insert, update, delete"
#: What the application may change on an order (010).
_ORDERS_UPDATABLE = (
    "status, payment_status, fulfillment_status, customer_id, customer_email, "
    "customer_name, customer_phone, billing_first_name, billing_last_name, "
    "billing_company, billing_address_1, billing_address_2, billing_city, "
    "billing_province, billing_postal_code, billing_country_code, billing_phone, "
    "shipping_first_name, shipping_last_name, shipping_company, shipping_address_1, "
    "shipping_address_2, shipping_city, shipping_province, shipping_postal_code, "
    "shipping_country_code, shipping_phone, currency_code, tax_inclusive, subtotal, "
    "discount_total, shipping_total, tax_total, gift_card_total, total, paid_total, "
    "refunded_total, idempotency_key, cart_id, external_id, sales_channel, locale, "
    "placed_at, paid_at, fulfilled_at, shipped_at, canceled_at, notes, metadata, "
    "deleted_at"
)

APP_GRANTS: dict[str, str] = {
    # TEMP stays (PUBLIC has it by default): every SECURITY DEFINER function puts
    # pg_temp last in its search_path, which check --tenancy enforces.
    "database": "connect, temporary",
    "schema public": "usage",
    # 010: the platform owns plan, billing, status, subdomain and deleted_at
    "table public.tenants": "select, update (name, metadata)",
    "table public.store_configs": _CRUD,
    "table public.tenant_settings": _CRUD,
    "table public.tenant_domains":
        "select, insert (id, store_id, domain, is_primary), update (is_primary), delete",
    "table public.platform_domains": "select",
    "table public.products": _CRUD,
    # 010: no hard delete of financial rows; id, store_id, display_id and created_at are fixed
    "table public.orders": "select, insert, update (" + _ORDERS_UPDATABLE + ")",
    "table public.order_line_items": "select, insert, update",
    # 010: written only by orders_assign_display_id() (SECURITY DEFINER)
    "table public.order_display_id_counters": "select",
    "table public.audit_log": "select",
    "table public.users": _CRUD,
    "table public.user_preferences": _CRUD,
    "table public.role_permissions": "select",
    "function public.set_current_store_id(uuid)": "execute",
    "function public.get_current_store_id()": "execute",
    "function public.generate_slug(text)": "execute",
    "function public.update_updated_at_column()": "execute",
    "function public.validate_timezone()": "execute",
    "function public.products_before_write()": "execute",
    "function public.orders_assign_display_id()": "execute",
    "function public.create_tenant(text, text, subscription_plan, text, text, text, jsonb, "
    "uuid)": "execute",
    "function public.soft_delete_tenant(uuid)": "execute",
    "function public.resolve_store_id(text)": "execute",
    "function public.search_products(text, integer)": "execute",
    # issue 16
    "function public.current_store_is_live()": "execute",  # the live-store policies call it
    "function public.erase_customer_pii(text)": "execute",
    "function public.orders_by_status(order_status, integer, timestamp with time zone)":
        "execute",
    "function public.orders_by_payment_status(payment_status, integer, "
    "timestamp with time zone)": "execute",
    "function public.orders_by_fulfillment_status(fulfillment_status, integer, "
    "timestamp with time zone)": "execute",
    "function public.products_by_status(product_status, integer, timestamp with time zone)":
        "execute",
}

#: privilege -> None (whole object) or the columns it is allowed on
Allowed = dict[str, frozenset[str] | None]

_ITEM = re.compile(r"\s*([a-z]+)\s*(?:\(([^)]*)\))?\s*(?:,|$)")


def parse(privileges: str) -> Allowed:
    """``"select, update (a, b)"`` -> ``{"select": None, "update": {"a", "b"}}``."""
    allowed: Allowed = {}
    for match in _ITEM.finditer(privileges.lower()):
        name, columns = match.group(1), match.group(2)
        if columns is None:
            allowed[name] = None
        elif allowed.get(name, frozenset()) is not None:
            have = allowed.get(name) or frozenset()
            allowed[name] = have | {c.strip() for c in columns.split(",") if c.strip()}
    return allowed


def allowed_grants() -> dict[str, Allowed]:
    """The grant list, parsed: object -> privilege -> columns (None = all)."""
    return {obj: parse(privileges) for obj, privileges in APP_GRANTS.items()}


def is_allowed(grants: dict[str, Allowed], obj: str, privilege: str,
               column: str | None = None) -> bool:
    """Whether the list allows ``privilege`` on ``obj`` (on ``column``, or on all of it)."""
    allowed = grants.get(obj, {})
    if privilege not in allowed:
        return False
    columns = allowed[privilege]
    return columns is None or (column is not None and column in columns)


def markdown_table() -> str:
    """The list as infra/db/README.md shows it."""
    rows = ["| object | storedb_app may hold |", "|---|---|"]
    rows += [f"| `{obj}` | {privileges} |" for obj, privileges in APP_GRANTS.items()]
    return "\n".join(rows)
