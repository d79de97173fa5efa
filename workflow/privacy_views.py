"""The privacy and accessibility statements, and a person's own data.

A person downloads their data, erases their account or withdraws consent to publication.

No page here takes a person's id: each acts on ``request.user`` only.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from nominations.models import Call, Nomination
from nominations.privacy_forms import ErasureConfirmForm
from nominations.services import NominationError, publication_consent_withdraw

from .personal_data import (
    ErasureRefused,
    account_erase,
    erasure_blockers,
    invitation_retention_days,
    personal_data_export,
)


def export_response(*, user):
    """The person's data as a ZIP download; shared with the admin's action."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(personal_data_export(user=user), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="nomflow-personal-data-{user.pk}-{stamp}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def privacy_policy(request):
    retention = sorted(set(Call.objects.values_list("retention_days", flat=True))) or [
        Call._meta.get_field("retention_days").default
    ]
    return render(
        request,
        "privacy/policy.html",
        {
            "fewest_days": retention[0],
            "most_days": retention[-1],
            "invitation_days": invitation_retention_days(),
            "contact_email": settings.PRIVACY_CONTACT_EMAIL,
        },
    )


@require_GET
def accessibility_statement(request):
    """Public, beside the privacy page: what Nomflow aims for, how it checks, what falls short."""
    return render(
        request,
        "privacy/accessibility.html",
        {"contact_email": settings.PRIVACY_CONTACT_EMAIL},
    )


@require_GET
@login_required
def account_privacy(request):
    return render(
        request,
        "privacy/account.html",
        {"blockers": erasure_blockers(user=request.user), "policy_url": reverse("privacy:policy")},
    )


@require_GET
@login_required
def account_data_download(request):
    return export_response(user=request.user)


@login_required
def account_erase_view(request):
    form = ErasureConfirmForm(request.POST or None, request=request)
    blockers = erasure_blockers(user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_erase(user=request.user, by=request.user)
        except ErasureRefused as refused:
            blockers = refused.reasons
        except NominationError as error:
            form.add_error(None, str(error))
        else:
            logout(request)
            messages.success(request, _("Your account is erased. Thank you for taking part."))
            return redirect("privacy:policy")
    return render(
        request,
        "privacy/erase.html",
        {"form": form, "blockers": blockers, "download_url": reverse("privacy:download")},
    )


@require_POST
@login_required
def consent_withdraw(request, pk):
    nomination = get_object_or_404(Nomination, pk=pk)
    if nomination.nominator_id != request.user.pk:
        raise Http404
    try:
        publication_consent_withdraw(nomination=nomination, by=request.user)
    except NominationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You withdrew your consent: the practice is not shown in the knowledge hub."),
        )
    return redirect("nominations:detail", pk=pk)
