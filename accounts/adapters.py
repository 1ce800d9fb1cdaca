from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404

from .selectors import user_by_verified_email


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request, provider, client_id=None):
        """A provider with no keys (no app in the settings or the admin) is not there: its login
        and callback URLs answer 404 rather than failing with a server error."""
        try:
            return super().get_provider(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404(f"Sign-in with {provider} is not set up.") from None

    def authenticate_by_email(self, sociallogin):
        """Sign a social login in to an existing account only when both the provider and we have
        verified the email. allauth would also take over an account whose email nobody verified
        (wiping its password), handing an account that someone opened with another person's
        address to whoever arrives through a provider; that person must instead sign in and
        connect the provider, or verify the email first."""
        for address in sociallogin.email_addresses:
            if not address.verified or not self.can_authenticate_by_email(sociallogin, address.email):
                continue
            user = user_by_verified_email(email=address.email)
            if user is not None:
                return user, address.email
        return None
