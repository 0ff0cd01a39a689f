"""The platform package.

The Celery app is loaded by ``ComplianceHubConfig.ready()`` (so every Django process has it
before a task is sent) and found by ``celery -A compliance_hub`` in ``compliance_hub.celery``;
it is not imported here, so that pure modules of this package (``compliance_hub.digits``) can be
imported by pure code such as the WhatsApp parser without loading Django.
"""
