"""Rehearse: build the case, fill the negotiation script, role-play the manager, debrief.

A state machine over a `Rehearsal` (kept in the session): stage "case" asks for one item at a time,
"script" shows the filled script and offers a manager, "roleplay" walks the four beats the person
speaks (the manager answers via app/manager.py, the coach scores via app/rubric.py), "debrief" sums
up and writes the follow-up email and calendar entry. Wording lives in prompts/rehearse*.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app import manager, rubric
from app.case import earlier_corrected, read_answer
from app.prompts import template, texts
from app.reading import Reading
from app.reply import Reply

BEATS = ("opening", "impact", "proposal", "close")


def _words() -> dict:
    return texts("rehearse")


class Stage(StrEnum):
    CASE = "case"  # one item of the case at a time
    SCRIPT = "script"  # the filled script, and a choice of manager
    ROLEPLAY = "roleplay"  # the four beats, each line scored and answered
    DEBRIEF = "debrief"  # how it went, the follow-up email and its calendar entry


@dataclass
class Rehearsal:
    """The rehearsal as it stands. The script, email, .ics, summary and transcript are rendered from
    it when needed (script(), email(), ics(), summary(), transcript), never stored beside it."""

    stage: Stage = Stage.CASE
    case: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(_words()["case"]))
    asked: str | None = None  # the case item being asked for
    reasked: str | None = None  # the case item already asked a second time
    skipped: list[str] = field(default_factory=list)
    suggested_area: str | None = None  # from the check-in's top pressure
    persona: str | None = None
    beat: str | None = None
    answering: bool = False  # the person is answering the manager's question before the beat moves on
    greeting: str = ""  # the manager's opening line
    feedback: list[dict] = field(default_factory=list)  # each line the person said, its scores and reasons
    answers: list[dict] = field(default_factory=list)  # the manager's answer to each line: text, what it heard
    earlier: list[dict] = field(default_factory=list)  # earlier role-plays of this case, oldest first: persona, feedback

    @property
    def transcript(self) -> list[dict]:
        """The role-play in order: the greeting, then each line and the manager's answer to it."""
        said = [{"who": "manager", "text": self.greeting}] if self.greeting else []
        for notes, answer in zip(self.feedback, self.answers, strict=False):
            said += [{"who": "you", "text": notes["line"], "beat": notes["beat"]}, {"who": "manager", **answer}]
        return said

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Rehearsal:
        data = dict(data)
        if "transcript" in data:  # stored before the state was typed: the transcript repeated each line
            said = data.pop("transcript")
            data["greeting"] = said[0]["text"] if said and said[0]["who"] == "manager" else ""
            data["answers"] = [{"text": e["text"], "heard": e.get("heard")} for e in said[1:] if e["who"] == "manager"]
        known = {f.name for f in fields(cls)}
        memory = cls(**{k: v for k, v in data.items() if k in known})
        memory.stage = Stage(memory.stage)
        return memory


def start(*, checkin_top: list[str] | None = None, persona: str | None = None,
          case: dict | None = None, earlier: list[dict] = ()) -> tuple[Rehearsal, Reply]:
    """A new rehearsal; `case` and `persona` carry over when running it again with a harder manager, and
    `earlier` role-plays' feedback stays readable beside the new one."""
    memory = Rehearsal(persona=persona, suggested_area=_words()["checkin_areas"].get((checkin_top or [None])[0] or ""),
                       earlier=list(earlier))
    if case:
        memory.case.update(case)
        return memory, _roleplay_start(memory, persona or "supportive")
    return memory, _ask_next(memory, lead=_words()["intro"])


def turn(memory: Rehearsal, reading: Reading, *, request: str | None = None) -> Reply:
    """The next step for a message; `request` is what the reading says the person asked of the app
    ("switch_manager", "stop"), so such a message is done, not scored as a line."""
    words = _words()
    text = reading.text
    if request == "stop" and memory.stage is Stage.ROLEPLAY:
        return _debrief(memory)
    if request == "switch_manager" and memory.stage in (Stage.ROLEPLAY, Stage.DEBRIEF, Stage.SCRIPT):
        named = _persona_named(text)
        return _again(memory, named or words["harder"].get(memory.persona or "supportive", "skeptical"))
    if text in (words["again_choice"], words["again_same_choice"]) and memory.stage is Stage.DEBRIEF:
        was = memory.persona
        reply = _again(memory, words["harder"][was])
        if words["harder"][was] == was:
            reply.text = f"{words['hardest_already']}\n\n{reply.text}"
        return reply
    if memory.stage is Stage.CASE:
        return _case_answer(memory, reading)
    if memory.stage is Stage.SCRIPT:
        persona = words["persona_choices"].get(text) or _persona_named(text)
        if persona is None:
            return _show_script(memory)
        return _roleplay_start(memory, persona)
    if memory.stage is Stage.ROLEPLAY:
        if text == words["end_choice"]:
            return _debrief(memory)
        if text == words["say_script_choice"]:
            reading = Reading(text=script_beat(memory, memory.beat), context=reading.context, embedder=reading.embedder)
        return _line(memory, reading)
    return _debrief(memory)


def _again(memory: Rehearsal, persona: str) -> Reply:
    """The role-play afresh with `persona`, in the same rehearsal; the run so far, if it had lines, is kept."""
    run = [{"persona": memory.persona, "feedback": memory.feedback}] if memory.feedback else []
    fresh, reply = start(case=memory.case, persona=persona, earlier=[*memory.earlier, *run])
    vars(memory).update(vars(fresh))
    return reply


def _persona_named(text: str) -> str | None:
    lowered = text.lower()
    return next((p for p in _words()["personas"] if p in lowered), None)


# --- the case -------------------------------------------------------------------------------------------


def _case_answer(memory: Rehearsal, reading: Reading) -> Reply:
    words = _words()
    text, item = reading.text, memory.asked
    spec = words["case"][item]
    if text == words["skip_rest_choice"]:
        memory.skipped += [k for k, v in memory.case.items() if v is None and k not in memory.skipped]
        return _show_script(memory)
    if text == words["skip_choice"]:
        memory.skipped += [item, *([spec["into"]] if spec.get("into") else [])]  # no "until when?" for a skipped task
        return _ask_next(memory)
    if text == words["from_checkin_choice"] and item == "area" and memory.suggested_area:
        memory.case[item] = memory.suggested_area
        return _ask_next(memory)
    earlier = earlier_corrected(text, case=memory.case, asked=item)
    if earlier:  # "no wait, Marco not Priya" while the next question waits: the earlier answer is changed
        fixed, value = earlier
        return edit(memory, {fixed: Reading(text=value, context=reading.context, embedder=reading.embedder)},
                    choices=[words["skip_choice"], words["skip_rest_choice"]])
    found = read_answer(item, reading, case=memory.case)
    if found.problem == "skip":
        memory.skipped.append(item)
        return _ask_next(memory)
    if found.problem:  # not an answer to this question, or one that can't be right: ask again, once
        if memory.reasked == item:
            memory.skipped.append(item)
            return _ask_next(memory)
        memory.reasked = item
        hours = memory.case.get("hours")
        variant = found.problem
        if spec.get("number"):  # say which number, and against what
            variant = "not_a_number" if variant == "not_an_answer" else \
                "implausible_freed" if item == "freed" and hours else "implausible_hours"
        lead = words["case_again"][variant].format(hours=hours or "")
        return _reply(memory, f"{lead}\n\n{spec['question']}", [words["skip_choice"], words["skip_rest_choice"]])
    memory.case.update(found.values)
    return _ask_next(memory)


def _ask_next(memory: Rehearsal, *, lead: str = "") -> Reply:
    words = _words()
    for item, spec in words["case"].items():
        if memory.case[item] is None and item not in memory.skipped:
            memory.asked = item
            question = spec["question"]
            choices = [words["skip_choice"], words["skip_rest_choice"]]
            if item == "area" and memory.suggested_area:
                question = f"{question}\n\n{words['from_checkin'].format(area=memory.suggested_area)}"
                choices = [words["from_checkin_choice"], *choices]
            return _reply(memory, "\n\n".join(p for p in (lead, question) if p), choices)
    return _show_script(memory)


def edit(memory: Rehearsal, readings: dict[str, Reading | None], *, choices: list[str]) -> Reply:
    """Parts of the case changed by hand (the Script tab's fields, or /case): each new value is read
    as an answer to its question, with the same clean phrasing and sanity checks; None clears a part.
    The script, email and calendar entry are rendered from the case, so they follow at once."""
    words = _words()
    spec, said = words["case"], words["case_edit"]
    changed, kept = [], []
    for item in spec:  # in the case's order, so new hours are known before the hours they free
        if item not in readings:
            continue
        reading = readings[item]
        found = read_answer(item, reading, case=memory.case) if reading is not None else None
        if found is None or found.problem == "skip":
            if memory.case.get(item) is not None:
                memory.case[item] = None
                memory.skipped.append(item)
                changed.append(said["cleared"].format(label=spec[item]["label"]))
            continue
        if found.problem:
            why = "implausible_freed" if item == "freed" and found.problem == "implausible" and memory.case.get("hours") \
                else found.problem
            kept.append(said["kept"].format(label=spec[item]["label"].lower(),
                                            why=said["why"][why].format(hours=memory.case.get("hours"))))
            continue
        new = {k: v for k, v in found.values.items() if memory.case.get(k) != v}
        memory.case.update(new)
        changed += [f"{spec[k]['label']}: {v}" for k, v in new.items()]
    parts = [said["done"].format(fields="; ".join(changed))] if changed else [] if kept else [said["nothing"]]
    parts += kept
    if memory.stage is Stage.CASE and memory.asked:  # still building the case: its question again
        parts.append(spec[memory.asked]["question"])
    return _reply(memory, "\n\n".join(parts), choices)


def case_lines(case: dict) -> str:
    """The case as "label: value" lines (what /case shows, and the shape it takes back)."""
    words = _words()
    return "\n".join(f"- {v['label']}: {case.get(k) or words['case_edit']['empty_value']}"
                     for k, v in words["case"].items())


def filled(case: dict) -> dict:
    """The case with neutral wording wherever an item was skipped, plus the clauses built on numbers."""
    words = _words()
    out = {k: (case.get(k) or neutral) for k, neutral in words["neutral"].items()}
    out["hours_clause"] = words["hours_clause"].format(hours=case["hours"]) if case.get("hours") else ""
    out["freed_clause"] = (words["freed_clause"].format(freed=case["freed"]) if case.get("freed")
                           else words["freed_unknown"])
    return out


def script(case: dict) -> str:
    return template("rehearse_script").format(**filled(case)).strip() + "\n"


def script_beat(memory: Rehearsal, beat: str) -> str:
    """The person's paragraph for one beat of their filled script."""
    sections = re.split(r"\n## \d\. ", script(memory.case))[1:]
    body = sections[BEATS.index(beat)].split("\n", 1)[1]
    return body.split("\n*Manager", 1)[0].strip()


def _show_script(memory: Rehearsal) -> Reply:
    words = _words()
    memory.stage = Stage.SCRIPT
    memory.asked = None
    return _reply(memory, words["script_ready"], list(words["persona_choices"]))


# --- the role-play ----------------------------------------------------------------------------------------


def _roleplay_start(memory: Rehearsal, persona: str) -> Reply:
    words = _words()
    memory.stage, memory.persona, memory.beat = Stage.ROLEPLAY, persona, BEATS[0]
    opening = memory.greeting = manager.greeting(persona)
    text = "\n\n".join([words["roleplay_start"].format(persona=persona),
                        f"{words['manager_label'].format(persona=persona)} {opening}",
                        words["your_turn"].format(beat=words["beats"][BEATS[0]])])
    return _reply(memory, text, [words["say_script_choice"], words["end_choice"]])


def _line(memory: Rehearsal, reading: Reading) -> Reply:
    words = _words()
    beat, text = memory.beat, reading.text
    notes = rubric.feedback(reading, beat=beat, case=memory.case)
    if text == script_beat(memory, beat):
        notes["better"] = text  # the script's own line is the guide's wording: scored, never rewritten
    earlier = [f["line"] for f in memory.feedback]
    memory.feedback.append(notes)
    answer, heard = manager.respond(memory.persona, beat=beat, line_text=text, earlier=earlier)
    memory.answers.append({"text": answer, "heard": heard})
    # The coach's note first and the manager's answer last, beside the next prompt: on a phone the chat
    # shows the bottom of a reply, so the line to answer stays in view.
    parts = [coach_note(notes), "---", f"{words['manager_label'].format(persona=memory.persona)} {answer}"]
    voice = {"persona": memory.persona, "beat": beat, "heard": heard, "line": answer}  # for a model to say it
    # A question the manager needs answered (numbers it asked for, the skeptic's "what's the cost?") is
    # answered before the beat moves on, once a beat, so a rehearsal always ends.
    awaits = words["personas"][memory.persona].get("awaits_answer", words["awaits_answer"])
    if heard in awaits and "?" in answer and not memory.answering:
        memory.answering = True
        parts.append(words["answer_manager"].format(beat=words["beats"][beat]))
        reply = _reply(memory, "\n\n".join(parts), [words["end_choice"]])
    else:
        memory.answering = False
        position = BEATS.index(beat) + 1
        if position == len(BEATS):
            reply = _debrief(memory, lead="\n\n".join(parts))
        else:
            memory.beat = BEATS[position]
            parts.append(words["your_turn"].format(beat=words["beats"][memory.beat]))
            reply = _reply(memory, "\n\n".join(parts), [words["say_script_choice"], words["end_choice"]])
    reply.state["voice"] = voice
    return reply


def voiced(memory: Rehearsal, line: str) -> None:
    """The manager's last line as a model said it (the transcript, the email's outcome and /export use it)."""
    memory.answers[-1]["text"] = line


def coach_note(notes: dict) -> str:
    """The beat's criteria with their reasons; the others on one line, since they come later."""
    words = _words()
    expected = words["expected"][notes["beat"]]
    rows = [f"- {words['criteria'][c]}: **{notes['scores'][c]}/2**. {notes['reasons'][c]}" for c in expected]
    others = ", ".join(f"{words['criteria'][c].lower()} {s}/2" for c, s in notes["scores"].items() if c not in expected)
    full = notes["beat_total"] == notes["beat_max"]  # "keep it" only when the scores agree
    better = (words["keep_label" if full else "as_is_label"] if notes["better"] == notes["line"]
              else f"{words['better_label']} “{notes['better']}”")
    return "\n".join([f"{words['coach_label']} {words['line_score'].format(**notes)}", *rows,
                      *(["", words["also_scored"].format(others=others)] if others else []), *notes["notes"], "", better])


# --- the debrief ------------------------------------------------------------------------------------------


def _debrief(memory: Rehearsal, *, lead: str = "") -> Reply:
    words = _words()
    memory.stage = Stage.DEBRIEF
    feedback = memory.feedback
    parts = [lead] if lead else []
    if feedback:
        parts.append("\n".join([words["debrief_title"], *(
            words["debrief_line"].format(**{**f, "beat": f["beat"].capitalize()}) for f in feedback)]))
        best = max(feedback, key=lambda f: f["beat_total"] / f["beat_max"])
        worst = min(feedback, key=lambda f: f["beat_total"] / f["beat_max"])
        weak = [words["criteria"][c].lower() for c in words["expected"][worst["beat"]] if worst["scores"][c] < 2]
        if len(feedback) > 1:
            parts.append(words["strongest"].format(**{**best, "line": _short(best["line"])}))
        if worst is not best:
            parts.append(words["weakest"].format(**{**worst, "line": _short(worst["line"])},
                                                 criteria="; ".join(weak) or "nothing major"))
        # Each criterion over the lines whose beat needs it: a "not needed yet" 0 is no weakness.
        needed = {c: [f["scores"][c] for f in feedback if c in words["expected"][f["beat"]]] for c in rubric.CRITERIA}
        averages = ", ".join(f"{words['criteria'][c].lower()} {sum(s) / len(s):.1f}/2" for c, s in needed.items() if s)
        parts.append(words["criteria_average"].format(averages=averages))
    parts.append(words["debrief_next"])
    choices = list(words["debrief_choices"])
    if memory.persona == words["harder"][memory.persona]:  # the hardest already: the same again, not "harder"
        choices = [words["again_same_choice"] if c == words["again_choice"] else c for c in choices]
    return _reply(memory, "\n\n".join(parts), choices)


def _short(line: str, limit: int = 160) -> str:
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def summary(memory: Rehearsal) -> str:
    """The feedback across turns, as Markdown (for the export and the web app's Script tab); after more than
    one role-play, each run under its manager, the latest first."""
    if not memory.earlier:
        return _notes(memory.feedback)
    words = _words()["runs"]
    runs = [(words["this"], memory.persona, memory.feedback)] if memory.feedback else []
    runs += [(words["earlier"], run["persona"], run["feedback"]) for run in reversed(memory.earlier)]
    return "\n\n".join(f"## {heading.format(persona=persona)}\n\n{_notes(feedback)}" for heading, persona, feedback in runs)


def _notes(feedback: list[dict]) -> str:
    out = []
    for f in feedback:
        out += [f"### {f['beat'].capitalize()}", f"> {f['line']}", "", coach_note(f), ""]
    return "\n".join(out).strip()


def actions(case: dict) -> list[str]:
    """What the person proposed: only the case items they gave (a skipped one is not invented)."""
    c = filled(case)
    proposed = []
    if case.get("defer"):
        proposed.append(f"- Defer {c['defer']} until {c['defer_until']}.")
    if case.get("delegate"):
        proposed.append(f"- Delegate {c['delegate']} to {c['delegate_to']}.")
    if case.get("tool"):
        proposed.append(f"- Set up drift monitoring with {c['tool']}, to cut the reactive firefighting.")
    if proposed and case.get("freed"):
        proposed.append(_words()["freed_action"].format(freed_clause=c["freed_clause"]))
    return proposed


def proposal_said(transcript: list[dict]) -> bool:
    """Whether the person got as far as proposing in the role-play (a line at the proposal or the close)."""
    return any(entry["who"] == "you" and entry.get("beat") in ("proposal", "close") for entry in transcript)


def outcome(transcript: list[dict]) -> str:
    """Where the role-play landed, from how the manager heard the proposal and the close: a manager who never
    heard the proposal is not said to have weighed it."""
    heard = [entry.get("heard") for entry in transcript if entry["who"] == "manager" and entry.get("heard")]
    words = _words()["email_outcome"]
    if heard and heard[-1] == "proposal":
        return words["agreed"]
    return words["open"] if proposal_said(transcript) else words["not_discussed"]


def follow_up_date(today: date | None = None) -> date:
    """A few weeks out, on a working day: not a weekend, nor the year-end break most teams take."""
    day = (today or date.today()) + timedelta(weeks=_words()["follow_up_weeks"])
    start, end = _words()["follow_up_break"]  # "12-24", "01-01": month-day, the break spanning the new year
    while day.weekday() >= 5 or not end < f"{day:%m-%d}" < start:
        day += timedelta(days=1)
    return day


def email(case: dict, *, transcript: list[dict] = (), today: date | None = None) -> str:
    """The follow-up email: what the person proposed and where the conversation landed, nothing else."""
    metric = f"the metric we discussed ({case['metric']})" if case.get("metric") else "the metrics we track"
    proposed = actions(case) or [_words()["email_no_proposal"]]
    said = list(transcript)
    intro = _words()["email_intro"]["proposed" if proposal_said(said) else "to_propose"]
    return template("rehearse_email").format(intro=intro, actions="\n".join(proposed), outcome=outcome(said),
                                             metric_short=metric,
                                             follow_up=follow_up_date(today).strftime("%A %d %B %Y")).strip() + "\n"


def ics(case: dict, *, today: date | None = None) -> str:
    """The follow-up meeting as an iCalendar file (icalendar escapes and folds every field), in the
    machine's time zone; a stable UID so downloading it again doesn't duplicate the meeting."""
    from icalendar import Calendar, Event

    when = follow_up_date(today)
    zone = local_zone()
    uid = hashlib.sha1(f"{when}{sorted(filled(case).items())}".encode()).hexdigest()[:16]
    calendar = Calendar()
    calendar.add("prodid", "-//Steady//Rehearse//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{uid}@steady.local")
    event.add("dtstamp", datetime.combine(today or date.today(), time(0, 0), tzinfo=UTC))
    event.add("dtstart", datetime.combine(when, time(10, 0), tzinfo=zone))
    event.add("dtend", datetime.combine(when, time(10, 30), tzinfo=zone))
    event.add("summary", _words()["ics_summary"])
    event.add("description", "\n".join(a.lstrip("- ") for a in actions(case)))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")


def local_zone() -> ZoneInfo:
    """This machine's named time zone (TZ, then /etc/localtime), UTC when it can't be told."""
    import os

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(os.path.realpath("/etc/localtime").split("zoneinfo/", 1)[1])
    except IndexError:
        pass
    for name in filter(None, candidates):
        try:
            return ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            continue
    return ZoneInfo("UTC")


# What a reply shows that the rehearsal's memory already holds: rendered for the reply, never stored
# with it (app/engine.py drops these from the stored message), so a turn stores the same few bytes
# however long the role-play runs.
DERIVED = ("feedback", "script", "summary", "email", "ics")


def documents(memory: Rehearsal) -> dict:
    """The rehearsal's documents as they stand: the case, the script once there is one, and after the
    debrief how it went, the follow-up email and its calendar entry."""
    docs = {"stage": memory.stage.value, "case": dict(memory.case)}
    if memory.stage in (Stage.SCRIPT, Stage.ROLEPLAY, Stage.DEBRIEF):
        docs["script"] = script(memory.case)
    if memory.stage is Stage.DEBRIEF or memory.earlier:  # an earlier run's feedback stays while the next goes on
        docs["summary"] = summary(memory)
    if memory.stage is Stage.DEBRIEF:
        docs.update(email=email(memory.case, transcript=memory.transcript), ics=ics(memory.case))
    return docs


def _state(memory: Rehearsal) -> dict:
    return {"flow": "rehearse", "persona": memory.persona, "beat": memory.beat,
            "feedback": list(memory.feedback), **documents(memory)}


def _reply(memory: Rehearsal, text: str, choices: list[str]) -> Reply:
    return Reply(mode="rehearse", text=text, choices=choices, state=_state(memory))


def export(memory: Rehearsal) -> str:
    """The script, the transcript with feedback and the email, as Markdown."""
    parts = [script(memory.case)]
    if memory.transcript:
        lines = ["## Rehearsal transcript", ""]
        notes = iter(memory.feedback)
        for entry in memory.transcript:
            who = "Manager" if entry["who"] == "manager" else "You"
            lines += [f"**{who}:** {entry['text']}", ""]
            if entry["who"] == "you":
                lines += [coach_note(next(notes)), ""]
        parts.append("\n".join(lines))
    runs = _words()["runs"]
    parts += [f"## {runs['earlier'].format(persona=run['persona'])}\n\n{_notes(run['feedback'])}"
              for run in reversed(memory.earlier)]
    if memory.stage is Stage.DEBRIEF:
        parts.append("## Follow-up email\n\n" + email(memory.case, transcript=memory.transcript))
    return "\n\n".join(parts)
