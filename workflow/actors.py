"""Who acts on each human step of the flow, who is told, reminded and escalated to.

One table, asked by the inbox and the may-act check (``workflow.selectors``), by the
flow when it tells people about a new task (``NominationFlow.who_must_act``) and by
the reminders and escalations (``workflow.reminders``). docs/architecture.md
states the same table in words.

Parties are named, not resolved, here: each caller turns a party into people with
the data it already has (a queryset in the flow and the inbox, a dict in the sweep).

- ``OWNER``: the person the task is assigned to.
- ``COORDINATORS``: the national coordinators of the nomination's country.
- ``LEADS``: the leads of the nomination's call.
- ``SELECTION_ESCALATION``: the people the call names for overdue selections
  (``Call.selection_escalation_people``), or the site's administrators (superusers)
  when it names nobody.

Rules the table encodes:

- A task that someone holds (it has an owner) is that person's: they are told, reminded
  and named as its holder. A pool task nobody holds yet is its pool's: every member is
  told and reminded, and the escalation names them all. Members of a task's pool may act
  on it whether or not a colleague holds it.
- The nominator's changes are not announced as a task: the screening's "changes
  requested" email tells them.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

OWNER = "owner"
COORDINATORS = "coordinators"
LEADS = "leads"
SELECTION_ESCALATION = "selection_escalation"


@dataclass(frozen=True)
class NodeActors:
    #: Who may take the task while nobody holds it; None for a task always assigned.
    pool: str | None
    #: Whether whoever must act is told when the task is created.
    told_when_created: bool
    #: Who is told once the task is overdue beyond the call's grace period.
    escalated_to: str
    #: The call's field saying how many days the task may take.
    deadline_field: str
    #: Whether the escalation links to the nomination: leads may not open one in screening.
    escalation_links_nomination: bool

    def acting(self, *, owned):
        """The party that acts on the task: its owner if it has one, else its pool."""
        return OWNER if owned or self.pool is None else self.pool

    def may_act(self, *, owned):
        """The parties allowed to act on it (a pool's members may step in for a colleague)."""
        parties = {OWNER} if owned else set()
        if self.pool is not None:
            parties.add(self.pool)
        return parties

    def told(self, *, owned):
        return self.acting(owned=owned) if self.told_when_created else None

    def reminded(self, *, owned):
        return self.acting(owned=owned)

    def holders(self, *, owned):
        """Whom an escalation names as holding the task."""
        return self.acting(owned=owned)


#: Every human node of ``NominationFlow``, by name.
ACTORS = {
    "screen": NodeActors(
        pool=COORDINATORS,
        told_when_created=True,
        escalated_to=LEADS,
        deadline_field="screening_days",
        escalation_links_nomination=False,
    ),
    "revise": NodeActors(
        pool=None,  # assigned to the nominator
        told_when_created=False,
        escalated_to=COORDINATORS,
        deadline_field="revision_days",
        escalation_links_nomination=True,
    ),
    # Finding reviewers is the coordinators' part of screening.
    "find_reviewers": NodeActors(
        pool=COORDINATORS,
        told_when_created=True,
        escalated_to=LEADS,
        deadline_field="screening_days",
        escalation_links_nomination=False,
    ),
    "find_replacement": NodeActors(
        pool=COORDINATORS,
        told_when_created=True,
        escalated_to=LEADS,
        deadline_field="screening_days",
        escalation_links_nomination=False,
    ),
    "review": NodeActors(
        pool=None,  # assigned to the reviewer
        told_when_created=True,
        escalated_to=COORDINATORS,
        deadline_field="review_days",
        escalation_links_nomination=True,
    ),
    "select": NodeActors(
        pool=LEADS,
        told_when_created=True,
        escalated_to=SELECTION_ESCALATION,
        deadline_field="selection_days",
        escalation_links_nomination=True,
    ),
}

#: Nodes whose tasks a pool may take, by pool.
POOLS = {
    party: tuple(name for name, actors in ACTORS.items() if actors.pool == party)
    for party in {actors.pool for actors in ACTORS.values() if actors.pool}
}


def party_members(party, *, nomination, owner=None):
    """The people ``party`` stands for on a task of ``nomination`` held by ``owner``."""
    if party is None:
        return []
    if party == OWNER:
        return [owner] if owner is not None else []
    if party == COORDINATORS:
        return list(nomination.country.coordinators.all()) if nomination.country_id else []
    if party == LEADS:
        return list(nomination.call.leads.all())
    if party == SELECTION_ESCALATION:
        named = list(nomination.call.selection_escalation_people.all())
        return named or list(get_user_model().objects.filter(is_superuser=True))
    raise ValueError(f"Unknown party {party!r}")
