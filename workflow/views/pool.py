"""The reviewer pool at a glance: who can review, in which languages and themes, and the gaps."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from nominations.models import Call
from nominations.permissions import may_lead_call
from reviewers.selectors import BLOCKS, WEAKENS, may_list_reviewers, pool_summary


def pool_audience(*, user, call):
    """(may see the pool, the countries to highlight) for ``user`` on ``call``.

    The call's leads and admins see the whole pool, nothing highlighted; the coordinators
    of any country see the same counts (the cross-border pool is shared: their nominations
    are reviewed by the other countries' reviewers) with their own countries highlighted.
    The page names nobody, so no other country's reviewer is named to them.
    """
    if not user.is_authenticated:
        return False, frozenset()
    coordinated = frozenset(user.coordinated_countries.values_list("pk", flat=True))
    if may_lead_call(user=user, call=call):
        return True, coordinated
    return bool(coordinated), coordinated


@login_required
def pool(request, call_pk):
    """A call's reviewer pool against its nominations: tables, two charts and the gaps."""
    call = get_object_or_404(Call, pk=call_pk)
    allowed, own_countries = pool_audience(user=request.user, call=call)
    if not allowed:
        raise Http404  # a page about one call: nobody outside learns it is there
    summary = pool_summary(call=call)
    severity_labels = {
        BLOCKS: _("Reviews cannot be given"),
        WEAKENS: _("Read from the English summary only"),
    }
    gaps = [
        {
            "text": gap.text,
            "label": severity_labels.get(gap.severity, _("Few experts")),
            "severity": gap.severity,
            "own": gap.country_id in own_countries,
        }
        for gap in summary.gaps
    ]
    charts = {
        "pool-capacity-chart": {
            "labels": [country.name for country in summary.countries],
            "series": [
                {
                    "label": str(_("Reviews needed")),
                    "values": [country.needed for country in summary.countries],
                },
                {
                    "label": str(_("Free places in other countries")),
                    "values": [country.free_elsewhere for country in summary.countries],
                },
            ],
            "horizontal": True,
        },
        "pool-themes-chart": {
            "labels": [str(theme.name) for theme in summary.themes],
            "series": [
                {
                    "label": str(_("Nominations")),
                    "values": [theme.nominations for theme in summary.themes],
                },
                {
                    "label": str(_("Experts")),
                    "values": [theme.experts for theme in summary.themes],
                },
            ],
            "horizontal": True,
        },
    }
    return render(
        request,
        "workflow/pool.html",
        {
            "call": call,
            "summary": summary,
            "gaps": gaps,
            "charts": charts,
            "own_countries": own_countries,
            # Names stay on the reviewers' own list: coordinators see their countries' there.
            "may_list_reviewers": may_list_reviewers(request.user),
        },
    )
