from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nominations.pagination import page_by_cursor

from .forms import PreferenceForm
from .models import Message, Notification, Preference
from .services import (
    ResendRefused,
    bounce_clear,
    message_resend,
    notifications_mark_read,
    preference_for,
)

#: Bouncing addresses listed on the outbox page, most recent first.
BOUNCED_SHOWN = 100
#: Rows on one page of the notifications and of the outbox (read by cursor, newest first).
NOTIFICATIONS_PAGE_SIZE = 30
OUTBOX_PAGE_SIZE = 50


def staff_required(view):
    """Staff only: others get Nomflow's 403 page, anonymous people the sign-in page.

    Unlike the admin's ``staff_member_required``, which sends everyone to the admin's
    own login page, even people already signed in.
    """

    @wraps(view)
    @login_required
    def checked(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


@login_required
def notification_list(request):
    page = page_by_cursor(
        Notification.objects.filter(recipient=request.user),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        per_page=NOTIFICATIONS_PAGE_SIZE,
    )
    return render(request, "notifications/notification_list.html", {"page": page})


@require_POST
@login_required
def notification_open(request, pk):
    """Mark one notification read and follow its link."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notifications_mark_read(user=request.user, notification_ids=[notification.pk])
    path = notification.path
    if path and url_has_allowed_host_and_scheme(path, allowed_hosts={request.get_host()}):
        return redirect(path)
    return redirect("notifications:list")


@require_POST
@login_required
def notification_mark_all_read(request):
    notifications_mark_read(user=request.user)
    return redirect("notifications:list")


@login_required
def preferences(request):
    form = PreferenceForm(request.POST or None, instance=preference_for(request.user))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


@staff_required
def outbox(request):
    """Every message with its status, attempts and last error, newest first, by status."""
    status = request.GET.get("status", "")
    messages_qs = Message.objects.select_related("recipient")
    if status in Message.Status.values:
        messages_qs = messages_qs.filter(status=status)
    page = page_by_cursor(
        messages_qs,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        per_page=OUTBOX_PAGE_SIZE,
    )
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            "status": status,
            "statuses": Message.Status.choices,
            "failed_count": Message.objects.filter(status=Message.Status.FAILED).count(),
            "bounced": Preference.objects.filter(bounced_at__isnull=False)
            .select_related("user")
            .order_by("-bounced_at")[:BOUNCED_SHOWN],
        },
    )


@require_POST
@staff_required
def outbox_resend(request, pk):
    message = get_object_or_404(Message, pk=pk)
    try:
        message_resend(message=message)
    except ResendRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The message is queued to be sent again."))
    return redirect("notifications:outbox")


@require_POST
@staff_required
def outbox_bounce_clear(request, user_id):
    preference = get_object_or_404(Preference, user_id=user_id, bounced_at__isnull=False)
    bounce_clear(user=preference.user)
    messages.success(request, _("Email to %(email)s resumes.") % {"email": preference.user.email})
    return redirect("notifications:outbox")
