from django import forms

from .models import Preference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = Preference
        fields = ["language", "email_non_essential", "delivery"]
        widgets = {"delivery": forms.RadioSelect}
