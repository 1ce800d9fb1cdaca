from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("studio")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)  # normally made after all migrations
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    support, _ = Group.objects.get_or_create(name="Support")
    support.permissions.add(Permission.objects.get(content_type__app_label="studio", codename="view_framemember"))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Support"):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="studio", codename="view_framemember"))


class Migration(migrations.Migration):
    """Support sees who was invited to send to a frame (docs/operations.md, "Staff roles"): a
    customer asking why someone's photos are on their frame gets an answer."""

    dependencies = [
        ("accounts", "0005_support_sees_workers"),
        ("studio", "0006_frame_members"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
