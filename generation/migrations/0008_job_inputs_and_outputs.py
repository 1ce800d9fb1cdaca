"""A job takes ordered photos and makes ordered outputs of a kind: every existing job's photo
becomes its first input, and its MP4, GIF and poster its outputs (video, animation, poster), each
with its size, SHA-256 and dimensions. The files stay where they are; only rows are written.
The next migration drops the old columns.

A file that cannot be read (already gone from storage) keeps its row, with size 0 and no
checksum, and is logged; a frame then downloads it without a check, as before.
"""

import django.db.models.deletion
import generation.models
import hashlib
import logging

from django.core.files.storage import default_storage
from django.db import migrations, models

logger = logging.getLogger(__name__)
GIF_MAX_SIDE, GIF_FPS = 480, 12  # as generation.media made them


def _checksum(name):
    try:
        digest, size = hashlib.sha256(), 0
        with default_storage.open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        return digest.hexdigest(), size
    except Exception:
        logger.warning("Job file %s cannot be read; its output row has no checksum", name, exc_info=True)
        return "", 0


def _gif_size(width, height):
    scale = min(1.0, GIF_MAX_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def carry_files_over(apps, schema_editor):
    Job, JobInput, JobOutput = (apps.get_model("generation", name) for name in ("Job", "JobInput", "JobOutput"))
    for job in Job.objects.order_by("pk").iterator(chunk_size=500):
        if job.source:
            JobInput.objects.create(job=job, position=0, file=job.source.name)
        width, height = job.width or 0, job.height or 0
        outputs = []
        if job.video:
            sha256, size = (job.video_sha256, job.video_bytes) if job.video_sha256 and job.video_bytes else _checksum(job.video.name)
            outputs.append(dict(kind="video", file=job.video.name, sha256=sha256, bytes=size, width=width, height=height,
                                frame_count=job.frame_count, duration=job.duration))
        if job.gif:
            gif_width, gif_height = _gif_size(width, height) if width and height else (0, 0)
            sha256, size = _checksum(job.gif.name)
            frames = round(job.duration * GIF_FPS) if job.duration else None
            outputs.append(dict(kind="animation", file=job.gif.name, sha256=sha256, bytes=size, width=gif_width, height=gif_height,
                                frame_count=frames, duration=job.duration))
        if job.poster:
            sha256, size = _checksum(job.poster.name)
            outputs.append(dict(kind="poster", file=job.poster.name, sha256=sha256, bytes=size, width=width, height=height))
        JobOutput.objects.bulk_create(JobOutput(job=job, position=position, **fields) for position, fields in enumerate(outputs))


def carry_files_back(apps, schema_editor):
    Job, JobOutput = apps.get_model("generation", "Job"), apps.get_model("generation", "JobOutput")
    for job in Job.objects.order_by("pk").iterator(chunk_size=500):
        first_input = job.inputs.order_by("position").first()
        job.source = first_input.file.name if first_input else ""
        for output in JobOutput.objects.filter(job=job).order_by("-position"):  # the first of each kind wins
            if output.kind == "video":
                job.video, job.video_sha256, job.video_bytes = output.file.name, output.sha256, output.bytes or None
                job.width, job.height, job.frame_count, job.duration = output.width, output.height, output.frame_count, output.duration
            elif output.kind == "animation":
                job.gif = output.file.name
            elif output.kind == "poster":
                job.poster = output.file.name
        job.save()


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0007_worker_heartbeat'),
    ]

    operations = [
        migrations.CreateModel(
            name='JobInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
                ('file', models.FileField(help_text='An upright, EXIF-free JPEG in storage.', max_length=255, upload_to='')),
            ],
            options={
                'ordering': ['job', 'position'],
            },
        ),
        migrations.CreateModel(
            name='JobOutput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
                ('kind', models.CharField(choices=[('video', 'Video (MP4)'), ('animation', 'Animation (GIF)'), ('poster', 'Poster (JPEG)'), ('image', 'Image')], max_length=10)),
                ('file', models.FileField(max_length=255, upload_to=generation.models._output_path)),
                ('bytes', models.PositiveBigIntegerField(help_text='Size of the file.')),
                ('sha256', models.CharField(help_text='Of the file, for frames and downloads to check what they got.', max_length=64)),
                ('width', models.PositiveIntegerField()),
                ('height', models.PositiveIntegerField()),
                ('frame_count', models.PositiveIntegerField(blank=True, help_text="A video's or an animation's.", null=True)),
                ('duration', models.FloatField(blank=True, help_text='Seconds, for a video or an animation.', null=True)),
            ],
            options={
                'ordering': ['job', 'position'],
            },
        ),
        migrations.AddField(
            model_name='jobinput',
            name='job',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inputs', to='generation.job'),
        ),
        migrations.AddField(
            model_name='joboutput',
            name='job',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outputs', to='generation.job'),
        ),
        migrations.AddIndex(
            model_name='jobinput',
            index=models.Index(fields=['file'], name='generation__file_bb29b6_idx'),
        ),
        migrations.AddConstraint(
            model_name='jobinput',
            constraint=models.UniqueConstraint(fields=('job', 'position'), name='job_input_position_unique'),
        ),
        migrations.AddConstraint(
            model_name='joboutput',
            constraint=models.UniqueConstraint(fields=('job', 'position'), name='job_output_position_unique'),
        ),
        # A job's files are no longer its columns. When reversing, the rows are carried back first, then it returns.
        migrations.RemoveConstraint(
            model_name='job',
            name='job_succeeded_has_video',
        ),
        migrations.RunPython(carry_files_over, carry_files_back, elidable=False),
    ]
