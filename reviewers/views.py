"""Reviewers say, before assignment, what they would like to review and what they must not."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nominations.services import NominationError

from .forms import OrganisationConflictForm
from .models import Bid, ConflictOfInterest
from .selectors import nominations_to_consider
from .services import conflict_declare_organisation, conflict_withdraw, reviewer_interests_save


def _reviewer_or_404(user):
    if not hasattr(user, "reviewer_profile"):
        raise Http404


@login_required
def interests(request):
    """Bids and conflicts for every nomination a reviewer may still be given."""
    _reviewer_or_404(request.user)
    calls = nominations_to_consider(reviewer=request.user)
    if request.method == "POST":
        # One call's form at a time: the other calls' bids and conflicts stay as they are.
        nominations = next(
            (noms for call, noms in calls if str(call.pk) == request.POST.get("call")), []
        )
        levels = {str(value): value for value in Bid.Level.values}
        bids = {n.pk: levels.get(request.POST.get(f"bid_{n.pk}", "")) for n in nominations}
        conflicts = {n.pk for n in nominations if request.POST.get(f"conflict_{n.pk}")}
        reviewer_interests_save(
            reviewer=request.user, nominations=nominations, bids=bids, conflicts=conflicts
        )
        messages.success(request, _("Your bids and conflicts are saved."))
        return redirect("reviewers:interests")
    bids = dict(Bid.objects.filter(reviewer=request.user).values_list("nomination_id", "level"))
    conflicts = ConflictOfInterest.objects.filter(reviewer=request.user)
    conflicted = set(conflicts.exclude(nomination=None).values_list("nomination_id", flat=True))
    return render(
        request,
        "reviewers/interests.html",
        {
            "calls": [
                (call, [(n, bids.get(n.pk), n.pk in conflicted) for n in nominations])
                for call, nominations in calls
            ],
            "bid_levels": Bid.Level.choices,
            "organisation_conflicts": conflicts.filter(nomination=None),
            "organisation_form": OrganisationConflictForm(),
        },
    )


@require_POST
@login_required
def organisation_conflict_add(request):
    _reviewer_or_404(request.user)
    form = OrganisationConflictForm(request.POST)
    if form.is_valid():
        try:
            conflict_declare_organisation(
                reviewer=request.user,
                organisation=form.cleaned_data["organisation"],
                reason=form.cleaned_data["reason"],
            )
        except NominationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("You will not be asked to review its nominations."))
    else:
        messages.error(request, _("Please name the organisation."))
    return redirect("reviewers:interests")


@require_POST
@login_required
def conflict_remove(request, pk):
    _reviewer_or_404(request.user)
    conflict_withdraw(reviewer=request.user, conflict_id=pk)
    return redirect("reviewers:interests")
