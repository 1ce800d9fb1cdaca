from django.contrib import admin
from django.urls import include, path

from shop import views as shop_views
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
    path("i18n/", include("django.conf.urls.i18n")),
    path("shop/", include("shop.urls")),
    path("c/<slug:slug>/", shop_views.campaign_landing, name="campaign-landing"),
    path("", include("studio.urls")),
]
