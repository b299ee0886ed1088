"""What people type, read once (app/reading.py): each example from issue "Understand what people type",
played through `steady chat --jsonl` as a person would type it."""

from __future__ import annotations

import pytest

from app import learned, quantities
from app.reading import read

ROLEPLAY = ["/rehearse", "Skip the rest, show my script", "Practise with a supportive manager"]
TO_RESULT = ["/checkin", "too many hours and constant firefighting", "That's enough, show me where I stand"]
# Every conversation of this module, typed into one `steady chat --jsonl` process (each after /reset).
CONVERSATIONS = {
    "question after result": [*TO_RESULT, "should I quit or transfer?"],
    "restart after result": [*TO_RESULT, "can we start over"],
    "rehearse after result": [*TO_RESULT, "let's rehearse the conversation with my manager"],
    "short staffed": ["/checkin", "im doing like 60 hours because we are two people down"],
    "firefighting": ["/checkin", "60+ hour weeks, constant firefighting, on call every other week"],
    "unsure": ["/checkin", "too many hours, not enough time", "Often", "not sure… another team might be calmer",
               "honestly no idea"],
    "no with reasons": ["/checkin", "my team lead shames everyone about GPU spend", "Often",
                        "No, it's this team. Our lead posts everyone's spend in the channel every morning; "
                        "other teams don't do that, so moving would fix it."],
    "ethics": ["/checkin", "our face-matching system is far less accurate for people with darker skin and "
               "I'm the one who has to sign off on the launch next week", "That's enough, show me where I stand"],
    "another manager": [*ROLEPLAY, "actually can I practise with the skeptical manager instead"],
    "question mid check-in": ["/checkin", "too many hours, not enough time",
                              "sorry, quick question first: should I quit or transfer to another team?"],
}


@pytest.fixture(scope="module")
def played(chat) -> dict[str, list[dict]]:
    return dict(zip(CONVERSATIONS, chat(*CONVERSATIONS.values()), strict=True))


def test_after_a_result_typed_words_are_understood(played):
    question, restart, rehearse = (played[f"{name} after result"] for name in ("question", "restart", "rehearse"))
    assert question[-2]["state"]["done"] is True
    assert question[-1]["mode"] == "ask" and question[-1]["citations"]  # answered, not the result again
    assert question[-1]["text"] != question[-2]["text"]
    assert restart[-1]["mode"] == "checkin" and restart[-1]["state"]["done"] is False
    assert rehearse[-1]["mode"] == "rehearse"


def test_staffing_and_hours_are_workload_and_what_was_said_is_not_asked_again(played):
    short_staffed, firefighting = played["short staffed"][-1], played["firefighting"][-1]
    scores = short_staffed["state"]["pressures"]
    assert max(scores, key=scores.get) == "workload"
    assert "long hours or firefighting" not in firefighting["text"]  # it heard that already


def test_unsure_is_asked_once_more_then_stays_not_clear(played):
    turns = played["unsure"]
    again = turns[3]
    assert again["state"]["verdict"] is None and "another way" in again["text"]
    assert turns[4]["state"]["verdict"] != "structural"


def test_a_no_in_words_with_reasons_is_a_no(played):
    assert played["no with reasons"][-1]["state"]["verdict"] == "situational"


def test_four_or_five_months_is_a_duration_under_two_quarters():
    got = quantities.duration("4 or 5 months")
    assert got.months == 4.5 and not got.long
    assert quantities.duration("since the reorg in january").long


def test_a_clear_ethics_case_finds_the_ethics_weight(played):
    assert "ethics_weight" in played["ethics"][-1]["state"]["top"]


def test_asking_for_another_manager_in_a_role_play_is_done_not_scored(played):
    last = played["another manager"][-1]
    assert last["mode"] == "rehearse" and last["state"]["persona"] == "skeptical"
    assert last["state"]["feedback"] == []  # nothing was scored as a line


def test_a_question_mid_check_in_is_answered_and_the_check_in_resumes(played):
    turns = played["question mid check-in"]
    assert turns[-1]["citations"] and "Back to where we were" in turns[-1]["text"]
    assert turns[-1]["choices"] == turns[-2]["choices"]  # the check-in's question is still open


def test_the_trained_decisions_match_their_data():
    """Every artefact in app/trained was built from the labelled files as they are now (`steady train`)."""
    from app import crisis_encoder

    for name in learned.SPECS:
        meta = crisis_encoder.meta() if name == "crisis" else learned.model(name).meta
        assert meta["data_hash"] == learned.data_hash(learned.SPECS[name]), name


def test_a_reading_is_computed_once(engine):
    reading = read("we are two people down and i'm on call every other week", context="checkin_question",
                   embedder=engine.retriever.index.embedder)
    assert reading.pressures is reading.pressures and reading.intent == "answer"
