"""Reviewers keep their profile and say, before assignment, what they would like to review
and what they must not; coordinators see and correct their country's reviewers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from nominations.models import Country, Theme
from nominations.services import NominationError

from .forms import OrganisationConflictForm, ProfileForm, UnavailabilityFormSet, unavailable_periods
from .models import Bid, ConflictOfInterest, ReviewerProfile
from .selectors import (
    PROFILE_ORDERS,
    may_change_country,
    may_edit_profile,
    may_list_reviewers,
    nominations_to_consider,
    open_reviews_by_call,
    profile_changes,
    reviewer_profiles_for,
)
from .services import (
    conflict_declare_organisation,
    conflict_withdraw,
    profile_update,
    reviewer_interests_save,
)


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


# --- profiles ------------------------------------------------------------------------------

#: Each row of the country list, and the paginator's page size.
REVIEWERS_PER_PAGE = 25


@login_required
def profile(request):
    """The signed-in reviewer's own profile; someone without one is told how to get one."""
    own = ReviewerProfile.objects.filter(user=request.user).select_related("user", "country")
    profile = own.first()
    if profile is None:
        return render(request, "reviewers/no_profile.html", status=404)
    return _profile_page(request, profile)


@login_required
def profile_edit(request, pk):
    """A reviewer's profile as their coordinator (or an admin) corrects it."""
    profile = get_object_or_404(ReviewerProfile.objects.select_related("user", "country"), pk=pk)
    if not may_edit_profile(user=request.user, profile=profile):
        raise Http404  # nobody learns who is a reviewer from a page they may not open
    return _profile_page(request, profile)


def _profile_page(request, profile):
    own = profile.user_id == request.user.pk
    countries = (
        Country.objects.all() if may_change_country(user=request.user, profile=profile) else None
    )
    themes = Theme.objects.all()
    if request.method == "POST":
        form = ProfileForm(request.POST, themes=themes, country_queryset=countries)
        periods = UnavailabilityFormSet(request.POST, instance=profile, prefix="away")
        if form.is_valid() and periods.is_valid():
            try:
                result = profile_update(
                    profile=profile,
                    by=request.user,
                    organisation=form.cleaned_data["organisation"],
                    languages=form.all_languages(),
                    capacity=form.cleaned_data["capacity"],
                    is_active=form.cleaned_data["is_active"],
                    expertise=form.expertise(),
                    unavailable=unavailable_periods(periods),
                    country=form.cleaned_data.get("country"),
                )
            except NominationError as error:
                form.add_error("country" if countries is not None else None, str(error))
            else:
                messages.success(
                    request,
                    _("The profile is saved.")
                    if result.change
                    else _("Nothing changed: the profile is as it was."),
                )
                for call, count in result.over_capacity:
                    messages.warning(
                        request, _capacity_note(call, count, form.cleaned_data["capacity"], own=own)
                    )
                return redirect(request.path)
    else:
        form = ProfileForm(
            initial=ProfileForm.initial_for(profile), themes=themes, country_queryset=countries
        )
        periods = UnavailabilityFormSet(instance=profile, prefix="away")
    open_by_call = open_reviews_by_call(user=profile.user)
    return render(
        request,
        "reviewers/profile.html",
        {
            "profile": profile,
            "own": own,
            "form": form,
            "periods": periods,
            "open_by_call": open_by_call,
            "capacity_notes": [
                _capacity_note(call, count, profile.capacity, own=own)
                for call, count in open_by_call
                if count >= profile.capacity
            ],
            "changes": profile_changes(profile=profile),
        },
    )


def _capacity_note(call, count, capacity, *, own):
    """What a reviewer at or above capacity in a call reads: nothing moves, new ones wait."""
    values = {"count": count, "call": call.title, "capacity": capacity}
    if own:
        return (
            ngettext(
                "You have %(count)s open review in “%(call)s”; new ones will wait until you "
                "are below %(capacity)s. Reviews you hold are not moved.",
                "You have %(count)s open reviews in “%(call)s”; new ones will wait until you "
                "are below %(capacity)s. Reviews you hold are not moved.",
                count,
            )
            % values
        )
    return (
        ngettext(
            "The reviewer has %(count)s open review in “%(call)s”; new ones will wait until "
            "they are below %(capacity)s. Reviews they hold are not moved.",
            "The reviewer has %(count)s open reviews in “%(call)s”; new ones will wait until "
            "they are below %(capacity)s. Reviews they hold are not moved.",
            count,
        )
        % values
    )


@login_required
def country_reviewers(request):
    """Coordinators' reviewers (admins: every country's), 25 a page, sortable by name."""
    if not may_list_reviewers(request.user):
        raise PermissionDenied
    sort = request.GET.get("sort", "name")
    sort = sort if sort in PROFILE_ORDERS else "name"
    countries = (
        Country.objects.all()
        if request.user.is_staff
        else Country.objects.filter(coordinators=request.user)
    )
    countries = list(countries)
    country = request.GET.get("country", "")
    country = country if country in {c.code for c in countries} else ""
    page = Paginator(
        reviewer_profiles_for(user=request.user, country=country or None, sort=sort),
        REVIEWERS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "reviewers/country_reviewers.html",
        {"page": page, "sort": sort, "country": country, "countries": countries},
    )
