"""The frames' URLs: the owner's pages under /frames/ and the frames' JSON API under /api/frames/.
``studio/urls.py`` adds them to its own list, so their names stay in the ``studio`` namespace
(``studio:frame-list``, ``studio:frame-media``, ...)."""
from django.urls import path

from . import api, player, views

urlpatterns = [
    path("frames/", views.frame_list, name="frame-list"),
    path("frames/pair/", views.frame_pair, name="frame-pair"),
    path("frames/player/", player.player, name="frame-player"),
    path("frames/player/sw.js", player.player_worker, name="frame-player-worker"),
    path("frames/player/qr.svg", player.player_qr, name="frame-player-qr"),
    path("frames/accept/<str:token>/", views.frame_accept, name="frame-accept"),
    path("frames/<uuid:device_id>/", views.frame_detail, name="frame-detail"),
    path("frames/<uuid:device_id>/unpair/", views.frame_unpair, name="frame-unpair"),
    path("frames/<uuid:device_id>/add/", views.frame_add, name="frame-add"),
    path("frames/<uuid:device_id>/members/invite/", views.frame_member_invite, name="frame-member-invite"),
    path("frames/<uuid:device_id>/members/<int:member_id>/remove/", views.frame_member_remove, name="frame-member-remove"),
    path("frames/<uuid:device_id>/items/<int:item_id>/remove/", views.frame_item_remove, name="frame-item-remove"),
    path("frames/<uuid:device_id>/family/", views.frame_member, name="frame-member"),
    path("frames/<uuid:device_id>/family/leave/", views.frame_leave, name="frame-leave"),
    path("frames/join/<str:token>/", views.frame_join, name="frame-join"),
    path("api/frames/register", api.register, name="frame-register"),
    path("api/frames/playlist", api.playlist, name="frame-playlist"),
    path("api/frames/media/<str:link>/", api.media, name="frame-media"),
]
