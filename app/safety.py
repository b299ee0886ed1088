"""Crisis routing and the health nudge: run on every message, before any flow sees it.

How a message is judged, in order:
1. Normalise: casefold, strip accents, drop apostrophes ("don't" -> "dont", "j'ai" -> "jai"),
   straighten quotes, spell out texting shorthand ("wanna" -> "want to", "n" -> "and"), collapse
   whitespace. Every pattern below is written against that form.
2. Neutralise: blank out phrases that look like danger but are not — idioms and hyperbole ("killing
   myself to hit this deadline", "so tired I could die", "this sprint is suicide"), ML jargon
   ("suicide detection dataset", "kill them" after a process word) and negated intent ("I'm not
   suicidal"). Only the matched phrase is blanked, so a message holding an idiom *and* a real signal
   is still a crisis. Negation is narrow: doubt ("I'm not sure I want to live") is a signal.
3. Patterns on what is left, written as phrase families rather than sentences: explicit (suicide,
   self-harm, means and methods), threats to others, indirect signals (no point in living, better off
   without me, burden, wishing not to wake up...), in English, French, Spanish, German, Portuguese and
   Italian. Farewell-like phrasing is tiered, because work talk uses the same words: finality ("done
   with everything, for good") counts unless the message is about leaving a job or a trip; a farewell
   ("I've made peace with it") counts alone only when the message names no work thing; a resolve
   ("I'm ready to go") needs a second cue.
4. If nothing matched and an embedder is given: the neutralised text, without the fragments a blank
   leaves behind, is compared with a bank of crisis exemplars and a bank of look-alike "calm" ones
   from prompts/safety.yaml (one embed_query). It is a crisis when the nearest crisis exemplar is at
   least THRESHOLD similar and nearer than any calm one. A long message also gets up to MAX_CLAUSES
   first-person clauses compared in one batch, so a signal inside work talk is not diluted; a clause
   must clear CLAUSE_THRESHOLD and beat the calm bank by CLAUSE_MARGIN. The bank's vectors are kept
   beside the model file, so only the first process after a bank change pays for embedding it.
Health symptoms (sleep, chest pain, panic attacks, not eating, drinking to cope...) set `health`
independently; the engine shows the nudge only when there is no crisis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.prompts import texts

log = logging.getLogger(__name__)

# Chosen on the tuning two thirds of evals/crisis/messages.yaml and blind.yaml together
# (`python -m evals.crisis.metrics --sweep`). Whole message: 0.49 was the lowest with no false positive
# there, and a development list of work look-alikes was clean from 0.51, so 0.52 adds one step of
# margin. Clause: 0.46 was the lowest, but a clause is short and noisy and the tuning recall is flat
# from 0.46 to 0.62, so it keeps a wider margin.
THRESHOLD = 0.52
CLAUSE_THRESHOLD = 0.58
# A clause is short, so it resembles something in either bank; it counts only when it wins clearly.
# Every clause-only catch in the labelled sets wins by 0.16 or more; work look-alikes such as "I keep
# thinking about the people it hurts" (an ethics worry) win by a few hundredths.
CLAUSE_MARGIN = 0.10


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> list[float]: ...


@dataclass(frozen=True)
class Assessment:
    crisis: bool
    health: bool
    kind: str  # why, for the operator: explicit | indirect | threat_to_others | similar_to_crisis | health | idiom | negated | none
    score: float  # 1.0 for a pattern match, else the nearest crisis exemplar's cosine (0.0 without embedder)


_MARKS = str.maketrans({
    "'": "", "\u2019": "", "\u2018": "", "\u02bc": "", "`": "", "\u00b4": "",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o",
})


_ELISION = re.compile(r"\b(qu|[cdjlmnst])['\u2019](?=[a-z])")  # French "j'ai", "d'en", "l'interet"


# Texting shorthand, spelled out so one pattern (and the English embedding model) covers both forms.
_SHORTHAND = {
    "wanna": "want to", "gonna": "going to", "tryna": "trying to", "gotta": "have to", "n": "and", "&": "and",
    "u": "you", "ur": "your", "ppl": "people", "bc": "because", "cuz": "because", "coz": "because",
    "idk": "i dont know", "rn": "right now", "tmrw": "tomorrow", "tmr": "tomorrow", "nite": "night",
    "every1": "everyone", "any1": "anyone", "some1": "someone", "no1": "no one",
}
_SHORTHAND_RX = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(k) for k in sorted(_SHORTHAND, key=len, reverse=True)) + r")(?![\w'])")


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _SHORTHAND_RX.sub(lambda m: _SHORTHAND[m.group(0)], plain)
    return " ".join(_ELISION.sub(r"\1 ", plain).translate(_MARKS).split())


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts))


# Words that make the rest of a clause about something else; a pattern ends where one begins.
_END = r"(?=\s*(?:$|[.!?,;:|)\"]|and\b|but\b|so\b|because\b|anymore\b|any ?more\b|honestly\b|sometimes\b|lately\b|tbh\b))"
_PEOPLE = (r"(?:my |the |that |this |our |those |these |a |some )?(?:manager|boss|team ?lead|tech ?lead|lead|supervisor"
           r"|co ?workers?|co-workers?|colleagues?|teammates?|team|ceo|cto|cfo|vp|director|pm|product manager|hr"
           r"|recruiters?|intern|reviewers?|clients?|customers?|people|everyone|everybody|someone|somebody|anyone"
           r"|anybody|guy|woman|man|him|her|them)"
           r"|my (?:wife|husband|partner|girlfriend|boyfriend|kids?|children|family|mother|father|mom|mum|dad"
           r"|brother|sister|son|daughter|ex|roommate|flatmate|neighbou?r)")
_NOT_A_PERSON = r"(?!\s*(?:time|times|chances|morale|feelings|plans?|project|proposal|numbers|budget|roadmap|reputation|career|velocity|code|model|pipeline|prs?|email|metrics?|okrs?|deadline|schedule|ego|process\w*|jobs?|runs?|workers?|nodes?|pods?|threads?|containers?|instances?|servers?|branch\w*|scripts?)\b)"
_VIOLENCE = (r"(?:kill|killing|murder|murdering|hurt|hurting|harm|harming|stab|stabbing|shoot|shooting|strangle|strangling"
             r"|choke|choking|punch|punching|attack|attacking|assault|assaulting|poison|poisoning|beat up|beating up"
             r"|run over|slap|slapping|smash \w+ face in)")

# Idioms, jargon and negations: blanked before the crisis patterns run.
_IDIOM = _rx(
    r"\bkilling myself (?:over|for|on|to|trying|working|with|at|studying|grinding)\b",
    r"\b(?:nearly |almost )?kill(?:ed|ing)? myself (?:laughing|working)\b",
    r"\bshoot(?:ing)? myself in the foot\b",
    r"\bshoot (?:me|him|her|them|you|us|\w+ \w+|\w+) (?:an? |the |over )?(?:quick )?(?:email|e-mail|mail|message|dm|note|text|ping|line|invite|slack)",
    r"\bcut(?:ting)? myself (?:some slack|a break|off)\b",
    r"\bburn(?:ing|ed|t)? myself out\b",
    r"\bhurt myself (?:at|while|lifting|playing|running|skiing|cycling|climbing|in a|on the|during)\b",
    r"\b(?:die|dying|died) (?:on|upon) (?:this|that|the|a) hill\b|\bmakes? me want to jump out (?:of )?(?:a|the) window\b",
    r"\b(?:is|are|its|was|were|been|be|keeps?) (?:\w+ )?killing me\b|\bdying (?:to|for)\b|\bdead (?:tired|end|code|on arrival)\b|\b(?:would|could|d) kill for\b|\bcould murder\b",
    # Hyperbole whose subject is tiredness or a thing: "so tired I could die", "my motivation died".
    r"\b(?:so|too) (?:\w+ ){1,3}(?:that )?i could (?:just |literally )?die\b(?!\s+(?:and|if|tonight|right now|for real)\b)",
    r"\bmy (?:motivation|soul|laptop|phone|battery|brain|enthusiasm|passion|interest|inbox|social life|creativity|patience|headphones|keyboard|plant|car) (?:has |just |finally |slowly |basically )?(?:died|is dead|is dying)\b",
    r"\bat the end of my (?:rope|tether)\b",
    r"\b(?:sleep|stay asleep|hibernate) (?:until|till|til) (?:monday|the weekend|friday|next week|next year|spring|noon|the launch|it ships)\b|\bliving out of (?:a |my )?(?:suitcase|boxes|hotels?|backpack)\b",
    r"\bkill(?:ed|ing|s)? (?:-9 |the |this |that |my |our |a |all |off )*(?:\w+ )?(?:runs?|jobs?|process\w*|pods?|containers?|kernels?|workers?|features?|branch\w*|experiments?|sweeps?|sessions?|tasks?|it)\b",
    r"\b(?:want(?:ed)? to |wanna )?die (?:of|from) (?:embarrassment|shame|boredom|laughter|laughing|cringe)\b|\blaugh\w* so hard (?:that )?i (?:thought i d|thought id|could|nearly|almost) die\w*",
    r"\boverdos\w* on (?:coffee|caffeine|espresso|sugar|energy drinks|memes|papers|podcasts|content)\b",
    r"\b(?:tak(?:e|es|ing)|took) my (?:whole )?life (?:away|from me)\b",
    r"\bdisappear(?:ing)? (?:for (?:a|the|two|three|few|couple)|on (?:a |holiday|vacation)|to (?:a|the|my)|into (?:a|my|the)|off the grid)",
    r"\bdont want to wake up (?:early|at|for|before)\b",
    r"\bgiv\w* (?:away )?(?:all )?my (?:things|stuff|belongings|possessions)(?: away)? (?:before|because|since|as) (?:the |my |our |we |i )?(?:move|moving|relocat\w*|downsiz\w*|declutter\w*|emigrat\w*|am moving|m moving)",
    r"\b(?:wont|not) be (?:here|around)\b[^.!?|]{0,50}\b(?:contract|notice|leaving|quit\w*|resign\w*|new (?:job|role)|transfer\w*|moving|relocat\w*|vacation|holiday|leave|pto|offsite)",
    # Hyperbole about a task: the thing is "suicide", a long sleep is what tiredness wants.
    r"\b(?:career|professional|political|social|commercial|corporate|reputational|academic) suicide\b",
    r"\b(?:this|that|it|its|which|the \w+|this \w+|that \w+) (?:is|was|would be|will be|sounds like|feels like|seems like|looks like) (?:\w+ )?suicide\b"
    r"(?!\s+(?:is|was|would|seems|feels|note|letter|plan|attempt|hotline|line|again|to me)\b)",
    r"\bcould (?:\w+ )?sleep (?:forever|for (?:a|days|weeks|ages|\w+ (?:days|weeks|hours)))\b",
    # ML and moderation work: the words name a topic or a process, not the person.
    r"\b(?:process\w*|threads?|workers?|jobs?|pods?|containers?|daemons?|child(?:ren)?|nodes?|services?|apps?|models?|runs?)\b[^|]{0,20}\bcommit\w* suicide\b",
    r"\bsuicide (?:squeeze|mission|burn|run|pact (?:movie|film|episode)|detection|prevention|classifier|risk model|dataset|data|moderation|content|posts?|notes? dataset|related|ideation (?:classifier|detection|dataset|labels?))\w*",
    r"\bself[- ]?harm (?:classifier|detection|content|dataset|data|images|posts|policy|policies|labels?|moderation|category|filter)\w*",
    r"\b(?:process|processes|pods?|jobs?|runs?|containers?|workers?|threads?|daemons?|instances?|tasks?|nodes?|sessions?|kernels?|servers?|zombies?|children|child processes|replicas?|vms?)\b[^|]{0,80}?\bkill(?:ing)? (?:them|it|him|her|all of them)\b",
    # French, Spanish, German idioms that share words with the signals.
    r"\bme tuer a la tache\b|\bmourir (?:de|d) (?:honte|rire|faim|ennui|fatigue|envie)\b",
    r"\bmorir(?:me)? de (?:la )?(?:verguenza|risa|ganas|hambre|sueno|aburrimiento|calor|frio)\b",
    r"\b(?:me estoy matando|matarme|me mato) (?:a |trabajando|estudiando|por)",
    r"\b(?:wird|wurde|werden) mich (?:noch )?umbringen\b",
)
# Not after doubt: "I can't promise I won't hurt myself" is a signal.
_NEG = (r"(?<!promise )(?<!promise i )(?<!guarantee )(?<!guarantee i )(?<!sure )(?<!sure i )(?<!swear i )"
        r"(?:not|never|no longer|dont|doesnt|wont|wouldnt|isnt|aint|id never|ill never|i never|no way (?:i|id|im)|nor)")
_NEGATED = _rx(
    _NEG + r"(?:\s+(?:really|actually|ever|even|be|being|at all|remotely|currently|want(?:ing)? to|wanna|going to|gonna"
    r"|planning (?:to|on)|plan to|trying to|try to|thinking (?:about|of)|about to|intend(?:ing)? to|do anything to|have any"
    r"|had any|having|have|had|get|feel|feeling|to|i|im|am|a|in any danger of))*\s+(?:suicidal|suicide|kill(?:ing)? (?:myself|anyone|anybody|"
    + _PEOPLE + r")|hurt(?:ing)? (?:myself|anyone|anybody|" + _PEOPLE + r")|harm(?:ing)? (?:myself|anyone|anybody|"
    + _PEOPLE + r")|self[- ]?harm\w*|end(?:ing)? my (?:own )?life|tak(?:e|ing) my (?:own )?life|die|dying|do anything (?:stupid|drastic|silly|dangerous))\b",
    r"\bno (?:suicidal |dark )?(?:thoughts|intentions?|plans?|desire|urge) (?:of|to|about) (?:killing|hurting|harming|ending|suicide|self[- ]?harm|dying)\w*(?: (?:myself|my life|anyone))?\b",
    r"\bno suicidal (?:thoughts|ideation|feelings|intent)\b",
    r"\b(?:suicidal|suicide|self[- ]?harm\w*|hurt(?:ing)? myself|kill(?:ing)? myself)\s*[?:,-]?\s*(?:no|nope|nah|never|not really|not at all)\b(?!\s+(?:one|longer|reason|point|way|idea|matter))",
    r"\b(?:never|didnt|did not|dont|do not) (?:say|said|mean|meant) (?:that )?i (?:want(?:ed)? to|would|was going to|will) (?:kill myself|die|hurt myself|end (?:it|my life))\b",
    # French, Spanish, German.
    r"\b(?:pas|jamais) (?:du tout )?(?:suicidaire|(?:envie de |l intention de |me )?(?:me tuer|me suicider|mourir|me faire du mal))\b",
    r"\bno (?:soy|estoy|me siento) (?:suicida|con ideas suicidas)\b",
    r"\bno (?:voy a|quiero|pienso|tengo intencion de|tengo ganas de) (?:matarme|suicidarme|hacerme dano|morir(?:me)?|quitarme la vida)\b",
    r"\bno tengo (?:pensamientos|ideas) suicidas\b",
    r"\bnunca (?:me )?(?:haria dano|mataria|suicidaria|me quitaria la vida)\b",
    r"\b(?:nicht|nie|niemals) (?:\w+ ){0,2}(?:suizid\w*|selbstmord\w*|umbringen|sterben|antun)\b",
    r"\bkeine (?:suizid|selbstmord)\w*\b",
)

_EXPLICIT = _rx(
    r"\bsuicid\w*|\b(?:selbstmord|suizid)\w*",
    r"\b(?:took|taken|swallowed|just took|have taken)\b[^.!?|]{0,12}\b(?:a bunch of|all (?:of )?(?:my|the)|a lot of|a handful of|handfuls of|the whole (?:bottle|pack|packet|box) of|too many|loads of|\d{2,}) (?:\w+ ){0,2}?(?:pills|tablets|painkillers|meds|paracetamol|tylenol)\b",
    r"\b(?:thinking (?:about|of)|thought (?:about|of)|want to|wanted to|urge to|considering|almost|going to|gonna) jump(?:ing)?\b(?!\s+(?:ship|to|into|on|at|in|back|the gun|through|straight|off (?:the|this|a) (?:call|meeting|project)))",
    r"\b(?:stood|standing|sat|sitting) on (?:the|a) (?:ledge|edge of (?:the|a) (?:roof|building|cliff|bridge|platform))\b",
    r"\b(?:kill(?:ing|ed)?|off(?:ing)?|top(?:ping)?) myself\b",
    r"\bdo(?:ing)? myself in\b",
    r"\b(?:want to|wanna|gonna|going to|about to|should|might|will|could just) kms\b",
    r"\bunalive\w*",
    r"\b(?:end|ending|ended|take|taking|took) my (?:own )?life\b",
    r"\b(?:want(?:ed|ing)? to|wanna|ready to|deserve to|wish i could|wish i would|hope i|i just) die\b",
    r"\bwant(?:ed|ing)? to be dead\b|\bwish i (?:was|were|could be) dead\b|\bbetter off dead\b",
    r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning) myself\b",
    r"\bself[- ]?(?:harm\w*|injur\w*|mutilat\w*)",
    r"\b(?:hang|hanging|shoot|shooting|drown|drowning|poison|poisoning|stab|stabbing|gas|gassing) myself\b",
    r"\b(?:slit|slitting|cut|cutting|open|opening) (?:my|both) wrists\b",
    r"\b(?:overdos\w*|od on (?:my |the )?(?:pills|meds)|lethal dose)\b",
    r"\b(?:jump|jumping|throw myself|throwing myself|step|stepping|walk|walking)(?: off| from| in front of| into)+ (?:a |the |my |an )?(?:\w+ ){0,2}?(?:bridge|roof|rooftop|building|balcony|cliff|window|train|bus|truck|lorry|traffic|tracks|river|sea)\b",
    r"\b(?:drive|driving|crash|crashing|steer|steering|swerv\w*) (?:my car |the car )?(?:into|off) (?:a |the )?(?:\w+ )?(?:wall|tree|bridge|cliff|traffic|river|road|truck|lorry)\b",
    r"\b(?:put|putting) a bullet (?:in|through) my\b|\bblow my brains out\b",
    r"\bend(?:ing|ed)? it all\b",
    r"\b(?:thinking (?:about|of)|thought (?:about|of)|going to|gonna|want to|wanna|plan(?:ning)? to|ready to|considering|decided to|is to|only way to|how to|feel like|tempted to|close to|urge to|might) end(?:ing)? (?:things|it|everything)\b(?!\s+(?:with|at|on|for|early|now and))",
    # Means and methods, however casually put: the person measuring, saving, holding or eyeing them.
    r"\bhow (?:many|much) (?:\w+ ){0,2}?(?:pills|tablets|meds|medication|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|insulin|sleeping pills|xanax|benzos|painkillers|opioids|oxy)\b[^.!?|]{0,30}\b(?:would|it takes|to (?:die|end|kill|not wake|overdose|od)|lethal|fatal|kill|enough)\b",
    r"\b(?:look\w*|googl\w*|search\w*|research\w*|read\w*|check\w*|wonder\w*|calculat\w*|figur\w*) (?:up |about |out )?how (?:many|much) (?:\w+ ){0,2}?(?:pills|tablets|meds|medication|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|insulin|sleeping pills|xanax|benzos|painkillers|opioids|oxy)\b",
    r"\bcount\w* (?:out )?(?:all )?(?:my |the |out )?(?:pills|tablets|meds|medication|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|insulin|sleeping pills|xanax|benzos|painkillers|opioids|oxy)\b",
    r"\b(?:thinking (?:about|of)|think about|thought about|want to|going to|urge to|tempted to|could|might|should|planning to|about to|ready to) (?:just )?(?:take|taking|swallow\w*|down\w*) (?:all|every|the whole|a whole|the rest|a bottle|a handful)\b",
    r"\b(?:check\w*|look\w* up|wonder\w*|figur\w*|googl\w*|measur\w*|calculat\w*|know|knew|think\w* about|thought about) how (?:high|tall|far (?:down|up)?|deep|long the drop|far the drop) (?:up )?(?:the |that |this |our |my |a |it is (?:from |off )?(?:the |that |our )?)?(?:\w+ ){0,2}?(?:bridge|roof|rooftop|building|garage|balcony|ledge|cliff|floor|tower|overpass|drop|fall)\b",
    r"\b(?:bridge|roof|rooftop|ledge|balcony|train tracks|railway|rail tracks|train|subway|cliff|overpass|parking garage|river|lake|highway|traffic|pills|rope|noose|knife|gun|razor|blade)\b[^.!?|]{0,40}\b(?:looks? (?:\w+ )?(?:tempting|inviting|peaceful|like an? (?:option|answer|way out|solution|escape))|tempt\w*|inviting|call\w* (?:to )?me|pull\w* me)\b",
    r"\btempt\w* (?:by|to (?:jump|step|walk|drive|swerve|take|use|drown|let go))\b",
    r"\b(?:rope|noose|pills|knife|blade|razor|gun|pill bottle|bottle of pills)\b[^.!?|]{0,40}\b(?:keep|kept|cant stop|been|always|often) (?:looking at|staring at|thinking about|holding|touching|checking|taking out) (?:it|them)\b",
    r"\b(?:knife|blade|razor|scissors|shard|glass|lighter|cigarette|needle)\b[^.!?|]{0,15}\b(?:to|on|against|across|into|over) my (?:wrists?|arms?|skin|throat|neck|thighs?|legs?|stomach)\b",
    r"\b(?:stood|standing|stand|stepp?\w*|lean\w*|closer|close|walk\w*|sat|sitting|sit|hang\w*) (?:\w+ ){0,4}?(?:on|to|at|near|over|by|toward|towards) (?:the )?(?:ledge|edge of (?:the |a |my )?(?:\w+ )?(?:platform|roof|rooftop|bridge|cliff|building|balcony|tracks|overpass|garage))\b",
    r"\bplan\w* (?:out )?(?:how|when|where) (?:id|i would|ill|i will|im going to|i could) (?:do it|go|end it|end things|die|kill myself)\b",
    r"\b(?:know|knew|figured out|worked out|decided|picked|chosen|thought about|think about|thinking about) (?:exactly )?(?:how|when|where) (?:id|i would|ill|i will|im going to|i am going to) (?:do it|end it|end things|die|go)(?=\s*(?:$|[.!?,;|]|and\b|but\b|now\b|already\b))",
    r"\b(?:burn(?:ed|t|ing)?|scald\w*|carv\w*|bruis\w*) myself\b(?!\s+(?:out|on (?:the|a|my) (?:stove|oven|pan|kettle|iron|coffee|tea)|while|cooking|by accident|accidentally|making)\b)",
    r"\b(?:hit|hitting|punch\w*|scratch\w*|slap\w*|bang\w*) (?:myself|my head)\b[^.!?|]{0,30}\b(?:on purpose|again|to feel|until|till|so hard|over and over|to punish|when)\b",
    r"\b(?:relaps\w*|back) (?:on |into |to )?(?:cutting|self[- ]?harm\w*|hurting myself)\b",
    r"\b(?:sat|sitting|sit|stood|standing|lay|lying|hour|hours|night)\b[^.!?|]{0,40}\bwith (?:a |the |my )?(?:razor|blade|noose|gun|bottle of pills|pills|rope(?! access| team| course))\b",
    r"\bwhat happens (?:to (?:your|the|a|my) body (?:when|if) (?:you|i|someone|a person) (?:jump|fall)|(?:when|if) (?:you|i|someone|a person) (?:overdose|hang|drown|take too many))\b",
    r"\b(?:(?:easy|easier|simple|quick) (?:it would be |it d be |it is )?to|could just|would just) end it\b(?!\s+(?:with|at|on|for|early)\b)",
    r"\b(?:do|doing) something to myself\b|\b(?:turn|turning|jerk|jerking|swerve|swerving|yank|yanking) the (?:steering )?wheel\b",
    r"\b(?:lie|lay|lying|laying|step|stepping|walk|walking) (?:down )?(?:on|onto|into) (?:the )?(?:highway|motorway|freeway|road|tracks|train tracks|traffic)\b",
    r"\b(?:pills|tablets|meds)\b[^.!?|]{0,40}\bnot (?:planning on|going to be|for) (?:using them for |taking them for )?(?:sleep|sleeping|pain|headaches)\b",
    r"\b(?:tie|tying|tied|make|made|making|bought|buy|got) (?:a )?noose\b|\b(?:have|got|found|bought) (?:a plan and )?the means(?=\s*(?:$|[.!?;,|]|to (?:do it|end it|die|kill myself)|and))",
    r"\b(?:only|one|last|best|easiest) (?:escape|way out|option|solution|answer|exit|choice|way)\b[^.!?|]{0,15}\b(?:is|would be|seems|left is)\b[^.!?|]{0,8}\b(?:death|dying|to die|suicide|ending it|killing myself)\b",
    r"\b(?:death|dying|suicide|ending it|killing myself)\b[^.!?|]{0,20}\b(?:only|best|last|easiest) (?:escape|way out|option|solution|answer|exit|choice|way)\b",
    # French
    r"\b(?:vais|veux|voudrais|envie de|pense a|penser a|pense a|vais peut-etre|je vais) me (?:tuer|foutre en l air|pendre|jeter|noyer)\b",
    r"\bmettre fin a (?:mes jours|ma vie)\b|\ben finir avec (?:la vie|tout|moi|ma vie)\b",
    r"\b(?:veux|voudrais|envie de|aimerais) (?:juste )?mourir\b",
    r"\bme (?:faire du mal|scarifier|mutiler)\b",
    # Spanish
    r"\b(?:voy a|quiero|pienso|pensando en|ganas de|a punto de|deseo) (?:matarme|quitarme la vida|hacerme dano|cortarme)\b",
    r"\bme (?:voy a|quiero) matar\b|\bquitarme la vida\b|\bacabar con mi vida\b",
    r"\b(?:quiero|ganas de|deseo) morir(?:me)?\b|\bme quiero morir\b",
    # German
    r"\bmich (?:\w+ ){0,2}umbringen\b|\bbringe mich (?:\w+ )?um\b|\bmir (?:\w+ ){0,2}das leben (?:zu )?nehmen\b",
    r"\b(?:will|mochte|wurde gern|wunsche mir zu) (?:einfach |nur |doch )*sterben\b|\bsterben (?:will|mochte|wollen)\b",
    r"\bmir (?:etwas|was) an(?:zu)?tun\b|\bmich (?:selbst )?(?:ritzen|verletzen)\b",
    # French, Spanish, German: forms the patterns above miss (zu-infinitive, word order, self-harm verbs).
    r"\bumzubringen\b|\bmir (?:\w+ ){0,2}das leben zu nehmen\b|\bselbst (?:zu )?verletzen\b",
    r"\bme (?:corte|corto|cortaba|he cortado|lastime|lastimo|queme|quemo) (?:otra vez|de nuevo|los brazos|las munecas|el brazo|la muneca|las piernas|a proposito)\b|\b(?:volvi a|vuelvo a) (?:cortarme|lastimarme|hacerme dano)\b",
    r"\bme (?:suis )?(?:scarifie|mutile|coupe) (?:encore|de nouveau|les (?:bras|poignets))\b",
    # Portuguese
    r"\b(?:me matar|me suicidar|tirar (?:a )?minha (?:propria )?vida|acabar com (?:a )?minha vida|me machucar de proposito)\b",
    r"\b(?:quero|queria|vontade de|penso em|pensando em|vou) (?:\w+ )?(?:morrer|me matar|sumir para sempre|me cortar|me machucar)\b",
    r"\bpular (?:da|de uma|do|de um) (?:\w+ )?(?:ponte|predio|janela|viaduto|sacada|varanda)\b|\bme jogar (?:na frente|debaixo|da|do|de)\b",
    # Italian
    r"\b(?:uccidermi|ammazzarmi|suicidarmi|togliermi la vita|farmi del male|tagliarmi)\b",
    r"\b(?:voglio|vorrei|ho voglia di|penso di|sto pensando di) (?:\w+ )?morire\b",
    r"\bbuttarmi (?:dal|da un|da una|dalla|giu|sotto)\b",
)

_THREAT = _rx(
    r"\b(?:(?:ill|i will|i might|i may|i swear ill|(?:afraid|scared|worried) (?:ill|i will|i might))"
    r"|i(?:m|ve| am| have| was| keep| kept| just)?(?: \w+){0,3}? (?:going to|gonna|about to|ready to|plan(?:ning)? to|want(?:ed)? to"
    r"|wanna|feel like|urges? to|fantasi[sz]\w* (?:about|of)|imagin\w*|pictur\w*|dream\w* (?:about|of)|thinking (?:about|of)|think about|thought about))"
    r"\s+(?:\w+\s+){0,2}?" + _VIOLENCE + r"\s+(?:" + _PEOPLE + r")\b" + _NOT_A_PERSON,
    r"\b(?:bring|bringing|brought|take|taking) (?:a |my )?(?:gun|knife|weapon|rifle|pistol) (?:to|into) (?:work|the office|the building|the meeting|the standup)\b",
    r"\bshoot up (?:the|this|my) (?:office|building|place|workplace)\b|\b(?:break|smash|bash|kick|punch) (?:his|her|their) (?:neck|face|head|teeth|legs?|jaw|nose)(?: in)?\b",
    r"\bmake (?:" + _PEOPLE + r") bleed\b|\bwant (?:to see )?(?:" + _PEOPLE + r") dead\b",
    r"\bi know where (?:he|she|they|" + _PEOPLE + r") lives?\b",
    # French, Spanish, German: the intent must name the person.
    r"\b(?:tuer|frapper|buter|faire du mal a) (?:mon|ma|mes) (?:chef|cheffe|manager|patron|patronne|collegues?|n\+1)\b",
    r"\b(?:matar|golpear|hacer dano|hacerle dano|pegarle) (?:a )?(?:mi|mis) (?:jefe|jefa|manager|companeros?|companeras?|colegas?)\b",
    r"\b(?:meinen|meine|den|die) (?:chef|chefin|manager|managerin|kollegen|kollegin|vorgesetzten) (?:\w+ )?(?:umbringen|verletzen|schlagen|abstechen|erschiessen)\b",
    # A weapon next to a grudge, stalking detail, wanting people to suffer, tampering with what they drink.
    r"\b(?:gun|knife|weapon|rifle|pistol|shotgun|machete|baseball bat)\b[^.!?|]{0,60}\b(?:regret|pay for|pay|sorry|get what (?:s|he|she|they|hes|shes|theyre) (?:coming|deserves?|deserve)|see what happens|wont forget)\b",
    r"\b(?:regret|pay for|pay|sorry)\b[^.!?|]{0,40}\b(?:my |a |the )?(?:gun|knife|weapon|rifle|pistol|shotgun)\b",
    r"\b(?:going to|gonna|will|might|could) snap\b[^.!?|]{0,30}\b(?:bring (?:something|a gun|a knife|a weapon)|hurt|kill|shoot|attack|stab)\b",
    r"\bteach (?:him|her|them|" + _PEOPLE + r") a lesson\b[^.!?|]{0,20}\b(?:wont|will never|never|not) forget\b",
    r"\bwait\w* (?:for (?:him|her|them|" + _PEOPLE + r") )?(?:in|at|outside|by) (?:the |his |her |their )?(?:parking lot|car park|parking garage|house|home|car|office door)\b[^.!?|]{0,20}\b(?:for (?:him|her|them|" + _PEOPLE + r")|and (?:teach|make|hurt|show|get))\b",
    r"\bi know where (?:he|she|they|" + _PEOPLE + r") (?:lives?|parks?|sleeps?|eats?|goes|walks|drives|hangs out|takes (?:his|her|their) kids)\b",
    r"\bmake (?:" + _PEOPLE + r"|all of them|every one of them|each of them)(?: \w+){0,3}? (?:suffer|bleed|hurt|scream)\b",
    r"\b(?:put|putting|slip|slipping|spike|spiking|add|adding|mix|mixing)\b (?:some |a little |)?(?:something|poison|bleach|pills|laxatives?|rat poison|antifreeze|stuff)\b[^.!?|]{0,30}\b(?:in|into) (?:his|her|their|the|" + _PEOPLE + r")(?:s)? (?:\w+ )?(?:coffee|drink|tea|food|lunch|water|bottle|mug)\b",
)

# Ways to say "if I were gone" that the families below share.
_GONE = (r"(?:just |simply |suddenly |finally |quietly )?(?:vanished|disappeared|died|was gone|were gone|wasnt here|werent here|wasnt around"
         r"|werent around|was dead|were dead|left this world|stopped existing|dropped dead|didnt wake up|never woke up|never came back"
         r"|ceased to exist|was no longer (?:here|around)|didnt exist|killed myself|was never born|had never been born|ended it"
         r"|wasnt alive|werent alive)(?!\s+(?:for (?:a|two|three|the|\d)|on (?:vacation|holiday)|from (?:slack|the|this)))")

_INDIRECT = _rx(
    r"\b(?:no|(?:dont|do not|cant|cannot|no longer)(?: really| even| honestly)? see (?:the|a|any)|there is no|theres no"
    r"|whats the|what is the|lost the|see no|dont get the) point (?:in |of )?(?:going on|carrying on|living"
    r"|being alive|staying alive|being here|existing|continuing|life|trying to live|waking up|keeping going|it all)\b"
    r"(?!\s+(?:with|at|in this|on this|this|the|my job|here at))",
    r"\b(?:see no|no|any|zero|lost (?:the|my|all)?|losing (?:the|my)?) (?:reason|will|desire|wish) to (?:live|keep living|stay alive|be alive|go on|carry on|keep going|stay|be here|exist|keep trying)\b"
    r"(?!\s+(?:with|at|in|on|to|here)\b)",
    r"\bnothing (?:left )?to live for\b|\b(?:life|living|it) (?:is|isnt|feels|doesnt feel|is not) (?:not )?worth living\b|\bnot worth living\b",
    r"\b(?:my )?life (?:is|isnt|aint|feels|has become) (?:pointless|meaningless|worthless|not worth it|over|a waste)\b",
    r"\b(?:better|happier|fine|easier|simpler|relieved|lighter)(?: off| place)? without me\b",
    r"\b(?:better|happier|fine|easier|simpler|relieved|lighter)(?: off)?(?: for (?:everyone|everybody|all of them|them|my family|the people around me))? (?:if|when) i"
    r" (?:just |simply )?(?:(?:was|were|wasnt|werent|was not|were not) (?:here|around|gone|alive|dead|born|in the picture)"
    r"|disappeared|vanished|died|left this world|was never born|had never been born|didnt exist|never existed|stopped existing|was gone|were gone)\b",
    r"\b(?:im|i am|ive become|i feel like|feel like|i feel) (?:just |such |nothing but |only )?a (?:waste of space|waste of oxygen|waste of air)\b",
    r"\b(?:im|i am|i feel like im|feel like im|like im|i feel like i am) (?:just |only |basically )?(?:taking up|wasting) (?:space|oxygen|air|room)\b",
    r"\b(?:nobody|no one|noone) (?:would|will|is going to|even) (?:\w+ )?(?:miss|notice|care)(?: about)? (?:me|if i (?:was|were|went|disappeared|died|was gone|wasnt|werent|didnt|stopped)|when im gone)\b",
    r"\b(?:giv(?:ing|en|e)|gave) (?:away )?(?:all |most )?(?:of )?my (?:things|stuff|belongings|possessions|plants|savings|pets?|cat|dog|cats|dogs) away\b",
    r"\b(?:giv(?:ing|en|e)|gave) away (?:all |most )?(?:of )?my (?:things|stuff|belongings|possessions|plants|savings|pets?|cat|dog|cats|dogs)\b",
    r"\b(?:found|finding|find|looking for) (?:a )?new homes? for my (?:cat|dog|pets?|cats|dogs|plants)\b",
    r"\b(?:written|wrote|writing|write|left|leave|leaving) (?:a |my |the |some )?(?:(?:goodbye|farewell|suicide|final) (?:letters?|notes?)|(?:suicide|final) (?:messages?|emails?))\b",
    r"\b(?:written|wrote|writing|left|leaving) (?:some |the |a few |my )?letters(?:\s+(?:to|for)\s+(?:everyone|everybody|my (?:family|kids|children|parents|wife|husband|partner|friends|loved ones|sister|brother|mum|mom|dad)|each of them|the people i love|the people who matter))?" + _END,
    r"\b(?:updated|made|wrote|written|sorted|sorting|sort|finalised|finalized|getting) (?:out )?my (?:will|affairs)(?: in order)?\b",
    r"\b(?:stockpil|sav|hoard|collect|stash)(?:ing|ed|e) (?:up )?(?:my |some |all my |enough )?(?:\w+ )?(?:pills|meds|medication|sleeping pills|painkillers|tablets)\b",
    r"\b(?:pills|meds|medication|sleeping pills|painkillers|tablets) (?:saved|stashed|stockpiled|hoarded|put aside)\b",
    r"\btak(?:e|ing) (?:them|all (?:of )?(?:them|my pills|the pills|my meds|my tablets))(?: all)? (?:at once|tonight|together)\b",
    r"\b(?:planned|plan|planning|worked out|figured out|decided) (?:how|when|where) (?:im going to|i will|to|ill|i would) (?:do it|end it|kill|die|go)\b",
    r"\bhow (?:many|much) (?:\w+ )?(?:pills|paracetamol|tylenol|ibuprofen|insulin|tablets|painkillers)\b",
    r"\bhow to (?:do it|end it|go) (?:quietly|painlessly|without (?:pain|anyone|it hurting)|so (?:nobody|no one))\b|\bhow to end (?:it|things|everything|my life)\b",
    r"\b(?:cut|cutting|burn|burned|burnt|burning|scratch\w*|carv\w*|hit|hitting) (?:\w+ )?(?:my|into my) (?:arms?|wrists?|legs?|thighs?|skin|hands?|stomach|head)\b[^.!?|]{0,30}\b(?:on purpose|deliberately|again|to feel|to cope|to punish|(?:until|till) (?:it|they|i) (?:bleed|bleeds|bled))\b",
    r"\b(?:started|start|back to|relapsed|urges? to|been|keep) cutting(?: again)?\b",
    r"\btonight(?:s| is)? (?:\w+ ){0,2}the night\b|\bthe night i (?:finally |just )?do it\b|\b(?:finally|going to|will|ill) (?:finally )?do it (?:tonight|this weekend|tomorrow)(?=\s*(?:$|[.!?;|]))|\bmy mind is made up\b|\bmade up my mind to (?:go|end|die|do it)\b",
    r"\b(?:wont|will not|never) (?:be (?:here|around|at \w+)|see (?:you|them|anyone|my \w+)|wake up)\b[^.!?|]{0,30}\b(?:ever again|again ever)\b",
    r"\btell (?:everyone|my (?:family|mom|mum|dad|parents|kids|children|wife|husband|partner|sister|brother|friends)) (?:that )?(?:i love|im sorry|goodbye|i said goodbye)\b",
    r"\b(?:dont think|doubt|not sure) (?:i will|ill|im going to|i am going to|i can) (?:make it|be (?:here|around|alive)|last) (?:to|until|till|through|past|for|at) (?:my (?:next )?birthday|christmas|new year|the end of the (?:year|month)|next (?:year|month))\b",
    r"\b(?:dont|do not|cant|cannot|no longer) see (?:a|any) future(?>(?: for (?:me|myself))?)(?!\s+(?:at|in|with|here|on)\b)",
    r"\bno future for me\b(?!\s+(?:at|in|on|with|here)\b)|\b(?:dont|do not|cant|cannot|no longer) (?:really |honestly |even )?see (?:a|any) reason to (?:keep going|go on|live|keep living|stay|carry on|be here)\b",
    r"\b(?:keeping|keeps|kept|stopping|stops|holding|holds) me (?:back )?from (?:ending it|ending things|ending my life|killing myself|doing it|going through with it|hurting myself)\b|\bonly (?:reason|thing) (?:im|i am) still (?:here|alive|around)\b",
    r"\b(?:only|one) way out\b(?!\s+(?:of (?:this|the|my) (?:job|company|team|contract|project|role)|is (?:to quit|quitting|to leave|leaving|a new job|to resign)))|\bno way out (?:of (?:this|it) )?(?:except|but|other than)\b",
    r"\b(?:want|wanna|wish i could|just want|going to|need) (?:to )?sleep (?:forever|for ever|permanently|and never wake)\b",
    r"\b(?:relieved|better|happier|easier|fine|glad|free|miss|notice|care|improve\w*|lighter|simpler)\b[^.!?|]{0,40}\b(?:when|once|after|if) (?:im|i am|i was|i were|ive) (?:gone|dead|no longer (?:here|around|alive))(?!\s+(?:on|for|to|from|with)\b)",
    r"\b(?:wrote|written|writing|left|leaving|write) (?:a |my |some )?(?:last |final )?(?:note|notes|letter|letters)\b[^.!?|]{0,40}\b(?:explaining (?:everything|why)|to (?:my|each) (?:family|mom|mum|dad|parents|kids|children|wife|husband|partner|sister|brother|friends|girlfriend|boyfriend|loved ones))\b",
    r"\b(?:wish|wishing|wished)\b[^.!?|]{0,15}\b(?:never been born|never born|wasnt born|werent born|didnt exist|wasnt alive|werent alive|was dead|were dead)\b|\bi (?:had )?never been born\b",
    r"\b(?:gave|giving|given|give) (?:away )?(?:all )?my (?:\w+ )?(?:things|stuff|belongings|possessions|plants|pets?|cat|dog|cats|dogs|savings|books|records|guitar|bike|clothes) (?:away|to)\b",
    r"\bwont (?:need|be needing) (?:them|it|these|those|any of (?:it|them|this)|my \w+) (?:anymore|any more|where im going|after (?:this|tonight|today|tomorrow))\b",
    r"\b(?:want|need|wanna)(?: to get)? out of (?:this|my) (?:life|world|existence)\b",
    r"\bnot meant to be (?:here|alive|in this world|on this earth) (?:anymore|any more|any longer)\b",
    r"\bif i (?:didnt|did not|never|dont|do not) wake up\b(?!\s+(?:early|on time|in time|before|at|for))",
    r"\b(?:plan|planning|planned|organi[sz]ing|arrang\w*) (?:my|your) own funeral\b",
    r"\b(?:whether|if) i (?:live|wake up) or (?:die|not)\b|\b(?:dont|do not|no longer|stopped|stop) car(?:e|ing) (?:if|whether) i (?:live|die|wake up|survive)\b",
    r"\b(?:wont|will not|doesnt|not going to|none of (?:this|it) (?:will|would)) matter\b[^.!?|]{0,30}\b(?:ill|i will|im) (?:be )?gone\b|\b(?:ill|i will|im going to) be gone (?:soon|forever|for good)\b",
    r"\b(?:fighting|struggling|trying) to (?:stay alive|keep living|want to live)\b|\b(?:fight\w*|struggl\w*|tired|exhaust\w*|effort|so hard)\b[^.!?|]{0,40}\bjust to (?:stay alive|keep living|keep breathing)\b(?!\s+(?:as|in)\b)",
    r"\b(?:dying|death|being dead|killing myself|ending it) (?:would|will|could|might) (?:solve|fix|end) (?:everything|it all|all my problems|my problems)\b",
    r"\b(?:not sure|unsure|dont know|wonder(?:ing)?|doubt) (?:if |whether )?(?:my )?life (?:is|is still|s) (?:still )?worth (?:it|living)\b",
    r"\b(?:pills|rope|noose|gun|blade)\b[^.!?|]{0,25}\b(?:ready|right here|in front of me|in my hand|next to me)\b|\b(?:bought|buying|got|found|tied) (?:a |the )?(?:rope|noose)\b|\b(?:bought|buying|buy) (?:a )?(?:gun|firearm|pistol)\b",
    r"\bwont be (?:a burden|a problem|your problem|anyones problem) (?:anymore|any more|for long|soon)\b",
    r"\b(?:go|going|went) away (?:for good|forever|permanently)\b",
    r"\b(?:painless|least painful|quick|easy|quickest|easiest|best|cleanest) (?:way|ways|method|methods) (?:out(?=\s*(?:$|[.!?;,|]))|out of (?:this life|it all|everything|the pain|my life|living)\b|to (?:die|go|end it|end things|not wake up|do it)\b)",
    r"\b(?:saying|said) (?:my )?goodbyes\b|\b(?:final|last) goodbyes?\b",
    r"\bmy last (?:day|night|week) (?:on earth|alive|on this planet)\b",
    r"\b(?:wont|will not|not going to|wont even|not gonna) be (?:a problem|a burden|your problem|anyones problem|in anyones way|around|here|alive|bothering anyone|bothering you) (?:much|for much|any|for|a lot) longer\b",
    r"\b(?:wont|will not|nobody will|no one will|nobody is going to) (?:have to|need to) (?:deal|worry|put up) (?:with|about) me (?:much longer|for much longer|anymore|for long|soon|after \w+)\b",
    r"\b(?:last|final) (?:week|day|time|month|night) (?:anyone|anybody|you|they|people|everyone) (?:will |ll )?(?:have to |has to |needs? to )?(?:deal with|see|hear from|put up with|worry about) me\b",
    r"\b(?:want|wanna|wish i could|just want|wish to|want to just) (?:to )?(?:disappear|vanish|not exist|stop existing|cease to exist|not be alive|not be here|fade away|be gone)"
    r"(?:\s+(?:for good|forever|permanently|completely|from (?:this|the) (?:world|earth|planet)|off the face of the earth|without a trace|and never come back))?" + _END,
    r"\b(?:disappear|vanish|be gone) (?:for good|forever|permanently|from (?:this|the) (?:world|earth|planet)|off the face of the earth|and never come back)\b",
    r"\bwish i (?:wasnt|werent|was never|had never been|never was|was not|were not|hadnt been) (?:born|alive|here|around)\b",
    r"\bwish i (?:didnt|did not) exist\b",
    r"\b(?:go to sleep|fall asleep|sleep|close my eyes) and (?:never|not) wake up\b",
    r"\b(?:dont|do not|dont really) want to wake up(?: (?:tomorrow|anymore|again|ever|in the morning))?" + _END,
    r"\b(?:hope|hoping) i (?:dont|do not|never|wouldnt|would not|wont|will not) wake up\b",
    r"\bwouldnt (?:mind|care) (?:if i )?(?:dying|died|not waking up|didnt wake up|never woke up|if i died)\b",
    r"\bif (?:a|the) (?:bus|car|truck|train|lorry) (?:hit|hits|ran over|runs over|killed) me\b[^.!?|]{0,40}\b(?:wouldnt|would not|dont|not|hope|relief)\b",
    r"\b(?:hope|hoping|wish|wishing|wouldnt mind if|pray)\b[^.!?|]{0,40}\b(?:hit|run over|killed) by (?:a|the) (?:bus|car|truck|train|lorry)\b",
    r"\b(?:dont|do not|no longer|dont really|dont even) want to (?:live|be alive|exist|be here|go on|carry on|keep living|keep going|stay alive|be around|do life)"
    r"(?: (?:anymore|any more|any longer|like this))?(?!\s+(?:at|in|on|with|for|to|working|doing|here|if|unless)\b)",
    r"\b(?:not sure|unsure|dont know|do not know|no longer sure|not certain|dont think) (?:if |whether |that )?(?:i )?(?:want to|wanna|can|should|will) (?:live|go on|keep living|be alive|stay alive|carry on|exist|be here)"
    r"(?!\s+(?:at|in|on|with|for|to|working|doing|here)\b)",
    r"\b(?:why (?:should|would|do) i|dont know why i) (?:keep |bother |even )*(?:living|going on|waking up|exist|existing|being alive)\b",
    r"\bhow (?:much )?longer i can (?:go on|hold on|keep going|keep living|stay alive)\b",
    r"\b(?:cant|cannot|can no longer|cant really) (?:go on|carry on|keep living|live like this|do life)" + _END,
    r"\b(?:tired|sick|weary) of (?:living|being alive|life|existing|being me|waking up|it all)\b(?!\s+(?:in|at|on|as|with|of|here|out)\b)",
    r"\bdone with (?:life|living|being alive|it all|this life|this world)\b",
    r"\b(?:thinking|thought|think|thoughts|fantasi[sz]\w*|dream\w*) (?:a lot |so much |constantly |often )?(?:about|of) (?:just |simply )?(?:dying|my death|my own death|death|not existing|not being here"
    r"|not being alive|not being around|not waking up|ending it|ending things|my funeral|my own funeral)\b(?!\s+(?:my|the|it|them|his|her|of laughter)\b)",
    r"\b(?:having|had|get|getting|been having|have) (?:some |really |very |these |those )?dark thoughts\b",
    r"\bgive up on (?:life|living)\b|\bgiving up on (?:life|living)\b",
    r"\beasier (?:if i (?:was|were|wasnt|werent) (?:dead|gone|here|alive|around)|to (?:just )?(?:die|not exist|not be here|not wake up|disappear|be dead|end it))\b",
    r"\bwant (?:it|it all|everything|the pain|all of it|this pain|the hurting) to (?:stop|end|be over)(?: forever| for good| permanently| once and for all)?" + _END,
    # Phrase families (round 4), each a class of phrasing rather than one sentence.
    # Going to sleep and not waking, resting forever.
    r"\b(?:sleep|asleep|close my eyes|lie down|go to bed|pass out)\b[^.!?|]{0,20}\b(?:never|not|no longer|and not) (?:to )?(?:wake|waking) up\b(?!\s+(?:early|on time|in time|before|at|for|until)\b)",
    r"\b(?:want|wish|wishing|longing|hope|hoping|ready|need)\b[^.!?|]{0,15}\b(?:sleep|rest) (?:forever|for ever|permanently|for good)\b",
    # Hopelessness about everything, not about one meeting.
    r"\b(?:whats|what is|wheres|where is|no|there is no|theres no|dont see|cant see|see no|lost) (?:even |really )?(?:the |any )?point (?:of|in|to) (?:anything|everything|it all|life|living|existing|being alive|being here|going on|trying anymore)\b",
    # Feeling a burden on people (a burden on the budget is not one).
    r"\b(?:im|i am|i feel like|feel like|i feel|being|ive become|i have become|i became|im just|i was born) (?:\w+ ){0,3}?burden\b"
    r"(?!\s+(?:on|to|for) (?:the |our |my |this |that )?(?:\w+ ){0,2}?(?:budget|cluster|gpus?|infra\w*|servers?|pipeline|codebase|bill|costs?|velocity|sprint|project|roadmap|deadline|oncall|system|review|queue|team|colleagues|coworkers|manager|lead|company)\b)",
    # Someone gone and the world relieved, indifferent or better: "if I vanished", "if I died tomorrow".
    r"\b(?:if|when|once) i " + _GONE + r"\b[^.!?|]{0,40}\b(?:relief|relieved|better|easier|happier|simpler|lighter|fine|notice|care|miss me|matter|difference|get over it|move on)\b",
    r"\b(?:relief|relieved|better|easier|happier|simpler|lighter|notice|care|miss me|matter|difference|get over it|move on)\b[^.!?|]{0,40}\b(?:if|when|once) i " + _GONE + r"\b",
    r"\b(?:nobody|no one|noone|would anyone|would anybody|does anyone|will anyone)\b[^.!?|]{0,25}\b(?:notice|care|miss me|mind|realise|realize)\b[^.!?|]{0,10}\b(?:if|when|once) i " + _GONE + r"\b",
    r"\b(?:world|everyone|everybody|they|it)\b[^.!?|]{0,30}\b(?:keep (?:going|spinning|turning)|go on|be (?:just )?fine)\b[^.!?|]{0,20}\bwithout me\b",
    r"\b(?:better off|worth more|better) (?:with (?:the |my )?life insurance|dead than alive)\b|\blife insurance\b[^.!?|]{0,40}\b(?:better off|pay ?out|worth more|for my (?:family|kids|wife|husband|partner))\b",
    # Preferring not to live, wishing to stop existing, the thought of not existing as comfort.
    # "I'd rather die than write another ETL job" is hyperbole about the task; rather dead than living is not.
    r"\b(?:rather|prefer to|prefer) (?:be dead|die|not be alive|not exist|not be here|not wake up)(?=\s*(?:$|[.!?,;|]|than (?:live|living|keep (?:living|going|on|feeling)"
    r"|go on|going on|wake up|face (?:another|this|life)|feel(?:ing)? (?:like )?this|be alive|exist|continue|carry on|deal with (?:life|this pain))\b))",
    r"\b(?:wish|wishing|wished|longing|long|pray|praying)\b(?: i could| to| i would| i)? (?:just )?(?:stop existing|not exist|cease to exist|not be alive|be dead|die|disappear forever|vanish forever|not wake up|never wake up|fade away|stop breathing)\b",
    # Hoping an accident takes them: a car that hits them, a plane that goes down.
    r"\b(?:wish|wishing|hope|hoping|pray|praying|wouldnt mind if|part of me (?:hopes|wants|wishes))\b[^.!?|]{0,40}\b(?:car|bus|truck|train|lorry|van|plane|something|someone|somebody|drunk driver|lightning|meteor)\b(?:(?!\b(?:doesnt|dont|wont|not|never)\b)[^.!?|]){0,20}\b(?:hit|hits|run me over|runs me over|kill|kills|take|takes|crash into|crashes into|end) me\b",
    r"\b(?:wish|wishing|hope|hoping|pray|praying|wouldnt mind if|part of me (?:hopes|wants|wishes))\b[^.!?|]{0,40}\b(?:get|got|getting|be|was) (?:hit|run over|killed)\b",
    r"\b(?:wish|wishing|hope|hoping|pray|praying|part of me (?:hopes|wants|wishes))\b[^.!?|]{0,20}\b(?:plane|flight)\b[^.!?|]{0,10}\b(?:goes down|go down|crashes|crash|doesnt land|never lands|falls)\b",
    # Done with life itself ("I'm so done. with life I mean").
    r"\bdone\W+(?:\w+\W+){0,2}?with (?:life|living|existing|being alive|breathing)\b",
    r"\b(?:make|making) (?:the pain|the thoughts|the noise in my head|the voices|this pain) stop\b",
    # Software words turned on oneself: "uninstall myself", "kill -9 on myself", "rage quit life".
    r"\b(?:uninstall\w*|delet\w*|terminat\w*|kill -9|kill dash nine|deprecat\w*|garbage collect\w*|rm -rf|unplug\w*|shut\w* down|power\w* off|sigkill\w*)(?: on| of)? (?:myself|me for good|me permanently)\b",
    r"\b(?:rage ?quit\w*|quit\w*|exit\w*|log\w* (?:off|out)(?: of| from)?|opt\w* out of|unsubscrib\w* from|uninstall\w*|delet\w*) (?:life|living|existence|this life|being alive|the world)\b(?!\s+(?:in|at|as|on)\b)",
    # Blood as relief, the voice that says jump, looking forward to death, removing oneself.
    r"\b(?:until|till|til) (?:my (?!eyes|ears)\w+|it|they|i) (?:bled|bleed|bleeds|bleeding)\b|\bfelt good to (?:hurt|bleed|feel pain)\b",
    r"\b(?:voice|voices) in my head\b[^.!?|]{0,30}\b(?:tell\w*|say\w*)\b[^.!?|]{0,15}\b(?:jump|die|kill myself|end it|hurt myself)\b|\bi should (?:just )?(?:jump(?=\s*(?:$|[.!?;,|]|off\b|from\b|in front\b))|die\b|end it\b|kill myself\b)",
    r"\blooking forward to (?:dying|death|it all ending|not being here|not existing|my death)\b|\b(?:not|no longer) (?:scared|afraid) (?:of|to) (?:die|dying|death)(?: anymore| any more)\b",
    r"\b(?:remove|removing|erase|erasing|eliminate|eliminating) myself\b(?!\s+(?:from|off|out of|as|for|to)\b)",
    r"\b(?:sleep|asleep)\b[^.!?|]{0,15}\bstay asleep\b(?!\s+(?:until|till|til|for)\b)|\bpermanent (?:rest|sleep|escape|exit|break from (?:everything|it all|life|all of it))\b",
    r"\b(?:living|life|being alive|existing)\b[^.!?|]{0,25}\b(?:want to|ready to) stop(?: doing(?: it| that| this)?| it)?(?=\s*(?:$|[.!?;,|]))",
    r"\b(?:hope|hoping|wish|pray\w*)\b[^.!?|]{0,20}\bi (?:wont|dont|will not|do not|never|would not|wouldnt) (?:survive|wake up from|come back from|recover from)\b",
    r"\b(?:my |the )?(?:family|kids|parents|wife|husband|partner|friends|loved ones)\b[^.!?|]{0,10}\b(?:to read|to find|to have) (?:after|afterwards|when im gone|once im gone)\b",
    r"\b(?:done|gone|break|end\w*|out|leav\w*|stop\w*|rest|quit\w*)\b[^.!?|]{0,40}\bi dont mean (?:with )?(?:a vacation|a holiday|the job|my job|work|this job|quitting|resigning|leaving the company)\b",
    r"\b(?:telling me|tells me|told me|i think|i feel like|feel like|i know|maybe|sometimes i think)\b[^.!?|]{0,10}\b(?:everyone|everybody|my family|people|they)(?: would| will|d)(?: all)? be (?:so |just )?(?:relieved|better off|happier)(?=\s*(?:$|[.!?;|]))",
    # One's own funeral, not growing old, holding on only until a date.
    r"\b(?:come|came|show up|go|attend|cry|speak|be) (?:to|at) my (?:own )?funeral\b|\b(?:plan\w*|imagin\w*|pictur\w*|think\w* about|thought about) my (?:own )?funeral\b",
    r"\b(?:dont|cant|do not|cannot|never) (?:really )?(?:see|picture|imagine) myself (?:getting old|growing old|getting older|reaching (?:\d+|thirty|forty|fifty)|making it (?:to|past) (?:\d+|thirty|forty|fifty|next year|old age))\b",
    r"\bhold (?:on|out) (?:until|till|through|for)\b[^.!?|]{0,40}\b(?:let go|can go|be gone|be free)\b",
    # Not existing as the way out: "the only way to rest is to not exist", "if I just stopped existing".
    r"\b(?:is|be|would be|just) to (?:just )?(?:not exist|stop existing|not be alive|not be here anymore|disappear forever)\b",
    r"\bif i (?:just |simply |could just )?(?:stopped|stop|ceased?) (?:existing|to exist|being alive|breathing)\b",
    r"\bpretending (?:that )?(?:i (?:want|wanna) to (?:be alive|live|be here|exist)|(?:im|i am) (?:ok|okay|fine) with (?:being alive|living))\b",
    r"\b(?:had enough|fed up) (?:of|with) (?:life|living|being alive|existing)\b(?!\s+(?:in|at|on|as|with|of|here|out)\b)|\bwhy (?:even )?bother (?:living|existing|waking up|going on|staying alive|being alive)\b",
    r"\b(?:peaceful|nice|easier|a relief|relief|comforting|freeing|tempting)\b[^.!?|]{0,20}\bto (?:just )?(?:not exist|not be here|not wake up|die|be dead|stop existing|be gone|never wake up)\b",
    r"\b(?:wont|will not|not going to|dont think ill|dont think i will|cant|cannot) make it through (?:the night|tonight|another night|this night)\b",
    r"\b(?:research\w*|look\w* up|looking up|googl\w*|search\w*|read\w* about) (?:\w+ ){0,2}(?:suicide methods|methods|ways to (?:die|go|end it|end my life|kill myself)|how to (?:die|end it|end my life|kill myself|overdose|hang myself))\b",
    r"\bdeserve to (?:suffer|be hurt|feel pain|disappear|not exist|not be here|be punished)\b",
    r"\b(?:want|wanted|thinking (?:about|of)|going|urge|tempted|planning) to (?:just )?(?:crash|wreck|total) (?:my|the) car\b",
    # French
    r"\b(?:plus|pas) (?:envie|la force|le courage|de raison) de vivre\b|\bne (?:veux|voudrais) plus vivre\b",
    r"\b(?:mieux|mieux loti|plus heureux|plus heureuse) sans moi\b",
    r"\b(?:plus|pas|aucun|aucune) (?:d interet|interet|de sens|de raison|sens|raison) (?:a|de) (?:vivre|continuer|me lever|exister)\b",
    r"\b(?:ne vois|vois) (?:plus|pas) (?:l interet|le sens|de raison|pourquoi) (?:de |a )?(?:vivre|continuer|exister)\b",
    r"\bdisparaitre (?:pour toujours|a jamais|definitivement|pour de bon)\b",
    r"\b(?:ne plus|jamais) me reveiller\b|\bne pas me reveiller\b",
    r"\blettres? d adieu\b|\bdonne (?:toutes )?mes affaires\b|\b(?:veux|voudrais|envie de) (?:juste )?disparaitre" + _END,
    r"\bpersonne ne (?:me )?(?:regretterait|remarquerait|manquerait)\b|\b(?:un|une) (?:fardeau|poids|charge) pour (?:tout le monde|les autres|ma famille|mes proches)\b",
    r"\bsauter (?:du|d un|de la|de mon|par la) (?:\w+ )?(?:pont|toit|fenetre|immeuble|balcon)\b|\bdormir pour toujours\b|\bpense (?:souvent |beaucoup )?a (?:la mort|mourir)\b",
    r"\ben finir" + _END,
    r"\bje serai plus (?:la|un probleme)\b|\bje ne serai plus (?:la|un probleme|un poids)\b|\bun poids pour (?:tout le monde|les autres|ma famille)\b",
    # Spanish
    r"\bno quiero (?:seguir )?(?:vivir|viviendo|existir|despertar(?:me)?)\b|\bno quiero seguir" + _END,
    r"\b(?:mejor|mejor estarian|estarian mejor|estaria mejor) sin mi\b",
    r"\bno (?:le )?(?:veo|encuentro|tiene) (?:ningun |el )?sentido (?:a |en )?(?:seguir|vivir|la vida|nada|seguir viviendo)\b|\bno tiene sentido (?:seguir|vivir)\b",
    r"\bdesaparecer para siempre\b|\bno despertar(?:me)? (?:nunca|mas)\b|\bcartas de despedida\b",
    r"\b(?:acabar|terminar) con (?:todo|mi vida)\b|\bregalando (?:todas )?mis cosas\b|\bsoy una carga\b|\bquiero desaparecer" + _END,
    r"\bnadie me (?:extranaria|echaria de menos)\b|\bpienso (?:mucho |todo el tiempo )?en (?:la muerte|morir(?:me)?)\b|\bme quiero ir para siempre\b",
    r"\btirarme (?:de|del|desde|por|a) (?:un |una |el |la |las )?(?:\w+ )?(?:puente|edificio|ventana|balcon|vias|tren|azotea)\b",
    # German
    r"\bnicht mehr (?:zu )?(?:leben|aufwachen|aufzuwachen|da sein|hier sein|existieren|da zu sein)\b|\bwill nicht mehr" + _END,
    r"\b(?:besser|besser dran) ohne mich\b",
    r"\b(?:keinen|kein) sinn mehr\b|\bsehe keinen sinn (?:mehr )?(?:im leben|weiterzumachen|zu leben)\b",
    r"\b(?:fur immer|endgultig) verschwinden\b|\babschiedsbrief\w*|\bwill (?:einfach |nur )?verschwinden" + _END,
    r"\bniemand wurde mich vermissen\b|\bbin (?:nur |doch nur )?eine last\b|\bpulsadern\b",
    r"\bvor (?:einen|den) zug (?:werfen|springen)\b|\bvon (?:einer|der|einem|dem) (?:\w+ )?(?:brucke|dach|hochhaus) springen\b",
    r"\b(?:allem|meinem leben) ein ende (?:setzen|machen|bereiten)\b|\bverschenke (?:all )?meine sachen\b|\beine last fur (?:alle|alle anderen|meine familie)\b",
    # French, Spanish, German: word orders and phrasings the patterns above miss.
    r"\b(?:marre|fatigue|las|lasse|epuise) de (?:vivre|la vie|exister)\b|\bque tout s arrete\b[^|]{0,15}\b(?:pour de bon|pour toujours|definitivement|a jamais)\b",
    r"\b(?:mejor|mejor para todos|estarian mejor|estaria mejor|seria mejor)\b[^.!?|]{0,25}\bsi (?:yo )?no (?:estuviera|existiera|estuviese|existiese|estoy|existo)\b|\bcansad[oa] de vivir\b",
    r"\bohne mich (?:\w+ )?(?:besser|glucklicher)(?: dran)?\b|\b(?:lebensmude|keine lust mehr zu leben|keine kraft mehr zu leben)\b",
    r"\bje suis (?:juste |qu )?un (?:fardeau|poids)\b|\bno aguanto (?:mas )?(?:la vida|vivir)\b|\bdormir y no despertar\b",
    # Portuguese
    r"\b(?:nao aguento|cansad[oa] de|nao quero) (?:mais )?(?:viver|existir|estar aqui|acordar)\b|\bnao quero mais (?:viver|existir|acordar)\b",
    r"\b(?:dormir e nao acordar|nunca mais acordar|nao acordar mais)\b|\bacabar com tudo\b|\bsumir para sempre\b|\bdesaparecer para sempre\b",
    r"\b(?:melhor|mais feliz|mais felizes)\b[^.!?|]{0,20}\bsem mim\b|\bsou (?:um|uma) (?:peso|fardo)\b|\bum peso para (?:todos|todo mundo|minha familia|os outros)\b",
    r"\bnao (?:vejo|tem) (?:mais )?(?:sentido|razao|motivo) (?:em |para |de |na )?(?:viver|continuar|existir|vida)\b|\bcartas? de despedida\b",
    r"\bninguem (?:sentiria|vai sentir|iria sentir) (?:a )?minha falta\b|\bnessuno (?:sentirebbe|sentira) la mia mancanza\b",
    # Italian
    r"\bfarla finita\b(?!\s+con (?:questo|questa|il|lo|la|sto|sta) (?:lavoro|progetto|sprint|team|azienda|riunione|bug|codice))",
    r"\bnon (?:voglio|ce la faccio) piu (?:a )?vivere\b|\bstanc[oa] di vivere\b|\bnon ha (?:piu )?senso vivere\b",
    r"\b(?:meglio|piu felici)\b[^.!?|]{0,25}\b(?:senza di me|se (?:io )?(?:sparissi|non ci fossi|morissi|non esistessi))\b",
    r"\b(?:un|una) peso per (?:tutti|gli altri|la mia famiglia)\b|\bsono (?:solo )?un peso\b",
    r"\b(?:non svegliarmi piu|dormire per sempre|sparire per sempre)\b|\blettere? d addio\b",
    r"\b(?:mas facil|mejor) (?:seria )?no (?:despertar(?:me)?|estar|existir|vivir)\b|\bsumir (?:de vez|para sempre)\b|\bmeglio (?:morire|non vivere|sparire)\b",
    r"\bnon esserci piu\b|\bne plus etre la\b|\b(?:no|ya no) (?:estar|existir) (?:mas|aqui)\b|\bnao estar mais aqui\b",
)

# Phrases that mean leaving a job, travelling or taking time off: when one is in the message, the
# farewell-like families below ("gone for good", "won't be here for Christmas", "saying goodbye") are about that.
_AWAY = re.compile(
    r"\b(?:quit\w*|resign\w*|notice|new (?:job|role|team|company|position|gig|manager)|transfer\w*|leaving (?:the |this |my )?(?:company|team|job|org|role|firm|lab)"
    r"|last day|(?:moving|move|moved) (?:to|abroad|house|out|back|cities|countries|home)|relocat\w*|vacation|holidays?|pto|leave|sabbatical|offer|contract|laid off|layoffs?|fired|visit\w*|trip|travel\w*"
    r"|flying|abroad|conference|offsite|retir\w*|switch\w* (?:teams|jobs|companies)|appointment|dentist|doctor|ooo|out of office|day off|time off|hired"
    r"|join\w*|startup|promotion|wedding|party|concert|honeymoon)\b")
# Work things: a farewell-like phrase about one of these is about work, not life.
_WORK_THING = (r"(?:job|jobs|work|team|company|project|role|position|career|field|industry|tech|ml|academia|research|place|slack|email"
               r"|jira|meetings?|standups?|retro|1:1|one on one|review|oncall|on call|sprint|manager|boss|org|reorg|code|codebase|repo|bug"
               r"|ticket|pipeline|model|deploy\w*|cluster|gpus?|servers?|framework|python|tool|app|twitter|linkedin|social media|phone"
               r"|series|release|launch|migration|notebooks?|kaggle|leetcode|interviews?|paper|deadline|demo|dataset|data|benchmark|docs"
               r"|tests?|pings|notifications|quarter|okrs?)")
_WORK = re.compile(r"\b" + _WORK_THING + r"\b")
# What else "done with ... for good" can be about: a habit, or a person ("done with him for good").
_NOT_LIFE = r"(?:" + _WORK_THING + r"|caffeine|coffee|sugar|alcohol|drinking|smoking|them|him|her|you|that guy)"
# Finality: gone, done, checking out, making it stop... for good, forever, permanently; crisis unless
# the message is about leaving a job or a trip, or the thing ended is work ("done with this team for good").
_FINALITY = _rx(
    r"\b(?:done|gone|over|finished|through|out|check(?:ing|ed)? out|leav\w*|go away|going away|disappear\w*|vanish\w*|stop\w*|end\w*|let go|give up|giving up|away)\b"
    r"(?:(?!\b" + _NOT_LIFE + r"\b)[^!?|]){0,40}?\b(?:for good|forever|for ever|permanently|once and for all|for real this time)\b",
    r"\b(?:wont|dont|will not|do not|not going to|no longer) (?:\w+ )?(?:need|be needing|have (?:any )?use for)\b[^.!?|]{0,25}\bwhere (?:im|i am) going\b",
    r"\b(?:wrote|written|left|leaving|write) (?:a|the|my) (?:note|letter)(?=\s*(?:$|[.!?;|]|just in case|in case|for (?:when|after|my (?:family|kids|parents|wife|husband|partner))))",
    r"\b(?:sorted|sorting|sort|put|putting|got|getting|organi[sz]\w*|updated|wrote) (?:out )?(?:all )?my (?:affairs|will|passwords|accounts|finances|paperwork)\b[^|]{0,60}\b(?:nobody|no one|after|when im gone|in order|deal with|doesnt have to|dont have to)\b",
    r"\b(?:stop|stopped|stopping) being (?:a |such a )?(?:problem|burden|bother|nuisance) (?:for|to) (?:everyone|everybody|people|them|my family)\b",
    r"\b(?:id|i would|i d) be doing (?:everyone|everybody|them|the world|my family|all of them) a favou?r(?=\s*(?:$|[.!?;,|]|by (?:not being|disappearing|going|dying|being gone|ending)|if i))",
    r"\b(?:sad|upset|cry|miss me) for (?:a|like a|maybe a) (?:day|week|bit|while|few days|month)\b[^.!?|]{0,30}\b(?:move on|forget|get over it|be fine|be better)\b",
)
# Farewells: alone they are a crisis only when the message names no work thing; with a second cue
# (another farewell or a resolve below) they are one anyway.
_FAREWELL = _rx(
    r"\b(?:wont|will not|not going to|dont plan on|dont plan to|not planning (?:on|to)|dont expect to|dont think ill|dont think i will|doubt ill|dont see myself|cant see myself|not)"
    r" (?:be |being |still )*(?:here|around|alive|making it|make it)\b[^.!?|]{0,12}\b(?:(?:for|by|at|to see|until|till|past|through) (?:christmas|xmas|new year|thanksgiving|easter|the holidays"
    r"|(?:my|his|her|their|the kids|my kids) (?:\w+ )?(?:birthday|graduation|wedding)|next (?:year|month|summer|spring|winter|fall|autumn)|the end of (?:the |this )?(?:year|month|summer)"
    r"|another (?:year|month|winter|summer))|much longer|for long|to (?:maintain|deal|watch|fix|clean|handle|pick|finish|see|read))\b",
    r"\b(?:saying|said|say|started saying|been saying) (?:my )?goodbyes?\b|\b(?:goodbye|farewell) (?:messages?|emails?|posts?|texts?)\b|\bthis is (?:my )?goodbye\b|\b(?:goodbye|bye) (?:world|cruel world|forever|for good)\b",
    r"\b(?:none of (?:this|it)|nothing) (?:will|wont|is going to|will even|going to) (?:be )?(?:my problem|matter(?: to me)?)\b",
    r"\bmade (?:my )?peace with (?:it|that|dying|death|everything|my decision|going|leaving|the idea)\b",
    r"\bsaid (?:everything|all) i (?:needed|wanted|had) to say\b",
    r"\beverything is (?:arranged|in order|taken care of)\b|\bmy (?:cat|dog|pets?|cats|dogs|plants) (?:goes|go|will go|is going|are going) to (?:my|a|an|the) (?:sister|brother|friend|neighbou?r|mom|mum|dad|parents|family|cousin|new home|colleague|coworker)\b",
    r"\b(?:thinking (?:about|of)|think about|want to|ready to|planning (?:to|on)|considering|tempted to|urge to|might|going to) (?:just )?check(?:ing)? out\b"
    r"(?!\s+(?:early|of|the|a|an|this|that|these|those|some|new|for the (?:day|night|weekend)|at|from|mentally|emotionally|now|tonight|today|tomorrow|by)\b)",
    r"\b(?:make|making) (?:it all|everything|all of it) stop\b",
)
# Resolve: common in work talk, so only a second cue makes them count ("I've made peace with it. I know what I'm going to do").
_RESOLVE = _rx(
    r"\b(?:ive|i have|i ve) (?:finally )?(?:made (?:my|the) decision|decided)(?=\s*(?:$|[.!?;|]|now\b|already\b))",
    r"\b(?:ive|i have) got it (?:all )?(?:figured out|planned(?: out)?)\b|\bi know (?:exactly )?what i(?:m| am) going to do(?=\s*(?:$|[.!?;|]|now\b))",
    r"\b(?:im|i am|i feel|i think im) (?:\w+ )?ready to go\b(?=\s*(?:$|[.!?;|]|now\b))|\bits time(?=\s*(?:$|[.!?;|]))",
)


def _farewell(plain: str) -> bool:
    """Farewell-like phrasing that adds up to a crisis: see _FINALITY, _FAREWELL and _RESOLVE."""
    if _AWAY.search(plain):
        return False
    if _FINALITY.search(plain):
        return True
    cues = len(_FAREWELL.findall(plain)) + len(_RESOLVE.findall(plain))
    return cues >= 2 or (cues == 1 and bool(_FAREWELL.search(plain)) and not _WORK.search(plain))


_HEALTH = _rx(
    r"\binsomnia\b|\b(?:cant|cannot|can not|couldnt|unable to|havent been able to|struggl\w* to|trouble|hard to|difficulty|can barely|can hardly) (?:fall(?:ing)? |get(?:ting)? to |stay(?:ing)? )?(?:sleep|sleeping|asleep)\b",
    r"\b(?:havent|hardly|barely|not|haven't) (?:been )?(?:slept|sleeping)\b|\bsleep(?:ing)? (?:\w+ )?(?:\d+|two|three|four|a few|few) hours\b|\b(?:havent|hasnt|not|barely|hardly) (?:eaten|been eating|had (?:a |any )?(?:proper |real |decent )?(?:meal|food))\b",
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

_NEUTRAL_MARK = " | "  # a clause break, so no pattern can bridge a blanked phrase


def _blank(pattern: re.Pattern, text: str) -> tuple[str, bool]:
    blanked, count = pattern.subn(_NEUTRAL_MARK, text)
    return blanked, count > 0


def _banks(embedder: QueryEmbedder):
    """The crisis and calm exemplar vectors for this embedder, embedded once and kept with it."""
    cached = _BANK_CACHE.get(embedder)
    if cached is None:
        import numpy as np

        bank = texts("safety")["exemplars"]
        sentences = [normalise(t) for name in ("crisis", "calm") for t in bank[name]]
        vectors = _stored_bank(embedder, sentences)
        if vectors is None:
            embed = getattr(embedder, "embed_documents", None) or (lambda items: [embedder.embed_query(t) for t in items])
            vectors = np.asarray(embed(sentences), dtype=np.float32)
            _store_bank(embedder, sentences, vectors)
        cached = (vectors[: len(bank["crisis"])], vectors[len(bank["crisis"]):])
        _BANK_CACHE[embedder] = cached
    return cached


def _bank_file(embedder: QueryEmbedder, sentences: list[str]) -> Path | None:
    """Where the bank's vectors are kept beside the model: named by the model and the exact sentences."""
    model = getattr(embedder, "onnx_path", None)
    if model is None:
        return None
    digest = hashlib.sha256("\n".join([Path(model).name, *sentences]).encode()).hexdigest()[:16]
    return Path(model).parent / f"safety-bank-{digest}.npy"


def _stored_bank(embedder: QueryEmbedder, sentences: list[str]):
    """The vectors from an earlier process (embedding ~450 sentences costs seconds on a first message)."""
    import numpy as np

    path = _bank_file(embedder, sentences)
    try:
        vectors = np.load(path) if path is not None and path.exists() else None
    except (OSError, ValueError):
        return None  # unreadable or half-written: embed again
    return vectors if vectors is not None and vectors.shape[0] == len(sentences) else None


def _store_bank(embedder: QueryEmbedder, sentences: list[str], vectors) -> None:
    import numpy as np

    path = _bank_file(embedder, sentences)
    if path is None:
        return
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    try:
        np.save(partial, vectors)
        partial.replace(path)  # a half-written file is never picked up
        for old in path.parent.glob("safety-bank-*.npy"):
            if old != path and ".partial" not in old.name:
                old.unlink(missing_ok=True)  # vectors of an earlier bank: never read again
    except OSError:
        log.info("could not keep the safety bank vectors in %s; they are embedded again next time", path.parent)
        partial.unlink(missing_ok=True)


_BANK_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def similarity(text: str, *, embedder: QueryEmbedder) -> tuple[float, float]:
    """Cosine of the nearest crisis exemplar and of the nearest calm one, for already neutralised text."""
    return _nearest([embedder.embed_query(text)], embedder=embedder)[0]


def _nearest(vectors: list[list[float]], *, embedder: QueryEmbedder) -> list[tuple[float, float]]:
    import numpy as np

    crisis, calm = _banks(embedder)
    matrix = np.asarray(vectors, dtype=np.float32)
    return list(zip((matrix @ crisis.T).max(axis=1).tolist(), (matrix @ calm.T).max(axis=1).tolist()))


# Clause breaks: punctuation, blanked phrases and the joining words people chain thoughts with.
_CLAUSE_BREAK = re.compile(r"[.!?;,:|()\"]+|\s(?:and|but|so|because|though|although|anyway|honestly|tbh|which|then)(?=\s)")
# A signal is about the writer (or names what they will do), so only first-person clauses are embedded:
# "the retraining pipeline broke again" cannot dilute anything, and skipping it keeps the batch small.
_FIRST_PERSON = re.compile(r"\b(?:i|im|ive|id|ill|me|my|myself|mine)\b")
MIN_WORDS_FOR_CLAUSES = 8  # a shorter message is one thought: the whole-message look already covers it
MAX_CLAUSES = 3  # the longest first-person clauses, in one batched embedding


def clauses(plain: str) -> list[str]:
    """The first-person clauses of a long neutralised message worth embedding on their own."""
    if len(plain.replace("|", " ").split()) < MIN_WORDS_FOR_CLAUSES:
        return []
    parts = (" ".join(part.split()) for part in _CLAUSE_BREAK.split(f" {plain} "))
    found = [part for part in parts if len(part.split()) >= 3 and _FIRST_PERSON.search(part)]
    return sorted(found, key=len, reverse=True)[:MAX_CLAUSES] if len(found) > 1 or (found and len(found[0]) < len(plain) * 0.8) else []


def clause_similarity(parts: list[str], *, embedder: QueryEmbedder) -> list[tuple[float, float]]:
    """(crisis, calm) cosines per clause, from one batched call when the embedder has one."""
    embed = getattr(embedder, "embed_documents", None) or (lambda items: [embedder.embed_query(t) for t in items])
    return _nearest(embed(parts), embedder=embedder) if parts else []


_PIECES = re.compile(r"(\|"
                     r"|[.!?;,:()\"]+"
                     r"|\s(?:and|or|but|so|because|though|although|anyway|honestly|tbh|which|then)(?=\s))")


def embedding_text(plain: str) -> str:
    """A neutralised message as the embedding sees it: without the words a blanked phrase was bound to.

    A blank leaves fragments that read like the start of a crisis sentence: "im not scared of |"
    (from "dying on this hill"), "i want to go to sleep and |" (from "stay asleep till monday"),
    "my team lead | in the demo". So the piece before each blank (and the one joined to it by a bare
    "and"), and the piece after it up to the next break, are left out; separate clauses stay.
    """
    if "|" not in plain:
        return " ".join(plain.split())
    tokens = _PIECES.split(plain)  # piece, separator, piece, separator, ..., piece
    dropped = set()
    for at in range(1, len(tokens), 2):
        if tokens[at] != "|":
            continue
        dropped.update((at - 1, at + 1))
        if at >= 3 and not tokens[at - 1].strip() and tokens[at - 2].strip() in _JOINERS:
            dropped.add(at - 3)  # "go to sleep and |": the clause the blank completed
    kept = (tokens[i].strip() for i in range(0, len(tokens), 2) if i not in dropped)
    return ", ".join(piece for piece in kept if piece)


_JOINERS = {"and", "or", "but", "so", "then"}


def neutralised(text: str) -> tuple[str, str | None]:
    """The normalised text with idioms, jargon and negated intent blanked, and which kind was blanked."""
    plain = normalise(text)
    plain, idiom = _blank(_IDIOM, plain)
    plain, negated = _blank(_NEGATED, plain)
    return plain, ("idiom" if idiom else "negated" if negated else None)


def assess(text: str, *, embedder: QueryEmbedder | None = None) -> Assessment:
    """Is this message a crisis (route to the fixed reply) or about health symptoms (add the nudge)?"""
    plain, blanked = neutralised(text)
    health = bool(_HEALTH.search(plain))
    for kind, pattern in (("explicit", _EXPLICIT), ("threat_to_others", _THREAT), ("indirect", _INDIRECT)):
        if pattern.search(plain):
            return Assessment(crisis=True, health=health, kind=kind, score=1.0)
    if _farewell(plain):
        return Assessment(crisis=True, health=health, kind="indirect", score=1.0)
    score = 0.0
    seen = embedding_text(plain)
    if embedder is not None and len(seen.split()) >= 3:
        score, calm = similarity(seen, embedder=embedder)
        if score >= THRESHOLD and score > calm:
            return Assessment(crisis=True, health=health, kind="similar_to_crisis", score=score)
        # A signal inside a long work message is diluted in the whole; each clause gets its own look.
        # A clause loses its context ("I made peace with it" + "the project is getting cancelled"),
        # so it must also be nearer to a crisis than the whole message is to anything calm.
        parts = [] if _AWAY.search(plain) else clauses(seen)  # "leaving for good, maybe a startup"
        for clause_score, clause_calm in clause_similarity(parts, embedder=embedder):
            if clause_score >= CLAUSE_THRESHOLD and clause_score >= max(clause_calm, calm) + CLAUSE_MARGIN:
                return Assessment(crisis=True, health=health, kind="similar_to_crisis", score=clause_score)
    kind = "health" if health else blanked or "none"
    return Assessment(crisis=False, health=health, kind=kind, score=score)


def crisis_text(assessment: Assessment) -> str:
    """The fixed reply for a crisis: the variant for threats to others, or the general one."""
    reply = texts("safety")["crisis"]
    return reply["threat_text"] if assessment.kind == "threat_to_others" else reply["text"]
