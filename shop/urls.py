from django.urls import path

from . import views

app_name = "shop"
urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("frames/<slug:slug>/", views.frame_detail, name="frame-detail"),
    path("images/<int:image_id>/", views.frame_image, name="frame-image"),
    path("currency/", views.currency_switch, name="currency"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart-add"),
    path("cart/<int:item_id>/", views.cart_update, name="cart-update"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/return/", views.checkout_return, name="checkout-return"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<str:number>/", views.order_detail, name="order-detail"),
    path("premium/", views.premium, name="premium"),
    path("premium/subscribe/<int:price_id>/", views.subscribe, name="subscribe"),
    path("premium/manage/", views.billing_portal, name="billing-portal"),
    path("redeem/", views.redeem, name="redeem"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
]
