from allauth.account.apps import AccountConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default = True  # the one "accounts" in INSTALLED_APPS means; this module holds two
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from allauth.account.signals import user_signed_up
        from django.contrib.auth.signals import user_logged_in

        from .services import user_language_remember

        def remember_language(sender, request, user, **kwargs):
            # What LocaleMiddleware chose for this request; a request that did not pass through
            # it (a test's force_login) has none and leaves the account as it was.
            user_language_remember(user=user, language=getattr(request, "LANGUAGE_CODE", None))

        user_signed_up.connect(remember_language, dispatch_uid="accounts.remember_language_at_sign_up", weak=False)
        user_logged_in.connect(remember_language, dispatch_uid="accounts.remember_language_at_log_in", weak=False)


class EmailAddressesConfig(AccountConfig):
    """allauth's account app, named for what the admin shows of it: allauth also calls it
    "Accounts", which put two sections of that name on the admin index."""

    verbose_name = _("Email addresses")
