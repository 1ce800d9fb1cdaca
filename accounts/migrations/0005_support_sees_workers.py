from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("generation")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)  # normally made after all migrations
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    support, _ = Group.objects.get_or_create(name="Support")
    support.permissions.add(Permission.objects.get(content_type__app_label="generation", codename="view_workerheartbeat"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Support"):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="generation", codename="view_workerheartbeat"))


class Migration(migrations.Migration):
    """Support sees the worker processes and their heartbeats (docs/operations.md, "Staff roles")."""

    dependencies = [
        ("accounts", "0004_staff_roles"),
        ("generation", "0007_worker_heartbeat"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
