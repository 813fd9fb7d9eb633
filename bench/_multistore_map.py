"""The data map of the multi-store bench: three Fides datasets, one system per store.

References cross stores (MariaDB's call notes and Redis' carts point at
``shop.customers.id``); the identity is the e-mail (customers, support tickets,
loyalty accounts, sessions); ``charter:`` strategies mix ``delete_row`` with
``keyed_hash``, ``set_null``, ``redact_text`` and ``generalize_date``; orders
and order items are kept (tax law) with only the shipping postal code redacted.
"""

from __future__ import annotations

from pathlib import Path

import _multistore_data as data
from _multistore_data import ENV_MARIA, ENV_PG, ENV_REDIS


def _f(name: str, categories: str, meta: str | None = None, charter: str | None = None) -> str:
    out = f"          - name: {name}\n            data_categories: [{categories}]\n"
    if meta:
        out += f"            fides_meta: {meta}\n"
    if charter:
        out += f"            charter: {charter}\n"
    return out


PK = "{primary_key: true, data_type: integer}"
#: what the baseline does with an order's date and total: kept (NOT NULL columns Charter refuses to set_null)
TAX_KEPT = "{erasure: {strategy: keep, reason: 'tax records, 10 years'}}"


def _ref(dataset: str, target: str) -> str:
    return "{references: [{dataset: " + dataset + ", field: " + target + ", direction: from}]}"


def _collection(name: str, fields: list[str], charter: str | None = None, description: str | None = None) -> str:
    out = f"      - name: {name}\n"
    if description:
        out += f"        description: {description}\n"
    if charter:
        out += f"        charter: {charter}\n"
    return out + "        fields:\n" + "".join(fields)


def datamap_yaml(redis: bool = True) -> str:
    """Three Fides datasets (one per store), references across them, identity e-mail, ``charter:`` strategies."""
    shop = "dataset:\n  - fides_key: shop\n    name: Web shop (PostgreSQL)\n    collections:\n"
    shop += _collection(
        "customers",
        [
            _f("id", "user.unique_id", PK),
            _f("email", "user.contact.email", "{identity: email, data_type: string}", "{erasure: keyed_hash}"),
            _f("first_name", "user.name.first", charter="{erasure: set_null}"),
            _f("last_name", "user.name.last", charter="{erasure: set_null}"),
            _f("phone", "user.contact.phone_number", charter="{erasure: set_null}"),
            _f(
                "birth_date",
                "user.demographic.date_of_birth",
                charter="{erasure: {strategy: generalize_date, to: year}}",
            ),
            _f("created_at", "system.operations"),
        ],
    )
    shop += _collection(
        "addresses",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("kind", "system.operations"),
            _f("line1", "user.contact.address.street"),
            _f("city", "user.contact.address.city"),
            _f("postal_code", "user.contact.address.postal_code"),
            _f("country", "user.contact.address.country"),
        ],
        "{erasure: delete_row}",
    )
    shop += _collection(
        "orders",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("placed_at", "user.behavior.purchase_history", charter=TAX_KEPT),
            _f("status", "system.operations"),
            _f("total_cents", "user.behavior.purchase_history", charter=TAX_KEPT),
            _f("ship_postal_code", "user.contact.address.postal_code", charter="{erasure: redact_text}"),
        ],
        description="Kept ten years for tax law; only the shipping postal code is erased.",
    )
    shop += _collection(
        "order_items",
        [
            _f("id", "system.operations", PK),
            _f("order_id", "system.operations", _ref("shop", "orders.id")),
            _f("sku", "system.operations"),
            _f("quantity", "system.operations"),
            _f("price_cents", "system.operations"),
        ],
        description="Order lines, no personal field; kept with the order.",
    )
    shop += _collection(
        "payments",
        [
            _f("id", "system.operations", PK),
            _f("order_id", "system.operations", _ref("shop", "orders.id")),
            _f("method", "system.operations"),
            _f("card_last4", "user.financial.bank_account", charter="{erasure: set_null}"),
            _f("billing_name", "user.name", charter="{erasure: set_null}"),
            _f("amount_cents", "system.operations"),
            _f("paid_at", "system.operations"),
        ],
    )
    shop += _collection(
        "subscriptions",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("plan", "user.behavior.purchase_history"),
            _f("started_at", "user.behavior.purchase_history"),
            _f("renews", "user.behavior.purchase_history"),
        ],
        "{erasure: delete_row}",
    )
    shop += _collection(
        "consents",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("purpose", "system.operations"),
            _f("granted_at", "system.operations"),
            _f("ip_address", "user.device.ip_address"),
        ],
        "{erasure: delete_row}",
    )
    support = "  - fides_key: support\n    name: Support desk and loyalty (MariaDB)\n    collections:\n"
    support += _collection(
        "support_tickets",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id"),
            _f("requester_email", "user.contact.email", "{identity: email, data_type: string}"),
            _f("subject", "user.content"),
            _f("body", "user.content"),
            _f("opened_at", "system.operations"),
        ],
        "{erasure: delete_row}",
    )
    support += _collection(
        "ticket_messages",
        [
            _f("id", "system.operations", PK),
            _f("ticket_id", "system.operations", _ref("support", "support_tickets.id")),
            _f("author", "system.operations"),
            _f("body", "user.content"),
            _f("sent_at", "system.operations"),
        ],
        "{erasure: delete_row}",
    )
    support += _collection(
        "call_notes",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("phone", "user.contact.phone_number", charter="{erasure: set_null}"),
            _f("note", "user.content", charter="{erasure: redact_text}"),
            _f("called_at", "system.operations"),
        ],
    )
    support += _collection(
        "loyalty_accounts",
        [
            _f("id", "system.operations", PK),
            _f("customer_id", "user.unique_id"),
            _f("email", "user.contact.email", "{identity: email, data_type: string}"),
            _f("tier", "user.behavior"),
            _f("points", "user.behavior"),
        ],
        "{erasure: delete_row}",
    )
    support += _collection(
        "loyalty_events",
        [
            _f("id", "system.operations", PK),
            _f("account_id", "system.operations", _ref("support", "loyalty_accounts.id")),
            _f("kind", "user.behavior"),
            _f("points", "user.behavior"),
            _f("at", "user.behavior"),
        ],
        "{erasure: delete_row}",
    )
    cache = "  - fides_key: cache\n    name: Sessions and carts (Redis)\n    collections:\n"
    cache += _collection(
        "sessions",
        [
            _f("email", "user.contact.email", "{identity: email, data_type: string}"),
            _f("created_at", "system.operations"),
            _f("ip", "user.device.ip_address"),
            _f("user_agent", "user.device"),
        ],
        f'{{key: "{data.PREFIX}:session:*", erasure: delete_row}}',
    )
    cache += _collection(
        "carts",
        [
            _f("customer_id", "user.unique_id", _ref("shop", "customers.id")),
            _f("items", "user.behavior.purchase_history"),
            _f("ship_name", "user.name", charter="{erasure: set_null}"),
            _f("updated_at", "system.operations"),
        ],
        f'{{key: "{data.PREFIX}:cart:{{customer_id}}"}}',
    )
    return shop + support + (cache if redis else "")


def systems_yaml(redis: bool = True) -> str:
    out = (
        "systems:\n"
        f"  - {{id: shop_pg, kind: sql, url_env: {ENV_PG}, datasets: [shop], description: Web shop on PostgreSQL}}\n"
        f"  - {{id: support_maria, kind: sql, url_env: {ENV_MARIA}, datasets: [support],"
        " description: Support desk and loyalty on MariaDB}\n"
    )
    if redis:
        out += (
            f"  - {{id: cache_redis, kind: redis, url_env: {ENV_REDIS}, datasets: [cache],"
            " description: Sessions and carts on Redis}\n"
        )
    return out


def write_datamap(folder: Path, *, redis: bool = True) -> Path:
    """The data map; ``redis=False`` leaves the Redis dataset and system out (the SQL-only comparison)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datasets.yaml").write_text(datamap_yaml(redis))
    (folder / "systems.yaml").write_text(systems_yaml(redis))
    return folder
