"""Evidence quotes: found after typographic normalisation, never after a changed word or number."""

import json
from pathlib import Path

import pytest

import drafter
from drafter.drafts import MAX_QUOTE_CHARS, ReportDraft, Support
from drafter.verify.problems import Problem
from drafter.verify.quotes import (
    QUOTE_CODES,
    QuoteIndex,
    covered_by_quotes,
    item_fields_text,
    normalise,
    quotable_texts,
    quote_in,
    quote_problems,
    reporting_cues,
)

ROOT = Path(__file__).resolve().parents[1]
DRAFTS = ROOT / "tests" / "llm_server" / "drafts"
COLCOT = ("COLCOT: low-dose colchicine 0.5 mg daily against placebo started within 30 days after myocardial "
          "infarction; the primary outcome was a composite of ischaemic cardiovascular events.")
JOQUER = ("JOQUER: French multicentre double-blind comparison of hydroxychloroquine 400 mg daily with placebo for "
          "24 weeks, assessing dryness, pain and fatigue.")
RECOVERY = "Among patients hospitalized with Covid-19, those who received hydroxychloroquine did not have a lower " \
           "incidence of death at 28 days than those who received usual care."


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("quote", [
    "low-dose colchicine 0.5 mg daily",             # as written
    "Low-Dose Colchicine 0.5 MG Daily",              # case
    "low\u2011dose colchicine 0.5 mg daily",         # non-breaking hyphen
    "low\u2013dose colchicine 0.5 mg daily",         # en dash for a hyphen
    "low dose colchicine 0.5 mg daily",              # hyphen dropped between words
    "low-dose  colchicine\n0.5 mg\u00a0daily",       # double space, line break, no-break space
    "\u201clow-dose colchicine 0.5 mg daily\u201d",  # curly quotes around it
    "\u2026low-dose colchicine 0.5 mg daily\u2026",  # ellipsis character at both ends
    "...low-dose colchicine 0.5 mg daily.",          # three dots and a full stop
    "ｌｏｗ-dose colchicine 0.5 mg daily",             # full-width letters (NFKC)
    "low-dose col\u200bchicine 0.5 mg daily",        # zero-width space inside a word
])
def test_typographic_changes_do_not_fail_a_quote(quote):
    assert quote_problems("COLCOT compared colchicine with placebo.", [quote], {"NCT02551094": COLCOT}) == []


def test_normalisation_folds_quotes_dashes_and_ranges_alike():
    assert normalise("the \u2018so-called\u2019 \u201cdrug\u201d") == normalise("The 'so called' \"drug\"")
    assert normalise("200\u2013400 mg") == normalise("200 - 400 mg") == "200-400 mg"
    assert normalise("3,154 participants") == normalise("3154 participants")
    assert quote_in("hydroxychloroquine 200\u2013400 mg daily", "hydroxychloroquine 200-400 mg daily against")
    assert quote_in("\u2039 0.001", "p < 0.001")  # the prompt shows '<' as a single angle quotation mark


@pytest.mark.parametrize("quote, why", [
    ("low-dose colchicine 0.6 mg daily", "changed number"),
    ("within 20 days after myocardial infarction", "changed number"),
    ("colchicine 5 mg daily", "a number that is part of another (0.5)"),
    ("the primary outcome was a composite of haemorrhagic cardiovascular events", "changed word"),
    ("low-dose colchicine 0.5 mg twice daily", "inserted word"),
])
def test_misquotes_fail(quote, why):
    problems = quote_problems("COLCOT tested colchicine after infarction.", [quote], {"NCT02551094": COLCOT})
    assert codes(problems) == ["QUOTE_NOT_FOUND"], why
    assert "NCT02551094" in problems[0].message


def test_a_dropped_not_fails_and_the_true_quote_passes():
    cited = {"PMID:33031652": RECOVERY}
    dropped = "those who received hydroxychloroquine did have a lower incidence of death at 28 days"
    assert codes(quote_problems("RECOVERY found no survival benefit.", [dropped], cited)) == ["QUOTE_NOT_FOUND"]
    true = "did not have a lower incidence of death at 28 days"
    assert quote_problems("RECOVERY found no survival benefit.", [true], cited) == []


def test_an_ellipsis_inside_a_quote_does_not_join_passages():
    problems = quote_problems("x", ["hydroxychloroquine \u2026 a lower incidence of death"], {"PMID:1": RECOVERY})
    assert codes(problems) == ["QUOTE_NOT_FOUND"]
    assert "one passage" in problems[0].message


def test_a_quote_from_an_uncited_item_fails_and_names_the_item():
    cited = {"NCT02551094": COLCOT}
    others = {"NCT00632866": JOQUER, "NCT02551094": COLCOT}
    problems = quote_problems("JOQUER was double-blind.", ["multicentre double-blind comparison"], cited,
                              other_texts=others)
    assert codes(problems) == ["QUOTE_NOT_FOUND"]
    assert "NCT00632866" in problems[0].message and "does not cite" in problems[0].message
    assert problems[0].quote_index == 0  # type: ignore[attr-defined]


def test_a_quote_citing_items_without_text_fails():
    problems = quote_problems("A review.", ["a systematic review"], {"PMID:35345730": ""})
    assert codes(problems) == ["QUOTE_NOT_FOUND"] and "none of them has text" in problems[0].message
    assert codes(quote_problems("Background.", ["anything"], {})) == ["QUOTE_NOT_FOUND"]


def test_each_quote_is_checked_and_located_by_index():
    problems = quote_problems("x", ["low-dose colchicine", "made up words here", ""], {"NCT02551094": COLCOT})
    assert [(p.code, p.quote_index) for p in problems] == [  # type: ignore[attr-defined]
        ("QUOTE_NOT_FOUND", 1), ("QUOTE_NOT_FOUND", 2)]


def test_a_long_quote_is_too_long_even_when_verbatim():
    long_text = "word " * 100
    problems = quote_problems("x", [long_text.strip()], {"MOA": long_text})
    assert codes(problems) == ["QUOTE_TOO_LONG"]
    assert quote_problems("x", [long_text[:MAX_QUOTE_CHARS].strip()], {"MOA": long_text}) == []


@pytest.mark.parametrize("statement", [
    "COLCOT found fewer ischaemic events with colchicine.",            # finding verb, outcome
    "COLCOT gave colchicine 0.5 mg daily.",                            # a number not in the fields
    "COLCOT compared colchicine against placebo.",                     # a design word
    "Colchicine is linked to diarrhoea in COLCOT.",                    # a safety term
])
def test_a_statement_reporting_a_source_needs_a_quote(statement):
    problems = quote_problems(statement, [], {"NCT02551094": COLCOT}, fields_text="Phase 3; Completed")
    assert codes(problems) == ["QUOTE_MISSING"]
    start, end = problems[0].start, problems[0].end
    assert 0 <= start < end <= len(statement)  # points at the cue


def test_no_quote_is_due_for_what_the_fields_say_or_without_text():
    fields = "Phase 3; Completed; interventional; enrolment 4745; 4745 participants; randomised"
    statement = "COLCOT is a completed Phase 3 randomized trial with 4745 participants."
    assert quote_problems(statement, [], {"NCT02551094": COLCOT}, fields_text=fields) == []
    assert codes(quote_problems(statement, [], {"NCT02551094": COLCOT})) == ["QUOTE_MISSING"]  # no fields given
    # nothing to quote, so nothing can say it: a finding from an item without text is unrecorded
    assert codes(quote_problems("A review found a benefit.", [], {"PMID:1": ""})) == ["FINDING_UNRECORDED"]
    assert quote_problems("A 2015 review.", [], {"PMID:1": ""}, fields_text="Review; 2015") == []
    assert quote_problems("It met its primary outcome.", [], {"NCT1": ""},
                          fields_text="met its primary outcome; primary endpoint met; positive") == []
    assert quote_problems("Retrieve the trial record.", [], {"NCT02551094": COLCOT}) == []  # reports nothing


def test_cues_are_found_in_text_order():
    cues = reporting_cues("It found 23% fewer deaths in a double-blind trial; monitor for drowsiness.")
    assert [(c.kind, c.text) for c in cues] == [
        ("finding", "found"), ("number", "23%"), ("finding", "deaths"), ("design", "double-blind"),
        ("safety", "monitor"), ("safety", "drowsiness")]


def test_covered_by_quotes_respects_boundaries_and_spelling():
    quotes = ["double-blind comparison of hydroxychloroquine 400 mg daily"]
    assert covered_by_quotes("400 mg", quotes, "")
    assert not covered_by_quotes("40", quotes, "")
    assert not covered_by_quotes("4745", quotes, "enrolment 47450")
    assert covered_by_quotes("4,745", [], "enrolment 4745")
    assert covered_by_quotes("double blind", quotes, "")
    assert covered_by_quotes("randomised", [], "Randomized Controlled Trial")
    assert covered_by_quotes("paediatric", [], "pediatric")
    assert not covered_by_quotes("placebo", quotes, "Phase 3")
    assert not covered_by_quotes("four", [], "for the trial")


def test_pack_helpers_give_text_and_fields_per_key():
    pack = drafter.load_pack(ROOT / "examples/packs/hydroxychloroquine-gb.json")
    texts = quotable_texts(pack)
    joquer = next(t for i in pack.predicted_indications for t in i.trials if t.key == "NCT00632866")
    assert joquer.results is not None and joquer.results.summary
    # title, then summary, then the results summary
    assert texts["NCT00632866"] == f"{joquer.title}\n{joquer.summary}\n{joquer.results.summary}" and "MOA" in texts
    assert texts["PMID:25027140"].startswith("Effects of hydroxychloroquine on symptomatic improvement")
    assert set(texts) <= pack.citable_keys()
    assert all(key.startswith("SAFETY:") for key in texts if key.startswith("SAFETY"))
    fields = item_fields_text(pack)
    assert "Phase 3" in fields["NCT00632866"]
    assert set(fields) <= pack.citable_keys()


def test_the_packs_own_finding_summaries_are_quotable():
    """Article.summary and TrialResults.summary say what was found; a quote from them is found, a changed figure is not."""
    pack = drafter.load_pack(ROOT / "examples/packs/colchicine-us.json")
    texts = quotable_texts(pack)
    colcot = next(a for i in pack.predicted_indications for a in i.articles if a.key == "PMID:31733140")
    clear = next(t for i in pack.predicted_indications for t in i.trials if t.key == "NCT03048825")
    assert colcot.summary and clear.results is not None and clear.results.summary
    assert colcot.summary not in (colcot.abstract or "") and clear.results.summary not in (clear.summary or "")
    assert texts["PMID:31733140"].endswith(colcot.summary)
    assert texts["NCT03048825"].endswith(clear.results.summary)
    index = QuoteIndex.build(pack)
    statement = "CLEAR SYNERGY found no reduction in the primary composite (hazard ratio 0.99)."
    assert index.problems(statement, ["(HR 0.99, 95% CI 0.85 to 1.16; P = 0.93)"], ["NCT03048825"]) == []
    wrong = index.problems(statement, ["(HR 0.89, 95% CI 0.85 to 1.16; P = 0.93)"], ["NCT03048825"])
    assert [p.code for p in wrong] == ["QUOTE_NOT_FOUND"]


def test_every_code_has_a_severity_and_a_description():
    assert set(QUOTE_CODES) == {"QUOTE_NOT_FOUND", "QUOTE_MISSING", "QUOTE_TOO_LONG", "FINDING_UNRECORDED"}
    assert all(severity == "error" and text for severity, text in QUOTE_CODES.values())


# One clean draft per example pack, counted from the folder so a new pack cannot go unchecked.
CLEAN_DRAFTS = sorted(p.name for p in (ROOT / "examples" / "packs").glob("*.json"))


@pytest.mark.parametrize("name", CLEAN_DRAFTS)
def test_the_clean_scripted_drafts_quote_their_sources_and_write_no_ids(name):
    """The drafts the cassettes serve obey the contract the prompt states."""
    pack = drafter.load_pack(ROOT / "examples" / "packs" / name)
    draft = ReportDraft.model_validate_json((DRAFTS / name).read_text(encoding="utf-8"))
    texts, fields = quotable_texts(pack), item_fields_text(pack)
    index = QuoteIndex.build(pack)
    quoted = 0
    for indication in draft.indications:
        for where, statement in indication.sections.statements():
            assert not any(token in statement.text for token in ("PMID", "NCT", "ISRCTN", "ACTRN", "EUCTR")), where
            if statement.support is Support.BACKGROUND:
                assert statement.quotes == [], where
                continue
            cited = {k: texts.get(k, "") for k in statement.keys}
            joined = "; ".join(fields.get(k, "") for k in statement.keys)
            problems = quote_problems(statement.text, statement.quotes, cited, fields_text=joined, other_texts=texts)
            assert problems == [], f"rank {indication.rank} {where}: {problems}"
            assert index.problems(statement.text, statement.quotes, statement.keys) == problems
            quoted += bool(statement.quotes)
    assert quoted >= 1
    assert json.loads((DRAFTS / name).read_text(encoding="utf-8"))  # still valid JSON on disk


def test_clip_keeps_head_and_tail_within_budget_and_stays_quotable():
    from drafter.prompts import QUOTE_BUDGET, clip

    words = " ".join(f"word{i}" for i in range(400))
    clipped = clip(words, QUOTE_BUDGET["abstract"])
    assert len(clipped) <= QUOTE_BUDGET["abstract"]
    head, tail = clipped.split(" \u2026 ")
    assert words.startswith(head) and words.endswith(tail)
    assert len(tail) > len(head)  # an abstract's conclusion comes last
    assert quote_in(tail.split(" ", 3)[-1], words) and quote_in(head.rsplit(" ", 3)[0], words)
    assert not quote_in(head + " " + tail, words)  # a quote may not span the gap
    assert clip("short text", 10) == "short text"
    assert clip(words, 300) == clip(words, 300)  # deterministic


def test_the_prompt_shows_quotable_text_by_key_and_forbids_ids_in_text():
    from drafter.drafting import select_indications
    from drafter.prompts import IndicationEntry, load_prompts, report_messages

    pack = drafter.load_pack(ROOT / "examples/packs/hydroxychloroquine-gb.json")
    assessment = drafter.assess_pack(pack)
    entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications()
               if i.rank in select_indications(pack)]
    system, user = (m["content"] for m in report_messages(load_prompts(), pack, entries))
    assert "Write no PMID, registry id" in system and '"quotes"' in system
    assert "[NCT00632866] trial, Phase 3" in user
    assert "Summary: Randomised, double-blind, placebo-controlled, parallel-group trial sponsored by" in user
    assert "[SAFETY:C2] Pre-existing maculopathy." in user  # the key letter says contraindication
    assert f"[MOA] {pack.drug.mechanism_of_action}" in user


def test_the_report_shows_each_statements_quotes():
    import openai

    from drafter.pipeline import draft_report
    from tests.cassette_scenarios import CASSETTES, MODEL, REPORT_DATE
    from tests.llm_server import make_vcr

    client = openai.OpenAI(api_key="replay", base_url="https://api.openai.com/v1", max_retries=0)
    with make_vcr(CASSETTES, "none").use_cassette("examples.yaml", allow_playback_repeats=True):
        report = draft_report(ROOT / "examples/packs/colchicine-us.json", client=client, model=MODEL,
                              report_date=REPORT_DATE)
    lines = report.markdown.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("- The trial was open-label"))
    quoted = ("\u201cOpen-label randomised trial sponsored by University College Dublin, with blinded assessment of "
              "endpoints\u201d \u00b7 \u201cthe trial ended before its planned 367 outcomes\u201d")
    assert lines[at + 1] == "  > Source text: " + quoted  # indented: it belongs to the list item
    assert f'class="quotes" title="{quoted}"' in report.html
    # In a paragraph, the statement after a quoted one starts a paragraph of its own, outside the quote.
    moa = next(i for i, line in enumerate(lines) if line.startswith("Colchicine binds tubulin"))
    assert lines[moa + 2].startswith("> Source text: \u201cColchicine binds tubulin")
    assert lines[moa + 2].endswith("\u201d") and lines[moa + 3] == "" and lines[moa + 4].startswith("Inflammation")
    background = next(line for line in lines if "background knowledge, not from" in line and line.startswith("- "))
    assert not lines[lines.index(background) + 1].startswith("  >")  # background statements quote nothing


def test_the_pack_index_finds_a_misquote_and_an_uncited_source():
    pack = drafter.load_pack(ROOT / "examples/packs/colchicine-us.json")
    index = QuoteIndex.build(pack)
    assert index.problems("COLCOT gave colchicine.", ["took colchicine 0.5 mg once daily"], ["NCT02551094"]) == []
    misquote = index.problems("COLCOT gave colchicine.", ["took colchicine 0.6 mg once daily"], ["NCT02551094"])
    assert codes(misquote) == ["QUOTE_NOT_FOUND"]
    uncited = index.problems("CONVINCE was open-label.", ["Open-label randomised trial sponsored by University "
                                                          "College Dublin"], ["NCT02551094"])
    assert codes(uncited) == ["QUOTE_NOT_FOUND"] and "NCT02898610" in uncited[0].message
    assert index.covered("4745", [], ["NCT02551094"]) and not index.covered("4745", [], ["NCT02898610"])


def _prompt_lines(pack: drafter.EvidencePack) -> dict[str, str]:
    """Key -> the line of the drafting prompt that shows that item (its clipped, filtered text)."""
    from drafter.drafting import select_indications
    from drafter.prompts import IndicationEntry, load_prompts, report_messages

    assessment = drafter.assess_pack(pack)
    entries = [IndicationEntry(i, assessment.for_rank(i.rank)) for i in pack.ranked_indications()
               if i.rank in select_indications(pack)]
    user = report_messages(load_prompts(), pack, entries)[1]["content"]
    lines: dict[str, str] = {}
    for line in user.splitlines():
        if line.startswith("[") and "]" in line:
            lines.setdefault(line[1:line.index("]")], line)
    return lines


@pytest.mark.parametrize("name, pack_path", [(n, f"examples/packs/{n}") for n in CLEAN_DRAFTS]
                         + [("injection.clean.json", "tests/llm_server/drafts/injection-pack.json")])
def test_the_clean_drafts_quote_only_what_the_prompt_shows(name, pack_path):
    """A careful model quotes the text it was shown: long abstracts and summaries are clipped in the prompt."""
    pack = drafter.load_pack(ROOT / pack_path)
    lines = _prompt_lines(pack)
    draft = ReportDraft.model_validate_json((DRAFTS / name).read_text(encoding="utf-8"))
    for indication in draft.indications:
        for where, statement in indication.sections.statements():
            for quote in statement.quotes:
                assert any(quote_in(quote, lines.get(key, "")) for key in statement.keys), (
                    f"rank {indication.rank} {where}: {quote!r} is not in the prompt's text of {statement.keys}")


def test_a_quote_from_the_clipped_middle_is_not_shown_to_the_model():
    """The check above can fail: the middle of a long abstract is in the pack but not in the prompt."""
    pack = drafter.load_pack(ROOT / "examples/packs/colchicine-us.json")
    hidden = "187 patients (6.8%) on colchicine"  # LoDoCo2's primary result, in the middle of the abstract
    assert hidden in quotable_texts(pack)["PMID:32865380"]
    assert not quote_in(hidden, _prompt_lines(pack)["PMID:32865380"])
