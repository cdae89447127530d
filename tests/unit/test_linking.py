"""The linker: issue type first, then closeness in meaning; an incident learns from its linked complaints."""

from __future__ import annotations

from service.incidents.linking import Linker, backfill


def test_links_only_within_the_incidents_issue_types_and_above_the_threshold() -> None:
    linker = Linker(threshold=0.6)
    linker.open("i1", ["service_outage"], [(1.0, 0.0, 0.0)])
    assert linker.link("service_outage", (0.9, 0.1, 0.0))[0] == "i1"  # type: ignore[index]
    assert linker.link("delivery_delay", (1.0, 0.0, 0.0)) is None  # close, but another kind of complaint
    assert linker.link("service_outage", (0.0, 1.0, 0.0)) is None  # the right type, about something else
    assert linker.link("service_outage", []) is None


def test_linked_complaints_become_references_and_closed_incidents_link_nothing() -> None:
    linker = Linker(threshold=0.8)
    linker.open("i1", ["service_outage"], [(1.0, 0.0, 0.0)])
    drift = (0.85, 0.53, 0.0)  # close to the reference
    further = (0.5, 0.87, 0.0)  # far from the reference, close to the drifted complaint
    assert linker.link("service_outage", further) is None
    assert linker.link("service_outage", drift)[0] == "i1"  # type: ignore[index]
    assert linker.link("service_outage", further)[0] == "i1"  # type: ignore[index]
    linker.close("i1")
    assert linker.link("service_outage", (1.0, 0.0, 0.0)) is None


def test_the_best_incident_wins_and_backfill_links_only_its_own() -> None:
    linker = Linker(threshold=0.5)
    linker.open("outage", ["service_outage"], [(1.0, 0.0)])
    linker.open("rumour", ["service_outage", "misinformation"], [(0.0, 1.0)])
    assert linker.best("service_outage", (0.2, 0.9))[0] == "rumour"  # type: ignore[index]
    earlier = [("a", "service_outage", (1.0, 0.05)), ("b", "service_outage", (0.1, 1.0)), ("c", "billing_error", (1.0, 0.0))]
    assert [i for i, _ in backfill(linker, "outage", earlier)] == ["a"]


def test_a_near_copy_is_linked_whatever_its_issue_type_when_allowed() -> None:
    strict, loose = Linker(threshold=0.6), Linker(threshold=0.6, any_type_threshold=0.9)
    for linker in (strict, loose):
        linker.open("i1", ["service_outage"], [(1.0, 0.0)])
    near_copy, related = (0.99, 0.1), (0.8, 0.6)
    assert strict.best("billing_error", near_copy) is None  # another type: never, by default
    assert loose.best("billing_error", near_copy)[0] == "i1"  # type: ignore[index]
    assert loose.best("billing_error", related) is None  # close enough for its own type only
    assert loose.best("service_outage", related)[0] == "i1"  # type: ignore[index]
