from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .services.cart import cart_merge

        def merge_visitor_cart(sender, request, user, **kwargs):
            token = request.session.pop("cart_token", None) if request is not None else None
            if token:
                cart_merge(session_key=token, user=user)

        user_logged_in.connect(merge_visitor_cart, dispatch_uid="shop.merge_visitor_cart", weak=False)
