from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("frames/<slug:slug>/", views.frame_detail, name="frame-detail"),
]
