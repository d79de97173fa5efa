"""The nomination form: what is needed to submit, the error banner, and its sections."""

from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from nominations.forms import FORM_SECTIONS, NominationForm
from nominations.models import Nomination

from ..factories import NominationFactory, QuestionFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

VOID = {"input", "br", "img", "hr", "meta", "link", "source", "wbr", "col", "area", "base"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children, self.content = [], []  # content: text and elements, in order

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        words = (part if isinstance(part, str) else part.text() for part in self.content)
        return " ".join("".join(words).split())

    def iter(self):
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag, **attrs):
        return [
            node
            for node in self.iter()
            if node.tag == tag and all(node.attrs.get(k) == v for k, v in attrs.items())
        ]

    def ancestor(self, tag, cls):
        node = self.parent
        while node is not None and not (node.tag == tag and cls in node.classes):
            node = node.parent
        return node


class Page(HTMLParser):
    """The page as a tree of elements, enough to ask what a browser would show."""

    def __init__(self, html):
        super().__init__()
        self.root = self.current = Node("#document", {})
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.current.content.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.content.append(data)


def page_of(response):
    assert response.status_code == 200
    return Page(response.content.decode()).root


def marked_fields(page):
    """Names of the inputs whose field is shown with an asterisk (class "required")."""
    names = set()
    for tag in ("input", "select", "textarea"):
        for node in page.find_all(tag):
            field = node.ancestor("div", "field")
            if field is not None and "required" in field.classes and node.attrs.get("name"):
                names.add(node.attrs["name"])
    return names


def section_statuses(page):
    """The section list: each link's text with the status shown after it."""
    nav = page.find_all("nav", **{"aria-labelledby": "form-sections-heading"})[0]
    return {li.find_all("a")[0].text(): li.find_all("span")[0].text() for li in nav.find_all("li")}


@pytest.fixture
def questions(call):
    return {
        "required": QuestionFactory(call=call, kind="yes_no", required=True, text="Still running?"),
        "optional": QuestionFactory(call=call, text="Anything else?"),
    }


def test_fields_needed_to_submit_are_marked_on_the_first_view(client, call, nominator, questions):
    client.force_login(nominator)
    response = client.get(reverse("nominations:create", args=[call.pk]))
    page = page_of(response)
    form = response.context["form"]

    assert marked_fields(page) == set(form.needed_to_submit)
    assert f"survey_{questions['required'].pk}" in form.needed_to_submit
    assert f"survey_{questions['optional'].pk}" not in form.needed_to_submit
    # Screen readers hear it too: single inputs say aria-required, groups say it in words.
    title = page.find_all("input", name="title")[0]
    assert title.attrs["aria-required"] == "true"
    assert "aria-required" not in page.find_all("textarea", name="links")[0].attrs
    themes_legend = page.find_all("div", id="id_themes")[0].parent.find_all("legend")[0]
    assert themes_legend.text() == "Themes (needed to submit)"


def test_every_form_field_is_in_exactly_one_section(call, questions):
    form = NominationForm(call=call)
    shown = [field.name for section in form.sections() for field in section.fields]

    assert sorted(shown) == sorted(name for name in form.fields if name != "client_token")
    assert [section.title for section in form.sections()] == [
        title for _slug, title, _names in FORM_SECTIONS
    ]


def test_a_failed_submit_lists_each_failing_field_with_a_link_to_it(
    client, call, nominator, questions
):
    client.force_login(nominator)
    url = reverse("nominations:create", args=[call.pk])
    response = client.post(
        url,
        {"title": "Neighbourhood mentors", "links": "not a link", "submit": "1"},
    )
    page = page_of(response)
    form = response.context["form"]

    banner = page.find_all("div", **{"class": "form-error"})[0]
    assert banner.attrs["role"] == "alert"
    assert banner.find_all("h2")[0].text() == "Please correct the following"
    ids = {node.attrs["id"] for node in page.iter() if "id" in node.attrs}
    links = banner.find_all("a")
    failing = [field for field in form.visible_fields() if field.errors]
    assert [link.text() for link in links] == [field.label for field in failing]
    assert {field.name for field in failing} == {*form.needed_to_submit, "links"} - {"title"}
    for link in links:
        assert link.attrs["href"].removeprefix("#") in ids
    items = [item.text() for item in banner.find_all("li")]
    assert "Links: “not a link” is not a web address (it must start with https://)." in items
    assert not Nomination.objects.exists()


def test_non_field_errors_stay_in_the_banner(draft):
    form = NominationForm({"title": "x"}, call=draft.call, instance=draft)
    form.add_error(None, "This call closed a minute ago.")

    banner = Page(render_to_string("_form_errors.html", {"form": form})).root
    assert [p.text() for p in banner.find_all("p")] == ["This call closed a minute ago."]
    assert banner.find_all("ul") == []


def test_the_section_list_says_what_the_saved_draft_still_needs(
    client, call, nominator, countries, questions
):
    draft = NominationFactory(
        call=call,
        nominator=nominator,
        country=countries["SE"],
        themes=[],
        organisation="",
        contact_email="",
    )
    client.force_login(nominator)
    url = reverse("nominations:edit", args=[draft.pk])

    assert section_statuses(page_of(client.get(url))) == {
        "1 The practice": "(missing 1 field)",
        "2 Organisation": "(missing 1 field)",
        "3 Problem, target group and results": "(✓ complete)",
        "4 Transferability and links": "(✓ complete)",
        "5 Survey questions": "(missing 1 field)",
        "6 Attachments": "(optional)",
        "7 Contact person": "(missing 1 field)",
        "8 Reviewers and consent": "(optional)",
    }
    page = page_of(client.get(url))
    for link in page.find_all("nav", **{"aria-labelledby": "form-sections-heading"})[0].find_all(
        "a"
    ):
        assert page.find_all("fieldset", id=link.attrs["href"].removeprefix("#"))

    draft.organisation = "Malmö Neighbourhood Trust"
    draft.contact_email = "anna@example.org"
    draft.survey_answers = {str(questions["required"].pk): True}
    draft.save()
    draft.themes.set(call.themes.all())

    statuses = section_statuses(page_of(client.get(url)))
    assert [status for status in statuses.values() if status != "(optional)"] == [
        "(✓ complete)"
    ] * 6


def test_a_new_form_shows_every_section_with_what_it_needs(client, call, nominator):
    client.force_login(nominator)
    statuses = section_statuses(page_of(client.get(reverse("nominations:create", args=[call.pk]))))

    assert statuses == {
        "1 The practice": "(missing 7 fields)",
        "2 Organisation": "(missing 2 fields)",
        "3 Problem, target group and results": "(missing 3 fields)",
        "4 Transferability and links": "(missing 1 field)",
        "5 Attachments": "(optional)",
        "6 Contact person": "(missing 2 fields)",
        "7 Reviewers and consent": "(optional)",
    }


def test_what_was_typed_survives_a_failed_submit(client, draft):
    client.force_login(draft.nominator)
    url = reverse("nominations:edit", args=[draft.pk])
    response = client.post(
        url,
        {
            "title": "Neighbourhood mentors, second edition",
            "organisation": "Malmö Trust",
            "summary": "",
            "results": "400 mentees.",
            "links": "https://example.org/mentors",
            "submit": "1",
        },
    )
    page = page_of(response)

    assert page.find_all("input", name="title")[0].attrs["value"] == (
        "Neighbourhood mentors, second edition"
    )
    assert page.find_all("input", name="organisation")[0].attrs["value"] == "Malmö Trust"
    assert page.find_all("textarea", name="results")[0].text() == "400 mentees."
    assert page.find_all("textarea", name="links")[0].text() == "https://example.org/mentors"
    draft.refresh_from_db()
    assert draft.organisation == "Malmö Neighbourhood Trust"
