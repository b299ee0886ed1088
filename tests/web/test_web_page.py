"""The page itself in a real browser: axe-core on every journey's screens, phones that don't scroll
sideways, the keyboard's focus, formatted sources, an honest chart and readable History titles."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from webpage import (
    ARTIFACTS,
    BOTS,
    DESKTOP,
    INPUT,
    PHONE,
    axe,
    check_in,
    click_choice,
    open_app,
    open_tab,
    screenshot,
    send,
    sideways_scroll,
)

from app.prompts import texts

BLOCKING = {"serious", "critical"}
QUESTION = "Should I quit or transfer to another team?"


def _screens(page):
    """Each journey's screens in turn, yielding a name once the page shows it."""
    open_app(page, page.url)
    yield "landing"
    send(page, QUESTION)
    open_tab(page, "sources")
    page.locator("#steady-sources summary").first.click()
    yield "source-opened"
    check_in(page)
    yield "check-in-result"
    click_choice(page, "Rehearse the 1:1")
    send(page, "about 62 hours")
    click_choice(page, "Skip the rest, show my script")
    yield "script-and-case"
    click_choice(page, "Practise with a skeptical manager")
    send(page, "I've just got way too much on my plate and it isn't sustainable.")
    yield "role-play-turn"
    open_tab(page, "history")
    page.locator("#steady-history label").first.click()
    yield "history"


def test_axe_finds_no_serious_or_critical_violation_on_any_screen(browser, shared_server) -> None:
    report: dict[str, dict[str, int]] = {}
    blocking = []
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=viewport).new_page()
        page.goto(shared_server.url)
        for screen in _screens(page):
            found = axe(page)
            blocking += [(name, screen, v["id"], v["nodes"][:3]) for v in found if v["impact"] in BLOCKING]
            counts = report.setdefault(f"{name}/{screen}", {})
            for v in found:
                counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
        page.context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=2))
    print("\naxe-core findings below serious, by screen:", json.dumps(report))
    assert blocking == []


@pytest.mark.parametrize("width", [360, 390, 430])
def test_a_phone_page_never_scrolls_sideways(browser, shared_server, width: int) -> None:
    page = browser.new_context(viewport={"width": width, "height": 844}).new_page()
    page.goto(shared_server.url)
    for screen in _screens(page):
        assert sideways_scroll(page) == 0, f"{screen} at {width} px"
        # Every tab is still one tap away (none folded into an overflow menu).
        expect(page.locator("#tab-history-button")).to_be_visible()
    page.context.close()


def test_the_keyboard_stays_in_the_message_box_and_never_lands_on_hidden_controls(browser, shared_server) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    open_app(page, shared_server.url)
    expect(page.locator('#steady-chat [role="log"][aria-live="polite"]')).to_have_count(1)  # new replies are read out
    click_choice(page, "Check in")
    page.wait_for_function("() => document.activeElement === document.querySelector('#steady-input textarea')")
    page.keyboard.type("the hours are endless")  # typing goes straight on, no click needed
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('{BOTS}').length === 2")
    expect(page.locator(BOTS).nth(1)).not_to_be_empty()
    page.wait_for_function("() => document.activeElement === document.querySelector('#steady-input textarea')")
    # Tab through the whole page: every stop is a visible control with a name.
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
            const name = e.getAttribute('aria-label') || e.innerText || e.getAttribute('placeholder') || e.labels?.[0]?.innerText || '';
            return {tag: e.tagName, name: name.trim().slice(0, 40), w: r.width, h: r.height}; }"""))
    stops = [s for s in stops if s["tag"] != "BODY"]  # past the last control the browser's own UI has focus
    assert stops and all(s["w"] > 0 and s["h"] > 0 for s in stops), [s for s in stops if not s["w"] or not s["h"]]
    assert all(s["name"] for s in stops), [s for s in stops if not s["name"]]
    assert any(s["name"] == "Check in" or s["name"].startswith("That's enough") for s in stops)  # quick replies


def test_an_opened_source_reads_as_formatted_text_with_the_quote_marked(browser, shared_server) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    open_app(page, shared_server.url)
    answer = send(page, "How do I bring up burnout with my manager without it sounding like complaining?")
    quote = answer.split("“", 1)[1].split("”", 1)[0]
    open_tab(page, "sources")
    source = page.locator("#steady-sources details.steady-source").first
    source.locator("summary").click()
    passage = source.locator(".steady-passage")
    expect(passage).to_be_visible()
    shown = passage.inner_text()
    assert "**" not in shown and not re.search(r"^\s*[-#] ", shown, re.M)  # no Markdown syntax on show
    marked = " ".join(passage.locator("mark").all_inner_texts())
    assert re.sub(r"\s+", " ", marked).strip().rstrip(".") in quote  # the quoted words, and only those
    assert len(marked) > 20
    screenshot(page, "source-formatted")


def test_the_chart_shows_what_was_heard_on_a_stated_scale(browser, shared_server) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    open_app(page, shared_server.url)
    click_choice(page, "Check in")
    send(page, "the hours are brutal and I keep getting pulled into cleaning data")
    chart = page.locator("#steady-checkin")
    bars = chart.locator(".steady-bar")
    expect(bars.first).to_be_attached()  # the chart grows as we talk
    names = texts("web")["checkin"]["pressures"]
    drawn = [bars.nth(i).get_attribute("data-pressure") for i in range(bars.count())]
    assert "workload" in drawn and "scope_creep" in drawn
    assert len(drawn) <= 4, drawn  # what was raised, not every pressure with a trace of a score
    points = [int(bars.nth(i).get_attribute("data-points")) for i in range(bars.count())]
    assert points == sorted(points, reverse=True)
    for i in range(bars.count()):  # each level in words and as points on the stated scale
        assert re.fullmatch(r"[a-z ]+, \d{1,2}/10", bars.nth(i).locator(".steady-bar-value").inner_text())
    quiet = chart.locator("details.steady-quiet")
    expect(quiet.locator("p")).to_be_hidden()  # the rest folded away
    quiet.locator("summary").click()
    folded = quiet.locator("p").inner_text().split(", ")
    assert sorted(folded) == sorted(names[pid] for pid in names if pid not in drawn)
    open_tab(page, "checkin")
    screenshot(page, "checkin-chart")


def test_history_titles_end_on_a_whole_word_and_the_first_quick_replies_fit(browser, shared_server) -> None:
    page = browser.new_context(viewport=DESKTOP).new_page()
    open_app(page, shared_server.url)
    labels = page.locator("#steady-quick button:visible").all_inner_texts()
    assert "Ask a question" in labels and "Ask another question" not in labels  # nothing was asked yet
    first = "Everything I build at work feels pointless lately and I am not sure why it keeps happening"
    send(page, first)
    assert "Ask another question" in page.locator("#steady-quick button:visible").all_inner_texts()
    open_tab(page, "history")
    title = page.locator("#steady-history label").first.inner_text().split(" · ")[0]
    assert title.endswith("…") and first.startswith(title[:-1].rstrip())
    assert first[len(title[:-1].rstrip())] == " "  # the cut falls between two words
    assert not page.locator(INPUT).input_value()
