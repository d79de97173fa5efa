"""National screening: the coordinator's decision and the nominator's revision."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ..forms import ScreeningForm
from ..services import nomination_screen
from .frame import run_or_keep_form, task_context


def screening_page(request, task, nomination):
    form = ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_or_keep_form(
            form,
            lambda: nomination_screen(
                task_id=task.pk,
                by=request.user,
                decision=form.cleaned_data["decision"],
                message=form.cleaned_data["message"],
            ),
        )
        if done:
            messages.success(request, _("Screening recorded. Thank you."))
            return redirect("workflow:inbox")
    return render(request, "workflow/task_screen.html", task_context(task, nomination, form=form))


def revise_page(request, task, nomination):
    return redirect("nominations:edit", pk=nomination.pk)
