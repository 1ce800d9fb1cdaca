"""Public pages at scale: an anonymous visit writes nothing while the visitor waits, its page is
the same for everyone speaking a language (so a CDN may keep it), and the visits it counts in
the cache reach the database in batches, losing at most one interval when a process dies."""
import os
import subprocess
import sys
import textwrap

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.models import Creation
from studio.services import creation_rotate_share_link, creation_set_shared, share_views_flush
from studio.tasks import flush_share_views
from studio.viewcounts import views_take_shared
from tests.conftest import ROOT, database_url_for_tests, require, run_job
from tests.studio.test_abuse_limits import redis_is_running

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/5"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def shared(creation) -> str:
    creation_set_shared(creation=creation, shared=True)
    return creation.get_share_url()


def writes_in(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith(WRITES)]


def test_an_anonymous_visit_writes_nothing_and_may_be_kept_by_a_cdn(settings, finished_creation):
    url = shared(finished_creation)
    visitor = Client()
    with CaptureQueriesContext(connection) as first:
        response = visitor.get(url)
    assert response.status_code == 200 and "Chelsea" in response.content.decode()
    assert writes_in(first.captured_queries) == []
    assert not response.cookies and Session.objects.count() == 0
    assert response["Cache-Control"] == f"public, max-age={settings.SHARE_PAGE_MAX_AGE}"
    assert response["Vary"] == "Accept-Language"  # not Cookie: nothing of the visitor's went into it
    assert response["ETag"].startswith('"')
    # The second visit is served from the cache: not a single query.
    with CaptureQueriesContext(connection) as second:
        assert Client().get(url).content == response.content
    assert second.captured_queries == []
    assert Creation.objects.get(pk=finished_creation.pk).share_views == 0  # counted, not yet written


def test_a_browser_or_cdn_holding_the_page_is_told_it_has_not_changed(finished_creation):
    url = shared(finished_creation)
    etag = Client().get(url)["ETag"]
    again = Client().get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    assert Client().get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert share_views_flush() == 3  # a revisit is a visit too


def test_each_language_is_a_page_of_its_own(finished_creation):
    url = shared(finished_creation)
    english = Client().get(url, headers={"Accept-Language": "en"})
    korean = Client().get(url, headers={"Accept-Language": "ko"})
    assert "Make your own" in english.content.decode() and "나만의 영상 만들기" in korean.content.decode()
    assert english["ETag"] != korean["ETag"]
    # A language chosen by cookie is not what the page varies on: browsers may keep it, a CDN not.
    chosen = Client()
    chosen.cookies["django_language"] = "ko"
    response = chosen.get(url, headers={"Accept-Language": "en"})
    assert "나만의 영상 만들기" in response.content.decode() and response["Cache-Control"] == "private, max-age=60"


def test_a_page_kept_for_one_address_of_the_site_is_not_served_for_another(finished_creation):
    url = shared(finished_creation)
    assert f'content="http://testserver{url}"' in Client().get(url).content.decode()
    assert f'content="http://localhost{url}"' in Client(HTTP_HOST="localhost").get(url).content.decode()


def test_the_language_switch_works_on_the_cached_page_without_a_csrf_token(finished_creation):
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(shared(finished_creation)).content.decode()
    assert "csrfmiddlewaretoken" not in page
    response = visitor.post(reverse("set_language"), {"language": "ko", "next": finished_creation.get_share_url()})
    assert response.status_code == 302 and visitor.cookies["django_language"].value == "ko"


def test_a_signed_in_customer_still_needs_a_csrf_token_to_switch(user):
    customer = Client(enforce_csrf_checks=True)
    customer.force_login(user)
    assert customer.post(reverse("set_language"), {"language": "ko"}).status_code == 403
    user.refresh_from_db()
    assert user.language != "ko"


def test_switching_off_moving_or_retitling_ends_the_cached_page_at_once(finished_creation, django_capture_on_commit_callbacks):
    url = shared(finished_creation)
    assert Client().get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        creation_rotate_share_link(creation=finished_creation)
    assert Client().get(url).status_code == 404
    moved = finished_creation.get_share_url()
    assert Client().get(moved).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        finished_creation.title = "Nabi"  # as the admin's form saves it
        finished_creation.save()
    assert "<h1>Nabi</h1>" in Client().get(moved).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        creation_set_shared(creation=finished_creation, shared=False)
    assert Client().get(moved).status_code == 404


def test_a_page_shared_while_being_made_shows_the_video_once_it_is_done(make_creation, user, django_capture_on_commit_callbacks):
    creation = make_creation(user)
    url = shared(creation)
    making = Client().get(url)
    assert "still being made" in making.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        run_job(creation.job_id)
    done = Client().get(url, headers={"If-None-Match": making["ETag"]})
    assert done.status_code == 200 and "<video" in done.content.decode() and done["ETag"] != making["ETag"]


@pytest.mark.django_db(transaction=True)
def test_with_the_per_process_cache_a_change_made_in_another_process_reaches_this_one(make_creation, user):
    creation = make_creation(user)
    url = shared(creation)
    assert "<h1>Chelsea</h1>" in Client().get(url).content.decode()  # now kept in this process's memory
    Creation.objects.filter(pk=creation.pk).update(title="Nabi")  # behind the signals' back
    assert "<h1>Chelsea</h1>" in Client().get(url).content.decode()
    result = run_web_process(f"""
        from studio.sharepages import pages_forget
        pages_forget("{creation.share_token}")  # what the other process's save did
    """)
    assert result.returncode == 0, result.stderr
    assert "<h1>Nabi</h1>" in Client().get(url).content.decode()


def test_someone_with_a_session_gets_a_private_page_and_the_owner_is_not_counted(owner_client, other_user, finished_creation):
    url = shared(finished_creation)
    response = owner_client.get(url)
    assert response.status_code == 200 and "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    stranger = Client()
    stranger.force_login(other_user)
    assert "private" in stranger.get(url)["Cache-Control"]
    assert share_views_flush() == 1
    assert Creation.objects.get(pk=finished_creation.pk).share_views == 1


def test_visits_arrive_in_the_database_with_the_beat_task_or_the_command(finished_creation, capsys):
    url = shared(finished_creation)
    for _ in range(4):
        Client().get(url)
    assert flush_share_views() == 4
    Client().get(url)
    call_command("flush_share_views")
    assert "Wrote 1 visit(s)." in capsys.readouterr().out
    assert flush_share_views() == 0  # nothing is written twice
    assert Creation.objects.get(pk=finished_creation.pk).share_views == 5


def test_the_beat_process_flushes_the_visits():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["flush-share-views"]
    assert entry == {"task": "studio.flush_share_views", "schedule": 60.0}
    from core.celery import app

    assert "studio.flush_share_views" in app.tasks


def run_web_process(script: str, **env) -> subprocess.CompletedProcess:
    """Run ``script`` in a process of its own on this run's test database, as a web process would."""
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "DATABASE_URL": database_url_for_tests(), **env,
    }
    code = "import django; django.setup()\n" + textwrap.dedent(script)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_a_web_process_writes_its_own_visits_and_its_death_loses_one_interval_at_most(make_creation, user):
    """The per-process cache: the process's own thread writes its counts once an interval; a
    process killed without warning loses only what it counted since."""
    creation = make_creation(user)
    result = run_web_process(f"""
        import os, time
        from studio.services import share_view_record, share_views_flush
        for _ in range(3):
            share_view_record(creation_id="{creation.pk}", owner_id=None)
        time.sleep(2.5)  # the process's thread writes these three
        for _ in range(2):
            share_view_record(creation_id="{creation.pk}", owner_id=None)
        os._exit(9)  # killed before the next interval
    """, SHARE_VIEWS_FLUSH_SECONDS="1")
    assert result.returncode == 9, result.stderr
    assert Creation.objects.get(pk=creation.pk).share_views == 3


@pytest.mark.django_db(transaction=True)
def test_a_web_process_that_stops_normally_writes_what_it_counted(make_creation, user):
    creation = make_creation(user)
    result = run_web_process(f"""
        from studio.services import share_view_record
        for _ in range(4):
            share_view_record(creation_id="{creation.pk}", owner_id=None)
    """, SHARE_VIEWS_FLUSH_SECONDS="3600")
    assert result.returncode == 0, result.stderr
    assert Creation.objects.get(pk=creation.pk).share_views == 4


@pytest.mark.django_db(transaction=True)
def test_on_redis_every_process_hands_its_counts_to_one_hash_and_a_killed_one_loses_one_second(settings, make_creation, user):
    require(redis_is_running(), "Redis is not running on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    views_take_shared()  # what an earlier run left in the hash
    creation = make_creation(user)
    result = run_web_process(f"""
        import os, time
        from studio.services import share_view_record
        for _ in range(3):
            share_view_record(creation_id="{creation.pk}", owner_id=None)
        time.sleep(1.6)  # the process's thread hands these three to Redis
        for _ in range(2):
            share_view_record(creation_id="{creation.pk}", owner_id=None)
        os._exit(9)  # killed within the next second
    """, CACHE_URL=REDIS_URL, SHARE_VIEWS_FLUSH_SECONDS="3600")
    assert result.returncode == 9, result.stderr
    assert Creation.objects.get(pk=creation.pk).share_views == 0  # in Redis, not yet written
    shared(creation)
    Client().get(creation.get_share_url())  # this process's own visit, handed on by the flush
    assert share_views_flush() == 4
    assert share_views_flush() == 0
    assert Creation.objects.get(pk=creation.pk).share_views == 4
