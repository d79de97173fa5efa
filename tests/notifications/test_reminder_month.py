"""A month of reminder sweeps every 15 minutes, against the rules docs/architecture.md states.

Thirteen open tasks of every kind (pool tasks nobody holds and tasks someone holds),
created across ten days; the clocks go forward in the call's time zone on 30 March; a
screening is done midway, and a review the morning after its reminder was held for a
daily digest. The real ``reminders_send`` and ``digests_send`` run with ``now`` moved on;
what they write is compared with a schedule this file works out from the documented
rules alone:

- a task created on day D with N days is due at the end of day D + N in the call's zone;
- "k days before" comes at the end of day (due day - k), unless that is before the task
  was created; "overdue" at the due moment; the escalation at the end of day (due day +
  grace); each once, at the first sweep at or after its moment, while the task is open;
- reminders go to the holder, or the pool of a task nobody holds; escalations to the
  leads (screening, finding reviewers), the coordinators (review, the nominator's
  changes) or the people the call names (selection), naming the holder or the pool;
- one message per person and sweep; digests at 07:00 leave out reminders whose tasks
  were all done since;
- each message in its recipient's language: the one chosen, else the one last signed in
  with, else English.
"""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Message, Preference, ReminderLog
from workflow.deadlines import OPEN_TASK_STATUSES, task_deadline_set
from workflow.flows import NominationFlow
from workflow.reminders import digests_send, reminders_send
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
)

from ..factories import NominationFactory, UserFactory
from ..workflow.helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ZONE = ZoneInfo("Europe/Stockholm")  # clocks forward on 30 March 2025, 02:00 -> 03:00
START = datetime(2025, 3, 20, tzinfo=ZONE)
END = datetime(2025, 4, 19, tzinfo=ZONE)
SWEEP = timedelta(minutes=15)
REMINDER_DAYS = [7, 2, 1]
GRACE_DAYS = 2
DAYS = {"screen": 6, "revise": 10, "find_reviewers": 6, "find_replacement": 6}
DAYS |= {"review": 12, "select": 9}

COORDINATORS = frozenset({"coordinator-se", "coordinator-se-2"})
LEADS = frozenset({"lead", "lead-2"})
#: The documented table: pool of a task nobody holds, and who gets its escalation.
POOL = {"screen": COORDINATORS, "find_reviewers": COORDINATORS}
POOL |= {"find_replacement": COORDINATORS, "select": LEADS}
ESCALATED_TO = {"screen": LEADS, "find_reviewers": LEADS, "find_replacement": LEADS}
ESCALATED_TO |= {"revise": COORDINATORS, "review": COORDINATORS}
ESCALATED_TO |= {"select": frozenset({"selection-chair"})}
#: (chosen, last signed in with) -> the language of their emails.
LANGUAGES = {
    "coordinator-se": ("sv", "es"),
    "coordinator-se-2": ("", "lv"),
    "lead-2": ("fr", "sv"),
    "selection-chair": ("", "es"),
}


def local(year_month_day, hour, minute=0):
    year, month, day = year_month_day
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


def end_of_day(day):
    """The last microsecond of ``day`` in the call's zone (counted through UTC)."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZONE)
    return next_midnight.astimezone(UTC) - timedelta(microseconds=1)


def first_sweep_at_or_after(moment):
    offset = (moment - START.astimezone(UTC)) % SWEEP
    return moment if not offset else moment + (SWEEP - offset)


def expected_points(created, node):
    """{point: moment} for a task created at ``created``, from the documented rules."""
    due_day = created.astimezone(ZONE).date() + timedelta(days=DAYS[node])
    due = end_of_day(due_day)
    points = {
        f"before:{k}": end_of_day(due_day - timedelta(days=k))
        for k in REMINDER_DAYS
        if end_of_day(due_day - timedelta(days=k)) >= created
    }
    points["overdue"] = due
    points["escalation"] = end_of_day(due_day + timedelta(days=GRACE_DAYS))
    return due, points


@pytest.fixture
def month(call, countries, theme, coordinator, lead, reviewers, nominator):
    call.time_zone = "Europe/Stockholm"
    call.reminder_days = REMINDER_DAYS
    call.escalation_grace_days = GRACE_DAYS
    call.screening_days, call.revision_days = DAYS["screen"], DAYS["revise"]
    call.review_days, call.selection_days = DAYS["review"], DAYS["select"]
    call.save()
    people = {"coordinator-se": coordinator, "lead": lead, "nominator": nominator}
    people["coordinator-se-2"] = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(people["coordinator-se-2"])
    people["lead-2"] = UserFactory(username="lead-2")
    call.leads.add(people["lead-2"])
    people["selection-chair"] = UserFactory(username="selection-chair")
    call.selection_escalation_people.add(people["selection-chair"])
    UserFactory(username="admin", is_superuser=True, is_staff=True)  # named people win
    people |= {reviewer.username: reviewer for reviewer in reviewers}

    def nomination():
        return NominationFactory(
            call=call, nominator=nominator, country=countries["SE"], themes=[theme]
        )

    def submit(draft):
        nomination_submit(nomination=draft, by=nominator)
        return open_task(draft, NominationFlow.screen)

    def accept(draft):
        nomination_screen(
            task_id=submit(draft).pk, by=coordinator, decision=ScreeningDecision.ACCEPT
        )

    def per_nomination(count):
        call.reviewers_per_nomination = count
        call.save(update_fields=["reviewers_per_nomination"])

    tasks = {}  # label -> (task, node, created, holder or None)
    drafts = {label: nomination() for label in ["n1", "n2", "n3", "n4", "n5", "n6", "n7"]}
    drafts |= {label: nomination() for label in ["n8", "n9", "n10", "n11"]}
    tasks["screen-1"] = (submit(drafts["n1"]), "screen", local((2025, 3, 20), 10), None)
    # Just after midnight, the night before the clocks change: still the 28th in UTC.
    tasks["screen-2"] = (submit(drafts["n2"]), "screen", local((2025, 3, 29), 0, 30), None)
    # After the clocks changed.
    tasks["screen-4"] = (submit(drafts["n11"]), "screen", local((2025, 4, 1), 9), None)
    tasks["screen-3"] = (
        submit(drafts["n3"]),
        "screen",
        local((2025, 3, 22), 15),
        "coordinator-se-2",
    )
    nomination_screen(
        task_id=submit(drafts["n4"]).pk,
        by=coordinator,
        decision=ScreeningDecision.REQUEST_CHANGES,
        message="Please add the results of 2024.",
    )
    tasks["revise"] = (
        open_task(drafts["n4"], NominationFlow.revise),
        "revise",
        local((2025, 3, 25), 9),
        "nominator",
    )
    call.assign_in_bulk = True
    call.save(update_fields=["assign_in_bulk"])
    accept(drafts["n5"])
    accept(drafts["n6"])
    call.assign_in_bulk = False
    call.save(update_fields=["assign_in_bulk"])
    tasks["find-reviewers-1"] = (
        open_task(drafts["n5"], NominationFlow.find_reviewers),
        "find_reviewers",
        local((2025, 3, 27), 23, 45),
        None,
    )
    tasks["find-reviewers-2"] = (
        open_task(drafts["n6"], NominationFlow.find_reviewers),
        "find_reviewers",
        local((2025, 3, 30), 1, 30),
        "coordinator-se",
    )
    per_nomination(3)
    accept(drafts["n7"])
    declined, *kept = open_tasks(drafts["n7"], NominationFlow.review)
    review_decline(task_id=declined.pk, by=declined.owner, reason="A conflict of interest.")
    tasks["find-replacement"] = (
        open_task(drafts["n7"], NominationFlow.find_replacement),
        "find_replacement",
        local((2025, 3, 28), 11),
        None,
    )
    for number, task in enumerate(kept, start=1):
        tasks[f"review-{number}"] = (task, "review", local((2025, 3, 26), 8), task.owner.username)
    per_nomination(1)
    accept(drafts["n8"])
    review = open_task(drafts["n8"], NominationFlow.review)
    tasks["review-3"] = (review, "review", local((2025, 3, 24), 14), review.owner.username)
    for label, draft, created, holder in [
        ("select-1", drafts["n9"], local((2025, 3, 30), 12), None),
        ("select-2", drafts["n10"], local((2025, 4, 2), 9), "lead-2"),
    ]:
        accept(draft)
        task = open_task(draft, NominationFlow.review)
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(call), comment="Good.")
        tasks[label] = (open_task(draft, NominationFlow.select), "select", created, holder)
    assert len(tasks) == 13
    assert Task.objects.filter(flow_task_type="HUMAN", status__in=OPEN_TASK_STATUSES).count() == 13

    # Each task as if created at its moment of the month; the deadline as the flow sets it.
    for label, (task, node, created, holder) in tasks.items():
        changes = {"created": created}
        if holder in ("coordinator-se-2", "coordinator-se", "lead-2"):  # took a pool task
            changes |= {"owner": people[holder], "status": STATUS.ASSIGNED}
        Task.objects.filter(pk=task.pk).update(**changes)
        task.refresh_from_db()
        task_deadline_set(task=task, call=call, days=DAYS[node])
        tasks[label] = (task, node, created, holder)

    # The reviewer of n8 reads Latvian and takes reminders in one daily digest.
    digest_reader = review.owner.username
    LANGUAGES[digest_reader] = ("lv", "")
    for name, (chosen, signed_in) in LANGUAGES.items():
        Preference.objects.update_or_create(
            user=people[name], defaults={"language": chosen, "signed_in_language": signed_in}
        )
    # So does a coordinator, whose digests list the pool's reminders.
    Preference.objects.filter(user__in=[people[digest_reader], people["coordinator-se-2"]]).update(
        delivery=Preference.Delivery.DAILY
    )
    completions = {
        # n1's screening is done the day it is due, after two reminders.
        local((2025, 3, 26), 12): lambda: nomination_screen(
            task_id=tasks["screen-1"][0].pk, by=coordinator, decision=ScreeningDecision.ACCEPT
        ),
        # n8's review, the morning after its "7 days before" was held for the digest.
        local((2025, 3, 30), 3): lambda: review_submit(
            task_id=review.pk, by=review.owner, scores=full_scores(call), comment="Fine."
        ),
    }
    return {
        "tasks": tasks,
        "people": people,
        "completions": completions,
        "digest": {digest_reader, "coordinator-se-2"},
    }


def expected_schedule(tasks, completions):
    """From the rules alone: {sweep: {(kind, person): {task ids}}} and the points' sweeps."""
    done_at = {
        tasks["screen-1"][0].pk: local((2025, 3, 26), 12),
        tasks["review-3"][0].pk: local((2025, 3, 30), 3),
    }
    assert set(done_at.values()) == set(completions)
    messages = defaultdict(lambda: defaultdict(set))
    logged = {}
    for task, node, created, holder in tasks.values():
        holders = frozenset({holder}) if holder else POOL[node]
        due, points = expected_points(created, node)
        assert task.scheduled == due, f"{node} created {created}: due {task.scheduled}, not {due}"
        for point, moment in points.items():
            sweep = first_sweep_at_or_after(moment)
            if sweep >= END or (task.pk in done_at and done_at[task.pk] <= sweep):
                continue
            logged[(task.pk, point)] = sweep
            kind = "escalation" if point == "escalation" else "reminder"
            for person in ESCALATED_TO[node] if kind == "escalation" else holders:
                messages[sweep][(kind, person)].add(task.pk)
    return messages, logged, done_at


def task_ids(message):
    return {int(item["path"].strip("/").split("/")[1]) for item in message.context["tasks"]}


def test_a_month_of_sweeps_follows_the_documented_rules(month):
    tasks, people, completions = month["tasks"], month["people"], month["completions"]
    expected, expected_logged, done_at = expected_schedule(tasks, completions)
    names = {user.pk: name for name, user in people.items()}
    holders_of = {
        task.pk: {holder} if holder else set(POOL[node])
        for task, node, _created, holder in tasks.values()
    }

    sent, logged, digests = defaultdict(dict), {}, []
    held = defaultdict(list)  # person -> [(sweep, task ids)] of reminders held for a digest
    expected_digests = []
    last_message = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_log = ReminderLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    now = START.astimezone(UTC)
    while now < END:
        for moment in [m for m in completions if m.astimezone(UTC) <= now]:
            completions.pop(moment)()
        reminders_send(now=now)
        if now.astimezone(ZONE).time() == time(7):
            for person, reminders in sorted(held.items()):
                still_open = {t for _at, ids in reminders for t in ids if done_at.get(t, END) > now}
                items = sum(1 for _at, ids in reminders if ids & still_open)
                if items:
                    expected_digests.append((now, person, items))
            held.clear()
            digests_send(now=now)
        for message in Message.objects.filter(pk__gt=last_message).order_by("pk"):
            name = names[message.recipient_id]
            chosen, signed_in = LANGUAGES.get(name, ("", ""))
            assert message.language == (chosen or signed_in or "en"), (name, message.kind)
            if message.kind == Message.Kind.DIGEST:
                digests.append((now, name, len(message.context["items"])))
            if message.kind not in (Message.Kind.REMINDER, Message.Kind.ESCALATION):
                continue  # a task assigned or a receipt, from the completions
            sent[now][(message.kind, name)] = task_ids(message)
            if message.kind == Message.Kind.ESCALATION:
                for item in message.context["tasks"]:
                    task_id = int(item["path"].strip("/").split("/")[1])
                    named = set()
                    named |= {
                        name
                        for name, u in people.items()
                        for holder in item["holders"]
                        if holder.endswith(f"<{u.email}>")
                    }
                    assert named == holders_of[task_id]
            if message.kind == Message.Kind.REMINDER and name in month["digest"]:
                assert message.status == Message.Status.HELD_FOR_DIGEST
                held[name].append((now, task_ids(message)))
        last_message = Message.objects.order_by("-pk").values_list("pk", flat=True).first()
        for log in ReminderLog.objects.filter(pk__gt=last_log):
            logged[(log.task_id, log.point)] = now
            last_log = log.pk
        now += SWEEP

    assert logged == expected_logged
    assert {sweep: dict(by) for sweep, by in sent.items()} == {
        sweep: dict(by) for sweep, by in expected.items()
    }
    assert sorted(digests) == sorted(expected_digests)
    assert len(digests) >= 3
    # The digest left out the review done after its reminder was held.
    review = tasks["review-3"][0]
    outdated = Message.objects.filter(status=Message.Status.OUTDATED)
    assert [task_ids(message) for message in outdated] == [{review.pk}]
    # Tasks shorter than a week were never reminded a week ahead; a 12-day review was.
    short = {task.pk for task, node, _c, _h in tasks.values() if DAYS[node] < 7}
    assert [key for key in logged if key[0] in short and key[1] == "before:7"] == []
    assert (review.pk, "before:7") in logged
