"""Invitations: the inviter's page, and the invitee's page that the emailed link opens."""

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nominations.accounts import user_display
from nominations.models import Invitation
from nominations.permissions import may_invite_anyone, may_manage_invitation
from nominations.selectors import invitations_visible_to

from ..people_forms import AcceptForm, DeclineForm, InviteForm, NewAccountForm
from ..services.people import (
    InvitationError,
    account_for_email,
    address_matches,
    deactivated_addresses,
    holds_role,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_decline,
    invitation_imported_row,
    invitation_resend,
    invitation_withdraw,
    is_deactivated,
    split_name,
    token_hash_for,
)

INVITATIONS_PER_PAGE = 25


def _inviter_required(request):
    if not may_invite_anyone(request.user):
        raise PermissionDenied


@login_required
def invitations(request):
    """Invite one person; the invitations one may see, with their status and actions."""
    _inviter_required(request)
    form = InviteForm(
        request.POST or None,
        user=request.user,
        initial={"language": getattr(request, "LANGUAGE_CODE", "en")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation, created = invitation_create(by=request.user, **form.cleaned_data)
        except InvitationError as error:
            form.add_error(None, error)
        else:
            if created:
                messages.success(
                    request,
                    _("%(email)s is invited. The email is on its way.")
                    % {"email": invitation.email},
                )
            else:
                messages.info(
                    request,
                    _("%(email)s was invited to this role already; that invitation is pending.")
                    % {"email": invitation.email},
                )
            return redirect("people:invitations")
    visible = invitations_visible_to(user=request.user)
    counts = dict(
        visible.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    status = request.GET.get("status", "")
    shown = visible.filter(status=status) if status in Invitation.Status.values else visible
    page = Paginator(shown.order_by("-created_at", "-pk"), INVITATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    # A pending invitation whose address belongs to a deactivated account cannot be
    # accepted (its owner cannot sign in): shown as blocked, and not resent.
    blocked = deactivated_addresses(
        i.email for i in page.object_list if i.status == Invitation.Status.PENDING
    )
    for invitation in page.object_list:
        invitation.blocked = (
            invitation.status == Invitation.Status.PENDING and invitation.email in blocked
        )
    return render(
        request,
        "people/invitations.html",
        {
            "form": form,
            "page": page,
            "status": status if status in Invitation.Status.values else "",
            "counts": [
                (value, label, counts.get(value, 0)) for value, label in Invitation.Status.choices
            ],
            "total": sum(counts.values()),
            "now": timezone.now(),
            # Whoever may invite may import too; the flag keeps the rule in one place.
            "may_import": may_invite_anyone(request.user),
        },
    )


def _managed_invitation(request, pk):
    invitation = get_object_or_404(invitations_visible_to(user=request.user), pk=pk)
    if not may_manage_invitation(user=request.user, invitation=invitation):
        raise PermissionDenied
    return invitation


def _back_to_list(request):
    # Back to the filtered page the button was on; only our own page's query is kept.
    status = request.POST.get("status", "")
    url = reverse("people:invitations")
    return redirect(f"{url}?{urlencode({'status': status})}" if status else url)


@require_POST
@login_required
def invitation_resend_view(request, pk):
    invitation = _managed_invitation(request, pk)
    try:
        invitation_resend(invitation=invitation, by=request.user)
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is sent again, with a new link.")
            % {"email": invitation.email},
        )
    return _back_to_list(request)


@require_POST
@login_required
def invitation_withdraw_view(request, pk):
    invitation = _managed_invitation(request, pk)
    try:
        invitation_withdraw(invitation=invitation, by=request.user)
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email}
        )
    return _back_to_list(request)


def landing_after_accepting(invitation):
    """A new reviewer goes to their profile page (where it exists); everyone else home."""
    if invitation.role == Invitation.Role.REVIEWER:
        try:
            return reverse("reviewers:profile")
        except NoReverseMatch:
            pass
    return reverse("workflow:home")


def invitation_respond(request, token):
    """The emailed link: who invites whom to what; accept (signing in or making the
    account as needed) or decline. Works once, for the invited address only."""
    invitation = get_object_or_404(
        Invitation.objects.select_related("country", "call", "inviter"),
        token_hash=token_hash_for(token),
    )
    now = timezone.now()
    context = {
        "invitation": invitation,
        "inviter_name": user_display(invitation.inviter) if invitation.inviter else _("Nomflow"),
    }
    if invitation.status != Invitation.Status.PENDING or invitation.expires_at <= now:
        return render(request, "people/invitation_closed.html", context)
    user = request.user
    if user.is_authenticated and not address_matches(user=user, email=invitation.email):
        return render(request, "people/invitation_other_address.html", context, status=403)
    account = user if user.is_authenticated else account_for_email(invitation.email)
    if is_deactivated(account):
        # Signing in is impossible: say so rather than send them to the sign-in page.
        return render(request, "people/invitation_blocked.html", context)
    needs_organisation = invitation.role == Invitation.Role.REVIEWER and (
        account is None or not holds_role(user=account, role=invitation.role)
    )
    # What the spreadsheet that asked for it knew of them, to fill in (they may correct it).
    row = invitation_imported_row(invitation=invitation)
    prefill = {}
    if row is not None:
        prefill["first_name"], prefill["last_name"] = split_name(row.name)
        if needs_organisation:
            prefill["organisation"] = row.organisation
    action = request.POST.get("action") if request.method == "POST" else None
    decline_form = DeclineForm(request.POST if action == "decline" else None)
    if user.is_authenticated:
        accept_form = AcceptForm(
            request.POST if action == "accept" else None,
            needs_organisation=needs_organisation,
            initial={"organisation": prefill.get("organisation", "")},
        )
    elif account is None:
        accept_form = NewAccountForm(
            request.POST if action == "accept" else None,
            needs_organisation=needs_organisation,
            email=invitation.email,
            initial={"language": invitation.language, **prefill},
        )
    else:
        accept_form = None  # an account exists: sign in first
    try:
        if action == "decline" and decline_form.is_valid():
            invitation_decline(invitation=invitation, reason=decline_form.cleaned_data["reason"])
            messages.info(request, _("You declined the invitation. Thank you for telling us."))
            return redirect(request.path)
        if action == "accept" and accept_form is not None and accept_form.is_valid():
            data = accept_form.cleaned_data
            if user.is_authenticated:
                invitation_accept(
                    invitation=invitation, user=user, organisation=data.get("organisation")
                )
            else:
                user = invitation_accept_new_account(
                    invitation=invitation,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    password=data["password1"],
                    language=data["language"],
                    organisation=data.get("organisation"),
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Welcome: you are now %(role)s.") % {"role": _role_phrase(invitation)},
            )
            return redirect(landing_after_accepting(invitation))
    except InvitationError as error:
        (accept_form if action == "accept" and accept_form else decline_form).add_error(None, error)
    if action not in {None, "accept", "decline"}:
        raise Http404
    context.update(
        {
            "accept_form": accept_form,
            "decline_form": decline_form,
            "sign_in_url": f"{reverse('account_login')}?"
            + urlencode({REDIRECT_FIELD_NAME: request.path}),
        }
    )
    return render(request, "people/invitation.html", context)


def _role_phrase(invitation):
    if invitation.role == Invitation.Role.LEAD:
        return _("a lead of the call “%(call)s”") % {"call": invitation.call.title}
    if invitation.role == Invitation.Role.COORDINATOR:
        return _("a national coordinator for %(country)s") % {"country": invitation.country.name}
    return _("a reviewer from %(country)s") % {"country": invitation.country.name}
