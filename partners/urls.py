from django.urls import path

from . import views

app_name = "partners"
urlpatterns = [
    path("partners/", views.case_list, name="cases"),
    path("partners/cases/new/", views.case_new, name="case-new"),
    path("partners/cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("partners/cases/<uuid:case_id>/edit/", views.case_edit, name="case-edit"),
    path("partners/cases/<uuid:case_id>/photos/", views.case_photo_upload, name="case-photo-upload"),
    path("partners/cases/<uuid:case_id>/photos/<int:photo_id>/", views.case_photo, name="case-photo"),
    path("partners/cases/<uuid:case_id>/products/", views.case_product_make, name="case-product-make"),
    path("partners/cases/<uuid:case_id>/pastime/", views.case_pastime_make, name="case-pastime-make"),
    path("partners/cases/<uuid:case_id>/portrait/", views.case_portrait_choose, name="case-portrait"),
    path("partners/cases/<uuid:case_id>/animate/", views.case_animate, name="case-animate"),
    path("partners/cases/<uuid:case_id>/files/<int:output_id>/", views.case_output, name="case-file"),
    path("partners/cases/<uuid:case_id>/delivery/", views.case_delivery, name="case-delivery"),
    path("partners/team/", views.team, name="team"),
    path("partners/billing/", views.billing, name="billing"),
    path("partners/logo/", views.logo, name="logo"),
    path("partners/invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path("d/<str:token>/", views.delivery, name="delivery"),
    path("d/<str:token>/unlock/", views.delivery_unlock, name="delivery-unlock"),
    path("d/<str:token>/files/<int:output_id>/", views.delivery_file, name="delivery-file"),
    path("d/<str:token>/logo/", views.delivery_logo, name="delivery-logo"),
]
