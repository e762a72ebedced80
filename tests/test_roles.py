"""The sentence-role classifier on sentences of the kinds real abstracts contain."""

from __future__ import annotations

import pytest

from assistant.roles import ROLES, classify, finding_score, role, role_scores

ABSTRACT = (
    "Recent advances in large language models have made data selection increasingly important. "
    "However, existing selection methods struggle when the target data is multimodal. "
    "We propose TAROT, a targeted data selection framework grounded in optimal transport theory. "
    "TAROT uses whitened feature distance to quantify the distance between selected and target data. "
    "Experiments show that TAROT outperforms state-of-the-art methods, improving accuracy by 4.2%. "
    "Code is available at https://github.com/example/tarot."
)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Recent advancements in reinforcement learning suggest that reasoning can emerge from rewards.", "background"),
        ("Despite its success, scaling this approach remains challenging.", "background"),
        ("Reinforcement learning has been widely adopted for aligning language models.", "background"),
        ("We introduce SPARKLE, a fine-grained analytic framework to dissect the effects of RL.", "contribution"),
        ("In this paper, we investigate the expressive power of bandlimited random networks.", "contribution"),
        ("The model achieves an mAP@0.5 of 65.9% and runs at 69 frames per second.", "result"),
        ("Interestingly, we find that weak supervision still helps even at a 90% error rate.", "result"),
        ("Our method outperforms strong baselines on nine benchmarks.", "result"),
        ("To address this, the encoder leverages a bidirectional feature pyramid.", "method"),
        ("We train the policy with a learned reward model on collected trajectories.", "method"),
        ("Data and code are released at https://github.com/example/repo.", "other"),
    ],
)
def test_role_of_typical_abstract_sentences(sentence, expected):
    assert role(sentence, 2, 6) == expected


def test_classify_labels_each_sentence_of_an_abstract_in_order():
    roles = [r for _, r in classify(ABSTRACT)]
    assert roles == ["background", "background", "contribution", "method", "result", "other"]


def test_result_sentence_has_the_highest_finding_score():
    pairs = classify(ABSTRACT)
    scores = [finding_score(s, i, len(pairs)) for i, (s, _) in enumerate(pairs)]
    assert max(range(len(scores)), key=scores.__getitem__) == 4
    assert scores[0] < scores[2] < scores[4] and all(0.0 <= x <= 1.0 for x in scores)


def test_role_is_always_one_of_the_documented_roles():
    for text in ["", "...", "Graphs.", "x" * 500, "12 34 56"]:
        assert role(text, 0, 1) in ROLES


def test_scores_a_caller_changes_do_not_leak_into_later_calls():
    """Scores are computed once per sentence and kept: each caller still gets its own dict to change."""
    sentence = "Experiments show that TAROT outperforms state-of-the-art methods, improving accuracy by 4.2%."
    first = role_scores(sentence, 4, 6)
    expected = dict(first)
    first["result"] = -100.0
    assert role_scores(sentence, 4, 6) == expected and role(sentence, 4, 6) == "result"
