from django.contrib import admin
from django.urls import include, path

from studio.views import home

from . import health

admin.site.site_header = "PetMemories staff"
admin.site.site_title = "PetMemories staff"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("shop/", include("shop.urls")),
    path("", include("studio.urls")),
]
