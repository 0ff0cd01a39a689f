"""``migrate`` that runs as the database owner role and then grants the application role.

The application connects as a role that owns nothing (so PostgreSQL's Row-Level Security binds
it and it cannot alter tables); DDL needs the owner. This command swaps to the owner's
credentials (settings.DB_OWNER_CREDENTIALS, from DATABASE_OWNER_URL), migrates, and grants the
application role exactly what it may do: read and write every table, except that append-only
tables get no UPDATE, DELETE or TRUNCATE.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from compliance_hub.db_grants import grant_application_role


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        database = options["database"]
        connection = connections[database]
        owner = settings.DB_OWNER_CREDENTIALS
        if connection.settings_dict["USER"] != owner["USER"]:
            connection.close()
            connection.settings_dict.update(owner)
        result = super().handle(*args, **options)
        grant_application_role(connection, verbosity=options["verbosity"], stdout=self.stdout)
        return result
