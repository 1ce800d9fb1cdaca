"""What a visitor sees when a page does not exist or the site fails: our pages, not Django's."""
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.mark.django_db
def test_a_dead_share_link_shows_our_not_found_page(client, production_errors):
    response = client.get(reverse("studio:share", args=["no-such-link-0000000000000000000000000000"]))
    page = response.content.decode()
    assert response.status_code == 404
    assert "We can't find this page" in page and "turned the link off" in page
    assert 'class="site-header"' in page and "Go to the home page" in page


@pytest.mark.django_db
def test_the_not_found_page_speaks_the_visitors_language(client, production_errors):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 404 and '<html lang="ko">' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_a_failing_view_shows_our_server_error_page(production_errors):
    client = Client(raise_request_exception=False)
    response = client.get("/test-only/broken/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and 'href="/"' in page
    assert "a bug in a view" not in page


def test_the_server_error_page_renders_without_the_database(production_errors):
    # No django_db mark: any query while rendering fails this test.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()
