"""Health symptoms in a message (sleep, chest pain, panic attacks, not eating, drinking to cope...).

They earn one gentle nudge toward a professional per session, never a diagnosis. Patterns, not a
learned model: symptom words have little variety, and a miss costs a nudge, not safety. Written
against `app.text.plain` (accents and apostrophes dropped: "can't sleep" → "cant sleep").
"""

from __future__ import annotations

import re

from app.text import plain


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts))


_HEALTH = _rx(
    r"\binsomnia\b|\b(?:cant|cannot|can not|couldnt|unable to|havent been able to|struggl\w* to|trouble|hard to|difficulty|can barely|can hardly) (?:fall(?:ing)? |get(?:ting)? to |stay(?:ing)? )?(?:sleep|sleeping|asleep)\b",
    r"\b(?:havent|hardly|barely|not|haven't) (?:been )?(?:slept|sleeping)\b|\bsleep(?:ing)? (?:\w+ )?(?:\d+|two|three|four|a few|few) (?:hours|hrs|hr|h)\b|\b(?:havent|hasnt|not|barely|hardly) (?:eaten|been eating|had (?:a |any )?(?:proper |real |decent )?(?:meal|food))\b",
    # How badly, not only how little: "sleeping badly", "my sleep is shot", "5 hrs of sleep".
    r"\b(?:sleep|sleeping|slept|sleeps) (?:so |really |very |super |pretty |incredibly |quite )?(?:badly|poorly|terribly|horribly|awfully|like (?:crap|shit|garbage))\b",
    r"\b(?:bad|poor|terrible|awful|horrible|broken|crap|shit|no|zero) sleep\b|\bmy sleep (?:is |has been |was )?(?:\w+ )?(?:shot|wrecked|ruined|a mess|terrible|awful|gone|destroyed|broken)\b",
    r"\b(?:[1-5](?:\.\d)?|two|three|four|five) ?(?:hours|hrs|hr|h) (?:of )?sleep\b",  # 12 hours of sleep is a wish
    r"\b(?:lie|lying|lay|laying) awake\b|\bawake (?:until|till|at) (?:\d|dawn|morning)",
    r"\bwak(?:e|ing) up (?:at )?(?:\d|every night|in the middle of the night|at night|in a panic|drenched|sweating|with my heart)",
    r"\bchest (?:gets |is |feels |goes |getting )?(?:pain|pains|tightness|tight|hurts|pressure|heavy)\b|\bpains? in my chest\b|\btight(?:ness)? (?:in my )?chest\b",
    r"\bheart (?:keeps |is |was |keeps on )?(?:racing|races|raced|pounding|pounds|palpitations|skipping beats|skips beats|beats too fast)\b|\bpalpitations\b",
    r"\b(?:panic|anxiety) attacks?\b|\b(?:cant|cannot|couldnt) breathe\b|\bshort(?:ness)? of breath\b",
    r"\b(?:cant|cannot|havent been able to|stopped|not|barely|hardly|forget to|forgetting to) (?:eat|eating)\b|\bno appetite\b|\blost my appetite\b|\bskipping meals\b",
    r"\blost (?:\d+ ?)?(?:kg|kilos|pounds|lbs|so much weight|weight)\b|\bstarving myself\b",
    r"\bdrink(?:ing)? (?:to cope|every night|more|too much|alone|to sleep|to get through|to numb|to calm down|to switch off)\b|\bneed a drink to\b|\b(?:glass|glasses|bottle|drinks?|beers?|wine|whisky|vodka)\b[^.!?|]{0,40}\b(?:every night|each night|to (?:calm down|cope|sleep|switch off|get through|relax|numb))\b",
    r"\b(?:constant|daily|every day|splitting|tension|getting|having|have) (?:\w+ )?(?:headaches|migraines)\b|\bmigraines?\b",
    r"\b(?:dizzy|dizziness|fainted|numbness|tingling)\b|\bhands (?:are |keep |wont stop )?(?:shaking|trembling)\b",
    r"\b(?:keep|kept|been|cant stop) crying\b|\bcry(?:ing)? (?:every day|myself to sleep|in the (?:car|bathroom|shower|toilet))\b",
    r"\b(?:feel|feeling|felt|think im|i might be|i am|im) (?:so |really |very |deeply )?(?:depressed|numb all the time|hopeless all the time)\b|\bmy (?:anxiety|depression)\b",
    r"\b(?:stomach|gut) (?:problems|issues|pain|cramps|aches?)\b|\b(?:feel|feeling) (?:physically )?(?:sick|nauseous)\b|\bthrow(?:ing)? up\b|\bvomit\w*",
    r"\bblood pressure\b|\b(?:eye|eyelid) (?:twitch\w*)\b|\bnightmares\b|\b(?:grinding|clench\w*) my (?:teeth|jaw)\b|\bjaw (?:hurts|pain|aches?)\b|\bhair (?:is )?falling out\b|\b(?:sleeping pills|antidepressants)\b",
    # French
    r"\binsomnies?\b|\b(?:n arrive|arrive) (?:plus|pas) a (?:dormir|manger)\b|\bje (?:ne )?dors (?:plus|pas|mal)\b",
    r"\bdouleurs? (?:a la |dans la |thoraciques?)(?:poitrine)?\b|\bcrises? (?:d angoisses?|de panique)\b",
    r"\bcoeur (?:qui )?(?:s emballe|bat (?:trop |tres )?vite)\b|\b(?:plus|pas) d appetit\b|\bje bois (?:pour|tous les soirs|trop)\b",
    # Spanish
    r"\binsomnio\b|\bno (?:puedo|consigo|logro) (?:dormir|comer)\b|\bno duermo\b|\bdolor (?:en el|de) pecho\b",
    r"\b(?:ataques?|crisis) de (?:panico|ansiedad)\b|\bcorazon (?:se me )?(?:acelera|late muy rapido)\b|\btaquicardia\b",
    r"\bsin apetito\b|\bhe perdido el apetito\b|\bbebo (?:para|cada noche|todas las noches|demasiado)\b",
    # German
    r"\bschlaflos\w*|\bschlafstorung\w*|\bkann (?:\w+ ){0,3}?(?:nicht|kaum) (?:mehr )?(?:ein|durch)?schlafen\b",
    r"\bbrustschmerz\w*|\bschmerzen in der brust\b|\bpanikattacke\w*|\bangstattacke\w*|\bherzrasen\b|\bherzstolpern\b",
    r"\bkann (?:nicht|kaum) (?:mehr )?essen\b|\bkeinen appetit\b|\bappetitlos\w*|\btrinke (?:jeden abend|um|zu viel|mehr)\b",
)


def mentions_health(text: str) -> bool:
    return bool(_HEALTH.search(plain(text)))
