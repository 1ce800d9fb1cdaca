from django.urls import path

from . import views
from .devices import urls as devices_urls

app_name = "studio"
urlpatterns = [
    path("studio/", views.gallery, name="gallery"),
    path("studio/new/", views.creation_new, name="creation-new"),
    path("studio/faces/", views.photo_faces, name="photo-faces"),
    path("studio/<uuid:creation_id>/", views.creation_detail, name="creation-detail"),
    path("studio/<uuid:creation_id>/status/", views.creation_status, name="creation-status"),
    path("studio/<uuid:creation_id>/share/", views.creation_share, name="creation-share"),
    path("studio/<uuid:creation_id>/share/new-link/", views.creation_share_rotate, name="creation-share-rotate"),
    path("studio/<uuid:creation_id>/retry/", views.creation_retry, name="creation-retry"),
    path("studio/<uuid:creation_id>/animate/", views.creation_animate, name="creation-animate"),
    path("studio/<uuid:creation_id>/delete/", views.creation_delete, name="creation-delete"),
    path("studio/<uuid:creation_id>/outputs/<int:position>/", views.creation_output, name="creation-output"),
    path("studio/<uuid:creation_id>/<str:kind>/", views.creation_media, name="creation-media"),
    path("s/<str:token>/", views.share, name="share"),
    path("s/<str:token>/report/", views.share_report, name="share-report"),
    path("s/<str:token>/make-your-own/", views.share_signup, name="share-signup"),
    path("s/<str:token>/outputs/<int:position>/", views.share_output, name="share-output"),
    path("s/<str:token>/<str:kind>/", views.share_media, name="share-media"),
] + devices_urls.urlpatterns  # the frames' pages and API (studio/devices/urls.py), under /frames/ and /api/frames/
