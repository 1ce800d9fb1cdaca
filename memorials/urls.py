from django.urls import path

from . import views

app_name = "memorials"
urlpatterns = [
    path("memorials/", views.memorial_list, name="list"),
    path("memorials/new/", views.memorial_new, name="new"),
    path("memorials/portrait/", views.portrait_choose, name="portrait-choose"),
    path("memorials/outputs/<int:output_id>/", views.output_preview, name="output"),
    path("memorials/messages/<int:message_id>/<str:action>/", views.message_moderate, name="message-moderate"),
    path("memorials/<uuid:memorial_id>/", views.memorial_detail, name="detail"),
    path("memorials/<uuid:memorial_id>/edit/", views.memorial_edit, name="edit"),
    path("memorials/<uuid:memorial_id>/sharing/", views.memorial_sharing, name="sharing"),
    path("memorials/<uuid:memorial_id>/sharing/new-link/", views.memorial_share_rotate, name="share-rotate"),
    path("memorials/<uuid:memorial_id>/animate/", views.memorial_animate, name="animate"),
    path("memorials/<uuid:memorial_id>/pastimes/<int:position>/", views.memorial_media, {"part": "pastime"}, name="pastime"),
    path("memorials/<uuid:memorial_id>/<str:part>/", views.memorial_media, name="media"),
    path("m/<str:token>/", views.public, name="public"),
    path("m/<str:token>/unlock/", views.public_unlock, name="public-unlock"),
    path("m/<str:token>/guestbook/", views.public_guestbook, name="public-guestbook"),
    path("m/<str:token>/pastimes/<int:position>/", views.public_media, {"part": "pastime"}, name="public-pastime"),
    path("m/<str:token>/<str:part>/", views.public_media, name="public-media"),
]
