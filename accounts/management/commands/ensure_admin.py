import os

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Create the admin account if there is none: from ADMIN_EMAIL / ADMIN_PASSWORD when set, "
        "otherwise admin@petmemories.local with a generated password, printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default=None)
        parser.add_argument("--password", default=None)

    def handle(self, *args, email, password, **options):
        email = email or os.environ.get("ADMIN_EMAIL")
        source = "--password" if password else "ADMIN_PASSWORD"
        password = password or os.environ.get("ADMIN_PASSWORD")
        if not email and User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account already exists; leaving it as it is.")
            return
        user, new_password = admin_ensure(email=email or "admin@petmemories.local", password=password)
        if new_password and password:
            # Never echo a password the operator chose: terminals and CI logs keep it.
            self.stdout.write(self.style.SUCCESS(f"Admin account: {user.email}  password: the one you set in {source}"))
        elif new_password:
            self.stdout.write(self.style.SUCCESS(f"Admin account: {user.email}  password: {new_password}"))
        else:
            self.stdout.write(f"Admin account {user.email} already exists; its password is unchanged.")
