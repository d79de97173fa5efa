"""The public knowledge hub: selected practices whose nominators consented to publication.

Open to everyone, signed in or not. It never shows reviewers, scores or contact
details: only the public text the coordinators keep, and the showcase.
"""

from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.translation import gettext_lazy as _

from config.site import absolute_url

from .forms import HubFilterForm
from .selectors import hub_practices

PAGE_SIZE = 20


class HtmlSafeJSONEncoder(DjangoJSONEncoder):
    """JSON with <, > and & as \\u escapes: the same data once parsed.

    The raw listing then holds no markup, so a nominator's text cannot break out of a
    partner's <script> block that embeds it, nor run if the listing is ever taken for HTML.
    (A partner who puts the values into a page must still escape them.)
    """

    ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

    def encode(self, o):
        return super().encode(o).translate(self.ESCAPES)


def hub_list(request):
    form = HubFilterForm(request.GET)
    page = Paginator(hub_practices(**form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "hub/practice_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def hub_detail(request, pk):
    practice = hub_practices().filter(pk=pk).first()
    if practice is None:
        raise Http404
    return render(request, "hub/practice_detail.html", {"practice": practice})


def practice_as_json(request, practice):
    nomination = practice.nomination
    return {
        "id": practice.pk,
        "url": absolute_url(reverse("hub:detail", args=[practice.pk])),
        "title": practice.title,
        "summary": practice.summary,
        "results": practice.results,
        "transferability": practice.transferability,
        "links": practice.link_list,
        "kind": nomination.kind,
        "country": {"code": nomination.country.code, "name": nomination.country.name},
        "themes": [theme.name for theme in nomination.themes.all()],
        "call": nomination.call.title,
        "showcase": nomination.decision.outcome,
        "year_started": nomination.year_started,
        "published_at": practice.first_published_at.isoformat(),
        "updated_at": practice.updated_at.isoformat(),
    }


def hub_json(request):
    """The published practices for partners' sites, filtered as the hub is, a page at a time."""
    form = HubFilterForm(request.GET)
    page = Paginator(hub_practices(**form.filters()), 100).get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "practices": [practice_as_json(request, practice) for practice in page],
        },
        encoder=HtmlSafeJSONEncoder,
        json_dumps_params={"ensure_ascii": False},
    )


class LatestPracticesFeed(Feed):
    """Atom feed of the practices published most recently.

    Its links are absolute on ``SITE_URL``, as the JSON listing's are: Django would
    otherwise put the ``Site`` row's domain in front of them.
    """

    feed_type = Atom1Feed
    title = _("Nomflow knowledge hub: newly published practices")
    subtitle = _("Best practices of social innovation, selected by the partners.")

    def link(self):
        return absolute_url(reverse("hub:list"))

    def feed_url(self):
        return absolute_url(reverse("hub:feed"))

    def items(self):
        return hub_practices()[:30]

    def item_title(self, practice):
        return practice.title

    def item_description(self, practice):
        # Atom sends the summary as HTML (type="html"), and feed readers render it: the
        # nominator's text is escaped first, so it is shown as typed and never run.
        return linebreaks(practice.summary, autoescape=True)

    def item_link(self, practice):
        return absolute_url(reverse("hub:detail", args=[practice.pk]))

    def item_pubdate(self, practice):
        return practice.first_published_at

    def item_updateddate(self, practice):
        return practice.updated_at

    def item_categories(self, practice):
        return [theme.name for theme in practice.nomination.themes.all()]
