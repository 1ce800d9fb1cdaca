from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self):
        from allauth.account.signals import user_signed_up
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import account_deleting, account_exporting
        from generation.signals import job_ending

        from .models import Frame, FrameImage, FrameVariant, LaunchMode
        from .selectors import CATALOG_CACHE_KEY, LAUNCH_MODE_CACHE_KEY, account_shop_export, kept_forget
        from .services.account_data import account_shop_delete
        from .services.campaigns import attribution_record
        from .services.cart import cart_merge
        from .services.credits import credit_settle

        def merge_visitor_cart(sender, request, user, **kwargs):
            token = request.session.pop("cart_token", None) if request is not None else None
            if token:
                cart_merge(session_key=token, user=user)

        def attribute_sign_up(sender, request, user, **kwargs):
            attribution_record(user=user, session=request.session if request is not None else {})

        # A job's credit is consumed or given back in the same transaction as its last state.
        job_ending.connect(lambda sender, job, **kwargs: credit_settle(job=job), dispatch_uid="shop.credit_settle", weak=False)
        user_logged_in.connect(merge_visitor_cart, dispatch_uid="shop.merge_visitor_cart", weak=False)
        user_signed_up.connect(attribute_sign_up, dispatch_uid="shop.attribute_sign_up", weak=False)
        # The copies in the cache of the launch-mode banner and of the catalog (shop.selectors).
        kept = [(LaunchMode, LAUNCH_MODE_CACHE_KEY), (Frame, CATALOG_CACHE_KEY), (FrameVariant, CATALOG_CACHE_KEY), (FrameImage, CATALOG_CACHE_KEY)]
        for model, key in kept:
            for signal in (post_save, post_delete):
                signal.connect(
                    lambda sender, key=key, **kwargs: kept_forget(key), sender=model,
                    dispatch_uid=f"shop.forget_{model.__name__}_{signal is post_save}", weak=False,
                )
        account_deleting.connect(
            lambda sender, user, **kwargs: account_shop_delete(user=user), dispatch_uid="shop.account_delete", weak=False
        )
        account_exporting.connect(
            lambda sender, user, **kwargs: account_shop_export(user=user), dispatch_uid="shop.account_export", weak=False
        )
