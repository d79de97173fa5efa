"""What every task page shares: its context and how it runs a step."""

from django.utils import timezone

from nominations.selectors import survey_answer_rows
from nominations.services import NominationError

from ..services import TaskUnavailable


def task_context(task, nomination, **extra):
    return {
        "task": task,
        "nomination": nomination,
        "answers": survey_answer_rows(nomination=nomination),
        "themes": nomination.themes.all(),
        "attachments": nomination.attachments.all(),
        "now": timezone.now(),
        **extra,
    }


def run_or_keep_form(form, action):
    """Run a flow action; on refusal keep the form as typed and say why. True if done."""
    try:
        action()
    except (TaskUnavailable, NominationError) as error:
        form.add_error(None, str(error))
        return False
    return True


def posted_version(data):
    """The proposal version a lead's form was rendered with; 0 (matching none) if absent."""
    try:
        return int(data.get("version", ""))
    except ValueError:
        return 0
