"""A plateau note (PL002, "converged early") and "falls steadily but slowly" (LR004) on one series: the raw loss decides.

The two read the same slow fall. When the loss itself slowed down (its second half falls less than half as fast as
its first, per step), it converged: the note stays and "raise the LR" goes, even when the fall per unit of a decaying
LR is steady (a public HF LoRA log: 3.568 -> 3.545 -> 3.540 and flat while the LR decays to 0, labelled plateau by
both reviewers). When it kept falling in a straight line (the real-run corpus's sklearn MLP at Adam LR 1e-5, labelled
lr_too_low from its sweep), "converged early, stop at step 21" is wrong: LR004 stays and the note goes.
"""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet

#: benchmarks/publiclogs dev: faezeh-gholamrezaie/Fine-Tuning-Large-Language-Models-for-Sleep-Stage-Classification,
#: trainer_state.json (its log_history, as logged)
HF = """{"global_step": 600, "max_steps": 600, "logging_steps": 100, "log_history": [
 {"epoch": 0.043, "grad_norm": 0.0817, "learning_rate": 0.0001669449081803005, "loss": 3.5678, "step": 100},
 {"epoch": 0.086, "grad_norm": 0.0961, "learning_rate": 0.0001335559265442404, "loss": 3.5449, "step": 200},
 {"epoch": 0.129, "grad_norm": 0.0752, "learning_rate": 0.00010016694490818031, "loss": 3.54, "step": 300},
 {"epoch": 0.172, "grad_norm": 0.0798, "learning_rate": 6.67779632721202e-05, "loss": 3.5425, "step": 400},
 {"epoch": 0.215, "grad_norm": 0.0905, "learning_rate": 3.33889816360601e-05, "loss": 3.5397, "step": 500},
 {"epoch": 0.258, "grad_norm": 0.114, "learning_rate": 0.0, "loss": 3.5388, "step": 600}]}
"""

#: benchmarks/realruns/logs/sklearn/lr_adam_reg/lr1e-05_seed0/mlp.log.gz, as logged
MLP = """\
Iteration 1, loss = 32340.12922602
Iteration 2, loss = 32339.44525434
Iteration 3, loss = 32338.76220509
Iteration 4, loss = 32338.07013823
Iteration 5, loss = 32337.41167882
Iteration 6, loss = 32336.71177460
Iteration 7, loss = 32336.03422899
Iteration 8, loss = 32335.36386887
Iteration 9, loss = 32334.67646103
Iteration 10, loss = 32333.99418490
Iteration 11, loss = 32333.31867206
Iteration 12, loss = 32332.63262086
Iteration 13, loss = 32331.95503716
Iteration 14, loss = 32331.26992010
Iteration 15, loss = 32330.58768715
Iteration 16, loss = 32329.91058936
Iteration 17, loss = 32329.23167397
Iteration 18, loss = 32328.54280307
Iteration 19, loss = 32327.85882097
Iteration 20, loss = 32327.18325212
Iteration 21, loss = 32326.50674095
Iteration 22, loss = 32325.81844266
Iteration 23, loss = 32325.13697929
Iteration 24, loss = 32324.46378656
Iteration 25, loss = 32323.77804698
Iteration 26, loss = 32323.10100323
Iteration 27, loss = 32322.42331511
Iteration 28, loss = 32321.74137810
Iteration 29, loss = 32321.05745308
Iteration 30, loss = 32320.37748020
Iteration 31, loss = 32319.69516948
Iteration 32, loss = 32319.01567332
Iteration 33, loss = 32318.33961522
Iteration 34, loss = 32317.65374284
Iteration 35, loss = 32316.97189957
Iteration 36, loss = 32316.29607686
Iteration 37, loss = 32315.61288507
Iteration 38, loss = 32314.93206033
Iteration 39, loss = 32314.24361692
Iteration 40, loss = 32313.56644535
Iteration 41, loss = 32312.88658170
Iteration 42, loss = 32312.19795140
Iteration 43, loss = 32311.52725085
Iteration 44, loss = 32310.82882274
Iteration 45, loss = 32310.15416422
Iteration 46, loss = 32309.47359354
Iteration 47, loss = 32308.78397438
Iteration 48, loss = 32308.10326343
Iteration 49, loss = 32307.42179328
Iteration 50, loss = 32306.73493193
Iteration 51, loss = 32306.04664152
Iteration 52, loss = 32305.36872423
Iteration 53, loss = 32304.67452012
Iteration 54, loss = 32303.98851705
Iteration 55, loss = 32303.31033619
Iteration 56, loss = 32302.62253392
Iteration 57, loss = 32301.93804935
Iteration 58, loss = 32301.24547768
Iteration 59, loss = 32300.56429605
Iteration 60, loss = 32299.86757115
Iteration 61, loss = 32299.18786451
Iteration 62, loss = 32298.50567780
Iteration 63, loss = 32297.80570655
Iteration 64, loss = 32297.12559315
Iteration 65, loss = 32296.43212054
Iteration 66, loss = 32295.74495171
Iteration 67, loss = 32295.05538156
Iteration 68, loss = 32294.36299379
Iteration 69, loss = 32293.67336478
Iteration 70, loss = 32292.98940682
Iteration 71, loss = 32292.29107757
Iteration 72, loss = 32291.60823747
Iteration 73, loss = 32290.91269814
Iteration 74, loss = 32290.22678945
Iteration 75, loss = 32289.52695398
Iteration 76, loss = 32288.84107522
Iteration 77, loss = 32288.14418158
Iteration 78, loss = 32287.45848844
Iteration 79, loss = 32286.77296353
Iteration 80, loss = 32286.06718838
"""


def _findings(text: str, name: str, fmt: str, cfg: Config) -> list:
    ls = LogSet([read_input(from_bytes(text.encode(), name), fmt)])
    runs, _ = run_checks(ls, cfg, summaries=False)
    return [f for r in runs for f in r.findings]


def test_a_loss_that_slowed_down_converged_and_is_not_told_to_raise_the_lr() -> None:
    alone = _findings(HF, "trainer_state.json", "hf-trainer", Config(select=("LR004",)))
    assert any(f.rule == "LR004" and "per unit of the LR in force" in f.message for f in alone)
    full = _findings(HF, "trainer_state.json", "hf-trainer", Config())
    assert any(f.rule == "PL002" for f in full)
    assert not [f for f in full if f.category == "lr_too_low"]
    assert not any("raise it" in f.recommendation for f in full)


def test_a_straight_slow_fall_is_not_called_converged() -> None:
    alone = _findings(MLP, "mlp.log", "sklearn-mlp", Config(select=("PL002",)))
    assert any(f.rule == "PL002" and "converged early" in f.message for f in alone)
    full = _findings(MLP, "mlp.log", "sklearn-mlp", Config())
    low = [f for f in full if f.rule == "LR004"]
    assert low and "no sign of slowing down" in low[0].message and "raise the learning rate 3-10x" in low[0].recommendation
    assert not [f for f in full if f.category == "plateau"]
