from django.db import migrations, models


def watermark_free_jobs(apps, schema_editor):
    Job = apps.get_model("generation", "Job")
    Job.objects.filter(priority=True).update(watermark=False)


class Migration(migrations.Migration):
    """What a job may do now comes from its owner's plan: 'premium' becomes two facts, its
    place in the queue and whether it is watermarked."""

    dependencies = [("generation", "0003_engine_report")]

    operations = [
        migrations.RenameField("job", "premium", "priority"),
        migrations.AlterField(
            "job", "priority",
            models.BooleanField(default=False, help_text="Goes ahead of other jobs in the queue (the owner's plan says so)."),
        ),
        migrations.AddField(
            "job", "watermark",
            models.BooleanField(default=True, help_text="The video carries the small PetMemories mark (the owner's plan says so)."),
        ),
        migrations.RunPython(watermark_free_jobs, migrations.RunPython.noop),
    ]
