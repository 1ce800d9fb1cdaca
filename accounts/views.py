from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from . import selectors, services
from .forms import AccountDeleteForm
from .services import user_language_remember
from .signals import AccountDeletionRefused


@csrf_exempt
@require_POST
def language_set(request):
    """Django's language switcher (a cookie for the browser), and, for a signed-in customer,
    the language of the emails we send them. The cached public pages (studio's share page)
    carry no CSRF token, so a visitor who is not signed in switches without one: all another
    site could do is choose their language. A signed-in customer's choice is checked as usual."""
    if request.user.is_authenticated:
        refusal = CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})
        if refusal is not None:
            return refusal
    response = set_language(request)
    if request.user.is_authenticated:
        user_language_remember(user=request.user, language=request.POST.get("language"))
    return response


@login_required
@require_GET
def my_data(request):
    return render(request, "accounts/my_data.html", {"export": selectors.data_export_latest(user=request.user)})


@login_required
@require_POST
def data_export_request(request):
    services.data_export_request(user=request.user)
    messages.success(request, gettext("We are preparing a copy of your data, and will email you when it is ready."))
    return redirect("accounts:my-data")


@login_required
@require_GET
def data_export_download(request, export_id):
    export = selectors.data_export_get_downloadable(user=request.user, export_id=export_id)
    filename = f"petmemories-data-{export.ready_at:%Y-%m-%d}.zip"
    storage = export.file.storage
    if not isinstance(storage, FileSystemStorage):  # S3: a short-lived signed link
        return redirect(storage.url(export.file.name, parameters={"ResponseContentDisposition": f'attachment; filename="{filename}"'}))
    response = FileResponse(export.file.open("rb"), as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user)
        except AccountDeletionRefused as error:
            form.add_error(None, str(error))
        else:
            logout(request)
            messages.success(request, gettext("Your account and everything in it are deleted. We sent you an email to confirm it."))
            return redirect("home")
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
