"""Ratings: what visitors gave their conversations, and the project's count and average."""

from __future__ import annotations

from tests.conftest import Factory


def test_the_project_summary_counts_and_averages_ratings(make: Factory) -> None:
    project = make.project()
    path = f"/{project.id}/ratings"
    owner = project.owner.headers
    assert make.client.get(path, headers=owner).json() == {"count": 0, "average": None}
    for rating in (5, 4, 4):
        visitor = make.visitor(project)
        rid = visitor.new_request_id()
        visitor.send(rid, "help")
        r = make.client.patch(f"/{project.id}/requests/{rid}/rating",
                              json={"rating": rating, "rating_message": "thanks"},
                              headers=visitor.headers)
        assert r.status_code == 200, r.text
    unrated = make.visitor(project)
    unrated.send(unrated.new_request_id(), "no rating")
    # Another project's ratings stay out.
    stranger = make.project()
    theirs = make.visitor(stranger)
    rid = theirs.new_request_id()
    theirs.send(rid, "help")
    make.client.patch(f"/{stranger.id}/requests/{rid}/rating", json={"rating": 0},
                      headers=theirs.headers)

    assert make.client.get(path, headers=owner).json() == {"count": 3, "average": 4.33}
    assert make.client.get(f"/{stranger.id}/ratings", headers=stranger.owner.headers).json() == {
        "count": 1, "average": 0.0,
    }
    assert make.client.get(path, headers=unrated.headers).status_code == 403
    assert make.client.get(path, headers=stranger.owner.headers).status_code == 403


def test_a_rating_shows_on_the_conversation_and_the_contacts_list_of_it(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "help")
    make.client.put(f"/{project.id}/requests/{rid}/close", headers=project.owner.headers)
    make.client.patch(f"/{project.id}/requests/{rid}/rating",
                      json={"rating": 2, "rating_message": "slow answer"}, headers=visitor.headers)
    request = make.client.get(f"/{project.id}/requests/{rid}",
                              headers=project.owner.headers).json()
    assert (request["rating"], request["rating_message"]) == (2, "slow answer")
    lead = request["lead"]["_id"]
    of_contact = make.client.get(f"/{project.id}/requests?lead={lead}",
                                 headers=project.owner.headers).json()["requests"]
    assert [(r["rating"], r["rating_message"]) for r in of_contact] == [(2, "slow answer")]
