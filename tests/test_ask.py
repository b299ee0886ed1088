"""Ask mode with the embedded engine: grounded, cited, follow-ups, honest declines."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from app.prompts import texts
from evals.retrieval_metrics import OFF_TOPIC, load_questions


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", ""))


def _quotes(text: str) -> list[str]:
    return re.findall(r"“(.+?)” \[\d+\]", text)


def test_role_or_company_question_cites_that_passage(engine):
    reply = engine.send(engine.new_session(), "Should I change roles or change companies?")
    assert reply.mode == "ask" and reply.state["grounded"]
    first = reply.citations[0]
    assert first["section"].startswith("Should an ML Engineer Consider a Role Change or a Company Change")
    assert "[1]" in reply.text


def test_every_quote_is_verbatim_and_every_citation_was_retrieved(engine, retriever):
    for question in ["How do I stop feeling guilty about GPU costs?", "what should I learn to stay relevant",
                     "how do I tell my manager I'm burning out", "how do I switch off from work in the evenings?"]:
        reply = engine.send(engine.new_session(), question)
        retrieved = {p.chunk_id: p for p in retriever.search(reply.state["query"], k=5)}
        assert reply.citations, question
        for c in reply.citations:
            assert c["chunk_id"] in retrieved and c["text"] == retrieved[c["chunk_id"]].text
            assert f"[{c['n']}]" in reply.text
        cited_text = " ".join(_plain(c["text"]) for c in reply.citations)
        for quote in _quotes(reply.text):
            for sentence in re.split(r"(?<=[.?!]) ", quote):
                assert sentence in cited_text, sentence


def test_follow_up_about_seniors_cites_the_senior_passage(engine):
    session = engine.new_session()
    engine.send(session, "How does AI risk differ for junior engineers?")
    reply = engine.send(session, "What about seniors?")
    assert any("Senior ML engineers are more resilient" in c["text"] for c in reply.citations)
    assert "Senior ML engineers are more resilient" in reply.text


@pytest.mark.parametrize(("previous", "question"), [
    ("how do I get better at causal reasoning?", "books, courses, or projects?"),
    ("how do i stop thinking about work at night", "tried that, didnt work. anything else"),
])
def test_a_follow_up_that_barely_leans_back_is_answered_with_its_question_not_declined(engine, previous, question):
    session = engine.new_session()
    first = engine.send(session, previous)
    reply = engine.send(session, question)
    assert first.citations and reply.citations, reply.text
    assert reply.state["follow_up"]


def test_a_new_topic_is_not_glued_to_the_last_one(engine):
    session = engine.new_session()
    engine.send(session, "How does AI risk differ for junior engineers?")
    reply = engine.send(session, "I feel guilty every time I launch a training run")
    assert reply.state["query"] == "I feel guilty every time I launch a training run"
    assert reply.citations[0]["section"].endswith("GPU Guilt")


@pytest.mark.parametrize("question", ["how do I make a good risotto", "what are the tax rules for a home office in Ohio",
                                      "how do I fine-tune Llama with LoRA"])
def test_off_topic_gets_an_honest_decline_without_citations(engine, question):
    reply = engine.send(engine.new_session(), question)
    assert reply.citations == [] and not reply.state["grounded"]
    assert "doesn't cover that" in reply.text


def test_declines_are_rare_in_scope_and_common_off_topic(engine):
    questions = load_questions()
    # A statement of feeling may get the check-in offered instead of an answer; that isn't a decline.
    declined = sum(engine.send(engine.new_session(), q["q"]).state.get("grounded") is False for q in questions)
    assert declined / len(questions) <= 0.05
    off_topic = yaml.safe_load(OFF_TOPIC.read_text(encoding="utf-8"))
    accepted = sum(bool(engine.send(engine.new_session(), q["q"]).citations) for q in off_topic)
    assert accepted / len(off_topic) <= 0.10


def test_slash_commands_and_bad_input(engine):
    session = engine.new_session()
    assert "/checkin" in engine.send(session, "/help").text
    assert "didn't catch anything" in engine.send(session, "   ").text
    assert "/nope" in engine.send(session, "/nope").text
    engine.send(session, "should I quit?")
    export = engine.send(session, "/export").state["export"]
    assert "**You:** should I quit?" in export
    reply = engine.send(session, "/reset")
    assert reply.mode == "ask" and session.history == [{"role": "steady", **reply.to_json()}]
    long = engine.send(session, "I feel guilty about compute costs. " * 500)
    assert long.text and "first 4,000 characters" in long.notice


def test_ask_and_chat_jsonl_from_the_command_line(steady, bundled_index):
    result = steady("ask", "Should I change roles or change companies?", "--json", data_dir=bundled_index.data_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["grounded"] and answer["citations"][0]["doc_id"] == "should-ml-engineers-quit"
    lines = "\n".join([json.dumps({"text": "How does AI risk differ for junior engineers?"}), "not json",
                       json.dumps({"text": "What about seniors?"}), json.dumps({"other": 1})]) + "\n"
    result = steady("chat", "--jsonl", data_dir=bundled_index.data_dir, stdin=lines)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == 4
    assert "error" in replies[1] and "error" in replies[3]
    assert any("Senior ML engineers are more resilient" in c["text"] for c in replies[2]["citations"])
    assert {"mode", "text", "citations", "choices", "state"} <= replies[0].keys()


# --- issue "Ask that answers like a coach": each example from its Why ------------------------------------

def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?:;])\s", text.strip(), maxsplit=1)[0]


def test_answers_open_with_their_own_direct_answer_then_one_or_two_quoted_sentences(engine):
    questions = ["what should I learn to stay relevant?", "Should I change roles or change companies?",
                 "How do I tell my manager I'm burning out?", "I feel guilty every time I launch a training run",
                 "will salaries for ML engineers go down?", "does where I live change my AI risk?"]
    replies = [engine.send(engine.new_session(), q) for q in questions]
    openings = [_first_sentence(r.text) for r in replies]
    assert len(set(openings)) == len(openings), openings
    for question, reply in zip(questions, replies, strict=True):
        direct, evidence, *_ = reply.text.split("\n\n")
        assert not direct.startswith(("“", "Here is what the guidance says")), question
        assert "the guidance says" not in direct.lower() and len(direct.split()) <= 70, direct
        quotes = _quotes(evidence)
        assert len(quotes) == 1 and 1 <= len(re.findall(r"[.!?](?=\s|$)", quotes[0])) <= 2, evidence


@pytest.mark.parametrize("question", ["what should I learn to stay relevant?", "what should I learn first?",
                                      "how do you avoid burning out while still staying relevant?",
                                      "I dread opening my laptop, how do others deal with it?"])
def test_a_posters_question_or_story_is_never_quoted_as_advice(engine, question):
    reply = engine.send(engine.new_session(), question)
    for quote in _quotes(reply.text):
        assert not quote.rstrip().endswith("?"), quote
        assert not re.search(r"\bI (work|started|was|caught|totally|’ve|'ve)\b", quote), quote


def test_what_if_im_junior_after_quit_or_transfer_is_answered_from_the_passage_on_juniors(engine):
    session = engine.new_session()
    engine.send(session, "should I quit or transfer?")
    reply = engine.send(session, "what if I'm junior?")
    assert reply.state["follow_up"]
    assert reply.citations[0]["section"].endswith("How does AI risk differ for junior vs. senior ML engineers?")
    assert "Junior ML engineers face higher displacement risk" in reply.text
    assert "Senior ML engineers are more resilient" not in reply.text
    assert reply.text.startswith("As a junior") and "says more about the entry-level work than about you" in reply.text


@pytest.mark.parametrize(("question", "section"), [
    ("My manager keeps piling on data cleaning work. What can I do?", None),
    ("My lead only ever asks whether we beat the state of the art. Is that a healthy way to run a team?",
     "What ML Team Leads and Research Managers Can Do"),
])
def test_questions_in_the_persons_own_situation_are_answered(engine, question, section):
    reply = engine.send(engine.new_session(), question)
    assert reply.state["grounded"] and reply.citations, reply.text
    assert section is None or reply.citations[0]["section"] == section


def test_and_if_structural_what_then_answers_the_branch_it_names(engine):
    session = engine.new_session()
    first = engine.send(session, "How do I know if my problem is structural or situational?")
    reply = engine.send(session, "And if it turns out to be structural, what then?")
    assert reply.state["grounded"] and reply.state["follow_up"]
    assert _first_sentence(reply.text) != _first_sentence(first.text)  # more than was just said
    assert re.search(r"leav|departure|company change|another company", reply.text, re.IGNORECASE), reply.text


@pytest.mark.parametrize("question", ["what's the best GPU for training LLMs at home?",
                                      "how do I fix a CUDA out of memory error in PyTorch?",
                                      "which vector database should we use for RAG?"])
def test_near_domain_technical_questions_are_declined_without_citations(engine, question):
    reply = engine.send(engine.new_session(), question)
    assert not reply.citations and not reply.state["grounded"]


def test_a_manager_question_after_a_quitting_question_is_not_glued_to_it(engine):
    session = engine.new_session()
    engine.send(session, "should I quit or transfer?")
    reply = engine.send(session, "how do I explain to my manager that I'm burning out without sounding weak?")
    assert not reply.state["follow_up"] and reply.state["query"].startswith("how do I explain")
    assert reply.citations[0]["doc_id"] == "manager-conversation"
    assert "“Rehearse the 1:1”" in reply.text and "Rehearse the 1:1" in reply.choices  # the next step, one click away


def test_next_steps_remember_the_check_in_and_the_health_nudge_comes_first(engine):
    session = engine.new_session()
    first = engine.send(session, "I feel guilty every time I launch a training run")
    assert "“Check in”" in first.text and "Check in" in first.choices and "/checkin" not in first.text
    engine.send(session, "/checkin")
    engine.send(session, "I'm supposed to publish every cycle and it never ends")
    engine.send(session, "That's enough, show me where I stand")
    after = engine.send(session, "is it normal to feel guilty about compute costs?")
    assert after.state["grounded"] and "Check in" not in after.text and "Check in" not in after.choices
    nudged = engine.send(engine.new_session(), "my chest hurts and I can't sleep, is GPU guilt a real thing?")
    assert nudged.text.startswith(texts("safety")["health_nudge"])


@pytest.mark.slow
def test_no_training_question_is_a_near_copy_of_a_held_out_one(retriever):
    """Ask's held-out figures measure wording the decisions never saw, not their memory of a paraphrase."""
    from evals.near_copies import ASK_HELD_OUT, ASK_TRAIN, ask_questions, near_copies

    found = near_copies(ask_questions(ASK_TRAIN), ask_questions(ASK_HELD_OUT), embedder=retriever.index.embedder)
    assert not found, found[:5]
