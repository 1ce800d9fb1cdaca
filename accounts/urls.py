from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("my-data/", views.my_data, name="my-data"),
    path("my-data/export/", views.data_export_request, name="export-request"),
    path("my-data/export/<uuid:export_id>/", views.data_export_download, name="export-download"),
    path("my-data/delete-account/", views.account_delete, name="delete"),
]
