"""Rehearse with the embedded engine: the case fills the script in the right beats, the manager reacts
to what was said, every line gets the same explainable feedback, and the debrief gives the email."""

from __future__ import annotations

import re
from datetime import date

from app import rubric
from app.prompts import texts
from app.reading import read
from app.rehearse import coach_note, follow_up_date

WORDS = texts("rehearse")
CASE = ["62", "feature engineering for the ranking model", "recall@10 dropped three points",
        "My sleep and focus have suffered", "the dashboard migration until March 1", "label QA to the data-ops team",
        "about eight", "Evidently drift reports"]
HOSTILE = "You always dump everything on me and it's unfair"
STRONG = ("I've averaged 62 hours for six weeks and recall@10 dropped three points; deferring the dashboard "
          "migration to March 1 frees about eight hours a week")


def rehearse(engine, *messages):
    session = engine.new_session()
    replies = [engine.send(session, m) for m in ("/rehearse", *messages)]
    return session, replies


def beat(script: str, n: int) -> str:
    return re.split(r"\n## \d\. ", script)[n]


def test_the_case_lands_in_the_right_beats_and_the_email_repeats_the_actions(engine):
    session, replies = rehearse(engine, *CASE)
    reply = replies[-1]
    assert reply.state["stage"] == "script" and "Practise with a skeptical manager" in reply.choices
    script = reply.state["script"]
    assert "62 hours" in beat(script, 1) and "feature engineering for the ranking model" in beat(script, 1)
    assert "recall@10 dropped three points" in beat(script, 2) and "My sleep and focus have suffered." in beat(script, 2)
    proposal = beat(script, 3)
    for item in ("the dashboard migration until March 1", "label QA to the data-ops team", "8 hours",
                 "Evidently drift reports"):
        assert item in proposal, item
    assert "[" not in script  # no empty placeholders
    reply = engine.send(session, "Practise with a supportive manager")
    for _ in range(8):  # four beats, and an answer wherever the manager asks something back
        reply = engine.send(session, "Use my script line")
        if reply.state["stage"] != "roleplay":
            break
    assert reply.state["stage"] == "debrief"
    email = reply.state["email"]
    assert WORDS["email_intro"]["proposed"] in email  # the whole role-play: the proposal was made
    for item in ("Defer the dashboard migration until March 1", "Delegate label QA to the data-ops team",
                 "Evidently drift reports"):
        assert item in email
    assert "BEGIN:VEVENT" in reply.state["ics"] and "DTSTART:" in reply.state["ics"]
    export = engine.send(session, "/export").state["export"]
    assert "## Follow-up email" in export and "**Coach:**" in export and "# My script for the 1:1" in export


def test_skipped_items_get_neutral_wording_not_placeholders(engine):
    _, replies = rehearse(engine, WORDS["skip_choice"], "ETL maintenance", WORDS["skip_rest_choice"])
    script = replies[-1].state["script"]
    assert "ETL maintenance" in script
    for neutral in (WORDS["neutral"]["defer"], WORDS["neutral"]["tool"], WORDS["freed_unknown"]):
        assert neutral in script
    assert "consistently high workload, particularly in ETL maintenance" in script  # no hours, no gap
    assert "{" not in script and "None" not in script and "  " not in script


def _read(engine, text):
    return read(text, context="roleplay", embedder=engine.retriever.index.embedder)


def test_a_hostile_line_scores_low_on_tone_and_its_better_version_does_not_accuse(engine):
    notes = rubric.feedback(_read(engine, HOSTILE), beat="opening", case={})
    assert notes["scores"]["tone"] == 0 and "accusation" in notes["reasons"]["tone"]
    assert not re.search(r"you always|unfair|dump", notes["better"], re.IGNORECASE)


def test_a_line_with_numbers_and_a_proposal_scores_high_on_data_and_solutions(engine):
    notes = rubric.feedback(_read(engine, STRONG), beat="proposal", case={})
    assert notes["scores"]["data"] == 2 and notes["scores"]["solutions"] == 2 and notes["scores"]["tone"] == 2


def test_the_same_line_gets_the_same_feedback_whoever_listens_and_whatever_came_before(engine):
    supportive, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a supportive manager")
    other = engine.new_session()
    for message in ("/checkin", "the hours are endless", "That's enough, show me where I stand", "/rehearse",
                    WORDS["skip_rest_choice"], "Practise with a skeptical manager"):
        engine.send(other, message)
    for line in (HOSTILE, STRONG, "we just need to fix it"):
        heard = [engine.send(session, line).state["feedback"][-1] for session in (supportive, other)]
        assert heard[0] == heard[1], line  # scores, reasons and the stronger version: the rubric alone


def test_the_skeptical_manager_asks_for_numbers_and_pushes_back(engine):
    session, replies = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a skeptical manager")
    no_numbers = engine.send(session, "I've been really stretched lately and it's a lot")
    manager_line = no_numbers.text.split("---")[-1]
    assert re.search(r"number", manager_line, re.IGNORECASE)
    assert no_numbers.state["beat"] == "opening" and "answer it before moving on" in no_numbers.text
    answered = engine.send(session, "About 62 hours a week for the last six weeks, mostly on feature work")
    assert answered.state["beat"] == "impact"  # the question was answered, so the beat moves on
    said = [engine.send(session, "Use my script line").text.split("---")[-1] for _ in range(4)]
    assert any("competing priorities" in line for line in said)
    assert no_numbers.state["feedback"][0]["scores"]["data"] == 0


def test_the_manager_gets_defensive_at_an_accusation_and_engages_with_a_proposal(engine):
    session, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a supportive manager")
    defensive = engine.send(session, HOSTILE).text.split("---")[-1]
    bank = WORDS["personas"]["supportive"]["after"]["opening"]
    assert any(line in defensive for line in bank["accusation"])  # it heard an accusation
    assert not any(line in defensive for line in bank["default"] + bank["proposal"])
    engaged = engine.send(session, STRONG).text.split("---")[-1]
    assert "options" in engaged or "clear picture" in engaged


def test_an_early_stop_still_debriefs_and_a_rerun_is_harder(engine):
    session, _ = rehearse(engine, *CASE, "Practise with a busy manager")
    engine.send(session, STRONG)
    reply = engine.send(session, WORDS["end_choice"])
    assert reply.state["stage"] == "debrief" and "How it went" in reply.text and "Strongest line" not in reply.text
    # One opening line: the averages name only what the opening needs, not a "not needed yet" 0 for the ask
    opening = {WORDS["criteria"][c].lower() for c in WORDS["expected"]["opening"]}
    line = next(p for p in reply.text.split("\n\n") if p.startswith(WORDS["criteria_average"].split(":")[0]))
    averaged = {a.strip() for a in re.findall(r"([a-z][a-z ]*) \d\.\d/2", line.split(": ", 1)[1])}
    assert averaged and averaged <= opening, line
    again = engine.send(session, WORDS["again_choice"])
    assert again.state["stage"] == "roleplay" and again.state["persona"] == "skeptical"
    assert again.state["case"]["hours"] == "62" and again.state["feedback"] == []


def test_a_check_in_result_suggests_the_area(engine):
    session = engine.new_session()
    for message in ("/checkin", "all my sprints are ETL and data cleaning", "That's enough, show me where I stand"):
        engine.send(session, message)
    reply = engine.send(session, "Rehearse the 1:1")
    reply = engine.send(session, "60")
    assert reply.mode == "rehearse" and WORDS["from_checkin_choice"] in reply.choices
    reply = engine.send(session, WORDS["from_checkin_choice"])
    assert reply.state["case"]["area"] == "data cleaning and ETL work"


def _manager_lines(engine, line: str) -> list[str]:
    """Say the same line at every beat (and in every answer) to a skeptical manager, to the end."""
    session, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a skeptical manager")
    said = []
    for _ in range(8):
        reply = engine.send(session, line)
        said.append(reply.text.split("---")[-1])
        if reply.state["stage"] != "roleplay":
            break
    return said


def test_the_skeptical_manager_holds_out_until_it_has_heard_numbers_and_a_proposal(engine):
    conceded = "I'll agree to try it"
    bare = _manager_lines(engine, "I'd like to propose deferring the dashboard migration until March 1.")
    assert not any(conceded in line for line in bare)  # a proposal with no numbers doesn't move it
    with_data = _manager_lines(engine, "I've averaged 62 hours a week; I'd like to propose deferring the dashboard "
                                       "migration until March 1, which frees about 8 hours.")
    assert any(conceded in line for line in with_data)


def test_harder_goes_supportive_busy_skeptical_and_stops_offering_after_skeptical(engine):
    session, _ = rehearse(engine, *CASE, "Practise with a supportive manager")
    personas = []
    for _ in range(3):
        reply = engine.send(session, WORDS["end_choice"])
        personas.append(reply.state["persona"])
        offered = reply.choices
        reply = engine.send(session, WORDS["again_choice"] if WORDS["again_choice"] in offered
                            else WORDS["again_same_choice"])
    assert personas == ["supportive", "busy", "skeptical"]
    assert WORDS["again_choice"] not in offered and WORDS["again_same_choice"] in offered


def test_feedback_lists_the_beats_criteria_and_the_script_stays_in_its_tab(engine):
    session, replies = rehearse(engine, *CASE)
    assert "# My script" not in replies[-1].text and "Script" in replies[-1].text  # a pointer, not the script
    engine.send(session, "Practise with a supportive manager")
    reply = engine.send(session, STRONG)
    coach = reply.text.split("---")[0]
    rows = [line for line in coach.splitlines() if line.startswith("- ")]
    assert len(rows) == len(WORDS["expected"]["opening"])  # the opening's criteria, the rest on one line
    assert "Not needed yet at this beat" in coach


def test_the_email_lists_only_what_was_proposed(engine):
    _, replies = rehearse(engine, "55", "the eval harness", WORDS["skip_choice"], WORDS["skip_choice"],
                          "the label audits until March", WORDS["skip_rest_choice"], "Practise with a busy manager",
                          WORDS["end_choice"])
    email = replies[-1].state["email"]
    assert "Defer the label audits until March" in email
    assert "Delegate" not in email and "lead a review of the data pipeline" not in email
    # Ended before any line: the manager heard no proposal, so none is said to have been made or weighed
    assert WORDS["email_intro"]["to_propose"] in email and WORDS["email_intro"]["proposed"] not in email
    assert WORDS["email_outcome"]["not_discussed"] in email and WORDS["email_outcome"]["open"] not in email
    session, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a skeptical manager")
    engine.send(session, "Thanks for meeting. I've been doing 60 hours a week on the eval pipeline.")
    email = engine.send(session, WORDS["end_choice"]).state["email"]  # one opening line, then the end
    assert WORDS["email_intro"]["to_propose"] in email and WORDS["email_outcome"]["open"] not in email


def test_feedback_reads_the_line_hedging_rambling_and_impact_in_own_words(engine):
    rambling = rubric.feedback(_read(engine, "this is kind of half-baked… like… I am not sure, what do you think?"),
                               beat="proposal", case={})
    data = rubric.feedback(_read(engine, "I've averaged 62 hours a week for six weeks and recall@10 dropped three "
                                         "points"), beat="impact", case={})
    assert rambling["scores"]["tone"] <= 1 and rambling["scores"]["ask"] <= 1
    assert rambling["beat_total"] / rambling["beat_max"] < data["beat_total"] / data["beat_max"]
    assert "half-baked" not in rambling["better"]
    if rambling["scores"]["tone"] == 1:  # the reason names the hedging it heard, not frustration it didn't
        assert "hedging" in rambling["reasons"]["tone"] and "frustration" not in rambling["reasons"]["tone"]
    fed_up = rubric.feedback(_read(engine, "I'm so frustrated, the backlog never ends"), beat="impact", case={})
    assert fed_up["scores"]["tone"] == 1 and "frustration" in fed_up["reasons"]["tone"]
    fraud = rubric.feedback(_read(engine, "The cost of not retraining is more fraud getting through"), beat="impact",
                            case={})
    assert fraud["scores"]["impact"] >= 1


def test_an_accusation_in_any_words_never_survives_into_the_stronger_version(engine):
    for line in ("nobody on this team cares that I am drowning", "as I've said many times, nobody listens here"):
        notes = rubric.feedback(_read(engine, line), beat="impact", case={})
        assert notes["scores"]["tone"] == 0 and "nobody" not in notes["better"].lower(), notes


def test_the_stronger_version_keeps_the_beats_order_and_never_repeats_a_fact(engine):
    case = {"hours": "62", "area": "feature engineering", "metric": "recall@10 dropped three points"}
    notes = rubric.feedback(_read(engine, "Thanks for meeting. I've been doing 62 hours a week and it's a lot."),
                            beat="opening", case=case)
    assert notes["better"].startswith("Thanks for meeting.")
    assert notes["better"].count("62") == 1


def test_the_stronger_version_says_the_persons_words_as_they_would_say_them_aloud(engine):
    line = "honestly the eval backlog means we slipped the q3 launch, and im sleeping like 5 hrs so im making mistakes"
    better = rubric.feedback(_read(engine, line), beat="impact", case={"hours": "58"})["better"]
    assert "The eval backlog means we slipped the Q3 launch, and I'm sleeping 5 hours" in better, better
    asked = rubric.feedback(_read(engine, "tbh thats just not ok anymore. can we talk about the rota?"), beat="impact",
                            case={})["better"]
    assert "That's just not ok anymore." in asked and asked.endswith("Can we talk about the rota?"), asked


def test_the_scripts_own_line_is_scored_but_not_rewritten(engine):
    session, _ = rehearse(engine, *CASE, "Practise with a busy manager")
    reply = engine.send(session, "Use my script line")
    notes = reply.state["feedback"][-1]
    said = WORDS["keep_label"] if notes["beat_total"] == notes["beat_max"] else WORDS["as_is_label"]
    assert notes["better"] == notes["line"] and said in reply.text  # "keep it" only when the scores agree


def test_an_earlier_answer_corrected_while_the_next_question_waits_is_changed(engine):
    session, replies = rehearse(engine, *CASE[:6], "no wait, Marco not the data-ops team")
    case = replies[-1].state["case"]
    assert case["delegate_to"] == "Marco" and case["delegate"] == "label QA" and case["freed"] is None
    assert WORDS["case"]["freed"]["question"] in replies[-1].text  # and the waiting question is asked again
    reply = engine.send(session, "wait, 58 not 62")
    assert reply.state["case"]["hours"] == "58" and reply.state["case"]["freed"] is None


def test_keep_it_is_said_only_when_the_line_scored_what_the_beat_needs(engine):
    notes = rubric.feedback(_read(engine, "Thanks for making time today."), beat="close", case={})
    notes = {**notes, "better": notes["line"]}  # nothing to rewrite, as for the script's own line
    assert notes["beat_total"] < notes["beat_max"]
    assert WORDS["as_is_label"] in coach_note(notes) and WORDS["keep_label"] not in coach_note(notes)
    full = {**notes, "beat_total": notes["beat_max"]}
    assert WORDS["keep_label"] in coach_note(full)


def test_a_manager_who_heard_the_plan_early_does_not_ask_for_it(engine):
    """A new user gave the plan during the impact beat; the busy manager answered "Quickly: what's the plan?"."""
    session, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a busy manager")
    engine.send(session, "Thanks for meeting. I've been doing 60 hours a week on the eval pipeline.")
    reply = engine.send(session, "Recall dropped 4 points, so I'd like to defer the label audits until March.")
    assert session.rehearsal.answers[-1]["heard"] == "proposal"
    manager = reply.text.split("---")[-1].split(WORDS["your_turn"].split("{")[0])[0]
    assert "plan" in manager and "?" not in manager, manager


def test_a_new_role_play_keeps_the_earlier_ones_feedback(engine):
    """A new user ran it again with a harder manager and lost the first run's feedback from the Script tab."""
    session, _ = rehearse(engine, WORDS["skip_rest_choice"], "Practise with a supportive manager")
    engine.send(session, "Thanks for meeting. I've been doing 60 hours a week on the eval pipeline.")
    engine.send(session, WORDS["end_choice"])
    again = engine.send(session, WORDS["again_choice"])
    earlier = WORDS["runs"]["earlier"].format(persona="supportive")
    assert again.state["persona"] == "busy" and earlier in again.state["summary"]  # kept while the next run goes on
    assert "60 hours a week on the eval pipeline" in again.state["summary"]
    engine.send(session, "Recall dropped 4 points since the reorg.")
    done = engine.send(session, WORDS["end_choice"]).state["summary"]
    latest = WORDS["runs"]["this"].format(persona="busy")
    assert done.index(latest) < done.index(earlier) and done.index("Recall dropped 4 points") < done.index(earlier)
    exported = engine.send(session, "/export").state["export"]
    assert earlier in exported and "60 hours a week on the eval pipeline" in exported


def test_the_follow_up_falls_on_a_working_day():
    """A new user's follow-up was proposed for 24 December."""
    assert follow_up_date(date(2026, 12, 3)) == date(2027, 1, 4)  # 24 Dec, past the break, a Monday
    assert follow_up_date(date(2027, 3, 6)) == date(2027, 3, 29)  # a Saturday + 3 weeks: Monday
    assert follow_up_date(date(2027, 3, 3)) == date(2027, 3, 24)  # an ordinary Wednesday stays
