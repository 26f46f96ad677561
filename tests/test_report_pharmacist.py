"""The report a pharmacist acts on (issue 12, part 3): what each table, section and link must show.

Every test builds a small pack here, so the figures it asserts are the ones it put in: a drug with a
mechanism and a safety section of one item per kind, a query log with a failed search, and three
indications (one with trials and articles, one sharing an article with it, one with no evidence).
The drafted sections are put in as accepted, as the repair loop would hand them over; the report is
built by the real assembler, and its Markdown read with markdown-it-py and its HTML with html.parser.
The monitoring plan's pure logic (:mod:`drafter.monitoring`) is tested on its own at the end.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from drafter.assemble import Anchors, Report, assemble, counted, item_anchor, key_url
from drafter.drafting import DraftResult, DraftStatus, IndicationOutcome
from drafter.drafts import Conclusion, IndicationSections, MechanisticRationale, Paragraph, Statement, Support
from drafter.llm import Usage
from drafter.markdown_text import safe_url
from drafter.monitoring import (
    CHECK_POPULATION,
    MONITOR,
    REVIEW_COMEDICATION,
    SCREEN,
    first_sentence,
    item_terms,
    monitoring_plan,
    plan_due,
    what_to_monitor,
)
from drafter.pack.models import EvidencePack, Interaction, SafetyWarning
from drafter.prompts import load_prompts
from drafter.rules import Decision, assess_pack
from drafter.verify import Verification, verify_markdown
from drafter.vocabulary import load_vocabulary

GOLDEN = Path(__file__).parent / "golden"
DATE = dt.date(2026, 1, 15)
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


# --- a small pack and a report drafted on it ----------------------------------------------------------


def pack_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "meta": {
            "pack_id": "testdrug", "data_cutoff": "2025-03-31",
            "query_log": [
                {"source": "ClinicalTrials.gov", "query": "testdrug AND disease a", "result_status": "success",
                 "result_count": 2},
                {"source": "PubMed", "query": "testdrug AND disease a", "result_status": "success", "result_count": 3},
                {"source": "PubMed", "query": "testdrug AND disease b", "result_status": "error"},
                {"source": "DrugBank", "query": "testdrug interactions", "result_status": "not_found"},
                {"source": "Local formulary", "topic": "safety", "result_status": "success"},
            ],
            "data_gaps": [{"item": "Licence numbers were not retrieved."}],
        },
        "drug": {"inn": "testdrug", "original_indications": ["hypertension"],
                 "mechanism_of_action": "Blocks the imaginary Z receptor on sensory neurons.",
                 "mechanism_source": "SmPC section 5.1"},
        "jurisdiction": {"country": "GB", "market_status": "marketed"},
        "safety": {
            "warnings": [{"text": "Drowsiness is dose-related; titrate slowly.", "source": "SmPC 4.4"}],
            "contraindications": [{"text": "Severe renal impairment.", "source": "SmPC 4.3"}],
            "interactions": [{"interacting": "Opioids", "severity": "major",
                              "text": "Additive sedation and respiratory depression.", "source": "SmPC 4.5"}],
            "adverse_effects": [{"text": "Nausea and dizziness.", "frequency": "common", "source": "SmPC 4.8"}],
            "special_populations": [{"population": "pregnancy", "text": "Avoid in pregnancy.", "source": "SmPC 4.6"}],
        },
        "predicted_indications": [
            {"rank": 1, "disease_name": "Disease A", "score": 0.9,
             "trials": [
                 {"registry_id": "NCT00000001", "title": "Testdrug for Disease A", "phase": "Phase 3",
                  "status": "completed", "enrollment": 300, "relevance": "direct",
                  "results": {"posted": True, "primary_outcome": "not_met",
                              "summary": "Pain scores at 12 weeks did not differ from placebo (p=0.41)."}},
                 {"registry_id": "NCT00000002", "title": "Dose finding in Disease A", "phase": "Phase 2",
                  "status": "recruiting", "summary": "Open-label dose-finding study.", "relevance": "related"},
             ],
             "articles": [
                 {"pmid": "11111111", "title": "Testdrug in Disease A: a pilot", "year": 2020,
                  "summary": "Flares fell by 30% over 6 months.", "relevance": "direct"},
                 {"pmid": "22222222", "title": "Sleep on testdrug", "year": 2021,
                  "abstract": "Testdrug improved sleep quality in 40 patients. Nausea was common."},
                 {"pmid": "33333333", "title": "A letter", "year": 2019, "relevance": "unrelated"},
             ]},
            {"rank": 2, "disease_name": "Disease B", "score": 0.8,
             "articles": [{"pmid": "11111111", "title": "Testdrug in Disease A: a pilot", "year": 2020},
                          {"pmid": "44444444", "title": "Disease B cohort", "year": 2022}]},
            {"rank": 3, "disease_name": "Disease C", "score": 0.5},
        ],
    }
    for path, value in changes.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return data


def make_pack(**changes: Any) -> EvidencePack:
    return EvidencePack.model_validate(pack_data(**changes))


def st(text: str, keys: list[str], quotes: list[str] | None = None) -> Statement:
    return Statement(text=text, support=Support.PACK, keys=keys, quotes=quotes or [])


def background(text: str) -> Statement:
    return Statement(text=text, support=Support.BACKGROUND, keys=[])


def sections(decision: Decision, paragraph: list[Statement], rationale: list[Statement],
             next_steps: list[Statement]) -> IndicationSections:
    return IndicationSections(
        mechanistic_rationale=MechanisticRationale(paragraphs=[Paragraph(statements=paragraph)]),
        conclusion=Conclusion(decision=decision, rationale=rationale, next_steps=next_steps))


RANK1_QUOTE = "Testdrug improved sleep quality"


def rank1(decision: Decision = Decision.PROCEED_WITH_GUARDRAILS) -> IndicationSections:
    return sections(
        decision,
        [st("Testdrug blocks the Z receptor.", ["MOA"], ["Blocks the imaginary Z receptor"]),
         # one statement, two cited articles, a quote from one of them only
         st("One small study reported better sleep.", ["PMID:22222222", "PMID:11111111"], [RANK1_QUOTE])],
        [st("Opioids add sedation.", ["SAFETY:I1"], ["Additive sedation"]),
         st("The Phase 3 trial missed its primary outcome.", ["NCT00000001"]),
         st("Drowsiness is dose-related.", ["SAFETY:W1", "SAFETY:I1"], ["Drowsiness is dose-related"])],
        [st("Exclude severe renal impairment.", ["SAFETY:C1"], ["Severe renal impairment"]),
         background("Review the evidence again at the next data refresh.")])


def rank2(decision: Decision = Decision.RESEARCH_QUESTION) -> IndicationSections:
    return sections(decision, [st("A cohort is the only study.", ["PMID:44444444", "PMID:11111111"])],
                    [st("Evidence is thin.", ["PMID:44444444"])], [background("Search again later.")])


def report(pack: EvidencePack | None = None, first: IndicationSections | None = None,
           second: IndicationSections | None = None, *, withheld: IndicationSections | None = None,
           only_first: bool = False) -> Report:
    """Ranks 1 and 2 drafted (rank 2 withheld when ``withheld`` holds its failed draft); rank 3 further."""
    pack = pack or make_pack()
    outcomes = [IndicationOutcome(1, "Disease A", DraftStatus.VERIFIED, first or rank1(), Verification(), accepted_at=1)]
    if only_first:
        pass
    elif withheld is not None:
        outcomes.append(IndicationOutcome(2, "Disease B", DraftStatus.WITHHELD, None, Verification(),
                                          withheld_reason="the draft still failed verification",
                                          rejected_sections=withheld))
    else:
        outcomes.append(IndicationOutcome(2, "Disease B", DraftStatus.VERIFIED, second or rank2(), Verification(),
                                          accepted_at=1))
    result = DraftResult(pack, assess_pack(pack), "test-model", load_prompts(), outcomes, [], Usage())
    return assemble(result, report_date=DATE)


@pytest.fixture(scope="module")
def page() -> Report:
    return report()


# --- reading the pages --------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Ids, links, headings and table rows (by row id) of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.rows: dict[str, list[str]] = {}
        self._heading: str | None = None
        self._row: str | None = None
        self._last: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if attr.get("id"):
            self.ids.append(str(attr["id"]))
        if tag == "a" and attr.get("href"):
            self.links.append(str(attr["href"]))
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading, self._text = tag, []
        if tag == "tr":  # an evidence row's key finding is the row below it: read as the row's last cell
            finding = attr.get("class") == "finding" and self._last
            self._row = str(attr["id"]) if attr.get("id") else (self._last if finding else None)
            if attr.get("id"):
                self.rows[str(attr["id"])] = []
                self._last = str(attr["id"])
        if tag == "td" and self._row:
            self.rows[self._row].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self.headings.append((tag, "".join(self._text).strip()))
            self._heading = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._text.append(data)
        if self._row and self.rows[self._row]:
            self.rows[self._row][-1] += data


def read_html(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    parser.close()
    parser.rows = {k: [" ".join(c.removeprefix("Key finding:").split()) for c in v] for k, v in parser.rows.items()}
    return parser


def md_rows(markdown: str) -> dict[str, list[str]]:
    """Each Markdown table row that carries an anchor, by anchor id: its cells as a reader sees them."""
    rows = {}
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r'^\| <a id="([a-z0-9-]+)"></a>', line)
        if match:
            start = i
            while start > 0 and lines[start - 1].startswith("|"):
                start -= 1
            rendered = MARKDOWN.render("\n".join(lines[start:i + 1]))  # header, separator, rows to this one
            last = re.findall(r"<tr>(.*?)</tr>", rendered, flags=re.S)[-1]
            rows[match.group(1)] = [_text(cell) for cell in re.findall(r"<td>(.*?)</td>", last, flags=re.S)]
    return rows


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def md_headings(markdown: str) -> list[tuple[int, str]]:
    tokens = MARKDOWN.parse(markdown)
    return [(int(t.tag[1]), tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


def section(markdown: str, heading: str) -> str:
    """The Markdown from ``heading`` to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    start = lines.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    end = next((i for i in range(start + 1, len(lines))
                if re.match(r"^#{1,%d} " % level, lines[i])), len(lines))
    return "\n".join(lines[start:end])


# --- 1. evidence tables -------------------------------------------------------------------------------


def test_trial_rows_show_title_relevance_results_and_the_pack_s_finding(page: Report) -> None:
    md, html = md_rows(page.markdown), read_html(page.html).rows
    for rows in (md, html):
        first, second = rows["nct00000001"], rows["nct00000002"]
        assert first[0] == "NCT00000001" and first[5:8] == ["Direct", "Not met, results posted",
                                                             "Testdrug for Disease A"]
        assert first[8] == "Pain scores at 12 weeks did not differ from placebo (p=0.41)."  # results summary first
        assert second[5:8] == ["Related", "Unknown", "Dose finding in Disease A"]  # no results in the pack
        assert second[8] == "Open-label dose-finding study."  # else the trial's own summary


def test_article_rows_show_the_summary_else_a_verified_quote_else_a_plain_gap(page: Report) -> None:
    md, html = md_rows(page.markdown), read_html(page.html).rows
    for rows in (md, html):
        summarised, quoted, bare = rows["pmid-11111111"], rows["pmid-22222222"], rows["pmid-33333333"]
        assert summarised[4:] == ["Direct", "Testdrug in Disease A: a pilot", "Flares fell by 30% over 6 months."]
        # The statement cites both 22222222 and 11111111; its quote is in 22222222's text only.
        assert quoted[4:6] == ["Not graded", "Sleep on testdrug"]
        assert quoted[6] == f"\u201c{RANK1_QUOTE}\u201d (quoted in a verified statement)"
        assert bare[4] == "Unrelated" and bare[6] == "no finding in the pack"


def test_a_withheld_draft_s_quotes_never_become_a_key_finding() -> None:
    failed = rank2()
    failed.mechanistic_rationale.paragraphs[0].statements[0].quotes.append("Disease B cohort")
    built = report(withheld=failed)
    for rows in (md_rows(built.markdown), read_html(built.html).rows):
        assert rows["pmid-44444444"][-1] == "no finding in the pack"


# --- 2. mechanism -------------------------------------------------------------------------------------


def test_the_mechanism_and_its_source_have_their_own_section_that_moa_citations_land_on(page: Report) -> None:
    moa = section(page.markdown, "## Mechanism of action")
    assert '<a id="moa"></a>' in moa and "(source: SmPC section 5.1)" in moa
    assert "“Blocks the imaginary Z receptor on sensory neurons.”" in moa
    assert "[MOA](#moa)" in page.markdown
    html = read_html(page.html)
    assert "moa" in html.ids and "#moa" in html.links
    assert "Blocks the imaginary Z receptor on sensory neurons." in page.html


def test_a_pack_without_a_mechanism_says_so_as_a_gap() -> None:
    built = report(make_pack(**{"drug.mechanism_of_action": None}),
                   first=sections(Decision.HOLD, [background("Nothing is known.")], [], []))
    for text in (built.markdown, built.html):
        assert "holds no mechanism of action for testdrug (data gap)" in text


# --- 3. cut-off and query log -------------------------------------------------------------------------


def test_data_cut_off_and_a_one_line_query_log_that_names_failures(page: Report) -> None:
    md = page.markdown
    assert "data cut-off 2025-03-31" in md.splitlines()[2] and "Data cut-off: 2025-03-31." in md
    searched = [line for line in md.splitlines() if line.startswith("Searched: ")]
    assert searched == ["Searched: ClinicalTrials.gov (trials): 2 results · PubMed (literature): 2 searches, 3 "
                        "results, **1 failed (error)** · DrugBank (interactions): nothing found · Local formulary "
                        "(safety): ran."]
    assert "PubMed (literature): 2 searches, 3 results, <strong>1 failed (error)</strong>" in page.html
    assert "data cut-off 2025-03-31" in page.html


def test_every_failed_query_is_also_a_data_gap() -> None:
    changed = pack_data()
    changed["meta"]["query_log"].append({"source": "MHRA Products", "query": "testdrug", "result_status": None})
    built = report(EvidencePack.model_validate(changed))
    gaps = section(built.markdown, "## Searches and data gaps")
    assert "- Licence numbers were not retrieved." in gaps  # the pack's own gaps first
    assert ("- The PubMed search for “testdrug AND disease b” (literature) did not complete (error): what it "
            "would have found is unknown.") in gaps
    assert "- The MHRA Products search for “testdrug” (regulatory) did not complete (no status recorded)" in gaps
    assert gaps.count("did not complete") == 2  # a search that found nothing is not a gap
    assert "MHRA Products (regulatory): **failed (no status recorded)**" in gaps
    assert built.html.count("did not complete") == 2


def test_a_pack_without_a_query_log_or_cut_off_says_what_is_not_recorded() -> None:
    built = report(make_pack(**{"meta.query_log": [], "meta.data_cutoff": None}))
    for text in (built.markdown, built.html):
        assert "holds no query log" in text and "data cut-off not stated in the pack" in text


# --- 4. safety per indication and anchors -------------------------------------------------------------


def test_each_indication_lists_the_safety_items_it_cites_first_then_the_full_list(page: Report) -> None:
    md = page.markdown
    cited = section(md, "### Cited for Disease A (rank 1)")
    keys = re.findall(r"^\| \[(SAFETY:\w+)\]\(#(safety-\w+)\)", cited, flags=re.M)
    assert keys == [("SAFETY:I1", "safety-i1"), ("SAFETY:W1", "safety-w1"), ("SAFETY:C1", "safety-c1")]
    assert "| Interaction with Opioids (major) | Additive sedation and respiratory depression. | SmPC 4.5 |" in cited
    assert "cite no safety item" in section(md, "### Cited for Disease B (rank 2)")
    full = section(md, "### All safety items in the pack")
    assert md.index("### Cited for Disease A") < md.index("### Cited for Disease B") < md.index(full)
    assert re.findall(r'<a id="(safety-[a-z]\d)"></a>', full) == ["safety-w1", "safety-c1", "safety-i1", "safety-a1",
                                                              "safety-p1"]
    html = page.html
    details = html[html.index('<details id="all-safety-items">'):html.index("</details>")]
    assert details.count("<li id=\"safety-") == 5 and "5 items" in details
    assert html.index("<h3>Cited for Disease A (rank 1)</h3>") < html.index('<details id="all-safety-items">')


def test_a_withheld_indication_cites_no_safety_item_and_gets_no_plan() -> None:
    failed = rank2(Decision.GO)
    failed.conclusion.rationale.append(st("Opioids add sedation.", ["SAFETY:I1"], ["Additive sedation"]))
    built = report(withheld=failed)
    block = section(built.markdown, "### Cited for Disease B (rank 2)")
    assert "were withheld" in block and "SAFETY:I1" not in block
    assert section(built.markdown, "### Disease B (rank 2)").count("Monitoring plan") == 0


def test_every_in_page_link_lands_on_an_id_and_ids_are_unique(page: Report) -> None:
    html = read_html(page.html)
    assert len(html.ids) == len(set(html.ids))
    assert {link[1:] for link in html.links if link.startswith("#")} <= set(html.ids)
    rendered = read_html(MARKDOWN.render(page.markdown))
    md_links = {link for link in rendered.links if link.startswith("#")}
    assert {link[1:] for link in md_links} <= set(rendered.ids) and len(rendered.ids) == len(set(rendered.ids))
    # every kind of citation is among them
    assert {"#moa", "#safety-w1", "#safety-i1", "#safety-c1", "#pmid-22222222", "#nct00000001"} <= md_links


def test_a_shared_article_links_each_indication_s_citation_to_its_own_row(page: Report) -> None:
    rank2_block = section(page.markdown, "## Rank 2: Disease B")
    assert '<a id="rank-2-pmid-11111111"></a>' in rank2_block
    assert "[PMID:11111111](#rank-2-pmid-11111111)" in rank2_block  # rank 2's statement, rank 2's row
    assert "[PMID:11111111](#pmid-11111111)" in section(page.markdown, "## Why is this prediction reasonable?")
    html = read_html(page.html)
    assert {"pmid-11111111", "rank-2-pmid-11111111"} <= set(html.ids)


def test_citation_links_of_the_example_reports_all_land_on_their_item() -> None:
    goldens = sorted(GOLDEN.glob("*.md"))
    assert goldens
    for golden in goldens:
        rendered = read_html(MARKDOWN.render(golden.read_text(encoding="utf-8")))
        missing = {link[1:] for link in rendered.links if link.startswith("#")} - set(rendered.ids)
        assert not missing, (golden.name, sorted(missing))


def test_item_anchors_are_safe_distinct_and_stable() -> None:
    assert item_anchor("SAFETY:W1") == "safety-w1" and item_anchor("MOA") == "moa"
    assert item_anchor("PMID:21300040") == "pmid-21300040" and item_anchor("NCT01821560") == "nct01821560"
    assert item_anchor("CTRI/2020/04/024479") == "ctri-2020-04-024479"
    odd = ["SAFETY:w1", "SAFETY:W_1", "SAFETY:W.1", "SAFETY:W-1", "SAFETY:W1"]
    anchors = [item_anchor(k) for k in odd]
    assert len(set(anchors)) == len(odd), anchors  # keys that fold alike still get their own anchor
    assert all(safe_url(f"#{a}") for a in anchors)
    assert item_anchor("SAFETY:ALL") != "all-safety-items"  # the full list's own anchor is no item's
    assert key_url("SAFETY:W1") == "#safety-w1" and key_url("MOA") == "#moa"
    anchors_map = Anchors(make_pack(), [1, 2])
    assert anchors_map.cite(2, "PMID:11111111") == "#rank-2-pmid-11111111"
    assert anchors_map.cite(1, "PMID:44444444") == "#pmid-44444444"  # out of scope: lands where it is listed
    assert anchors_map.cite(1, "pmid 4444") is None  # not canonical: printed without a link


# --- 5. monitoring plan in the report ------------------------------------------------------------------


def test_proceed_with_guardrails_gets_a_plan_from_the_cited_items_only(page: Report) -> None:
    plan = section(page.markdown, "#### Monitoring plan")
    rows = [line for line in plan.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [re.search(r"\[(SAFETY:\w+)\]", row).group(1) for row in rows] == ["SAFETY:C1", "SAFETY:I1", "SAFETY:W1"]
    assert rows[0].startswith(f"| {SCREEN} | Renal impairment | Contraindication: Severe renal impairment.")
    assert rows[1].startswith(f"| {REVIEW_COMEDICATION} | Co-prescription of Opioids: sedation, respiratory "
                              "depression | Interaction with Opioids (major)")
    assert rows[2].startswith(f"| {MONITOR} | Drowsiness | Warning: Drowsiness is dose-related; titrate slowly.")
    assert "*(source: SmPC 4.4)*" in rows[2] and rows[2].endswith("| [SAFETY:W1](#safety-w1) |")
    assert "SAFETY:A1" not in plan and "SAFETY:P1" not in plan  # in the pack, not cited
    assert "<h4>Monitoring plan</h4>" in page.html and page.html.count("<h4>Monitoring plan</h4>") == 1


@pytest.mark.parametrize(("decision", "planned"), [(Decision.GO, True), (Decision.PROCEED_WITH_GUARDRAILS, True),
                                                   (Decision.RESEARCH_QUESTION, False), (Decision.HOLD, False)])
def test_only_go_and_proceed_with_guardrails_get_a_plan(decision: Decision, planned: bool) -> None:
    built = report(first=rank1(decision))
    assert ("#### Monitoring plan" in built.markdown) is planned
    assert ("<h4>Monitoring plan</h4>" in built.html) is planned


def test_a_plan_due_without_cited_safety_items_says_so() -> None:
    built = report(second=rank2(Decision.GO))
    block = section(built.markdown, "### Disease B (rank 2)")
    assert "#### Monitoring plan" in block and "cite no safety item" in block and "(#all-safety-items)" in block


# --- 6. counts, plurals, headings, summary ------------------------------------------------------------


def test_every_rank_shows_its_counts_with_the_breakdown(page: Report) -> None:
    overview = section(page.markdown, "## Quick overview")
    assert "| Number of clinical trials | 2 (1 completed Phase 3, 1 recruiting Phase 2) |" in overview
    assert "| Number of publications | 3 |" in overview
    rank2_block = section(page.markdown, "## Rank 2: Disease B")
    assert "| Number of clinical trials | 0 |" in rank2_block and "| Number of publications | 2 |" in rank2_block
    assert "| 3 | Disease C | 50.00% | L5 | 0 | 0 |" in page.markdown
    assert page.html.count("<th>Number of clinical trials</th>") == 2


def test_counts_are_prose_with_correct_plurals(page: Report) -> None:
    assert [counted(n, "trial") for n in (0, 1, 2)] == ["0 trials", "1 trial", "2 trials"]
    assert counted(2, "search", "searches") == "2 searches" and counted(1, "search", "searches") == "1 search"
    for text in (page.markdown, page.html):
        assert not re.search(r"\(s\)|\b1 (?:trials|articles|results|items|searches)\b|(?<!Phase )\b[02-9] (?:trial|item)\b", text)
    one = report(make_pack(**{"predicted_indications": pack_data()["predicted_indications"][:1]}), only_first=True)
    assert "first of 1 predicted indication for testdrug" in one.markdown


def _sentence_case(heading: str, names: list[str]) -> bool:
    for name in sorted(names, key=len, reverse=True):
        heading = heading.replace(name, "")
    words = re.findall(r"[A-Za-z][\w-]*", heading)
    return all(not w[0].isupper() for w in words[1:] if w not in ("TxGNN",))


def test_headings_are_in_sentence_case_and_the_same_in_both_outputs(page: Report) -> None:
    names = ["Disease A", "Disease B", "Testdrug", "UK", "From Hypertension"]
    md = md_headings(page.markdown)
    html = read_html(page.html).headings
    for _, text in md + html:
        assert _sentence_case(text, names), text
    assert [t for level, t in md if level == 2] == [t for tag, t in html if tag == "h2"]
    assert [t for level, t in md if level == 4] == [t for tag, t in html if tag == "h4"]


def test_the_one_sentence_summary_is_one_short_sentence(page: Report) -> None:
    summary = section(page.markdown, "## One-sentence summary").splitlines()[2]
    assert summary == ("TxGNN ranks Disease A first of 3 predicted indications for testdrug (score 90.00%), and the "
                       "pack's 2 trials and 3 articles for it grade it " + assess_pack(make_pack()).for_rank(1).level
                       + ", which allows at most " + assess_pack(make_pack()).for_rank(1).decision_ceiling.value + ".")
    assert summary.endswith(".") and not re.search(r"[.;!?]\s", summary[:-1])
    assert len(summary.split()) <= 40
    assert summary in _text(page.html)


# --- the monitoring module on its own -------------------------------------------------------------------


def test_plan_is_due_only_for_decisions_that_allow_use() -> None:
    assert plan_due(Decision.GO) and plan_due(Decision.PROCEED_WITH_GUARDRAILS)
    assert not plan_due(Decision.RESEARCH_QUESTION) and not plan_due(Decision.HOLD) and not plan_due(None)
    assert monitoring_plan(make_pack(), ["SAFETY:W1"], Decision.HOLD) == []


def test_steps_follow_action_order_then_citation_order_one_per_item() -> None:
    pack = make_pack()
    keys = ["SAFETY:A1", "PMID:11111111", "SAFETY:P1", "SAFETY:W1", "SAFETY:A1", "MOA", "SAFETY:I1", "SAFETY:C1"]
    steps = monitoring_plan(pack, keys, Decision.GO)
    assert [(s.action, s.key) for s in steps] == [
        (SCREEN, "SAFETY:C1"), (REVIEW_COMEDICATION, "SAFETY:I1"), (CHECK_POPULATION, "SAFETY:P1"),
        (MONITOR, "SAFETY:A1"), (MONITOR, "SAFETY:W1")]
    assert steps == monitoring_plan(pack, keys, Decision.GO)  # deterministic
    by_key = {s.key: s for s in steps}
    assert by_key["SAFETY:A1"].what == "Nausea, dizziness" and by_key["SAFETY:A1"].why == (
        "Adverse effect (common): Nausea and dizziness.")
    assert by_key["SAFETY:P1"].what == "Pregnancy" and by_key["SAFETY:P1"].source == "SmPC 4.6"
    assert monitoring_plan(pack, ["SAFETY:X9", "NCT00000001"], Decision.GO) == []  # not safety items of the pack


def test_what_to_monitor_uses_the_item_s_own_words() -> None:
    vocabulary = load_vocabulary()
    text = "Severe hypoglycaemia can occur; patients should not drive. No seizures were reported."
    assert item_terms(text, vocabulary) == ["hypoglycaemia"]  # "No seizures were reported": negated, not watched
    assert item_terms("Dizziness, DIZZINESS and nausea.", vocabulary) == ["Dizziness", "nausea"]  # once each
    interaction = Interaction(key="I1", interacting="Grapefruit juice", text="Raises plasma levels.")
    assert what_to_monitor(interaction, vocabulary) == "Co-prescription of Grapefruit juice"
    plain = SafetyWarning(key="W1", text="Keep tablets away from light. Store below 25 C.")
    assert what_to_monitor(plain, vocabulary) == "Keep tablets away from light."  # no safety term: its first sentence


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    long = "word " * 60
    cut = first_sentence(long, limit=30)
    assert cut.endswith("\u2026") and len(cut) <= 31 and not cut[:-1].endswith(" ")
    assert first_sentence("Short one. Second sentence.") == "Short one."


def test_the_json_record_carries_the_monitoring_plan_and_the_cut_off(page: Report) -> None:
    record = {i["rank"]: i for i in page.record["indications"]}
    assert [step["key"] for step in record[1]["monitoring_plan"]] == ["SAFETY:C1", "SAFETY:I1", "SAFETY:W1"]
    assert record[1]["monitoring_plan"][0]["action"] == SCREEN and record[2]["monitoring_plan"] == []
    assert page.record["pack"]["data_cutoff"] == "2025-03-31"


def test_the_provenance_hashes_are_grouped_so_the_report_passes_its_own_lint() -> None:
    """A pack whose fingerprint starts 'de03815742134' (a real one in tests/synthetic_packs.py) once
    made the report fail lint: letters then six digits read as an identifier."""
    pack = make_pack()
    result = DraftResult(pack, assess_pack(pack), "test-model", load_prompts(),
                         [IndicationOutcome(1, "Disease A", DraftStatus.VERIFIED, rank1(), Verification(), accepted_at=1)],
                         [], Usage())
    built = assemble(result, report_date=DATE, pack_sha256="de03815742134eb0" + "0" * 48)
    assert "sha256 `de03 8157 4213 4eb0`" in built.markdown and "<code>de03 8157 4213 4eb0</code>" in built.html
    malformed = [f for f in verify_markdown(pack, built.markdown).errors if f.code == "ID_MALFORMED"]
    assert malformed == [], [str(f) for f in malformed]
