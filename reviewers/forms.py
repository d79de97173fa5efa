import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Expertise, ReviewerProfile, Unavailability

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class ReviewForm(forms.Form):
    """A score from 1 to 5 and a comment per rubric criterion, and an overall comment.

    A draft may leave scores empty; submitting (``submitting=True``) needs them all.
    """

    comment = forms.CharField(
        label=_("Overall comment"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, criteria, review=None, submitting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        saved = {s.criterion_id: s for s in review.scores.all()} if review else {}
        if review:
            self.fields["comment"].initial = review.comment
        for criterion in self.criteria:
            score = saved.get(criterion.pk)
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=criterion.title,
                help_text=criterion.description,
                choices=SCORE_CHOICES,
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=submitting,
                initial=str(score.score) if score and score.score else None,
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Comment on %(criterion)s") % {"criterion": criterion.title},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                initial=score.comment if score else "",
            )

    @property
    def criterion_rows(self):
        return [
            (criterion, self[f"score_{criterion.pk}"], self[f"comment_{criterion.pk}"])
            for criterion in self.criteria
        ]

    def scores(self):
        return {
            criterion.pk: (
                self.cleaned_data.get(f"score_{criterion.pk}"),
                self.cleaned_data.get(f"comment_{criterion.pk}", ""),
            )
            for criterion in self.criteria
        }


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can you not review this nomination?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example a conflict of interest, or no time before the deadline."),
    )


class OrganisationConflictForm(forms.Form):
    organisation = forms.CharField(label=_("Organisation"), max_length=200)
    reason = forms.CharField(label=_("Why (optional)"), max_length=300, required=False)


# --- the reviewer's profile ------------------------------------------------------------

#: "No expertise" in a theme: the matcher counts it as level 0.
NO_EXPERTISE = ""


class ProfileForm(forms.Form):
    """A reviewer's profile as they (or their coordinator) keep it: one field per theme.

    ``themes`` gives a row each, with none or a self-rated level. ``country_choices``, given
    only to those who may move a reviewer to another country, adds the country field.
    """

    organisation = forms.CharField(
        label=_("Organisation"),
        max_length=200,
        required=False,
        # The matcher keeps reviewers off their organisation's nominations; a blank one
        # is no organisation, where a made-up name ("independent") could match another.
        help_text=_("Where you work. Leave it empty if you work independently."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you read"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_languages = forms.CharField(
        label=_("Other languages you read"),
        required=False,
        max_length=200,
        help_text=_("Two- or three-letter codes separated by commas, e.g. de, it."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=0,
        max_value=50,
        help_text=_("The most reviews you can have open in one call at one time."),
    )
    is_active = forms.BooleanField(label=_("Available for new reviews"), required=False)

    def __init__(self, *args, themes, country_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes = list(themes)
        if country_queryset is not None:
            self.fields["country"] = forms.ModelChoiceField(
                label=_("Home country"),
                queryset=country_queryset,
                help_text=_("A reviewer never reviews nominations from their home country."),
            )
        levels = [
            (NO_EXPERTISE, _("None")),
            *((str(v), label) for v, label in Expertise.Level.choices),
        ]
        for theme in self.themes:
            self.fields[f"theme_{theme.pk}"] = forms.TypedChoiceField(
                label=theme.name,
                choices=levels,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    @classmethod
    def initial_for(cls, profile):
        """The form's initial data from a saved profile."""
        project = {code for code, _name in settings.LANGUAGES}
        initial = {
            "organisation": profile.organisation,
            "languages": [code for code in profile.languages if code in project],
            "other_languages": ", ".join(c for c in profile.languages if c not in project),
            "capacity": profile.capacity,
            "is_active": profile.is_active,
            "country": profile.country_id,
        }
        for expertise in profile.expertise_levels.all():
            initial[f"theme_{expertise.theme_id}"] = str(expertise.level)
        return initial

    @property
    def theme_rows(self):
        return [self[f"theme_{theme.pk}"] for theme in self.themes]

    def clean_other_languages(self):
        codes = [code.strip().lower() for code in self.cleaned_data["other_languages"].split(",")]
        codes = [code for code in codes if code]
        wrong = [code for code in codes if not re.fullmatch(r"[a-z]{2,3}", code)]
        if wrong:
            raise forms.ValidationError(
                _("“%(codes)s” is not a language code: use two or three letters, e.g. de."),
                params={"codes": ", ".join(wrong)},
            )
        return codes

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("languages") and not cleaned.get("other_languages"):
            self.add_error("languages", _("Choose at least one language you read."))
        return cleaned

    def all_languages(self):
        """Project languages first, in their order, then the others as typed (no repeats)."""
        codes = [*self.cleaned_data["languages"], *self.cleaned_data["other_languages"]]
        return list(dict.fromkeys(codes))

    def expertise(self):
        """{theme id: level} for the themes given a level."""
        return {
            theme.pk: self.cleaned_data[f"theme_{theme.pk}"]
            for theme in self.themes
            if self.cleaned_data.get(f"theme_{theme.pk}")
        }


class UnavailabilityForm(forms.ModelForm):
    class Meta:
        model = Unavailability
        fields = ["starts_on", "ends_on", "note"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The last day cannot be before the first."))
        return cleaned


UnavailabilityFormSet = forms.inlineformset_factory(
    ReviewerProfile,
    Unavailability,
    form=UnavailabilityForm,
    extra=1,
    can_delete=True,
)


def unavailable_periods(formset):
    """The periods a valid formset keeps: [(id or None, starts_on, ends_on, note)].

    A removed period, or an empty extra row, is left out.
    """
    periods = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        pk = form.instance.pk
        periods.append((pk, data["starts_on"], data["ends_on"], data.get("note", "")))
    return periods
