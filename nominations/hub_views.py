"""The public knowledge hub: selected practices whose nominators consented to publication.

Open to everyone, signed in or not. It never shows reviewers, scores or contact
details: only the public text the coordinators keep, and the showcase.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from config.site import absolute_url

from .forms import HubFilterForm
from .models import CONTENT_LANGUAGES
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


#: Languages a ``?lang=`` on hub pages may ask the practices' text in.
CONTENT_LANGUAGE_CODES = frozenset(
    code for code, _name in [*settings.LANGUAGES, *CONTENT_LANGUAGES]
)


def content_language(request):
    """The language the visitor reads practices in: ``?lang=``, else the interface's.

    A practice not written or translated in it is shown in its original language.
    """
    asked = request.GET.get("lang", "")
    return asked if asked in CONTENT_LANGUAGE_CODES else get_language()


def detail_url(practice, language=None):
    """The absolute address of a practice's page, in ``language`` when given."""
    url = absolute_url(reverse("hub:detail", args=[practice.pk]))
    return f"{url}?{urlencode({'lang': language})}" if language else url


def hub_list(request):
    form = HubFilterForm(request.GET)
    page = Paginator(hub_practices(**form.filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    language = content_language(request)
    return render(
        request,
        "hub/practice_list.html",
        {
            "form": form,
            "page": page,
            "entries": [(practice, practice.version_in(language)) for practice in page],
            "content_language": language,
            "lang_query": urlencode({"lang": language}) if "lang" in request.GET else "",
            "query": query.urlencode(),
        },
    )


def hub_detail(request, pk):
    practice = hub_practices().filter(pk=pk).first()
    if practice is None:
        raise Http404
    language = content_language(request)
    return render(
        request,
        "hub/practice_detail.html",
        {
            "practice": practice,
            "text": practice.version_in(language),
            "content_language": language,
            "alternates": [
                (version.language, detail_url(practice, version.language))
                for version in practice.versions()
            ],
            "default_url": detail_url(practice),
        },
    )


def practice_as_json(request, practice):
    """A practice in its original language, with ``language`` saying which, and each
    translation under ``translations`` by language code."""
    nomination = practice.nomination
    original = practice.language
    return {
        "id": practice.pk,
        "url": detail_url(practice),
        "language": original,
        "title": practice.title,
        "summary": practice.summary,
        "results": practice.results,
        "transferability": practice.transferability,
        "translations": {
            translation.language: {
                "url": detail_url(practice, translation.language),
                **{
                    name: getattr(translation, name)
                    for name in ("title", "summary", "results", "transferability")
                },
            }
            for translation in practice.translations.all()
            if translation.language != original
        },
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


class LanguageTaggedAtomFeed(Atom1Feed):
    """Atom whose entries each say their language (``xml:lang``): an entry may be a
    translation or, where none exists in the reader's language, the original."""

    def item_attributes(self, item):
        return {**super().item_attributes(item), "xml:lang": item["language"]}


class LatestPracticesFeed(Feed):
    """Atom feed of the practices published most recently.

    Its links are absolute on ``SITE_URL``, as the JSON listing's are: Django would
    otherwise put the ``Site`` row's domain in front of them.
    """

    feed_type = LanguageTaggedAtomFeed
    title = _("Nomflow knowledge hub: newly published practices")
    subtitle = _("Best practices of social innovation, selected by the partners.")

    def link(self):
        return absolute_url(reverse("hub:list"))

    def feed_url(self):
        return absolute_url(reverse("hub:feed"))

    def items(self):
        # Each entry in the reader's language where the practice has it, else the original.
        language = get_language()
        return [(practice, practice.version_in(language)) for practice in hub_practices()[:30]]

    def item_title(self, item):
        return item[1].title

    def item_description(self, item):
        # Atom sends the summary as HTML (type="html"), and feed readers render it: the
        # nominator's text is escaped first, so it is shown as typed and never run.
        return linebreaks(item[1].summary, autoescape=True)

    def item_link(self, item):
        practice, text = item
        return detail_url(practice, text.language)

    def item_guid(self, item):
        # One entry per practice, whatever language it is read in.
        return detail_url(item[0])

    def item_extra_kwargs(self, item):
        return {"language": item[1].language}

    def item_pubdate(self, item):
        return item[0].first_published_at

    def item_updateddate(self, item):
        return item[0].updated_at

    def item_categories(self, item):
        return [theme.name for theme in item[0].nomination.themes.all()]
