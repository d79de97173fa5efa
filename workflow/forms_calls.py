"""The call setup page's forms: the call, its rubric and its survey, each row with its texts in
every interface language.

The forms read and give back the shape of ``workflow.services.calls.CallDraft``; what a
call is made of is decided there, the forms only check what a person typed.
"""

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nominations.models import CONTENT_LANGUAGES, Call, SurveyQuestion, Theme

from .services.calls import (
    CallDraft,
    call_field_names,
    criterion_field_names,
    people_by_email,
    question_field_names,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
#: The kinds of question that list choices.
CHOICE_KINDS = {SurveyQuestion.Kind.SINGLE_CHOICE, SurveyQuestion.Kind.MULTIPLE_CHOICE}


def _language_label(form, name):
    """``Title (Swedish)`` for ``title_sv``, in the reader's language."""
    base, _sep, code = name.rpartition("_")
    field = form.fields[name]
    verbose = form.base_labels.get(base) or field.label
    language = dict(settings.LANGUAGES)[code]
    field.label = _("%(field)s (%(language)s)") % {"field": verbose, "language": language}


class TranslatedRowsMixin:
    """Labels by language, English required and the other languages optional."""

    base_labels = {}

    def main_fields(self):
        """The row's visible fields but those in languages other than English."""
        return [f for f in self.visible_fields() if not _other_language(f.name)]

    def translation_fields(self):
        return [f for f in self.visible_fields() if _other_language(f.name)]

    def label_languages(self, names):
        for name in names:
            if name.rpartition("_")[2] in LANGUAGE_CODES:
                _language_label(self, name)


def _other_language(name):
    code = name.rpartition("_")[2]
    return code in LANGUAGE_CODES and code != "en"


class WallClockField(forms.DateTimeField):
    """A day and hour as typed, with no time zone yet: the call's own zone is applied in
    ``CallForm.clean`` (the page's time zone field), not the server's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if hasattr(value, "tzinfo"):
            return value.replace(tzinfo=None)
        return BaseTemporalField.to_python(self, value.strip())


#: The setup page's parts before and after the rubric and survey; a field of the form in
#: none of them is shown under "Other settings", so a new setting is never left off the page.
SECTIONS_BEFORE_RUBRIC = (
    ("dates", gettext_lazy("Dates and time zone"), ("opens_at", "closes_at", "time_zone")),
    (
        "deadlines",
        gettext_lazy("Days for each stage"),
        ("screening_days", "revision_days", "review_days", "selection_days"),
    ),
    ("nominations", gettext_lazy("Languages and themes"), ("languages", "themes")),
    (
        "reviewing",
        gettext_lazy("Peer review"),
        ("reviewers_per_nomination", "assign_in_bulk", "bidding_enabled"),
    ),
)
SECTIONS_AFTER_SURVEY = (
    (
        "selection",
        gettext_lazy("Selection and leads"),
        ("min_selected_per_country", "min_selected_per_theme", "require_two_leads", "lead_emails"),
    ),
    (
        "reminders",
        gettext_lazy("Reminders and escalation"),
        ("reminder_days", "escalation_grace_days", "escalation_emails"),
    ),
    ("privacy", gettext_lazy("Personal data"), ("retention_days",)),
)
TEXT_PREFIXES = ("title_", "description_")


class CallForm(TranslatedRowsMixin, forms.ModelForm):
    """The call's own settings; its many-to-many people as email addresses, one per line."""

    opens_at = WallClockField(label=gettext_lazy("Opens"))
    closes_at = WallClockField(label=gettext_lazy("Closes"))
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages nominations may be written in"),
        choices=CONTENT_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    reminder_days = forms.CharField(
        label=gettext_lazy("Reminders, days before a deadline"),
        help_text=gettext_lazy("Whole days separated by commas, e.g. 7, 1."),
        max_length=100,
    )
    lead_emails = forms.CharField(
        label=gettext_lazy("Leads"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=gettext_lazy(
            "Email addresses of their accounts, one per line. Whoever creates the call "
            "becomes a lead too."
        ),
    )
    escalation_emails = forms.CharField(
        label=gettext_lazy("Overdue selections go to"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=gettext_lazy(
            "Email addresses, one per line. If nobody is named, the site's administrators."
        ),
    )

    class Meta:
        model = Call
        fields = [*call_field_names(), "themes"]
        widgets = {
            "themes": forms.CheckboxSelectMultiple,
            **{f"description_{code}": forms.Textarea(attrs={"rows": 4}) for code in LANGUAGE_CODES},
        }

    def __init__(self, *args, creator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.creator = creator
        self.base_labels = {"title": _("Title"), "description": _("Description")}
        self.label_languages(self.fields)
        self.fields["themes"].queryset = Theme.objects.all()
        for name in ("screening_days", "revision_days", "review_days", "selection_days"):
            self.fields[name].validators.append(MinValueValidator(1))
            self.fields[name].widget.attrs["min"] = 1
        self.fields["reviewers_per_nomination"].widget.attrs["min"] = 1

    def clean_reminder_days(self):
        text = self.cleaned_data["reminder_days"]
        parts = [part for part in re.split(r"[\s,;]+", text) if part]
        try:
            days = [int(part) for part in parts]
        except ValueError:
            raise forms.ValidationError(
                _("Please give whole days separated by commas, e.g. 7, 1.")
            ) from None
        if not days or any(day < 1 for day in days):
            raise forms.ValidationError(_("Reminder days must be 1 or more."))
        if len(set(days)) != len(days):
            raise forms.ValidationError(_("Each reminder day may appear only once."))
        return sorted(days, reverse=True)

    def _people(self, name):
        users, unknown = people_by_email(self.cleaned_data.get(name, "").splitlines())
        if unknown:
            self.add_error(
                name,
                _("No account has the address %(emails)s.") % {"emails": ", ".join(unknown)},
            )
        return [user.pk for user in users]

    def clean(self):
        cleaned = super().clean()
        zone_name = cleaned.get("time_zone")
        try:
            zone = ZoneInfo(zone_name) if zone_name else None
        except (ValueError, KeyError, OSError):
            zone = None
        for name in ("opens_at", "closes_at"):
            if cleaned.get(name) is not None and zone is not None:
                cleaned[name] = cleaned[name].replace(tzinfo=zone)
            elif cleaned.get(name) is not None:
                cleaned[name] = timezone.make_aware(cleaned[name])
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The call must close after it opens."))
        cleaned["leads"] = self._people("lead_emails")
        cleaned["selection_escalation_people"] = self._people("escalation_emails")
        if cleaned.get("require_two_leads"):
            leads = set(cleaned["leads"]) | ({self.creator.pk} if self.creator else set())
            if len(leads) < 2:
                self.add_error(
                    "require_two_leads",
                    _("Two leads decide each selection: please name at least two leads."),
                )
        return cleaned

    def text_groups(self):
        """Per interface language: its name and the title and description fields."""
        return [
            (code, name, [self[f"{prefix}{code}"] for prefix in TEXT_PREFIXES])
            for code, name in settings.LANGUAGES
        ]

    def sections_before(self):
        """``(id, title, bound fields)`` of the parts before the rubric."""
        return [(s, t, [self[name] for name in names]) for s, t, names in SECTIONS_BEFORE_RUBRIC]

    def sections_after(self):
        """The parts after the survey, and any field no part names under "Other settings"."""
        result = [(s, t, [self[name] for name in names]) for s, t, names in SECTIONS_AFTER_SURVEY]
        placed = {
            name
            for _s, _t, names in (*SECTIONS_BEFORE_RUBRIC, *SECTIONS_AFTER_SURVEY)
            for name in names
        }
        others = [
            self[name]
            for name in self.fields
            if name not in placed and not name.startswith(TEXT_PREFIXES)
        ]
        if others:
            result.append(("other", _("Other settings"), others))
        return result

    def call_fields(self):
        return {name: self.cleaned_data[name] for name in call_field_names()}


class CriterionForm(TranslatedRowsMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    weight = forms.DecimalField(
        label=gettext_lazy("Weight"),
        max_digits=4,
        decimal_places=2,
        initial=Decimal(1),
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0.25"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code in LANGUAGE_CODES:
            self.fields[f"title_{code}"] = forms.CharField(
                max_length=120, required=code == "en", label=_("Criterion")
            )
        for code in LANGUAGE_CODES:
            self.fields[f"description_{code}"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                label=_("What reviewers should look for"),
            )
        self.base_labels = {"title": _("Criterion"), "description": _("What reviewers look for")}
        self.label_languages(list(self.fields))
        # The field order the page shows: the English title, the weight, then the rest.
        self.order_fields(["id", "title_en", "weight"])

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if weight <= 0:
            raise forms.ValidationError(_("A weight must be more than 0."))
        return weight


class QuestionForm(TranslatedRowsMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=SurveyQuestion.Kind.choices,
        initial=SurveyQuestion.Kind.SHORT_TEXT,
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code in LANGUAGE_CODES:
            self.fields[f"text_{code}"] = forms.CharField(
                max_length=300, required=code == "en", label=_("Question")
            )
        for code in LANGUAGE_CODES:
            self.fields[f"help_text_{code}"] = forms.CharField(
                max_length=300, required=False, label=_("Help text")
            )
        for code in LANGUAGE_CODES:
            self.fields[f"choices_{code}"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                label=_("Choices"),
                help_text=_("One choice per line, in the same order in every language."),
            )
        self.base_labels = {
            "text": _("Question"),
            "help_text": _("Help text"),
            "choices": _("Choices"),
        }
        self.label_languages(list(self.fields))
        self.order_fields(["id", "text_en", "kind", "required"])

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        english = _lines(cleaned.get("choices_en"))
        if kind in CHOICE_KINDS and len(english) < 2:
            self.add_error("choices_en", _("A choice question needs at least two choices."))
        for code in LANGUAGE_CODES[1:]:
            lines = _lines(cleaned.get(f"choices_{code}"))
            if kind in CHOICE_KINDS and lines and len(lines) != len(english):
                self.add_error(
                    f"choices_{code}",
                    _("List as many choices as in English (%(count)d), in the same order.")
                    % {"count": len(english)},
                )
        return cleaned


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class RowsFormSet(forms.BaseFormSet):
    """Rows in the order of their position numbers, with those marked to remove left out."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["position"] = forms.IntegerField(
            label=gettext_lazy("Order"), required=False, min_value=0, widget=forms.NumberInput
        )
        form.fields["DELETE"].label = gettext_lazy("Remove")

    def kept_rows(self, names):
        rows = []
        for index, form in enumerate(self.forms):
            if not form.has_changed() and index >= self.initial_form_count():
                continue
            if self._should_delete_form(form):
                continue
            position = form.cleaned_data.get("position")
            row = {"id": form.cleaned_data.get("id"), **{n: form.cleaned_data[n] for n in names}}
            rows.append(((position if position is not None else index + 1, index), row))
        return [row for _key, row in sorted(rows, key=lambda item: item[0])]


class CriterionFormSet(RowsFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for index, form in enumerate(self.forms)
            if (form.has_changed() or index < self.initial_form_count())
            and not self._should_delete_form(form)
        ]
        if not kept:
            raise forms.ValidationError(_("A call needs at least one rubric criterion."))


CriteriaFormSet = forms.formset_factory(
    CriterionForm, formset=CriterionFormSet, extra=1, can_delete=True
)
QuestionsFormSet = forms.formset_factory(
    QuestionForm, formset=RowsFormSet, extra=1, can_delete=True
)


class CallSetup:
    """The page's three parts together: the call, its criteria and its questions."""

    def __init__(self, forms_by_part):
        self.form, self.criteria, self.questions = forms_by_part

    @classmethod
    def from_post(cls, data, *, creator):
        return cls(
            (
                CallForm(data, creator=creator),
                CriteriaFormSet(data, prefix="criteria"),
                QuestionsFormSet(data, prefix="questions"),
            )
        )

    @classmethod
    def from_draft(cls, draft, *, creator, emails, extra_criteria=1, extra_questions=1):
        """Unbound forms showing ``draft``; ``emails`` maps user ids to addresses."""
        zone = ZoneInfo(draft.fields.get("time_zone") or settings.TIME_ZONE)
        initial = dict(draft.fields)
        for name in ("opens_at", "closes_at"):
            if initial.get(name) is not None:
                initial[name] = timezone.localtime(initial[name], zone).replace(tzinfo=None)
        initial["reminder_days"] = ", ".join(str(day) for day in initial.get("reminder_days", []))
        initial["themes"] = list(draft.themes)
        initial["lead_emails"] = "\n".join(emails[pk] for pk in draft.leads if pk in emails)
        initial["escalation_emails"] = "\n".join(
            emails[pk] for pk in draft.selection_escalation_people if pk in emails
        )
        return cls._unbound(
            initial,
            [{**row, "position": index + 1} for index, row in enumerate(draft.criteria)],
            [{**row, "position": index + 1} for index, row in enumerate(draft.questions)],
            creator=creator,
            extra_criteria=extra_criteria,
            extra_questions=extra_questions,
        )

    @classmethod
    def _unbound(cls, initial, criteria, questions, *, creator, extra_criteria, extra_questions):
        criteria_set = forms.formset_factory(
            CriterionForm, formset=CriterionFormSet, extra=extra_criteria, can_delete=True
        )
        questions_set = forms.formset_factory(
            QuestionForm, formset=RowsFormSet, extra=extra_questions, can_delete=True
        )
        return cls(
            (
                CallForm(initial=initial, creator=creator),
                criteria_set(initial=criteria, prefix="criteria"),
                questions_set(initial=questions, prefix="questions"),
            )
        )

    def with_more_rows(self, *, criteria=0, questions=0):
        """The same page as typed, unchecked, with more empty rows (the "add" buttons)."""

        def as_typed(form):
            return {name: form[name].value() for name in form.fields}

        def rows(formset):
            return [
                as_typed(form)
                for index, form in enumerate(formset.forms)
                if index < formset.initial_form_count() or form.has_changed()
            ]

        def blanks(formset):
            return sum(
                1
                for index, form in enumerate(formset.forms)
                if index >= formset.initial_form_count() and not form.has_changed()
            )

        return self._unbound(
            as_typed(self.form),
            rows(self.criteria),
            rows(self.questions),
            creator=self.form.creator,
            extra_criteria=blanks(self.criteria) + criteria,
            extra_questions=blanks(self.questions) + questions,
        )

    def is_valid(self):
        # Every part checked, so that each shows its errors at once.
        return all([self.form.is_valid(), self.criteria.is_valid(), self.questions.is_valid()])

    def as_draft(self):
        cleaned = self.form.cleaned_data
        return CallDraft(
            fields=self.form.call_fields(),
            themes=[theme.pk for theme in cleaned["themes"]],
            leads=cleaned["leads"],
            selection_escalation_people=cleaned["selection_escalation_people"],
            criteria=self.criteria.kept_rows(criterion_field_names()),
            questions=self.questions.kept_rows(question_field_names()),
        )
