from django.dispatch import Signal

# Sent inside the transaction that creates a tenant, with ``tenant``: apps seed their defaults
# (the consent app publishes the default notice, for instance).
tenant_created = Signal()

# Sent by ``manage.py seed_demo`` with ``tenant`` (the demo tenant) and ``actor`` (an Actor for
# its admin):
# apps add demo data of their own, idempotently.
demo_seeded = Signal()
