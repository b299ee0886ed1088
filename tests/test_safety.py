"""The crisis and health check: the labelled set, narrow negation, idioms, the embedding safety net."""

from __future__ import annotations

import pytest

from app import safety
from app.prompts import texts
from evals.crisis.metrics import SETS, held_out, load, report
from ingest.embed import Embedder

MUST_NOT_FLAG = ("idiom", "ml_jargon", "ordinary", "negated", "health", "other_language")
# Every set the detector was fixed on; a blind round joins once its measured misses are fixed
# (evals/crisis/README.md keeps each round's figures from before that).
FIXED_SETS = ("messages", "blind", "blind5", "blind6", "blind7")
PATTERN_SETS = ("messages", "blind", "blind6", "blind7")  # blind5 needs the embedding for two of its signals


@pytest.fixture(scope="module")
def embedder(models_dir) -> Embedder:
    return Embedder(models_dir=models_dir)


class CountingEmbedder:
    """The real embedder, counting the calls; its bank vectors are kept beside `onnx_path`."""

    def __init__(self, inner: Embedder, *, onnx_path) -> None:
        self.inner = inner
        self.onnx_path = onnx_path
        self.queries = 0
        self.batches = 0

    def embed_documents(self, items: list[str]) -> list[list[float]]:
        self.batches += 1
        return self.inner.embed_documents(items)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self.inner.embed_query(text)


def assert_labelled_set_passes(scores: dict) -> None:
    assert {"explicit", "indirect"} <= set(scores["crisis"]["by_kind"])
    for kind, caught in scores["crisis"]["by_kind"].items():
        assert caught["recall"] == 1.0, (kind, scores["crisis"]["missed"])
    for kind, flagged in scores["false_positives"]["by_kind"].items():
        assert kind in MUST_NOT_FLAG and flagged["flagged"] == 0, (kind, scores["false_positives"]["flagged_texts"])
    assert scores["health"]["recall"] == 1.0, scores["health"]["missed"]
    assert scores["health"]["flagged_none"] == 0


@pytest.mark.parametrize("name", FIXED_SETS)
def test_labelled_sets_with_embedder(embedder, name):
    scores = report(embedder=embedder, path=SETS[name])
    assert scores["messages"] >= 40 and scores["embedder"] is True
    assert_labelled_set_passes(scores)


def test_first_set_keeps_its_shape():
    scores = report()
    assert scores["messages"] >= 120
    assert 0.35 <= scores["crisis"]["total"] / scores["messages"] <= 0.5


@pytest.mark.parametrize("name", PATTERN_SETS)
def test_labelled_sets_patterns_only(name):
    assert_labelled_set_passes(report(path=SETS[name]))


def test_held_out_split_is_a_third_of_every_kind():
    items = load()
    out = held_out(items)
    for kind in {item["kind"] for item in items}:
        flags = [o for item, o in zip(items, out) if item["kind"] == kind]
        assert sum(flags) == len(flags) // 3
    tune, held = report(split="tune"), report(split="held_out")
    assert tune["messages"] + held["messages"] == len(items)


@pytest.mark.parametrize("text", [
    "I don't see the point of going on",
    "everyone would be better off without me",
    "I've been giving my things away",
    "I won't be a problem much longer",
    "I want to disappear for good",
    "I'm done with everything, I've written letters",
    "I’m not sure I want to live",  # doubt is not negation; curly apostrophe
    "I can't promise I won't hurt myself tonight",
    "I'm not suicidal, but I hope I don't wake up tomorrow",  # a negation does not cancel another signal
    "this deadline is killing me and I want to kill myself",  # nor does an idiom
    "Je veux en finir",
    "No quiero seguir viviendo",
    "Ich will nicht mehr leben",
])
def test_signals_are_crises_without_embedder(text):
    result = safety.assess(text)
    assert result.crisis and result.score == 1.0


@pytest.mark.parametrize(("text", "kind"), [
    ("this deadline is killing me", "idiom"),
    ("I killed the training run", "idiom"),
    ("kill -9 the stuck workers, then kill the process", "idiom"),
    ("I've been killing myself to hit this deadline", "idiom"),
    ("shoot me an email when the sweep is done", "idiom"),
    ("I'm building a suicide detection classifier", "idiom"),
    ("I'm not suicidal, just tired", "negated"),
    ("I would never hurt anyone, I'm just angry at my lead", "negated"),
])
def test_idioms_jargon_and_negations_are_not_crises(text, kind, embedder):
    result = safety.assess(text, embedder=embedder)
    assert not result.crisis
    assert result.kind == kind


def test_threats_to_others_get_their_own_reply():
    result = safety.assess("I'm going to hurt my manager tomorrow")
    assert result.crisis and result.kind == "threat_to_others"
    general = safety.crisis_text(safety.assess("I want to end my life"))
    threat = safety.crisis_text(result)
    assert threat != general
    for reply in (general, threat):
        assert "988" in reply and "findahelpline.com" in reply and "911" in reply and "112" in reply
        assert "coaching tool" in reply and "not a crisis service" in reply


def test_health_symptoms_get_the_nudge_and_crisis_wins():
    assert safety.assess("I haven't slept properly in weeks and my chest feels tight").health
    assert safety.assess("I've been drinking every night to cope").kind == "health"
    both = safety.assess("I can't sleep and I want to die")
    assert both.crisis and both.health
    assert not safety.assess("I dread opening my laptop").health


def test_texts_the_engine_shows():
    safety_texts = texts("safety")
    assert set(safety_texts["crisis"]["choices"]) == {"continue", "again"}
    assert "988" in safety_texts["crisis"]["continue_text"]
    nudge = safety_texts["health_nudge"].lower()
    assert "doctor" in nudge
    for diagnosis in ("depression", "anxiety", "insomnia", "disorder", "burnout"):
        assert diagnosis not in nudge


def test_embedding_catches_phrasings_no_pattern_foresaw(embedder):
    for text in ("I'm just waiting for my life to end", "My existence is a mistake"):
        assert not safety.assess(text).crisis
        result = safety.assess(text, embedder=embedder)
        assert result.crisis and result.kind == "similar_to_crisis"
        assert safety.THRESHOLD <= result.score < 1.0


WORK_AND_SIGNAL = ("my lead wants the ablations by monday, the cluster is full, "
                   "and I keep thinking I don't belong in this world anymore")


def test_a_signal_inside_a_long_work_message_is_found_by_its_clause(embedder):
    plain, _ = safety.neutralised(WORK_AND_SIGNAL)
    whole, _ = safety.similarity(" ".join(plain.replace("|", " ").split()), embedder=embedder)
    assert not safety.assess(WORK_AND_SIGNAL).crisis and whole < safety.THRESHOLD  # diluted in the whole
    result = safety.assess(WORK_AND_SIGNAL, embedder=embedder)
    assert result.crisis and result.kind == "similar_to_crisis" and result.score >= safety.CLAUSE_THRESHOLD


def test_clauses_lose_no_context_they_need():
    assert safety.clauses("i want to quit") == []  # short: one thought
    plain, _ = safety.neutralised(WORK_AND_SIGNAL)
    parts = safety.clauses(plain)
    assert "i keep thinking i dont belong in this world anymore" in parts
    assert not any("cluster" in part for part in parts)  # no first person: nothing to find there
    assert len(parts) <= safety.MAX_CLAUSES


def test_bank_vectors_are_kept_beside_the_model_and_calls_per_message(embedder, tmp_path):
    first = CountingEmbedder(embedder, onnx_path=tmp_path / "model.onnx")
    safety.assess("warm up the exemplar banks please", embedder=first)
    assert first.batches == 1 and len(list(tmp_path.glob("safety-bank-*.npy"))) == 1
    counting = CountingEmbedder(embedder, onnx_path=tmp_path / "model.onnx")  # as a new process would
    safety.assess("warm up the exemplar banks please", embedder=counting)
    assert counting.batches == 0  # read back, not embedded again
    counting.queries = 0
    safety.assess("I want to quit and move to a farm", embedder=counting)  # short: the whole message only
    assert (counting.queries, counting.batches) == (1, 0)
    safety.assess("the eval is due friday and my lead keeps moving the goalposts, "
                  "I have three sprints of ETL queued and I want to ask for help", embedder=counting)
    assert (counting.queries, counting.batches) == (2, 1)  # long: plus one batch for its first-person clauses
    safety.assess("I want to kill myself", embedder=counting)  # a pattern decides
    safety.assess("ok", embedder=counting)  # too short to embed
    assert (counting.queries, counting.batches) == (2, 1)


def test_bank_vectors_that_cannot_be_kept_are_embedded_and_used_anyway(embedder, tmp_path):
    counting = CountingEmbedder(embedder, onnx_path=tmp_path / "gone" / "model.onnx")  # nowhere to write
    assert safety.assess("I want to kill myself", embedder=counting).crisis
    assert safety.assess("my existence is a mistake, I'm just waiting for my life to end", embedder=counting).crisis
    assert counting.batches == 1 and not list(tmp_path.iterdir())


@pytest.mark.parametrize(("text", "crisis"), [
    ("I've made peace with it", True),  # a farewell, and nothing about work
    ("I made peace with it, the project is getting cancelled", False),
    ("I'm ready to go.", False),  # a resolve alone
    ("I'm ready to go. I've said everything I needed to say", True),  # two cues
    ("after this launch I'm done with everything, for good", True),
    ("after this launch I'm done with this team for good, I asked for a transfer", False),
    ("I don't plan on being here for Christmas", True),
    ("I'm not going to be here for Christmas, visiting family in Spain", False),
    ("I'd rather die than write another ETL job", False),  # hyperbole about a task
    ("I'd rather be dead than keep living like this", True),
    ("this sprint is suicide", False),
    ("I'm a burden to everyone around me", True),
    ("I'm a burden on the shared GPU budget apparently", False),
])
def test_farewells_finality_and_hyperbole(text, crisis):
    assert safety.assess(text).crisis is crisis


def test_shorthand_is_spelled_out():
    assert safety.normalise("wanna go to sleep n never wake up") == "want to go to sleep and never wake up"
    assert safety.assess("wanna go to sleep n never wake up").crisis


def test_normalise_handles_quotes_accents_and_elision():
    assert safety.normalise("  I’m  NOT  “fine”  ") == 'im not "fine"'
    assert safety.normalise("Je ne vois plus l’intérêt") == "je ne vois plus l interet"
    assert safety.normalise("Straße") == "strasse"


def test_empty_and_odd_input():
    for text in ("", "   ", "🙂", "/checkin", "I'm safe, let's continue", "Show the numbers again"):
        result = safety.assess(text)
        assert not result.crisis and not result.health and result.kind == "none"
