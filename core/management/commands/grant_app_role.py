"""`manage.py grant_app_role --role whistle_app`: run as the tables' owner after `migrate`."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from core import db_roles


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL role the application connects as: rows only, no DDL, "
        "the append-only records never updated or deleted. Run as the owner after migrate."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--role", default="whistle_app", help="the application's role")
        parser.add_argument(
            "--password-env",
            metavar="NAME",
            help="set the role's password from this environment variable",
        )
        parser.add_argument(
            "--print-url",
            action="store_true",
            help="print the application's DATABASE_URL (a new random password unless "
            "--password-env gives one); prints nothing on SQLite",
        )

    def handle(self, *args, role: str, password_env: str | None, print_url: bool, **options):
        if connection.vendor != "postgresql":
            # The embedded default has one file and no roles: the application uses it as is.
            print("grant_app_role: not PostgreSQL, no role to set up", file=sys.stderr)
            return
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"the environment variable {password_env} is empty")
        elif print_url:
            password = db_roles.new_password()
        try:
            app_role = db_roles.grant_app_role(role=role, password=password)
        except db_roles.RoleError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            # Typically an owner that may not create roles: run this once as one that may.
            raise CommandError(f"PostgreSQL refused: {error}".strip()) from error
        verb = "created" if app_role.created else "updated"
        print(f"grant_app_role: role {role} {verb}", file=sys.stderr)
        if print_url:
            self.stdout.write(db_roles.app_database_url(role=role, password=password))
