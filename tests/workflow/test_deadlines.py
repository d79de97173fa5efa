"""Deadlines are whole calendar days in the call's time zone, due at the end of the last day."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from workflow.deadlines import calendar_shift, deadline_for
from workflow.flows import NominationFlow
from workflow.services import nomination_submit

from .helpers import open_task

pytestmark = [pytest.mark.integration]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
END_OF_DAY = (23, 59, 59, 999999)


def local(moment, zone=STOCKHOLM):
    return moment.astimezone(zone)


def test_a_task_created_on_a_day_is_due_at_the_end_of_that_day_plus_its_days():
    created = datetime(2025, 3, 10, 9, 15, tzinfo=STOCKHOLM)

    due = deadline_for(created=created, days=14, time_zone="Europe/Stockholm")

    assert due == datetime(2025, 3, 24, *END_OF_DAY, tzinfo=STOCKHOLM)


def test_across_the_spring_change_the_due_day_and_hour_do_not_move():
    # Clocks go forward on 30 March 2025 at 02:00: that week is 167 hours long.
    created = datetime(2025, 3, 27, 16, 0, tzinfo=STOCKHOLM)

    due = deadline_for(created=created, days=7, time_zone="Europe/Stockholm")

    assert local(due).timetuple()[:6] == (2025, 4, 3, 23, 59, 59)
    assert due.astimezone(UTC) == datetime(2025, 4, 3, 21, 59, 59, 999999, tzinfo=UTC)
    # Seven 24-hour periods back from it would end at 22:59:59 local, an hour early.
    assert local(due.astimezone(UTC) - timedelta(days=7)).hour == 22


def test_across_the_autumn_change_the_due_day_and_hour_do_not_move():
    # Clocks go back on 26 October 2025 at 03:00: that week is 169 hours long.
    created = datetime(2025, 10, 24, 8, 0, tzinfo=STOCKHOLM)

    due = deadline_for(created=created, days=3, time_zone="Europe/Stockholm")

    assert due.astimezone(UTC) == datetime(2025, 10, 27, 22, 59, 59, 999999, tzinfo=UTC)
    assert local(due).timetuple()[:6] == (2025, 10, 27, 23, 59, 59)


def test_a_task_created_just_after_midnight_counts_from_that_day_in_the_calls_zone():
    # 00:30 in Stockholm is still the day before in UTC.
    created = datetime(2025, 3, 29, 0, 30, tzinfo=STOCKHOLM)
    assert created.astimezone(UTC).day == 28

    due = deadline_for(created=created, days=1, time_zone="Europe/Stockholm")

    assert local(due).date().isoformat() == "2025-03-30"
    # The same moment in Riga is already 01:30 on the 29th; in New York the 28th.
    assert (
        local(
            deadline_for(created=created, days=1, time_zone="Europe/Riga"), ZoneInfo("Europe/Riga")
        )
        .date()
        .isoformat()
        == "2025-03-30"
    )
    new_york = ZoneInfo("America/New_York")
    assert (
        local(deadline_for(created=created, days=1, time_zone="America/New_York"), new_york)
        .date()
        .isoformat()
        == "2025-03-29"
    )


def test_a_reminder_seven_days_before_a_deadline_is_the_end_of_the_day_a_week_earlier():
    due = datetime(2025, 4, 3, *END_OF_DAY, tzinfo=STOCKHOLM)

    before = calendar_shift(due, days=-7, time_zone="Europe/Stockholm")

    assert before == datetime(2025, 3, 27, *END_OF_DAY, tzinfo=STOCKHOLM)
    assert due.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=167)


@pytest.mark.django_db
def test_a_submitted_nomination_is_due_at_the_end_of_its_last_screening_day_in_the_calls_zone(
    draft, call, coordinator
):
    call.time_zone = "Europe/Riga"
    call.screening_days = 10
    call.save(update_fields=["time_zone", "screening_days"])

    nomination_submit(nomination=draft, by=draft.nominator)

    task = open_task(draft, NominationFlow.screen)
    riga = ZoneInfo("Europe/Riga")
    assert local(task.scheduled, riga).date() == local(task.created, riga).date() + timedelta(
        days=10
    )
    assert local(task.scheduled, riga).time().isoformat() == "23:59:59.999999"


@pytest.mark.django_db
def test_a_call_refuses_a_time_zone_that_does_not_exist(call):
    call.time_zone = "Europe/Atlantis"

    with pytest.raises(ValidationError) as refused:
        call.full_clean()

    assert refused.value.message_dict["time_zone"] == [
        "Europe/Atlantis is not a time zone we know, e.g. Europe/Stockholm."
    ]
