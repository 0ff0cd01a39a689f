from django.dispatch import Signal

# Sent inside the transaction that creates a tenant, with ``tenant``: apps seed their defaults
# (the consent app publishes the default notice, for instance).
tenant_created = Signal()
