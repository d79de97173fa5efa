from django import forms
from django.utils.translation import gettext_lazy as _

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
