"""The job's single photo and single video live in JobInput and JobOutput now (0008)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0008_job_inputs_and_outputs"),
    ]

    operations = [
        # Blank first, so that reversing adds the column back to existing rows (empty; 0008's
        # reverse then fills it in).
        migrations.AlterField(
            model_name="job",
            name="source",
            field=models.FileField(blank=True, help_text="The photo the engine animates.", max_length=255),
        ),
        migrations.RemoveField(
            model_name='job',
            name='duration',
        ),
        migrations.RemoveField(
            model_name='job',
            name='frame_count',
        ),
        migrations.RemoveField(
            model_name='job',
            name='gif',
        ),
        migrations.RemoveField(
            model_name='job',
            name='height',
        ),
        migrations.RemoveField(
            model_name='job',
            name='poster',
        ),
        migrations.RemoveField(
            model_name='job',
            name='source',
        ),
        migrations.RemoveField(
            model_name='job',
            name='video',
        ),
        migrations.RemoveField(
            model_name='job',
            name='video_bytes',
        ),
        migrations.RemoveField(
            model_name='job',
            name='video_sha256',
        ),
        migrations.RemoveField(
            model_name='job',
            name='width',
        ),
    ]
