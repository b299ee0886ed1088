"""Each example from issue "Rehearse that sounds like the person and listens", played through one
`steady chat --jsonl` process as a person would type it (tests/test_rehearse.py tests the parts)."""

from __future__ import annotations

import re

import pytest

from app.prompts import texts

WORDS = texts("rehearse")
FREE_CASE = ["/rehearse", "around 60 hrs i guess", "particularly in mostly the feature store migration tbh",
             "recall dropped like 4 points on the fraud model", "Im sleeping badly and i dread mondays",
             "not sleeping great",  # asked which task could wait: a health remark is no task
             "honestly the label audits could wait until march", "delegating on-call triage",
             "Priya, I just said", "60",  # hours freed: as many as worked
             "would free up approximately 8 hours per week", WORDS["skip_choice"]]
SKEPTIC = ["/rehearse", WORDS["skip_rest_choice"], "Practise with a skeptical manager"]
RAMBLING = "this is kind of half-baked… like… I am not sure, what do you think?"
FILLERS = re.compile(r"(?i:\b(tbh|i guess|mostly the|honestly|i just said|hrs)\b)"
                     r"|\bIm\b|until march|particularly in particularly")  # raw words, and a lowercase month


@pytest.fixture(scope="module")
def played(chat):
    conversations = {
        "free": FREE_CASE,
        "edit": [*FREE_CASE, "/case\nTask that could wait: honestly the dashboard rebuild tbh\n"
                 "Hours a week it would free: 70\nWho could take it: marco\nWhere the time goes:", "/case"],
        "email": [*FREE_CASE, "Practise with a busy manager", WORDS["end_choice"]],
        "lines": [*SKEPTIC, "I've been really stretched lately", RAMBLING,
                  "The cost of not retraining is more fraud getting through",
                  "nobody on this team cares that I am drowning", WORDS["end_choice"]],
        "harder": [*SKEPTIC[:2], "Practise with a supportive manager", WORDS["end_choice"], WORDS["again_choice"],
                   WORDS["end_choice"], WORDS["again_choice"], WORDS["end_choice"]],
        "script_line": [*SKEPTIC[:2], "Practise with a busy manager", WORDS["say_script_choice"]],
    }
    return dict(zip(conversations, chat(*conversations.values()), strict=True))


def _coach_and_manager(reply: dict) -> tuple[str, str]:
    coach, _, manager = reply["text"].partition("---")
    return coach, manager


def test_free_words_become_a_clean_script_with_checks_and_corrections(played) -> None:
    replies = played["free"]
    assert replies[4]["state"].get("health_nudge")  # "sleeping badly" is a symptom, said in the case too
    assert "task" in replies[5]["text"].lower() and replies[5]["state"]["case"]["defer"] is None  # health: asked again
    assert replies[9]["state"]["case"]["freed"] is None  # 60 freed of 60 worked: not taken
    case = replies[-1]["state"]["case"]
    assert case == {**case, "hours": "60", "area": "the feature store migration", "defer": "the label audits",
                    "defer_until": "March", "delegate": "on-call triage", "delegate_to": "Priya", "freed": "8"}
    script = replies[-1]["state"]["script"]
    assert not FILLERS.search(script), FILLERS.search(script)
    assert script.count("free up approximately 8 hours per week") == 1  # the guide's phrase, said once
    for fact in ("60 hours", "the feature store migration", "the label audits", "March", "Priya", "8 hours", "Mondays"):
        assert fact in script, fact
    assert "# My script" not in replies[-1]["text"] and "Script" in replies[-1]["text"]  # a pointer, not the script


def test_the_case_can_be_changed_part_by_part_with_the_same_checks(played) -> None:
    edited, shown = played["edit"][-2:]
    case = edited["state"]["case"]
    assert case["defer"] == "the dashboard rebuild" and case["delegate_to"] == "Marco" and case["area"] is None
    assert case["freed"] == "8" and "as much as you work (60 hours a week)" in edited["text"]  # 70 of 60: kept
    script = edited["state"]["script"]
    assert "the dashboard rebuild" in script and "Marco" in script and "the label audits" not in script
    assert WORDS["neutral"]["area"] in script and "tbh" not in script and "honestly" not in script
    assert edited["choices"] == played["edit"][-3]["choices"]  # the rehearsal goes on where it was
    assert "- Task that could wait: the dashboard rebuild" in shown["text"]


def test_the_email_says_only_what_was_proposed_and_how_it_went(played) -> None:
    email = played["email"][-1]["state"]["email"]
    assert "Defer the label audits until March" in email and "on-call triage to Priya" in email
    assert "review of the data pipeline" not in email and "we agreed" not in email.lower()


def test_feedback_reads_the_line_and_the_skeptic_holds_out(played) -> None:
    _, stretched, rambling, fraud, accusation, _ = played["lines"][2:]
    coach, manager = _coach_and_manager(stretched)
    assert "number" in manager.lower() and stretched["state"]["beat"] == "opening"  # asked back, and waits for it
    assert "read English best" not in coach
    notes = rambling["state"]["feedback"][-1]
    assert notes["scores"]["tone"] <= 1 and "Calm, factual and professional" not in _coach_and_manager(rambling)[0]
    assert "concrete" not in _coach_and_manager(rambling)[1]
    assert fraud["state"]["feedback"][-1]["scores"]["impact"] >= 1
    better = accusation["state"]["feedback"][-1]["better"]
    assert accusation["state"]["feedback"][-1]["scores"]["tone"] == 0 and "nobody" not in better.lower()
    assert not any("I'll agree to try it" in _coach_and_manager(r)[1] for r in (stretched, rambling, fraud, accusation))


def test_feedback_is_compact_with_its_scale(played) -> None:
    coach, _ = _coach_and_manager(played["lines"][3])
    assert "Not needed at this beat" not in coach and "Not needed yet at this beat" in coach
    assert len([line for line in coach.splitlines() if line.startswith("- ")]) == len(WORDS["expected"]["opening"])
    debrief = played["lines"][-1]["text"]  # averages with their scale ("0.8/2"), never a bare "0.8"
    assert re.search(r"\d(\.\d)?/2\b", debrief) and not re.search(r"\b\d\.\d\b(?!/)", debrief)


def test_harder_means_supportive_busy_skeptical_and_then_stops_offering(played) -> None:
    replies = played["harder"]
    debriefs = [replies[i] for i in (3, 5, 7)]
    assert [d["state"]["persona"] for d in debriefs] == ["supportive", "busy", "skeptical"]
    assert WORDS["again_choice"] in debriefs[1]["choices"]
    assert WORDS["again_choice"] not in debriefs[2]["choices"] and WORDS["again_same_choice"] in debriefs[2]["choices"]


def test_the_scripts_own_line_is_kept_not_rewritten(played) -> None:
    reply = played["script_line"][-1]
    notes = reply["state"]["feedback"][-1]
    said = WORDS["keep_label"] if notes["beat_total"] == notes["beat_max"] else WORDS["as_is_label"]
    assert notes["better"] == notes["line"] and said in reply["text"]  # "keep it" only when the scores agree
