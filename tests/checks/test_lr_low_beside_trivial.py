"""A run whose training loss sits at a trivial solution (LM002) is not also told its LR is too low (LR004).

A binary classifier at ln(2) whose losses creep down by 3-4% over 40 epochs: LR004 alone reads the slow, steady
fall of the validation loss as an LR that starves the run and advises raising it; with LM002 in force the run's
finding is the trivial solution (its advice checks inputs and labels first, then moves the LR both ways), and
"raise the LR" is a competing cause that is dropped (a public Keras log labelled local_minimum + underfitting had
both).
"""

from __future__ import annotations

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config
from lossdoc.ingest import from_bytes, read_input
from lossdoc.model import LogSet

LOG = """\
    epoch,accuracy,loss,val_accuracy,val_loss
    0,0.5084,0.7014,0.5532,0.6852
    1,0.4957,0.6903,0.5532,0.6878
    2,0.4827,0.6838,0.5532,0.6875
    3,0.4929,0.7045,0.5532,0.6876
    4,0.4789,0.6894,0.5532,0.6857
    5,0.4952,0.6883,0.5532,0.6869
    6,0.5005,0.6930,0.5532,0.6853
    7,0.4899,0.6947,0.5532,0.6859
    8,0.5387,0.6871,0.5532,0.6853
    9,0.5200,0.6861,0.5532,0.6836
    10,0.5177,0.6830,0.5532,0.6829
    11,0.5134,0.6882,0.5532,0.6829
    12,0.4808,0.6739,0.5532,0.6838
    13,0.5140,0.6779,0.5532,0.6821
    14,0.5005,0.6821,0.5532,0.6795
    15,0.5149,0.6830,0.5532,0.6826
    16,0.4959,0.6833,0.5532,0.6816
    17,0.5117,0.6782,0.5532,0.6803
    18,0.5046,0.6803,0.5532,0.6777
    19,0.5098,0.6706,0.5532,0.6793
    20,0.4807,0.6733,0.5532,0.6778
    21,0.4817,0.6822,0.5532,0.6741
    22,0.4568,0.6814,0.5532,0.6783
    23,0.4878,0.6759,0.5532,0.6765
    24,0.5071,0.6836,0.5532,0.6737
    25,0.4996,0.6723,0.5532,0.6770
    26,0.5336,0.6744,0.5532,0.6718
    27,0.5228,0.6782,0.5532,0.6749
    28,0.4840,0.6759,0.5532,0.6722
    29,0.4708,0.6707,0.5532,0.6747
    30,0.5045,0.6708,0.5532,0.6716
    31,0.4654,0.6748,0.5532,0.6696
    32,0.5151,0.6718,0.5532,0.6728
    33,0.5059,0.6721,0.5532,0.6699
    34,0.4841,0.6696,0.5532,0.6710
    35,0.5109,0.6704,0.5532,0.6691
    36,0.5300,0.6701,0.5532,0.6725
    37,0.4932,0.6745,0.5532,0.6651
    38,0.4544,0.6654,0.5532,0.6684
    39,0.4740,0.6719,0.5532,0.6686
"""


def _findings(cfg: Config) -> list:
    ls = LogSet([read_input(from_bytes(LOG.encode(), "training_log.csv"), "keras-csv")])
    runs, _ = run_checks(ls, cfg, summaries=False)
    return [f for r in runs for f in r.findings]


def test_lr_too_low_gives_way_to_a_trivial_solution() -> None:
    alone = _findings(Config(select=("LR004",)))
    assert any(f.rule == "LR004" and f.split == "val" for f in alone)  # the slow fall LR004 reads on its own
    full = _findings(Config())
    assert any(f.rule == "LM002" and f.split == "train" and "ln(2)" in f.message for f in full)
    assert not [f for f in full if f.category == "lr_too_low"]
    assert not any("raise it" in f.recommendation for f in full)
