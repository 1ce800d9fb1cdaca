from django.contrib import admin
from django.urls import include, path

from accounts.views import language_set
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
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # Django's set_language, which also remembers a signed-in customer's choice for emails.
    path("i18n/setlang/", language_set, name="set_language"),
    path("shop/", include("shop.urls")),
    path("c/<slug:slug>/", shop_views.campaign_landing, name="campaign-landing"),
    path("", include("partners.urls")),
    path("", include("memorials.urls")),
    path("", include("studio.urls")),
]
