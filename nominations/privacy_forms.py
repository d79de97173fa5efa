from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ErasureConfirmForm(forms.Form):
    """The person proves it is them, and that they mean it: their password, or their address.

    The password where the account has one; an account without a usable password (made
    by an administrator, never set) confirms with its email address instead.
    """

    confirmation = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            self.fields["confirmation"] = forms.CharField(
                label=gettext_lazy("Your email address"),
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            )

    def clean_confirmation(self):
        value = self.cleaned_data["confirmation"]
        if self.user.has_usable_password():
            if not self.user.check_password(value):
                raise forms.ValidationError(_("That is not your password."))
        elif value.strip().casefold() != self.user.email.casefold():
            raise forms.ValidationError(_("That is not your email address."))
        return value
