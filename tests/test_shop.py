import pytest
from django.core.management import call_command
from django.urls import reverse

from shop.models import Frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    call_command("load_demo")


def test_the_catalog_lists_active_frames_with_both_prices(client, catalog):
    Frame.objects.filter(slug="gallery-black").update(is_active=False)
    page = client.get(reverse("shop:catalog")).content.decode()
    assert "PetMemories Mini" in page and "₩89,000" in page and "$69.00" in page
    assert "Gallery" not in page


def test_a_frame_page_shows_its_screen(client, catalog):
    page = client.get(reverse("shop:frame-detail", args=["portrait-oak"])).content.decode()
    assert "1200×1920" in page and "portrait" in page


def test_an_inactive_frame_is_404(client, catalog):
    Frame.objects.filter(slug="mini-snow").update(is_active=False)
    assert client.get(reverse("shop:frame-detail", args=["mini-snow"])).status_code == 404
