import copy
import json

import pytest

from drafter.vocabulary import SafetyVocabulary, load_vocabulary


@pytest.fixture(scope="module")
def vocab() -> SafetyVocabulary:
    return load_vocabulary()


def concepts(vocab: SafetyVocabulary, text: str, **kw) -> list[str]:
    return [m.concept for m in vocab.mentions(text, **kw)]


def only(vocab: SafetyVocabulary, text: str):
    found = vocab.mentions(text)
    assert len(found) == 1, found
    return found[0]


# --- the packaged data --------------------------------------------------------------------------------


def test_packaged_vocabulary_loads_with_enough_concepts_and_terms(vocab):
    assert vocab.version.strip()
    assert len(vocab.concepts) >= 80
    assert vocab.term_count() >= 300
    assert load_vocabulary() is vocab  # the default is cached


def test_every_term_is_found_as_its_own_concept(vocab):
    # Catches terms shadowed by another concept, excluded by their own not_within, or whose
    # spelling does not survive the matcher's normalisation.
    wrong = []
    for concept in vocab.concepts.values():
        for term in concept.terms:
            found = vocab.mentions(f"Reported: {term}.")
            if [(m.concept, m.text) for m in found] != [(concept.id, term)]:
                wrong.append((concept.id, term, found))
    assert not wrong


@pytest.mark.parametrize(
    "synonyms",
    [
        ("drowsiness", "somnolence", "sedation", "drowsy", "sedating"),
        ("respiratory insufficiency", "respiratory depression", "hypoventilation"),
        ("convulsions", "seizures", "seizure", "convulsion"),
        ("liver injury", "hepatotoxicity", "drug-induced liver injury"),
        ("QT prolongation", "torsades de pointes", "prolonged QTc"),
        ("paediatric", "pediatric", "children"),
        ("hyponatraemia", "hyponatremia"),
        ("oedema", "edema"),
        ("haemorrhage", "hemorrhage", "bleeding"),
        ("anaemia", "anemia"),
        ("diarrhoea", "diarrhea"),
        ("hypoglycaemia", "hypoglycemia"),
        ("hyperkalaemia", "hyperkalemia"),
        ("dyspnoea", "dyspnea"),
        ("foetotoxicity", "fetotoxicity", "teratogenic"),
        ("breastfeeding", "breast-feeding", "lactation"),
    ],
)
def test_synonyms_and_spellings_map_to_one_concept(vocab, synonyms):
    ids = {only(vocab, f"Watch for {s} in this group.").concept for s in synonyms}
    assert len(ids) == 1, ids


@pytest.mark.parametrize("written", ["QT-prolongation", "QT\u00a0prolongation", "QT\u2013prolongation",
                                     "QT\u2014prolongation", "QT prolongation", "qt  prolongation",
                                     "QT \u2011 prolongation"])
def test_separators_are_equivalent(vocab, written):
    text = f"Risk of {written} at high doses."
    mention = only(vocab, text)
    assert mention.concept == "qt_prolongation"
    assert mention.text == written
    assert text[mention.start:mention.end] == written


@pytest.mark.parametrize("written", ["St John's wort", "St John\u2019s wort", "St Johns wort", "St. John's wort"])
def test_apostrophe_variants_are_equivalent(vocab, written):
    assert only(vocab, f"Avoid {written}.").concept == "st_johns_wort"


def test_terms_match_whole_words_only(vocab):
    assert concepts(vocab, "Repeat the ECGs") == ["ecg_monitoring"]
    assert concepts(vocab, "The comatose patient") == ["coma"]
    assert vocab.mentions("The economa of the drug") == []  # "coma" inside a word
    assert vocab.mentions("Alcoholic beverages")[0].text == "Alcoholic beverages"
    assert vocab.mentions("seizuresx") == []


def test_section_words_are_not_concepts(vocab):
    text = ("Safety: adverse reactions, adverse events, side effects, warnings, contraindications, "
            "interactions and tolerability were reviewed.")
    assert vocab.mentions(text) == []


# --- disease names are not safety claims -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Baclofen attenuates nicotine withdrawal in rats",
        "It reduced withdrawal symptoms of nicotine in smokers",
        "in a model of nicotine withdrawal syndrome",
        "treatment of alcohol withdrawal and opioid withdrawal",
        "The paw withdrawal latency increased.",
        "Three patients withdrew; withdrawal from the study was balanced.",
    ],
)
def test_withdrawal_as_a_disease_or_a_measurement_is_not_withdrawal(vocab, text):
    assert "withdrawal" not in concepts(vocab, text)


def test_a_safety_word_inside_a_disease_name_is_no_claim(vocab):
    assert "bleeding" not in concepts(vocab, "PAH arising in hereditary haemorrhagic telangiectasia (HHT)")
    assert "bleeding" in concepts(vocab, "haemorrhagic complications in hereditary telangiectasia")
    assert "headache" not in concepts(vocab, "relieving post-dural puncture headache with caffeine")
    assert "headache" in concepts(vocab, "caffeine caused headache after the dural puncture")


@pytest.mark.parametrize("text", ["baclofen withdrawal syndrome", "Avoid abrupt withdrawal.",
                                  "withdrawal symptoms after stopping baclofen"])
def test_withdrawal_of_the_drug_is_withdrawal(vocab, text):
    assert "withdrawal" in concepts(vocab, text)


@pytest.mark.parametrize("text", ["nicotine dependence", "alcohol dependence", "opioid dependence",
                                  "dose dependence of the effect"])
def test_dependence_as_a_disease_is_not_dependence(vocab, text):
    assert "dependence" not in concepts(vocab, text)


def test_physical_dependence_is_dependence(vocab):
    assert concepts(vocab, "Physical dependence may develop.") == ["dependence"]


@pytest.mark.parametrize(
    "text",
    [
        "patients with alcohol use disorder",
        "Baclofen for alcohol dependence",
        "alcoholism",
        "reduced alcohol consumption in heavy drinkers",
        "in alcohol-preferring rats",
        "a substance use disorder",
        "for opioid use disorder and opioid dependence",
    ],
)
def test_indications_of_substance_use_are_not_interactions(vocab, text):
    assert not {"alcohol", "opioids", "dependence", "abuse_potential"} & set(concepts(vocab, text))


@pytest.mark.parametrize("text", ["Avoid alcohol intake.", "Do not take with alcohol.", "alcohol consumption",
                                  "drinking alcohol", "ethanol", "alcoholic beverages"])
def test_alcohol_intake_is_the_alcohol_interaction(vocab, text):
    assert "alcohol" in concepts(vocab, text)


def test_exclusion_is_local_to_its_occurrence(vocab):
    text = "Patients with alcohol use disorder should avoid alcohol."
    (mention,) = vocab.mentions(text)
    assert mention.concept == "alcohol"
    assert mention.start == text.rindex("alcohol")


def test_child_pugh_is_hepatic_impairment_not_children(vocab):
    assert concepts(vocab, "Child\u2013Pugh class B") == ["hepatic_impairment"]
    assert concepts(vocab, "Boston Children's Hospital") == []


# --- mask ---------------------------------------------------------------------------------------------


def test_mask_blanks_indication_names(vocab):
    assert vocab.mentions("Baclofen in epilepsy and seizures", mask=["seizures"]) == []
    assert concepts(vocab, "Baclofen in epilepsy and seizures") == ["seizures"]


def test_mask_is_case_and_separator_insensitive_and_keeps_offsets(vocab):
    text = "In nicotine\u2011dependence trials, insomnia (Insomnia) and drowsiness occurred."
    found = vocab.mentions(text, mask=["Nicotine Dependence", "INSOMNIA"])
    assert [(m.concept, m.text) for m in found] == [("sedation", "drowsiness")]
    assert text[found[0].start:found[0].end] == "drowsiness"


def test_a_single_string_mask_is_one_phrase(vocab):
    assert vocab.mentions("seizures and seizure", mask="seizures") == vocab.mentions("xxxxxxxx and seizure")


def test_offsets_survive_case_folding_that_changes_length(vocab):
    text = "\u0130stanbul cohort: drowsiness"  # "İ".lower() is two characters
    (mention,) = vocab.mentions(text)
    assert text[mention.start:mention.end] == "drowsiness" == mention.text


# --- negation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Baclofen does not cause sedation.", True),
        ("Baclofen causes sedation.", False),
        ("There is no risk of seizures.", True),
        ("It is effective without drowsiness.", True),
        ("Sedation was not observed.", True),
        ("It has not been reported to cause seizures.", True),
        ("a non-sedating antihistamine", True),
        ("It should not be used in pregnancy.", False),
        ("It is not recommended in children.", False),
        ("Do not combine with alcohol.", False),
        ("Stopping without tapering may cause withdrawal.", False),
        ("Safety in children has not been established.", False),
        ("It not only reduces craving but also causes sedation.", False),
    ],
)
def test_negation(vocab, text, negated):
    assert only(vocab, text).negated is negated


def test_terms_inside_negation_phrases_are_found(vocab):
    # "no increase in" is a negation cue and "do not drive" a prohibition; the terms overlapping
    # them are still mentions.
    assert [(m.concept, m.negated) for m in vocab.mentions("There was no increase in weight.")] == [
        ("weight_gain", True)]
    assert [(m.concept, m.negated) for m in vocab.mentions("Do not drive vehicles.")] == [("driving", False)]
    assert concepts(vocab, "No dose adjustment is necessary.") == ["dose_adjustment"]


def test_negation_carries_along_a_list_and_stops_at_the_clause(vocab):
    text = ("Baclofen does not cause sedation, dizziness or clinically significant respiratory depression, "
            "but it may cause hypotension.")
    found = {m.concept: m.negated for m in vocab.mentions(text)}
    assert found == {"sedation": True, "dizziness": True, "respiratory_depression": True, "hypotension": False}


def test_negation_does_not_reach_past_a_sentence_or_far_away(vocab):
    assert not only(vocab, "No change was seen. Sedation occurred.").negated
    assert not only(vocab, "No difference in the primary outcome was found between the groups receiving SSRIs").negated


def test_post_negation_covers_a_list_but_not_what_follows(vocab):
    found = {m.concept: m.negated for m in vocab.mentions(
        "Sedation and dizziness were not observed in patients with renal impairment.")}
    assert found == {"sedation": True, "dizziness": True, "renal_impairment": False}


def test_concepts_in_includes_negated_mentions(vocab):
    assert vocab.concepts_in("No sedation; seizures in 2 patients.") == {"sedation", "seizures"}
    assert vocab.concepts_in("Seizures in epilepsy", mask=["Seizures"]) == frozenset()


# --- absence claims -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("There are no known interactions.", "no_interactions"),
        ("No clinically significant drug\u2013drug interactions were identified.", "no_interactions"),
        ("Baclofen is well tolerated", "well_tolerated"),
        ("Baclofen is well-tolerated", "well_tolerated"),
        ("It has a favourable safety profile.", "well_tolerated"),
        ("It is safe in pregnancy", "safe_in_pregnancy"),
        ("It is compatible with breast-feeding.", "safe_in_lactation"),
        ("No dose adjustment is required in patients with mild renal impairment.", "no_renal_dose_adjustment"),
        ("There are no contraindications.", "no_contraindications"),
        ("No serious adverse events were reported.", "no_serious_adverse_effects"),
        ("It does not prolong the QT interval.", "no_qt_effect"),
    ],
)
def test_absence_claims(vocab, text, claim):
    found = vocab.absence_claims(text)
    assert [c.id for c in found] == [claim]
    assert text[found[0].start:found[0].end] == found[0].text


@pytest.mark.parametrize(
    "text",
    [
        "Monitor for interactions with CNS depressants.",
        "Baclofen is not well tolerated at high doses.",
        "It was less well tolerated than placebo.",
        "There was no significant interaction between treatment and time.",
        "Safety in pregnancy has not been established.",
        "Adverse events were reported in 12% of patients.",
    ],
)
def test_statements_that_are_not_absence_claims(vocab, text):
    assert vocab.absence_claims(text) == []


def test_absence_claim_scope(vocab):
    (claim,) = vocab.absence_claims("It is safe in pregnancy.")
    assert claim.scope == "pregnancy"


# --- malformed files ----------------------------------------------------------------------------------

MINIMAL = {
    "version": "0.0.1",
    "description": "test",
    "concepts": [
        {"id": "sedation", "label": "sedation", "category": "adverse_effect", "terms": ["sedation", "drowsiness"]},
        {"id": "withdrawal", "label": "withdrawal", "category": "adverse_effect", "terms": ["withdrawal"],
         "not_within": ["nicotine withdrawal"]},
    ],
    "absence_claims": [{"id": "well_tolerated", "scope": "general", "patterns": ["well[- ]tolerated"]}],
    "negation_cues": ["no", "not"],
}


def write(tmp_path, data) -> str:
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_a_vocabulary_file_can_be_loaded_from_a_path(tmp_path):
    vocab = load_vocabulary(write(tmp_path, MINIMAL))
    assert vocab.version == "0.0.1"
    assert vocab.term_count() == 3
    assert concepts(vocab, "no drowsiness after nicotine withdrawal; withdrawal") == ["sedation", "withdrawal"]
    assert vocab.mentions("no drowsiness")[0].negated


def broken(**changes):
    data = copy.deepcopy(MINIMAL)
    for path, value in changes.items():
        target = data
        *parents, last = path.split("/")
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (broken(**{"concepts/1/terms": []}), r"concepts\[1\]\.terms: expected a non-empty list of strings"),
        (broken(**{"concepts/0/terms": ["sedation", 3]}), r"concepts\[0\]\.terms\[1\]: expected a non-empty string"),
        (broken(**{"concepts/0/category": "side_effect"}), r"concepts\[0\]\.category: 'side_effect' is not one of"),
        (broken(**{"concepts/1/id": "sedation"}), r"concepts\[1\]\.id: duplicate concept id 'sedation'"),
        (broken(**{"concepts/1/terms": ["withdrawal", "Drowsiness"]}),
         r"concepts\[1\]\.terms\[1\]: term 'Drowsiness' is already listed under concept 'sedation'"),
        (broken(**{"concepts/0/terms": ["sedation", "sedation\u00a0"]}), r"concepts\[0\]\.terms\[1\]: .*listed twice"),
        (broken(**{"concepts/1/not_within": ["nicotine dependence"]}),
         r"concepts\[1\]\.not_within\[0\]: .*contains no term of concept 'withdrawal'"),
        (broken(**{"concepts/0/note": "x"}), r"concepts\[0\]\.note: unknown key"),
        (broken(**{"absence_claims/0/patterns": ["well[ tolerated"]}),
         r"absence_claims\[0\]\.patterns\[0\]: invalid regular expression"),
        (broken(version=""), r"version: expected a non-empty string"),
        (broken(negation_cues=[]), r"negation_cues: expected a non-empty list of strings"),
        (broken(negation_cues=["no", "Drowsiness"]),
         r"negation_cues\[1\]: 'Drowsiness' is a concept term \(concepts\[0\]\.terms\[1\]\)"),
        (broken(negation_cues=["no", "not"], pseudo_negation_cues=["NOT"]),
         r"pseudo_negation_cues\[0\]: 'NOT' is already listed at negation_cues\[1\]"),
    ],
)
def test_malformed_vocabulary_names_the_file_and_json_path(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(ValueError, match=message) as raised:
        load_vocabulary(path)
    assert str(raised.value).startswith(path + ": ")


def test_invalid_json_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('{"version": "1", ', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json: not valid JSON \(line 1"):
        load_vocabulary(path)


# --- cue-based claims (issue 8, part 2) ---------------------------------------------------------------


def cue_objects(vocab: SafetyVocabulary, text: str, **kw) -> list[tuple[str, str, str | None, bool]]:
    return [(c.cue, c.object_text, c.concept, c.negated) for c in vocab.cue_claims(text, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Long-term use may cause amenorrhoea, vasculitis and alopecia.",
         [("may_cause", "amenorrhoea", "amenorrhoea"), ("may_cause", "vasculitis", "vasculitis"),
          ("may_cause", "alopecia", "skin_reactions")]),
        ("Sulfasalazine can induce reversible azoospermia in men.",
         [("may_cause", "azoospermia", "fertility_impairment")]),
        ("Frequent triptan use can lead to medication-overuse headache.",
         [("may_cause", "medication-overuse headache", "medication_overuse_headache")]),
        ("There is a recognised risk of thrombotic thrombocytopenic purpura with ticlopidine.",
         [("risk_of", "thrombotic thrombocytopenic purpura", "thrombotic_microangiopathy")]),
        ("Coronary vasospasm and pneumonia have been reported in post-marketing surveillance.",
         [("reported", "Coronary vasospasm", "vasospasm"), ("reported", "pneumonia", "pneumonia")]),
        ("Common side effects include erectile dysfunction and dry mouth.",
         [("side_effects", "erectile dysfunction", "erectile_dysfunction"), ("side_effects", "dry mouth", "dry_mouth")]),
        ("Cumulative cardiac toxicity limits the total dose.", [("toxicity", "cardiac toxicity", "cardiotoxicity")]),
        ("It is contraindicated in patients with severe hepatic impairment.",
         [("contraindicated", "hepatic impairment", "hepatic_impairment")]),
        ("Use with caution in patients with epilepsy.", [("caution", "patients with epilepsy", "seizure_history")]),
        ("Patients should be monitored for signs of serotonin syndrome.",
         [("monitor_for", "serotonin syndrome", "serotonin_syndrome")]),
        ("Avoid concomitant use with rifampicin, a potent inducer.", [("avoid_with", "rifampicin", "rifamycins")]),
        ("It should not be combined with antacids containing aluminium.",
         [("avoid_with", "antacids", "antacids_cations")]),
    ],
)
def test_cue_claims_find_the_object_and_its_concept(vocab, text, expected):
    assert [(cue, obj, concept) for cue, obj, concept, _ in cue_objects(vocab, text)] == expected


@pytest.mark.parametrize(
    ("text", "objects"),
    [
        # Objects the vocabulary does not know are still claims.
        ("Tizanidine interacts with ciprofloxacin and fluvoxamine.", ["ciprofloxacin", "fluvoxamine"]),
        ("Chronic high intake may result in selenosis.", ["selenosis"]),
        ("Gastroparesis and hypertrichosis have been reported.", ["Gastroparesis", "hypertrichosis"]),
        ("There is a small risk of osteitis with prolonged use.", ["osteitis"]),
    ],
)
def test_an_unknown_object_is_still_a_claim(vocab, text, objects):
    found = vocab.cue_claims(text)
    assert [c.object_text for c in found] == objects
    assert all(c.concept is None for c in found)
    assert all(text[c.object_start:c.object_end] == c.object_text and text[c.start:c.end] for c in found)


@pytest.mark.parametrize(
    "text",
    [
        "Treatment may lead to improved survival in this population.",
        "The combination induces apoptosis in tumour cells.",
        "It has been reported to inhibit 5-aminolevulinate synthase.",
        "Report suspected adverse reactions via the Yellow Card Scheme.",
        "The trial assessed efficacy outcomes and adverse events.",
        "Azapropazone may interact with BMP signalling pathways.",
        "A particularly striking finding was reported in a 2021 cohort.",
        "It is the standard of care in gastric cancer.",
        "Liver function should be monitored closely for several months.",
    ],
)
def test_cues_without_a_safety_object_are_not_claims(vocab, text):
    assert vocab.cue_claims(text) == []


def test_a_cue_that_names_nothing_is_its_own_claim(vocab):
    (claim,) = vocab.cue_claims("One adverse drug reaction was recorded during the study.")
    assert (claim.cue, claim.object_text, claim.concept) == ("adverse_drug_reaction", "adverse drug reaction", None)
    (claim,) = vocab.cue_claims("Serious toxicity was uncommon.")
    assert claim.object_text == "toxicity"


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Baclofen does not cause vasculitis.", True),
        ("Hepatotoxicity has not been reported.", True),
        ("No cases of pancreatitis have been reported.", True),
        ("There is no increased risk of pneumonia.", True),
        ("Baclofen may cause vasculitis.", False),
        ("It should not be combined with antacids.", False),  # a prohibition, not a denial
    ],
)
def test_cue_claim_negation(vocab, text, negated):
    (claim,) = vocab.cue_claims(text)
    assert claim.negated is negated


def test_masked_phrases_are_not_cue_objects(vocab):
    text = "Varenicline may cause nausea; it is studied in nicotine dependence."
    assert [c.object_text for c in vocab.cue_claims(text, mask=["nausea"])] == []
    assert [c.object_text for c in vocab.cue_claims(text)] == ["nausea"]


# --- object support ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "support", "supported"),
    [
        ("Long-term use may cause amenorrhea.", "Amenorrhoea and galactorrhoea occur in some women.", True),
        ("Tizanidine interacts with ciprofloxacin.", "Ciprofloxacin and fluvoxamine raise tizanidine levels.", True),
        ("Tizanidine interacts with ciprofloxacin.", "Fluvoxamine raises tizanidine levels.", False),
        ("Vasculitic rashes have been reported.", "Cutaneous vasculitis has been described.", True),
        ("Gastroparesis has been reported.", "Nausea and constipation are common.", False),
        ("Use with caution in patients with epilepsy.", "Use with caution in epilepsy: may lower the seizure threshold.",
         True),
        ("Avoid use with rifampin.", "Rifampicin reduces exposure; avoid the combination.", True),
        ("It can cause raised liver enzymes.", "Raised liver transaminases have been seen.", True),
        ("It can cause raised liver enzymes.", "Monitor renal function.", False),
        ("Serious toxicity was uncommon.", "Overdose causes coma.", True),
    ],
)
def test_object_supported(vocab, text, support, supported):
    (claim,) = vocab.cue_claims(text)
    assert vocab.object_supported(claim, support) is supported
    assert vocab.object_supported(claim, vocab.support_profile(support)) is supported


def test_a_known_concept_is_judged_by_the_concept_not_by_a_near_spelling(vocab):
    (claim,) = vocab.cue_claims("It may cause pneumonia.")
    assert claim.concept == "pneumonia"
    assert not vocab.object_supported(claim, "Pneumonitis has been reported.")


@pytest.mark.parametrize(
    ("support", "claim_text", "concept"),
    [
        ("Use with caution in epilepsy: it may lower the seizure threshold.", "patients with epilepsy",
         "seizure_history"),
        ("Diabetes mellitus: glycaemic control may be affected; monitor blood glucose.", "blood glucose monitored",
         "glucose_monitoring"),
        ("Diabetes mellitus: glycaemic control may be affected; monitor blood glucose.", "patients with diabetes",
         "diabetes_population"),
        ("Raised liver transaminases occur in up to 5% of patients.", "raised liver enzymes",
         "liver_enzyme_elevation"),
    ],
)
def test_support_matching_understands_the_packs_wording(vocab, support, claim_text, concept):
    assert concept in vocab.concepts_in(claim_text)
    assert concept in vocab.covered_concepts(support)


def test_support_only_phrasings_are_not_claims_in_report_text(vocab):
    assert "seizure_history" not in vocab.concepts_in("Trials in epilepsy enrolled 300 patients.")
    assert "seizure_history" in vocab.covered_concepts("Use with caution in epilepsy.")


@pytest.mark.parametrize(
    ("a", "b"),
    [("amenorrhoea", "amenorrhea"), ("haemorrhages", "hemorrhage"), ("tumours", "tumor"), ("monitored", "monitor"),
     ("transaminases", "transaminase"), ("oedema", "edema"), ("sulphonylureas", "sulfonylurea")],
)
def test_normalise_word_folds_spelling_and_inflection(a, b):
    from drafter.vocabulary import normalise_word

    assert normalise_word(a) == normalise_word(b)


def test_normalise_word_keeps_different_words_apart():
    from drafter.vocabulary import normalise_word

    assert normalise_word("hypotension") != normalise_word("hypertension")


# --- new terms, absence wording, context and negation scope (issue 9 item 4) --------------------------


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("High doses can depress respiration.", "respiratory_depression"),
        ("In overdose it can stop a person's breathing.", "respiratory_depression"),
        ("Opioids depress respiration in a dose-dependent way.", "respiratory_depression"),
        ("Erectile dysfunction was reported by 4% of men.", "erectile_dysfunction"),
        ("Cardiotoxicity limits cumulative dosing.", "cardiotoxicity"),
        ("Rifampin lowers plasma concentrations.", "rifamycins"),
        ("Separate doses from antacids by two hours.", "antacids_cations"),
        ("Vasospastic reactions occurred in two patients.", "vasospasm"),
    ],
)
def test_new_terms_from_real_reports(vocab, text, concept):
    assert concept in vocab.concepts_in(text)


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Baclofen is completely harmless at standard doses.", "no_safety_concerns"),
        ("It has a low potential for cytochrome P450 interactions.", "no_interactions"),
        ("It shows a low potential for CYP-mediated interactions.", "no_interactions"),
        ("In clinical use it was tolerated extremely well.", "well_tolerated"),
        ("There were no clinically significant interactions.", "no_interactions"),
        ("It offers effective relief with minimal side effects.", "no_adverse_effects"),
        ("It is safe to use in patients with heart disease.", "no_safety_concerns"),
        ("Tizanidine does not significantly interact with CYP3A4 substrates.", "no_interactions"),
        ("It is a safe option for long-term management.", "no_safety_concerns"),
    ],
)
def test_absence_wording_in_common_model_forms(vocab, text, claim):
    assert claim in [c.id for c in vocab.absence_claims(text)]


def test_safe_to_use_in_pregnancy_is_one_claim(vocab):
    assert [c.id for c in vocab.absence_claims("It is safe to use in pregnancy.")] == ["safe_in_pregnancy"]


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("The primary endpoint was a composite of cardiovascular death, myocardial infarction or stroke.",
         "myocardial_infarction"),
        ("Dryness, pain and fatigue were assessed as secondary outcomes.", "fatigue"),
        ("Study title: Effects of Varenicline on Smoking Urge and Withdrawal in Adult Smokers.", "withdrawal"),
        ("Further studies are needed to confirm safety in pregnant women.", "pregnancy"),
        ("Dinutuximab is approved for paediatric neuroblastoma.", "paediatric"),
        ("Diazepam is a benzodiazepine with anxiolytic properties.", "benzodiazepines"),
        ("Like other NSAIDs, it inhibits cyclooxygenase.", "nsaids"),
        ("Colchicine reduced the risk of myocardial infarction in the trial.", "myocardial_infarction"),
        ("COLCOT randomised 4745 participants after myocardial infarction.", "myocardial_infarction"),
    ],
)
def test_safety_words_in_disease_outcome_or_title_context_are_not_claims(vocab, text, concept):
    assert concept not in vocab.concepts_in(text)
    assert concept in vocab.concepts_in(text, context=False)  # the context mask is what removes it


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Menthol balms are rubbed on the temples for headache relief.", "headache"),
        ("After an infarct, a sympathetic surge triggers ventricular arrhythmias and pump failure.", "arrhythmia"),
        ("In reactive disease, platelet counts usually normalise within weeks.", "blood_count_monitoring"),
        ("The syndrome looks like Graves' disease on routine thyroid function testing.", "thyroid_monitoring"),
        ("A niche might be paediatric formulations or low-income markets.", "paediatric"),
        ("It dampens the neuronal firing that underlies both epileptic seizures and neuralgia.", "seizures"),
        ("Next: a comprehensive assessment of contraindications and drug interactions (CNS depressants).",
         "cns_depressants"),
        ("Paediatric considerations: a formal assessment of paediatric pharmacokinetics would be required.",
         "paediatric"),
        ("Loop diuretics treat oedema associated with congestive heart failure.", "heart_failure"),
        ("H2 blockers were long the mainstay of peptic ulcer management.", "peptic_ulcer"),
        ("Theophylline is stocked for intravenous use in neonatal apnoea.", "respiratory_depression"),
        ("Next: a formal CYP2D6 interaction review for patients also taking antipsychotics.", "antipsychotics"),
        ("A critical appraisal of folk medicine claims for menthol in headache is planned.", "headache"),
    ],
)
def test_lint_only_masks_read_published_prose_and_never_a_drafted_statement(vocab, text, concept):
    """Masks written for the wording of published reports apply in lint only: in a drafted statement
    the same words are still read, so a mask can never hide a drafted claim."""
    assert concept not in vocab.concepts_in(text, lint=True)
    assert concept in vocab.concepts_in(text)


def test_a_disease_named_after_a_safety_word_is_not_a_claim(vocab):
    assert vocab.concepts_in("Vitamin K prevents haemorrhagic disease of the newborn.") == frozenset()
    assert "bleeding" in vocab.concepts_in("Haemorrhagic complications occurred in two patients.")
    assert vocab.concepts_in("Minoxidil is used in women with female pattern hair loss.") == frozenset()


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Baclofen may cause myocardial infarction in rare cases.", "myocardial_infarction"),
        ("Fatigue and dizziness were the most common adverse events.", "fatigue"),
        ("Paediatric patients with epilepsy need dose titration.", "paediatric"),
        ("Bupropion is a potent CYP2D6 inhibitor.", "cyp2d6_inhibitors"),
        ("Avoid combining it with benzodiazepines.", "benzodiazepines"),
        ("Neonatal withdrawal syndrome has been described after use in late pregnancy.", "teratogenicity"),
        ("Menthol balms can cause headache and skin irritation.", "headache"),
        ("High doses may trigger ventricular arrhythmias.", "arrhythmia"),
        ("Check platelet counts before each cycle.", "blood_count_monitoring"),
        ("Thyroid function should be checked every three months.", "thyroid_monitoring"),
        ("Hair loss was reported in 3% of patients.", "skin_reactions"),
        ("Paediatric considerations: not recommended under six years.", "paediatric"),
        ("It may provoke epileptic seizures in predisposed patients.", "seizures"),
        ("A comprehensive review of interactions found that CNS depressants add to sedation.", "cns_depressants"),
        ("Ankle oedema associated with amlodipine is common.", "oedema"),
        ("Peptic ulcer was reported in two patients.", "peptic_ulcer"),
        ("Off-label use in females of childbearing potential needs a pregnancy test.", "pregnancy"),
        ("An interaction review of patients on antipsychotics found QT prolongation.", "antipsychotics"),
        ("Toxicity manifesting as seizures has been reported.", "seizures"),
        ("Intravenous use in heart failure is contraindicated.", "heart_failure"),
        ("Clinical use in heart failure should be avoided.", "heart_failure"),
        ("In heart failure treatment the drug is contraindicated.", "heart_failure"),
        ("An SmPC review including the warnings found hepatotoxicity in 2%.", "hepatotoxicity"),
        ("A critical appraisal of claims for menthol in headache found that it causes headache.", "headache"),
    ],
)
def test_the_same_words_as_claims_are_still_found(vocab, text, concept):
    assert concept in vocab.concepts_in(text)
    assert concept in vocab.concepts_in(text, lint=True)  # the lint-only masks stop short of a claim too


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Patients were advised not to drive or operate machinery.", "driving"),
        ("Rates of clinically relevant non-major bleeding were similar between arms.", "bleeding"),
        ("There is no specific antidote for overdose.", "overdose"),
        ("No difference was seen with respect to bleeding.", "bleeding"),
    ],
)
def test_negation_applies_only_to_the_phrase_it_governs(vocab, text, concept):
    (mention,) = [m for m in vocab.mentions(text) if m.concept == concept]
    assert not mention.negated


def test_a_denied_risk_is_still_negated(vocab):
    for text in ("It does not cause sedation.", "No bleeding was observed.", "There was no evidence of overdose."):
        assert all(m.negated for m in vocab.mentions(text)), text


def test_cue_matching_is_one_pass_and_fast(vocab):
    import time

    text = " ".join(["Baclofen may cause drowsiness, vasculitis and alopecia; hepatotoxicity has been reported, "
                     "and it interacts with rifampicin and antacids."] * 200)
    start = time.perf_counter()
    claims = vocab.cue_claims(text)
    elapsed = time.perf_counter() - start
    assert len(claims) == 200 * 6
    assert elapsed < 2.0


# --- malformed cue data -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"claim_cues": [{"id": "x", "object": "sideways", "patterns": ["may cause"]}]},
         r"claim_cues\[0\]\.object: 'sideways' is not one of"),
        ({"claim_cues": [{"id": "x", "object": "after", "patterns": ["(may) cause"]}]},
         r"claim_cues\[0\]\.patterns\[0\]: use non-capturing groups"),
        ({"claim_cues": [{"id": "x", "object": "after", "patterns": ["may cause"], "negatable": "no"}]},
         r"claim_cues\[0\]\.negatable: expected true or false"),
        ({"context_masks": [{"id": "x", "mask": "everywhere", "patterns": ["x"]}]},
         r"context_masks\[0\]\.mask: 'everywhere' is not one of"),
        ({"support_terms": {"nope": ["x"]}}, r"support_terms\.nope: 'nope' is not a concept id"),
        ({"cue_objects": {"stop_words": ["in"], "colours": []}}, r"cue_objects\.colours: unknown key"),
    ],
)
def test_malformed_cue_data_names_the_json_path(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        load_vocabulary(write(tmp_path, {**MINIMAL, **extra}))


def test_a_minimal_file_with_cues_works(tmp_path):
    data = {**MINIMAL, "claim_cues": [{"id": "may_cause", "object": "after", "patterns": ["may cause"]}],
            "cue_objects": {"stop_words": ["in"]}}
    vocab = load_vocabulary(write(tmp_path, data))
    assert cue_objects(vocab, "It may cause drowsiness in adults.") == [("may_cause", "drowsiness", "sedation", False)]
    assert cue_objects(vocab, "It may cause osteitis.") == [("may_cause", "osteitis", None, False)]


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Cimetidine transformed the treatment of peptic ulcer disease.", "peptic_ulcer"),
        ("Bumetanide is indicated for oedema associated with heart failure.", "oedema"),
        ("Celecoxib caused fewer ulcers than non-selective NSAIDs in the trial.", "nsaids"),
        ("Its receptor ratio is higher than that of typical antipsychotics.", "antipsychotics"),
        ("Bleeding and stroke data were not retrieved.", "bleeding"),
    ],
)
def test_indications_of_use_and_uncued_drug_classes_are_not_claims(vocab, text, concept):
    assert concept not in vocab.concepts_in(text)
    assert concept in vocab.concepts_in(text, context=False)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Avoid co-administration with NSAIDs, which raise lithium levels.", "nsaids"),
        ("- **Warfarin:** the INR may rise.", "anticoagulants"),
        ("Patients taking antipsychotics need ECG monitoring.", "antipsychotics"),
        ("Alcohol should be avoided.", "alcohol"),
        ("Grapefruit juice.", "grapefruit_juice"),
        ("Treatment of hypotension caused by the drug is supportive.", "hypotension"),
    ],
)
def test_cued_interactions_and_effects_stay_claims(vocab, text, concept):
    assert concept in vocab.concepts_in(text)


def test_a_cue_inside_an_absence_claim_is_left_to_the_absence_claim(vocab):
    text = "Baclofen has no known interactions with smoking-cessation drugs."
    assert [c.id for c in vocab.absence_claims(text)] == ["no_interactions"]
    assert vocab.cue_claims(text) == []
    assert [c.object_text for c in vocab.cue_claims("Baclofen interacts with smoking-cessation drugs.")] == [
        "smoking-cessation drugs"]


@pytest.mark.parametrize(
    "text",
    [
        "The cohort study investigated whether nasal dryness increases the risk of respiratory infection.",
        "Refer to the national poisons database for toxicity information before prescribing.",
        "The drug blocks replication by causing obligate chain termination.",
        "This interaction has been documented in pharmacokinetic studies.",
    ],
)
def test_open_questions_and_mechanisms_are_not_cue_claims(vocab, text):
    assert vocab.cue_claims(text) == []


def test_the_same_cue_with_a_safety_object_is_a_claim(vocab):
    text = "Nasal dryness increases the risk of epistaxis."
    assert [(c.cue, c.object_text, c.concept) for c in vocab.cue_claims(text)] == [("risk_of", "epistaxis", "bleeding")]


def test_a_negated_population_stays_negated(vocab):
    (mention,) = vocab.mentions("No patients with renal impairment were enrolled.")
    assert mention.concept == "renal_impairment" and mention.negated


def test_every_absence_pattern_keeps_the_prefilter_on() -> None:
    """Each absence-claim pattern must start with letters that can be listed: one that may start with any
    word character ('\\w+ is safe') silently turns the prefilter off, and every sentence is then matched
    against every rule."""
    assert load_vocabulary()._claim_starts is not None


# --- context of the published UK corpus (issue 9): indications, disease features, requests ----------


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Drug Q is an oral agent with recognised clinical use in deep vein thrombosis.", "thromboembolism"),
        ("Drug Q is licensed for the treatment and prophylaxis of venous thromboembolism.", "thromboembolism"),
        ("Drug Q was first developed for hepatitis B infection in adults and children.", "paediatric"),
        ("Drug Q helps to reduce psychotic symptoms in schizophrenia.", "psychosis"),
        ("In catatonia, a syndrome characterised by psychomotor retardation and mutism, benzodiazepines help.", "cognitive_impairment"),
        ("Clinical manifestations include abdominal pain and vomiting.", "abdominal_pain"),
        ("Obtain the current SmPC to list the contraindications, pregnancy advice and renal impairment dosing.",
         "pregnancy"),
        ("A risk stratification framework for the trial (bleeding risk, renal function).", "bleeding"),
        ("A structured safety assessment covering renal function and blood pressure.", "renal_function_monitoring"),
        ("The study will exclude patients with interstitial lung disease.", "interstitial_lung_disease"),
        ("Two randomised trials enrolled children and adolescents with tic disorders.", "paediatric"),
        ("Prescribing guidance sits in BNF section 4.2.1 Antipsychotic drugs.", "antipsychotics"),
        ("Consider its positioning within existing NSAID regimens after cataract surgery.", "nsaids"),
        ("Commission a systematic review of opioid prescribing in porphyria.", "opioids"),
        ("Ask whether other marketed ACE inhibitors could serve instead.", "antihypertensives"),
        ("At screening we assess concomitant medications for MAOI use.", "maois"),
        ("A formal study into whether the balm eases or worsens tension headache is planned.", "headache"),
        ("Mast cell release gives the cardinal signs: itchy weals and, at worst, angioedema.", "angioedema"),
        ("Missing: geriatric dosing and tolerability data for this use.", "elderly"),
        ("Pregnancy data are summarised in the appendix.", "pregnancy"),
        ("A registry cohort (PMID 1) measured kidney function in people taking diuretics.",
         "renal_function_monitoring"),
        ("Rerun a dedicated interaction search; prioritise interactions with anticoagulants.", "anticoagulants"),
    ],
)
def test_indications_disease_features_and_work_requests_are_not_claims(vocab, text, concept):
    assert concept in vocab.concepts_in(text, context=False)  # the words are there ...
    assert concept not in vocab.concepts_in(text, lint=True)  # ... but the context mask says they are no claim


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("In catatonia, a syndrome characterised by psychomotor retardation and mutism, benzodiazepines help.", "cognitive_impairment"),
        ("Clinical manifestations include abdominal pain and vomiting.", "abdominal_pain"),
        ("A risk stratification framework for the trial (bleeding risk, renal function).", "bleeding"),
        ("A structured safety assessment covering renal function and blood pressure.", "renal_function_monitoring"),
        ("At screening we assess concomitant medications for MAOI use.", "maois"),
        ("Mast cell release gives the cardinal signs: itchy weals and, at worst, angioedema.", "angioedema"),
        ("Missing: geriatric dosing and tolerability data for this use.", "elderly"),
        ("A registry cohort (PMID 1) measured kidney function in people taking diuretics.",
         "renal_function_monitoring"),
        ("Rerun a dedicated interaction search; prioritise interactions with anticoagulants.", "anticoagulants"),
        ("Obtain the current SmPC to list the contraindications, pregnancy advice and renal impairment dosing.",
         "pregnancy"),
        ("Pregnancy data are summarised in the appendix.", "pregnancy"),
    ],
)
def test_masks_learnt_from_published_reports_leave_a_drafted_statement_checked(vocab, text, concept):
    """The disease-feature, work-request, population-data and query-request masks were written for
    published reports; in a drafted statement the same words must cite the pack's safety items."""
    assert concept in vocab.concepts_in(text)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Refer to a headache specialist for review.", "headache"),
        ("Plasma nitrite level falls after fasting.", "falls"),
        ("Prescribers must follow the pregnancy prevention programme.", "pregnancy"),
        ("A paediatric extension of the trial is running.", "paediatric"),
        ("The choice of opioid matters less than the dose.", "opioids"),
        ("Conserved protease residues give a structural basis for cross-reactivity against SIV.", "hypersensitivity"),
    ],
)
def test_phrases_that_only_contain_a_safety_word_are_not_mentions(vocab, text, concept):
    assert concept not in vocab.concepts_in(text, context=False)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Drug Q often causes headache in the first week.", "headache"),
        ("Elderly patients on it had more falls.", "falls"),
        ("Drug Q is contraindicated in pregnancy.", "pregnancy"),
        ("Its use in children is not licensed because of growth suppression.", "paediatric"),
        ("Drug Q may worsen psychotic symptoms.", "psychosis"),
        ("Obtain the SmPC, given the known risk of serious hypersensitivity reactions.", "hypersensitivity"),
        ("Retrieve the SmPC - drug Q is a strong P-gp inhibitor.", "pgp_interactions"),
        ("Safety assessment for women, given the teratogenic potential of the class.", "teratogenicity"),
        ("A study into whether it helps is planned; it worsens headache in some users.", "headache"),
        ("Avoid combining it with other marketed NSAIDs because bleeding increases.", "bleeding"),
        ("Drug Q has recognised clinical use in pregnancy-related nausea, though hepatotoxicity occurs.",
         "hepatotoxicity"),
        ("Drug Q caused angioedema; the cardinal signs: weals.", "angioedema"),
        ("Cross-reactivity with sulfonamide antibiotics has been reported.", "hypersensitivity"),
        ("Geriatric safety data show more falls with drug Q.", "falls"),
        ("A cohort (PMID 1) measured kidney function and found acute kidney injury in users.", "nephrotoxicity"),
        ("Its trial measured renal function; drug Q raises the bleeding risk.", "bleeding"),
        ("Rerun the interaction query, since drug Q interacts with warfarin.", "anticoagulants"),
        ("Prioritise interactions with warfarin, because drug Q raises its levels.", "anticoagulants"),
        ("Repeat the DDI search: drug Q is a strong CYP3A4 inhibitor.", "cyp3a4_inhibitors"),
    ],
)
def test_claims_next_to_the_new_masks_are_still_found(vocab, text, concept):
    assert concept in vocab.concepts_in(text)


def test_a_data_gap_about_interactions_claims_no_absence_of_them(vocab):
    assert vocab.absence_claims("The pack lists warnings only (no drug-drug interactions retrieved).") == []
    (claim,) = vocab.absence_claims("Cetirizine has no drug-drug interactions.")
    assert claim.scope == "interaction"


def _corpus_and_catalogue_lines() -> list[str]:
    """Every non-empty line of the UK corpus (if present) and every text of the verifier catalogue."""
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    reports = tests.parents[1] / "shared" / "anchor-uk" / "reports"
    lines = [line for path in sorted(reports.glob("*.md")) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()] if reports.is_dir() else []
    for path in sorted((tests / "catalogue").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            lines += [t for t in case.get("text", []) if t.strip()]
            lines += [s["text"] for s in case.get("statements", []) if isinstance(s, dict) and "text" in s]
    return lines


def test_the_no_cue_and_no_term_shortcuts_change_nothing(vocab):
    """``cue_claims`` and ``mentions`` skip the context masks when a text has no cue or no term at all;
    on every real line they must return what the full reading returns, names masked or not."""
    lines = _corpus_and_catalogue_lines()
    assert len(lines) > 500
    shortcut = claims = 0
    for line in lines:
        for mask in ((), ("nicotine dependence", "baclofen")):
            for lint in (False, True):
                full_claims = vocab._cue_claims(line, mask, lint)
                assert vocab.cue_claims(line, mask=mask, lint=lint) == full_claims, line[:80]
                assert vocab.mentions(line, mask=mask, lint=lint) == vocab._mentions(line, mask, True, lint), line[:80]
                claims += bool(full_claims)
            shortcut += not vocab._cue_regex.pattern.search(line.lower())
    assert claims > 100 and shortcut > 100  # both paths were exercised


@pytest.mark.parametrize("lint", [False, True])
def test_a_clause_mask_ends_where_a_new_clause_states_a_claim(vocab, lint):
    assert "respiratory_depression" in vocab.concepts_in(
        "It is unclear whether sedation occurs, and respiratory depression is common.", lint=lint)
    assert "respiratory_depression" in vocab.concepts_in(
        "Review the SmPC covering sedation, but respiratory depression was reported.", lint=lint)
    # the last item of a list is still inside the mask (a verb after ', and' ends it: fail closed)
    assert "sedation" not in vocab.concepts_in("It is unclear whether it causes dizziness, nausea, and sedation.",
                                               lint=lint)
