"""The check-in with the embedded engine: scoring from the corpus, the situational/structural test,
a cited result whose levers fit the pressures, and an early stop that still gives a result."""

from __future__ import annotations

import re

from app import checkin
from app.prompts import texts
from app.text import normal

STOP = texts("checkin")["stop_choice"]


def talk(engine, *messages):
    session = engine.new_session()
    replies = [engine.send(session, m) for m in ("/checkin", *messages)]
    return session, replies


def top(reply, n=2):
    ranked = sorted(reply.state["pressures"].items(), key=lambda kv: kv[1], reverse=True)
    return [pid for pid, _ in ranked[:n]]


def test_every_quote_the_check_in_relies_on_is_in_the_corpus(bundled_index):
    corpus = normal(" ".join(text for _, text, _ in zip(*bundled_index.all_chunks(), strict=True)))
    words = texts("checkin")
    for pid, p in words["pressures"].items():
        for quote in p["quotes"]:
            assert normal(quote) in corpus, (pid, quote)
        assert set(p["levers"]) <= set(words["levers"]), pid
    for lid, lever in words["levers"].items():
        assert normal(lever["quote"]) in corpus, lid


def test_a_paraphrase_lands_on_the_right_pressure(engine):
    _, replies = talk(engine, "every experiment costs a fortune and I hesitate to press enter")
    assert top(replies[-1], 1) == ["gpu_guilt"]
    assert set(replies[-1].state["pressures"]) == set(checkin.pressure_ids())
    assert all(0.0 <= s <= 1.0 for s in replies[-1].state["pressures"].values())


def test_structural_when_it_follows_you_and_has_lasted_a_year(engine):
    session, replies = talk(engine, "I'm stuck doing ETL and data cleaning every sprint")
    for _ in range(checkin.MAX_PROBES):  # a follow-up or two, never more
        if replies[-1].state["step"] == "probe":
            replies.append(engine.send(session, "Often"))
    assert replies[-1].state["step"] == "test"
    reply = engine.send(session, "it would follow me to any team here, and it's been like this for a year")
    assert reply.state["verdict"] == "structural"


def test_situational_for_a_temporary_backlog(engine):
    session, replies = talk(engine, "a temporary data backlog since last month, a transfer would fix it")
    assert replies[-1].state["verdict"] == "situational"
    reply = engine.send(session, STOP)
    assert reply.state["done"] and reply.state["verdict"] == "situational"
    assert "Situational" in reply.text


def test_situational_after_a_long_time_does_not_promise_it_will_ease_soon(engine):
    session, replies = talk(engine, "my team lead dumps every data cleaning ticket on me, another team would fix it, "
                                    "and it's been like this since the reorg a year ago")
    reply = engine.send(session, STOP)
    assert reply.state["verdict"] == "situational" and "lasted longer than a quarter or two" in reply.text
    assert "eases within a quarter" not in reply.text and "internal move is worth pursuing" in reply.text


def test_the_result_cites_retrieved_passages_and_levers_fit(engine, retriever):
    session, replies = talk(engine, "I feel guilty burning GPU money, and my results never replicate")
    reply = replies[-1]
    for _ in range(6):
        if reply.state["done"]:
            break
        reply = engine.send(session, reply.choices[0])  # "Often", "Yes, it would follow me", ...
    assert reply.state["done"] and len(reply.choices) == 3
    assert {"gpu_guilt", "reproducibility_doubt"} <= set(reply.state["top"])
    fitting = {lever for pid in reply.state["top"] for lever in texts("checkin")["pressures"][pid]["levers"]}
    lever_ids = [lever["id"] for lever in reply.state["levers"]]
    assert 2 <= len(lever_ids) <= 3 and set(lever_ids[:2]) <= fitting
    corpus_ids = set(retriever._chunks)
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    assert numbers == {c["n"] for c in reply.citations}
    for c in reply.citations:
        assert c["chunk_id"] in corpus_ids
    sections = " ".join(c["section"] for c in reply.citations)
    assert "GPU Guilt" in sections and "Reproducibility Doubt" in sections


def test_stopping_after_the_first_answer_still_gives_a_result(engine):
    session, _ = talk(engine, "models I build never get deployed, they just die in notebooks")
    reply = engine.send(session, STOP)
    assert reply.state["done"] and reply.state["top"][0] == "production_gap"
    assert reply.state["verdict"] is None and "Not clear yet" in reply.text
    assert reply.citations and reply.state["levers"]


def test_a_burnout_opening_in_ask_mode_is_offered_the_check_in_and_seeds_it(engine):
    session = engine.new_session()
    offer = engine.send(session, "I dread opening my laptop")
    assert offer.mode == "ask" and "Check in" in offer.choices and not offer.citations
    first = engine.send(session, "Check in")
    assert first.mode == "checkin" and first.state["step"] in ("probe", "test")  # the opening counted as the first answer


def test_declining_the_offer_answers_from_the_guidance(engine):
    session = engine.new_session()
    engine.send(session, "I dread opening my laptop")
    reply = engine.send(session, texts("checkin")["opening"]["answer_choice"])
    assert reply.mode == "ask" and reply.citations


def test_no_more_than_six_questions_and_the_same_answers_give_the_same_result(engine):
    def run():
        session, replies = talk(engine, "I'm always behind on new frameworks and I work weekends to keep up")
        for _ in range(12):  # bounded: a check-in that never ends fails here instead of hanging
            if replies[-1].state["done"]:
                break
            replies.append(engine.send(session, replies[-1].choices[0]))
        assert replies[-1].state["done"], [r.text[:60] for r in replies]
        return replies

    first, second = run(), run()
    questions = [r for r in first[:-1] if r.state["step"] != "result"]
    assert len(questions) <= 6
    assert first[-1].state == second[-1].state and first[-1].text == second[-1].text
