from django.urls import path

from . import api, frame_views, views

app_name = "studio"
urlpatterns = [
    path("studio/", views.gallery, name="gallery"),
    path("studio/new/", views.creation_new, name="creation-new"),
    path("studio/<uuid:creation_id>/", views.creation_detail, name="creation-detail"),
    path("studio/<uuid:creation_id>/status/", views.creation_status, name="creation-status"),
    path("studio/<uuid:creation_id>/share/", views.creation_share, name="creation-share"),
    path("studio/<uuid:creation_id>/share/new-link/", views.creation_share_rotate, name="creation-share-rotate"),
    path("studio/<uuid:creation_id>/retry/", views.creation_retry, name="creation-retry"),
    path("studio/<uuid:creation_id>/delete/", views.creation_delete, name="creation-delete"),
    path("studio/<uuid:creation_id>/outputs/<int:position>/", views.creation_output, name="creation-output"),
    path("studio/<uuid:creation_id>/<str:kind>/", views.creation_media, name="creation-media"),
    path("frames/", frame_views.frame_list, name="frame-list"),
    path("frames/pair/", frame_views.frame_pair, name="frame-pair"),
    path("frames/accept/<str:token>/", frame_views.frame_accept, name="frame-accept"),
    path("frames/<uuid:device_id>/", frame_views.frame_detail, name="frame-detail"),
    path("frames/<uuid:device_id>/unpair/", frame_views.frame_unpair, name="frame-unpair"),
    path("api/frames/register", api.register, name="frame-register"),
    path("api/frames/playlist", api.playlist, name="frame-playlist"),
    path("api/frames/media/<str:link>/", api.media, name="frame-media"),
    path("s/<str:token>/", views.share, name="share"),
    path("s/<str:token>/report/", views.share_report, name="share-report"),
    path("s/<str:token>/outputs/<int:position>/", views.share_output, name="share-output"),
    path("s/<str:token>/<str:kind>/", views.share_media, name="share-media"),
]
