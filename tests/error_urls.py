"""The site's URLs plus one view that fails, for the 500 page's tests only."""
from django.urls import path

from petmemories.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("test-only/broken/", broken_view), *site_urlpatterns]
