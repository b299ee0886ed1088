"""The crisis check (app/safety.py): lexicons, the learned classifier, context, replies in the person's language."""

from __future__ import annotations

import re

import pytest

from app import safety
from app.prompts import texts

# The product's own requests: a false alarm here pauses the very coaching Steady is for.
CORE_REQUESTS = (
    "I want to talk to my boss about burnout but I'm scared I'll sound like I'm just complaining. How do I prepare?",
    "I've made my decision: I'm asking for a transfer.",
    "help me plan what to say in my 1:1 tomorrow, I'm dreading it",
    "can you help me write a goodbye message to my team? friday is my last day",
    "I've decided to quit. How do I tell my manager without burning bridges?",
    "this deadline is killing me",
    "I killed the training run, it was diverging",
)


@pytest.mark.parametrize("text", CORE_REQUESTS)
def test_the_products_core_requests_are_not_crises(text):
    assert not safety.assess(text, classify=True).crisis


@pytest.mark.parametrize(("text", "lang"), [
    ("after this weekend i won't be around anymore. goodbye everyone, thank you for everything", "en"),
    ("i keep thinking about sitting in the car in the garage with the door shut and the engine on", "en"),
    ("i've been giving away my things and sorted my passwords for my sister", "en"),
    ("mujhe ab jeena nahi hai, main marna chahta hoon", "hi-Latn"),
    ("我真的不想活了", "zh-Hans"),
    ("मैं मरना चाहता हूँ", "hi"),
    ("Je veux en finir avec la vie", "fr"),
    ("No quiero seguir viviendo", "es"),
])
def test_crises_no_pattern_named_are_caught_and_answered_in_their_language(text, lang):
    found = safety.assess(text, classify=True)
    assert found.crisis, text
    assert found.lang == lang
    reply = safety.crisis_text(found)
    assert "988" in reply and "findahelpline.com" in reply


def test_a_signal_spread_over_two_messages_is_caught():
    alone = safety.assess("sunday night then.", classify=True)
    joined = safety.assess("sunday night then.", classify=True,
                           earlier=["I wrote letters to my family, one for each of them."])
    assert not alone.crisis and joined.crisis and joined.score > alone.score


def test_a_plain_statement_beside_a_work_reason_is_a_crisis_and_its_negation_or_hyperbole_is_not():
    # The classifier reads the launch as work talk (about 0.02); no one says "end it all" as hyperbole.
    assert safety.assess("after the launch i'm going to end it all, so the team isn't left with half a migration",
                         classify=True).crisis
    for calm in ("i'm not thinking about ending my life, i'm thinking about ending this on-call rotation",
                 "i don't mean i want to end it all, i want to end this sprint",
                 "i wanna die, the demo froze right when the vp joined"):
        assert not safety.assess(calm, classify=True).crisis, calm


@pytest.mark.parametrize("text", [
    "kill -9 the stuck workers, then kill the process",
    "I'm not suicidal, just tired",
    "shoot me an email when the sweep is done",
    "the pod keeps dying after the OOM",
])
def test_jargon_idioms_and_negations_are_not_crises(text):
    assert not safety.assess(text, classify=True).crisis


def test_threats_to_others_get_their_own_reply():
    result = safety.assess("I'm going to hurt my manager tomorrow", classify=True)
    assert result.crisis and result.kind == "threat_to_others"
    general = safety.crisis_text(safety.assess("I want to end my life", classify=True))
    threat = safety.crisis_text(result)
    assert threat != general
    for reply in (general, threat):
        assert "988" in reply and "findahelpline.com" in reply and "coaching tool" in reply


def test_no_reply_in_any_language_invents_a_hotline_number():
    english = set(re.findall(r"\d{3,}", texts("safety")["crisis"]["text"]))
    for lexicon in safety.lexicons():
        for key in ("crisis", "threat", "paused", "continue"):
            numbers = set(re.findall(r"\d{3,}", lexicon.reply[key]))
            assert numbers <= english, (lexicon.lang, key, numbers)
        assert "findahelpline.com" in lexicon.reply["crisis"] and "988" in lexicon.reply["crisis"]


def test_health_symptoms_get_the_nudge_and_crisis_wins():
    assert safety.assess("I haven't slept properly in weeks and my chest feels tight").health
    assert safety.assess("I've been drinking every night to cope").kind == "health"
    both = safety.assess("I can't sleep and I want to die", classify=True)
    assert both.crisis and both.health
    assert not safety.assess("I dread opening my laptop").health


@pytest.mark.parametrize(("text", "health"), [
    ("Im sleeping badly and i dread mondays", True), ("honestly im sleeping like 5 hrs", True),
    ("my sleep is completely shot", True), ("running on 4 hrs of sleep", True), ("slept terribly all week", True),
    ("bad sleep for a month, then the reorg", True),
    ("let me sleep on it", False), ("the cron job sleeps for 5 hours", False), ("I sleep fine", False),
    ("i could murder a pizza and 12 hours of sleep", False), ("time.sleep(5) in the retry loop", False),
])
def test_sleep_is_a_symptom_when_it_is_bad_not_when_it_is_a_word(text, health):
    """How badly someone sleeps, not only how little, earns the nudge (a new user's "sleeping badly" got none)."""
    assert safety.assess(text).health is health


@pytest.mark.slow
def test_no_held_out_message_is_a_near_copy_of_a_training_one(models_dir):
    """The test splits' figures measure wording the classifier never saw, not its memory of a paraphrase."""
    from evals.near_copies import crisis_texts, near_copies
    from ingest.embed import Embedder

    found = near_copies(crisis_texts(held_out=True), crisis_texts(held_out=False), embedder=Embedder(models_dir=models_dir))
    assert not found, found[:5]


def test_no_held_out_rehearsal_line_pauses_the_rehearsal():
    # The lines a person types to their manager (hedged, apologetic, angry, in several languages), read as the
    # rehearsal reads them; a false alarm here pauses the very conversation Steady is for.
    import yaml

    from app.config import REPO_ROOT

    lines = [row["text"] for split in ("dev", "test")
             for row in yaml.safe_load((REPO_ROOT / "evals" / "rehearse" / "lines" / f"{split}.yaml").read_text(encoding="utf-8"))]
    flagged = [line for line in lines if safety.assess(line, classify=True, in_flow=True).crisis]
    assert len(lines) > 400 and not flagged, flagged
