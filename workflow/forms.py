from django import forms
from django.utils.translation import gettext_lazy as _

from nominations.models import Country, Nomination, SelectionDecision, Theme

from .services import ScreeningDecision


class ScreeningForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (ScreeningDecision.ACCEPT, _("Accept for transnational peer review")),
            (ScreeningDecision.REQUEST_CHANGES, _("Send back to the nominator for changes")),
            (ScreeningDecision.REJECT, _("Reject")),
        ],
    )
    message = forms.CharField(
        label=_("Message to the nominator"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Required when you send it back or reject it: the nominator reads this."),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") != ScreeningDecision.ACCEPT
            and not cleaned.get("message", "").strip()
        ):
            self.add_error("message", _("Please tell the nominator why."))
        return cleaned


class SelectionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), widget=forms.RadioSelect, choices=SelectionDecision.Outcome.choices
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The nominator reads this with the outcome."),
    )


class ReturnProposalForm(forms.Form):
    note = forms.CharField(
        label=_("Why you send it back"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The leads read this; the nominator does not."),
    )


class ReviewerByHandForm(forms.Form):
    """A coordinator picks a reviewer; ``choices`` come from ``reviewer_choices``."""

    reviewer = forms.TypedChoiceField(label=_("Reviewer"), coerce=int, widget=forms.RadioSelect)
    confirmed = forms.BooleanField(
        label=_("I have read the warnings and assign this reviewer anyway"), required=False
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [
            (choice.user.pk, choice.user.get_full_name() or choice.user.email)
            for choice in choices
            if not choice.refusal
        ]


class GoOnForm(forms.Form):
    note = forms.CharField(
        label=_("Why it goes on without all its reviewers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the nomination's history."),
    )


class BoardFilterForm(forms.Form):
    """The selection board's filters; every one is optional."""

    # Ids chosen from lists read once (``__init__``): checking a chosen country or theme
    # then asks the database nothing more, so a filtered board costs what an unfiltered one
    # does.
    country = forms.TypedChoiceField(
        label=_("Country"), coerce=int, empty_value=None, required=False
    )
    theme = forms.TypedChoiceField(label=_("Theme"), coerce=int, empty_value=None, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All kinds")), *Nomination.Kind.choices], required=False
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=[
            ("", _("Any stage")),
            (Nomination.Stage.SELECTION, Nomination.Stage.SELECTION.label),
            (Nomination.Stage.DECIDED, Nomination.Stage.DECIDED.label),
        ],
        required=False,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[("score", _("Weighted score")), ("title", _("Title")), ("country", _("Country"))],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [
            ("", _("All countries")),
            *((country.pk, str(country)) for country in Country.objects.filter(is_partner=True)),
        ]
        self.fields["theme"].choices = [
            ("", _("All themes")),
            *((theme.pk, str(theme)) for theme in Theme.objects.all()),
        ]

    def apply(self, nominations):
        self.is_valid()
        data = self.cleaned_data
        if data.get("country"):
            nominations = nominations.filter(country_id=data["country"])
        if data.get("theme"):
            # A subquery, not a join: the board's counts stay one row per nomination.
            tagged = Nomination.themes.through.objects.filter(theme_id=data["theme"])
            nominations = nominations.filter(pk__in=tagged.values("nomination_id"))
        if data.get("kind"):
            nominations = nominations.filter(kind=data["kind"])
        if data.get("stage"):
            nominations = nominations.filter(stage=data["stage"])
        return nominations

    @property
    def order(self):
        """How the board is ordered: "score" (the default), "title" or "country"."""
        self.is_valid()
        return self.cleaned_data.get("sort") or "score"
