"""Markup and structure injections are inert in the assembled report, Markdown and HTML alike.

Each injection of ``tests/injections/markdown.json`` is put into every pack- and model-derived
string a report prints: the drug's name and original indication, every disease name, trial title,
summary and results summary, article title, journal, summary and abstract (whose quoted words a
key finding shows), every safety text, source and interacting drug, the mechanism and its source,
the licences, the regulator, the data gaps, the query log (source, query and status), the pack id
and model name, and the text, quotes and keys of drafted statements. The pack is a real example pack, loaded by the real loader and then changed in
memory (past its validators, as a pack or draft that slipped through them would be); the report is
built by the real assembler. The Markdown is rendered with markdown-it-py (CommonMark, tables,
strikethrough) and its tokens compared with those of the same report carrying a plain word in the
same places: any tag, link, image, heading, list, quote, fence, table cell or bold label an
injection opened shows up as a difference. The only raw HTML the Markdown may hold is the
assembler's own anchors (``<a id="safety-w1"></a>``), the same ones as in the plain report. The HTML is parsed with html.parser and compared the
same way.

The drafted statements are put in as accepted (they bypass the verifier on purpose: escaping must
hold even for text the verifier would let through). A second indication is withheld with the
injection in its invented key, checked by the real verifier, and a refusal and an invented key go
through the real repair loop, to show that a withheld report prints none of the model's words.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from drafter.assemble import Report, assemble, key_url
from drafter.drafting import DraftResult, DraftStatus, DraftStopped, DraftRejected, IndicationOutcome, RepairLoop
from drafter.drafts import Conclusion, IndicationSections, MechanisticRationale, Paragraph, Statement, Support
from drafter.llm import CallResult, Usage
from drafter.markdown_text import md_code, md_escape, safe_url
from drafter.pack import load_pack
from drafter.pack.models import EvidencePack, OutcomeResult, TrialResults
from drafter.prompts import load_prompts
from drafter.rules import assess_pack
from drafter.verify import Verification, Verifier

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "examples" / "packs" / "colchicine-us.json"
CORPUS = json.loads((Path(__file__).parent / "injections" / "markdown.json").read_text(encoding="utf-8"))
INJECTIONS: list[dict[str, str]] = CORPUS["injections"]
PLAIN = "plain words"
DATE = dt.date(2026, 1, 15)
ALLOWED_LINKS = ("https://pubmed.ncbi.nlm.nih.gov/", "https://clinicaltrials.gov/study/",
                 "https://trialsearch.who.int/Trial2.aspx?TrialID=", "#")
ANCHOR = re.compile(r'<a id="[a-z0-9-]+">|</a>')  # the assembler's own anchors, the only raw HTML in the Markdown
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# markdown-it drops javascript: and data: links on its own; other renderers do not, so the test
# renderer accepts every destination and the report itself must not write the link.
MARKDOWN.validateLink = lambda url: True


# --- building the report ------------------------------------------------------------------------------


def injected_pack(text: str) -> EvidencePack:
    """The example pack with ``text`` in every string the report prints, alone or inside other words."""
    pack = load_pack(PACK)
    drug = pack.drug
    drug.inn = f"colchicine {text}"
    drug.original_indications = [text, *drug.original_indications[1:]]
    drug.mechanism_of_action = f"Tubulin binding {text}"
    drug.mechanism_source = f"Label {text}"
    pack.meta.pack_id = f"pack-{text}"
    for gap in pack.meta.data_gaps:
        gap.item = text
    for n, entry in enumerate(pack.meta.query_log):  # every other query failed, with the text as its status
        entry.source, entry.query = f"Source {text}", text
        entry.result_status = text if n % 2 else "success"
    pack.jurisdiction.regulator = f"FDA {text}"
    for licence in pack.jurisdiction.licences:
        licence.number, licence.product, licence.holder, licence.indication_text = text, text, f"Holder {text}", text
    for n, indication in enumerate(pack.predicted_indications):
        indication.disease_name = text if n % 2 == 0 else f"Disease {n} {text}"
        # A key finding comes from a results summary, a summary, or the quotes of a verified statement.
        for t, trial in enumerate(indication.trials):
            trial.title = text
            trial.summary = f"{QUOTED} {text} end" if t % 3 == 1 else None
            # One trial met its primary outcome, so the results-aware ceiling still allows a monitoring plan.
            trial.results = (TrialResults(posted=True, primary_outcome=OutcomeResult.NOT_MET, summary=text) if t % 3 == 0
                             else TrialResults(posted=True, primary_outcome=OutcomeResult.MET) if t % 3 == 2 else None)
        for a, article in enumerate(indication.articles):
            article.title, article.journal = text, f"J {text}"
            article.summary = text if a % 2 == 0 else None
            article.abstract = f"{QUOTED} {text} end"
    assert pack.safety is not None
    for _, item in pack.safety.items():
        item.text, item.source = text, f"SmPC {text}"
        if hasattr(item, "interacting"):
            item.interacting = text
    return pack


QUOTED = "quoted words"


def _statement(text: str, support: Support, keys: list[str], quotes: list[str] | None = None) -> Statement:
    """A statement as a model might send it; built past validation on purpose (see the module docstring)."""
    return Statement.model_construct(text=text, support=support, keys=keys, quotes=quotes or [])


def drafted_sections(pack: EvidencePack, rank: int, text: str, *, extra_key: str | None = None) -> IndicationSections:
    indication = next(i for i in pack.predicted_indications if i.rank == rank)
    key = (indication.trials[0].key if indication.trials else indication.articles[0].key)
    keys = [key] + ([extra_key] if extra_key else [])
    # The accepted statement cites every item of its indication, with a quote from their abstracts and
    # summaries, so that each item without a summary shows the quote as its key finding.
    safety = list(pack.safety_items())[:2] if pack.safety else []  # what the monitoring plan is built from
    cited = keys if extra_key else [*(t.key for t in indication.trials), *(a.key for a in indication.articles),
                                    *safety]
    pack_statement = _statement(text, Support.PACK, cited, [f"{QUOTED} {text}"])
    background = _statement(f"Background {text} ends here.", Support.BACKGROUND, [])
    ceiling = assess_pack(pack).for_rank(rank).decision_ceiling
    return IndicationSections.model_construct(
        mechanistic_rationale=MechanisticRationale.model_construct(
            paragraphs=[Paragraph.model_construct(statements=[pack_statement, background])]),
        conclusion=Conclusion.model_construct(decision=ceiling, rationale=[pack_statement, background],
                                              next_steps=[background, _statement(text, Support.PACK, [key])]))


def injected_report(text: str) -> Report:
    """Rank 1 drafted and accepted with ``text`` in its statements; rank 2 withheld for an invented key
    ``text``; rank 3 left to the further predictions."""
    pack = injected_pack(text)
    assessment = assess_pack(pack)
    accepted = drafted_sections(pack, 1, text)
    rejected = drafted_sections(pack, 2, PLAIN, extra_key=text)
    found = Verifier(pack, assessment=assessment).verify(rejected, rank=2)
    invented = Verification(tuple(f for f in found.findings if f.code == "KEY_UNKNOWN"))
    assert len(invented.findings) == 2, [str(f) for f in found.findings]  # rationale[0], paragraph statement
    outcomes = [
        IndicationOutcome(1, pack.predicted_indications[0].disease_name, DraftStatus.VERIFIED, accepted,
                          Verification(), accepted_at=1),
        IndicationOutcome(2, pack.predicted_indications[1].disease_name, DraftStatus.WITHHELD, None, invented,
                          withheld_reason="the draft still failed verification after 1 attempt(s)",
                          rejected_sections=rejected),
    ]
    result = DraftResult(pack, assessment, f"model {text}", load_prompts(), outcomes, [], Usage())
    return assemble(result, report_date=DATE)


@pytest.fixture(scope="module")
def baseline() -> Report:
    return injected_report(PLAIN)


# --- reading the outputs ------------------------------------------------------------------------------


def as_read(text: str) -> str:
    """What a reader should see of ``text``: its words on one line (control characters dropped)."""
    return " ".join(re.sub(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]", "", text).split())


def md_tokens(markdown: str) -> list[Any]:
    """Every token, inline children after their block, in order."""
    out = []
    for token in MARKDOWN.parse(markdown):
        out.append(token)
        out.extend(token.children or [])
    return out


def md_shape(markdown: str) -> list[tuple[str, str, str]]:
    """The structure of the rendered Markdown: every token but plain text, with link targets."""
    return [(t.type, t.tag, str(t.attrs.get("href", t.attrs.get("src", "")))) for t in md_tokens(markdown)
            if t.type not in ("text", "text_special", "inline")]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = tuple((k, v or "") for k, v in attrs if k in ("href", "src")) + tuple((k, "") for k, _ in attrs
                                                                                     if k not in ("href", "src"))
        self.tags.append((tag, kept))

    handle_startendtag = handle_starttag


def html_tags(html: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _assert_no_live_markup(tags: Iterable[tuple[str, tuple[tuple[str, str], ...]]], allowed: tuple[str, ...] = ()) -> None:
    """No active or hiding element; ``allowed`` names those the template writes itself (the HTML's <details>)."""
    for tag, attrs in tags:
        assert tag in allowed or tag not in ("script", "img", "iframe", "svg", "style", "details", "object", "embed"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)


def test_the_plain_report_prints_every_field_the_injections_go_into(baseline: Report) -> None:
    """The injected fields reach both pages, so the tests below check something: key findings from a
    results summary, a summary and a quote, the mechanism's source, failed queries as data gaps, a
    per-indication safety table and a monitoring plan."""
    for page in (baseline.markdown, baseline.html):
        assert page.count(f"{QUOTED} {PLAIN}") >= 3  # quoted as key findings (and under the statement)
        assert "quoted in a verified statement" in page and "Not met, results posted" in page
        assert f"source: Label {PLAIN}" in page
        assert f"did not complete ({PLAIN})" in page and f"failed ({PLAIN})" in page
        assert "Cited for" in page and "Monitoring plan" in page and "What to monitor" in page
        assert f"Warning: {PLAIN}" in page


# --- the corpus ---------------------------------------------------------------------------------------


def test_the_corpus_is_large_and_varied() -> None:
    texts = [case["text"] for case in INJECTIONS]
    assert len(texts) >= 40 and len(set(texts)) == len(texts)
    assert sum("\n" in t or "\r" in t for t in texts) >= 10  # line breaks that would start a block
    assert sum("<" in t for t in texts) >= 15  # tags, comments, autolinks


@pytest.mark.parametrize("case", INJECTIONS, ids=[case["name"] for case in INJECTIONS])
def test_injection_is_inert_in_the_markdown(case: dict[str, str], baseline: Report) -> None:
    report = injected_report(case["text"])
    tokens = md_tokens(report.markdown)
    raw = [t.content for t in tokens if t.type in ("html_block", "html_inline")]
    assert all(ANCHOR.fullmatch(html) for html in raw), [h for h in raw if not ANCHOR.fullmatch(h)]
    assert raw == [t.content for t in md_tokens(baseline.markdown) if t.type in ("html_block", "html_inline")]
    assert not [t for t in tokens if t.type == "image"], "an image in the Markdown"
    links = [str(t.attrs["href"]) for t in tokens if t.type == "link_open"]
    assert all(link.startswith(ALLOWED_LINKS) for link in links), [l for l in links if not l.startswith(ALLOWED_LINKS)]
    assert links == [str(t.attrs["href"]) for t in md_tokens(baseline.markdown) if t.type == "link_open"]

    def headings(markdown: str) -> list[str]:
        return [t.tag for t in md_tokens(markdown) if t.type == "heading_open"]

    assert headings(report.markdown) == headings(baseline.markdown), "a heading was added or removed"

    def decisions(markdown: str) -> int:
        """Bold text that starts with "Decision", as the assembler's own decision line is written."""
        tokens = md_tokens(markdown)
        return sum(1 for t, after in zip(tokens, tokens[1:])
                   if t.type == "strong_open" and after.content.lstrip().startswith("Decision"))

    assert decisions(report.markdown) == decisions(baseline.markdown) == 1, "a forged bold Decision label"

    def tables(markdown: str) -> list[tuple[int, int]]:
        shape, rows, cells = [], 0, 0
        for t in md_tokens(markdown):
            if t.type == "table_open":
                rows, cells = 0, 0
            rows += t.type == "tr_open"
            cells += t.type in ("td_open", "th_open")
            if t.type == "table_close":
                shape.append((rows, cells))
        return shape

    assert tables(report.markdown) == tables(baseline.markdown), "a table row or cell was added or removed"
    # All of the above and more at once: the token structure is the plain report's, to the token.
    assert md_shape(report.markdown) == md_shape(baseline.markdown)
    # The reader sees the injected text as it was written (an entity is not decoded, a star stays).
    assert any(as_read(case["text"]) in t.content for t in tokens if t.type == "text")
    # And the HTML that markdown-it renders from it has the plain report's tags.
    rendered = html_tags(MARKDOWN.render(report.markdown))
    _assert_no_live_markup(rendered)
    assert rendered == html_tags(MARKDOWN.render(baseline.markdown))


@pytest.mark.parametrize("case", INJECTIONS, ids=[case["name"] for case in INJECTIONS])
def test_injection_is_inert_in_the_html(case: dict[str, str], baseline: Report) -> None:
    report = injected_report(case["text"])
    tags = html_tags(report.html)
    body = [tag for tag, _ in tags].index("body")
    _assert_no_live_markup(tags[body:], allowed=("details",))  # the head holds the page's own <style>
    assert tags == html_tags(baseline.html), "the HTML's tags differ from the plain report's"


@pytest.mark.parametrize("case", INJECTIONS[:12], ids=[case["name"] for case in INJECTIONS[:12]])
def test_withheld_indication_shows_its_invented_key_by_position_only(case: dict[str, str]) -> None:
    report = injected_report(case["text"])
    markdown = report.markdown
    section = markdown[markdown.index("Findings:"):markdown.index("Provenance:")]
    assert "`conclusion.rationale[0] keys[1]`" in section
    assert "`mechanistic_rationale.paragraphs[0].statements[0] keys[1]`" in section
    assert "is not a key of the pack" in section  # the code's own description, not the finding's message
    # the key is the only place this exact text could come from in that table
    assert case["text"] not in section and "is not a key of this pack" not in section
    # the record keeps the verifier's message with the key, for audit
    withheld = next(i for i in report.record["indications"] if i["rank"] == 2)
    assert any(case["text"] in f["span"] for f in withheld["findings"])


# --- through the real repair loop ---------------------------------------------------------------------

REFUSAL = ("I can't help with that. <script>alert(1)</script> See PMID:99999999 and [here](javascript:alert(1)).\n"
           "## Conclusion\n**Decision: Go**")


def _loop(pack: EvidencePack) -> RepairLoop:
    return RepairLoop(pack, assess_pack(pack), load_prompts(), [1], max_repairs=0, token_budget=100_000)


def _consume(loop: RepairLoop, answer: CallResult) -> DraftResult:
    try:
        loop.consume(answer)
    except (DraftRejected, DraftStopped):
        pass
    return loop.result("test-model")


def test_a_refusal_is_reported_by_length_and_hash_never_quoted() -> None:
    pack = load_pack(PACK)
    result = _consume(_loop(pack), CallResult(None, REFUSAL, "stop", Usage(), "test-model"))
    report = assemble(result, report_date=DATE)
    assert report.status is DraftStatus.WITHHELD
    for page in (report.markdown, report.html):
        assert f"a refusal of {len(REFUSAL)} characters, sha256 " in page
        for fragment in ("can't help", "alert", "99999999", "javascript", "Decision: Go"):
            assert fragment not in page, fragment
    # the JSON record keeps the refusal's words for audit
    assert any(REFUSAL in problem for problem in report.record["attempts"][0]["problems"])


def test_an_invented_key_from_the_model_is_located_not_echoed() -> None:
    pack = load_pack(PACK)
    key = pack.predicted_indications[0].articles[0].key
    invented = "PMID:99999999\n## Conclusion <img src=x onerror=alert(1)>"
    statement = {"text": "Colchicine reduces inflammation.", "support": "pack", "keys": [key, invented]}
    draft = {"indications": [{"rank": 1, "sections": {
        "mechanistic_rationale": {"paragraphs": [{"statements": [
            {"text": "Colchicine binds tubulin.", "support": "background", "keys": []}]}]},
        "conclusion": {"decision": "Research Question", "rationale": [statement], "next_steps": []}}}]}
    result = _consume(_loop(pack), CallResult(json.dumps(draft), None, "stop", Usage(), "test-model"))
    assert result.status is DraftStatus.WITHHELD
    assert "KEY_UNKNOWN" in {f.code for f in result.outcomes[0].verification.findings}
    report = assemble(result, report_date=DATE)
    assert "`conclusion.rationale[0] keys[1]`" in report.markdown
    assert "conclusion.rationale[0] keys[1]" in report.html
    for page in (report.markdown, report.html):
        for fragment in ("99999999", "onerror", "Colchicine reduces inflammation"):
            assert fragment not in page, fragment
    # the JSON record keeps the model's raw answer and the verifier's message, for audit
    assert report.record["attempts"][0]["raw_output"] == json.dumps(draft)


# --- the escaping functions on their own ----------------------------------------------------------------

CONTEXTS = {
    "paragraph": "{}",
    "list item": "- {}",
    "ordered item": "1. {}",
    "blockquote": "> {}",
    "heading": "## {}",
    "table cell": "| Item | Content |\n|---|---|\n| {} | x |",
}


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=list(CONTEXTS))
def test_md_escape_gives_back_the_text_in_every_block_context(context: str) -> None:
    plain = md_tokens(context.format(PLAIN))
    for case in INJECTIONS:
        tokens = md_tokens(context.format(md_escape(case["text"])))
        assert [(t.type, t.tag) for t in tokens if t.type != "text"] == [(t.type, t.tag) for t in plain
                                                                         if t.type != "text"], case["name"]
        expected = [as_read(case["text"]) if t.content == PLAIN else t.content for t in plain if t.type == "text"]
        assert [t.content for t in tokens if t.type == "text"] == expected, case["name"]


def test_md_escape_leaves_ordinary_text_alone() -> None:
    ordinary = "Colchicine 0.5 mg daily (LoDoCo2, 2020): 31% fewer events; -5 mg/dL; 99.3% vs. 98.1% & more"
    assert md_escape(ordinary) == ordinary


@pytest.mark.parametrize("value", ["ID_UNKNOWN", "a`b", "``x``", "`", "x\n<script>", "a | b"])
def test_md_code_prints_any_value_as_one_code_span(value: str) -> None:
    tokens = md_tokens(str(md_code(value)))
    spans = [t for t in tokens if t.type == "code_inline"]
    assert len(spans) == 1 and spans[0].content == as_read(value)
    assert [t.type for t in tokens if t.type not in ("text",)] == ["paragraph_open", "inline", "code_inline",
                                                                   "paragraph_close"]


def test_only_https_urls_and_anchors_that_cannot_leave_the_link_are_marked_safe() -> None:
    assert safe_url("https://pubmed.ncbi.nlm.nih.gov/21300040/") == "https://pubmed.ncbi.nlm.nih.gov/21300040/"
    assert safe_url("#safety-considerations") == "#safety-considerations"
    for bad in ("javascript:alert(1)", "http://pubmed.ncbi.nlm.nih.gov/1/", "https://x.example/a)(b",
                "https://x.example/a b", "https://x.example/<script>", "https://x.example/\n## H", None):
        assert safe_url(bad) is None, bad


def test_statement_keys_link_only_in_canonical_form() -> None:
    assert key_url("PMID:21300040") == "https://pubmed.ncbi.nlm.nih.gov/21300040/"
    assert key_url("NCT01821560") == "https://clinicaltrials.gov/study/NCT01821560"
    assert key_url("ISRCTN91859104") == "https://trialsearch.who.int/Trial2.aspx?TrialID=ISRCTN91859104"
    for bad in ("pmid 21300040", "NCT01821560)](javascript:alert(1))", "ISRCTN9185 9104", "EVIL KEY"):
        assert key_url(bad) is None, bad
