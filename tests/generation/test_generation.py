"""Jobs, the state machine, the first CPU engine and the files it writes."""
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from generation import media, services
from generation.engines import InvalidSettings, RenderSettings, get_engine
from generation.limits import JobLimits
from generation.models import Job, JobOutput
from generation.rendering import render_files
from tests.conftest import CAT_PHOTO, run_job
from tests.factories import output_row

CAT = Image.open(CAT_PHOTO).convert("RGB")


def render(settings: RenderSettings) -> list[np.ndarray]:
    return list(get_engine("living-photo").render(CAT, settings, lambda fraction: None))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# --- The engine -----------------------------------------------------------------------------

@pytest.mark.parametrize("aspect, size", [("16:9", (426, 240)), ("9:16", (136, 240)), ("4:3", (320, 240)), ("1:1", (240, 240))])
def test_frames_have_the_size_of_the_chosen_aspect_ratio(aspect, size):
    frames = render(RenderSettings(aspect=aspect, height=240, seconds=2, fps=12))
    assert len(frames) == 24
    assert all(frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8 for frame in frames)


@pytest.mark.parametrize(
    "knobs, message",
    [
        ({"aspect": "2:1"}, "Aspect ratio"),
        ({"height": 64}, "Height"),
        ({"seconds": 30}, "Duration"),
        ({"fps": 120}, "Frame rate"),
    ],
)
def test_knobs_out_of_range_are_refused_with_the_allowed_range(knobs, message):
    with pytest.raises(InvalidSettings, match=message):
        RenderSettings(**knobs)


# --- The files ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render")
    settings = RenderSettings(aspect="16:9", height=360, seconds=2, fps=24)
    return render_files(get_engine("living-photo"), CAT, settings, Path(folder))


def test_the_mp4_is_h264_yuv420p_with_every_frame(rendered):
    info = media.probe_video(rendered.mp4)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height) == (640, 360)
    assert info.frame_count == 48
    assert info.duration == pytest.approx(2.0)


def test_the_mp4_can_start_playing_before_it_has_downloaded(rendered):
    data = rendered.mp4.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: the index comes first


def test_the_mp4_decodes_to_the_frames_that_were_rendered(rendered):
    with av.open(str(rendered.mp4)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    poster = np.asarray(Image.open(rendered.poster))
    assert mean_abs_diff(first, poster) < 4


def test_the_gif_loops_at_sharing_size(rendered):
    with Image.open(rendered.gif) as gif:
        assert gif.format == "GIF" and gif.size == (480, 270)
        assert gif.info.get("loop") == 0
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    assert gif.n_frames == 24  # 2 s at the GIF's 12 fps
    assert sum(durations) / 1000 == pytest.approx(2.0, abs=0.1)


def test_progress_is_reported_from_start_to_finish(tmp_path):
    seen = []
    render_files(get_engine("living-photo"), CAT, RenderSettings(height=240, seconds=2, fps=12), tmp_path, seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 10


# --- The job state machine ------------------------------------------------------------------

@pytest.fixture
def queued_job(db, make_creation, user):
    return make_creation(user).job


def test_a_job_runs_from_queued_to_succeeded_with_its_outputs(queued_job):
    job = run_job(queued_job.pk)
    assert job.state == Job.State.SUCCEEDED and job.progress == 100 and job.attempts == 1
    assert job.started_at <= job.finished_at
    assert (job.video.width, job.video.height, job.video.frame_count, job.video.duration) == (240, 240, 24, 2.0)
    with job.video.file.open("rb") as handle:
        info = media.probe_video(handle)
    assert (info.width, info.height, info.frame_count) == (240, 240, 24)
    assert job.animation.file.name.endswith(".gif") and job.poster.file.name.endswith(".jpg")


def test_a_message_delivered_twice_runs_the_job_once(queued_job):
    first = services.job_run_next(queue="cpu", ticket="message-1")
    assert services.job_run_next(queue="cpu", ticket="message-1") is None  # the same message again
    again = Job.objects.get(pk=queued_job.pk)
    assert first.pk == queued_job.pk and again.state == Job.State.SUCCEEDED and again.attempts == 1
    assert again.finished_at == first.finished_at and again.video.file.name == first.video.file.name


def test_a_job_whose_photo_is_gone_fails_with_a_human_reason_and_staff_detail(queued_job):
    photo = queued_job.inputs.get().file
    photo.storage.delete(photo.name)
    job = run_job(queued_job.pk)
    assert job.state == Job.State.FAILED
    assert job.error == services.GENERIC_FAILURE
    assert "Traceback" in job.error_detail


def test_a_job_with_knobs_the_engine_refuses_fails_with_the_engine_s_reason(queued_job):
    Job.objects.filter(pk=queued_job.pk).update(params={"fps": 500})
    job = run_job(queued_job.pk)
    assert job.state == Job.State.FAILED and "Frame rate must be between" in job.error


@pytest.mark.parametrize(
    "path",
    [
        ["succeeded"],
        ["running", "succeeded", "failed"],
        ["running", "failed", "running"],
        ["canceled", "running"],
    ],
)
def test_only_allowed_transitions_happen(queued_job, path):
    *allowed, forbidden = path
    for state in allowed:
        services.job_transition(job_id=queued_job.pk, to=state, **({"outputs": [output_row()]} if state == "succeeded" else {}))
    with pytest.raises(services.InvalidTransition):
        services.job_transition(job_id=queued_job.pk, to=forbidden, **({"outputs": [output_row()]} if forbidden == "succeeded" else {}))
    assert Job.objects.get(pk=queued_job.pk).state == (allowed[-1] if allowed else "queued")


def test_a_worker_takes_premium_jobs_before_older_free_ones(make_creation, user):
    free = make_creation(user).job
    premium = make_creation(user).job
    Job.objects.filter(pk=premium.pk).update(priority=True)
    first = services.job_run_next(queue="cpu", ticket="message-1")
    second = services.job_run_next(queue="cpu", ticket="message-2")
    assert (first.pk, second.pk) == (premium.pk, free.pk)
    assert services.job_run_next(queue="cpu", ticket="message-3") is None  # nothing left
    assert services.job_run_next(queue="gpu", ticket="message-4") is None  # and nothing for other queues


def test_a_job_held_by_a_dead_worker_goes_back_in_line_when_its_message_returns(queued_job):
    held = services.job_claim(queue="cpu", ticket="message-1")
    assert held.pk == queued_job.pk and held.state == Job.State.RUNNING
    # The worker dies; the broker delivers the same message again.
    again = services.job_run_next(queue="cpu", ticket="message-1")
    assert again.pk == queued_job.pk and again.state == Job.State.SUCCEEDED and again.attempts == 2


def test_a_canceled_job_is_not_run(queued_job):
    services.job_cancel(job_id=queued_job.pk)
    job = run_job(queued_job.pk)
    assert job.state == Job.State.CANCELED and job.started_at is None


def test_a_job_succeeds_with_its_outputs_and_only_then_has_any(queued_job):
    services.job_transition(job_id=queued_job.pk, to="running")
    with pytest.raises(services.InvalidTransition):
        services.job_transition(job_id=queued_job.pk, to="succeeded")
    with pytest.raises(services.InvalidTransition):
        services.job_transition(job_id=queued_job.pk, to="failed", outputs=[output_row()])
    assert Job.objects.get(pk=queued_job.pk).state == "running" and not JobOutput.objects.exists()
    services.job_transition(job_id=queued_job.pk, to="succeeded", outputs=[output_row(), output_row("poster", "renders/x.jpg")])
    assert [(o.position, o.kind) for o in Job.objects.get(pk=queued_job.pk).outputs.all()] == [(0, "video"), (1, "poster")]


# --- Which engines the site offers ----------------------------------------------------------

def test_a_gpu_engine_is_offered_while_a_worker_reports_it_ready(db, settings, tmp_path):
    from django.utils import timezone

    from generation.models import EngineReport

    settings.GENERATION_MODELS_DIR = tmp_path  # no weights here, and no CUDA: this process cannot run it
    svd = get_engine("svd-xt")
    assert not svd.readiness().ready
    assert not services.engine_availability(svd).ready

    EngineReport.objects.create(worker="gpu0@box:42", engine="svd-xt", ready=True, reported_at=timezone.now())
    assert services.engine_availability(svd).ready

    EngineReport.objects.update(reported_at=timezone.now() - timezone.timedelta(seconds=settings.GENERATION_WORKER_REPORT_SECONDS + 1))
    stale = services.engine_availability(svd)
    assert not stale.ready and "no weights" in stale.reason  # a worker that stopped reporting is not trusted


def test_a_worker_s_own_reason_is_shown_when_it_cannot_run_an_engine(db, settings, tmp_path):
    from django.utils import timezone

    from generation.models import EngineReport

    settings.GENERATION_MODELS_DIR = tmp_path
    EngineReport.objects.create(worker="gpu0@box:42", engine="svd-xt", ready=False, reason="no CUDA GPU on this worker", reported_at=timezone.now())
    availability = services.engine_availability(get_engine("svd-xt"))
    assert availability.reason == "no CUDA GPU on this worker (worker gpu0@box:42)"
    with pytest.raises(services.EngineNotReady, match="no CUDA GPU on this worker"):
        services.job_settings(engine="svd-xt", params={}, limits=JobLimits(gpu_engines=True))


def test_engines_report_records_this_process_for_its_queues(db, settings, tmp_path):
    from generation.models import EngineReport

    settings.GENERATION_MODELS_DIR = tmp_path  # no weights: the colorizers cannot run here
    services.engines_report(worker="cpu@box:7", queues={"cpu"})
    assert list(EngineReport.objects.order_by("pk").values_list("engine", "ready")) == [
        ("living-photo", True), ("restore", True), ("colorize", False), ("restore+colorize", False), ("memorial-portrait", True),
    ]


def test_a_job_is_held_to_its_own_engine_s_time_limit_not_its_queue_s(queued_job, settings):
    from generation.services import TIMED_OUT, queue_time_limit

    settings.GENERATION_TIME_LIMITS = {"living-photo": 0}
    assert queue_time_limit("cpu") > 0  # the message's limit: the queue's longest (restore's)
    job = run_job(queued_job.pk)
    assert (job.state, job.error, job.error_detail) == (Job.State.FAILED, TIMED_OUT, "Stopped after 0 s.")
    assert not job.outputs.exists()
