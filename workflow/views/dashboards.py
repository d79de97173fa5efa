"""Where a call stands, as charts over tables of numbers."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from nominations.models import Call
from nominations.permissions import may_lead_call

from ..selectors import dashboard_figures, may_see_dashboard


@login_required
def dashboard(request, call_pk=None):
    """Where a call stands (or, for admins, every call), as charts over tables of numbers."""
    call = get_object_or_404(Call, pk=call_pk) if call_pk else None
    if not may_see_dashboard(user=request.user, call=call):
        raise Http404
    calls = [call] if call else list(Call.objects.all())
    may_open_board = call is not None and may_lead_call(user=request.user, call=call)
    # Coordinators see their own countries' nominations; leads and admins the whole call.
    countries = (
        None
        if request.user.is_staff or may_open_board
        else list(request.user.coordinated_countries.all())
    )
    figures = dashboard_figures(calls=calls, countries=countries)
    pipeline = figures["pipeline"]
    charts = {
        "pipeline-chart": {
            "labels": [country for country, _counts in pipeline["rows"]],
            "series": [
                {"label": stage, "values": [counts[index] for _country, counts in pipeline["rows"]]}
                for index, stage in enumerate(pipeline["columns"])
            ],
            "stacked": True,
            "horizontal": True,
        },
        "reviews-chart": _single_series(_("Reviews"), figures["review_progress"]),
        "overdue-chart": {
            **_single_series(_("Overdue tasks"), figures["overdue_by_person"]),
            "horizontal": True,
        },
        "workload-chart": {
            **_single_series(
                _("Open reviews"), [(name, load) for name, load, _cap in figures["workload"]]
            ),
            "horizontal": True,
        },
        "scores-chart": _single_series(_("Scores given"), figures["score_distribution"]),
    }
    return render(
        request,
        "workflow/dashboard.html",
        {
            "call": call,
            "calls": calls,
            "figures": figures,
            "charts": charts,
            "may_open_board": may_open_board,
        },
    )


def _single_series(label, pairs):
    return {
        "labels": [str(name) for name, _value in pairs],
        "series": [{"label": str(label), "values": [value for _name, value in pairs]}],
    }
