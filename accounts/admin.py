from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.socialaccount.admin import SocialAppAdmin as AllauthSocialAppAdmin
from allauth.socialaccount.admin import SocialAppForm
from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import DataExport, User
from .services import account_delete
from .signals import AccountDeletionRefused


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Staff who are not superusers (support) look after customers' accounts but gain no power
    through them: they cannot grant staff status, groups or permissions, change a staff
    account, set anyone's password or change an email (allauth keeps the verified addresses
    apart; a changed one would let someone else sign in)."""

    ordering = ["-date_joined"]
    list_display = ["email", "first_name", "last_name", "creation_count", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "language"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(creation_count=Count("creations"))

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "email", "is_staff", "is_superuser", "groups", "user_permissions"]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or not obj.is_staff or request.user.is_superuser)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.display(description="Creations", ordering="creation_count")
    def creation_count(self, user):
        return user.creation_count

    # Staff delete an account the way its owner would: Stripe first, orders blanked, files gone.
    def delete_model(self, request, obj):
        try:
            account_delete(user=obj)
        except AccountDeletionRefused as error:
            self.message_user(request, f"{obj} was not deleted: {error}", messages.ERROR)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """Whether a customer's export was built and until when it is offered; its content is theirs
    alone, so the file is not shown here."""

    list_display = ["user", "state", "requested_at", "ready_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["user__email"]
    fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AllauthEmailAddressAdmin):
    # allauth's action asks for no permission; a verified address is a way into an account.
    @admin.action(description=_("Mark selected email addresses as verified"), permissions=["change"])
    def make_verified(self, request, queryset):
        super().make_verified(request, queryset)


class SocialAppSecretsForm(SocialAppForm):
    """A provider's client secret (and, for Apple, the private key in its settings) is typed
    in, never shown again: left empty, the stored one stays."""

    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False, attrs={"size": "100"}),
                             help_text=_("Leave empty to keep the stored secret."))

    def clean_secret(self):
        return self.cleaned_data["secret"] or (self.instance.secret if self.instance.pk else "")


admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)  # tokens are not stored (SOCIALACCOUNT_STORE_TOKENS); none to show


@admin.register(SocialApp)
class SocialAppAdmin(AllauthSocialAppAdmin):
    """Provider keys open every customer's sign-in: superusers only, and the secret write-only."""

    form = SocialAppSecretsForm

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fields(self, request, obj=None):
        # An app's settings may hold Apple's private key: given when the app is added, not shown after.
        fields = super().get_fields(request, obj)
        return [field for field in fields if field != "settings"] if obj else fields
