"""A stall inside a loss that runs away below zero is part of the divergence, not a plateau the run escaped
(LM001 beside DV002): from a divergence's onset on, a stall-then-drop gives way, as jumps do (test_spikes_in_a_blow_up).

The log is villrv/ppae ``lightning_logs/version_16/metrics.csv`` (commit bfa18e74c99c61fe14745ae698fba5158e9429da),
a public dev log, verbatim: an objective unbounded below, -221 at epoch 0 to -266,376 at epoch 49, pausing near
-65,000 over epochs 18-27 before falling again. Both reviewers called it a runaway (divergence, optional), neither a
local minimum; lossdoc warned "stuck at -64,650 ... then dropped to -182,724".
"""

from __future__ import annotations

from pathlib import Path

import lossdoc

PPAE = """\
epoch,train_loss,step
0,-220.67306518554688,49
1,-510.372802734375,99
2,-1369.36181640625,149
3,-1860.88623046875,199
4,-3925.681640625,249
5,-4545.16650390625,299
6,-6093.2138671875,349
7,-9192.54296875,399
8,-11182.02734375,449
9,-13112.9765625,499
10,-14982.75390625,549
11,-19948.53125,599
12,-22868.16796875,649
13,-21915.021484375,699
14,-24114.8515625,749
15,-34602.09375,799
16,-44387.953125,849
17,-39370.7265625,899
18,-50435.65234375,949
19,-59036.54296875,999
20,-50482.7890625,1049
21,-54578.9765625,1099
22,-52090.05078125,1149
23,-74721.7421875,1199
24,-83554.328125,1249
25,-86856.703125,1299
26,-74551.265625,1349
27,-87061.53125,1399
28,-119812.4921875,1449
29,-107337.796875,1499
30,-120777.71875,1549
31,-105223.6953125,1599
32,-142677.75,1649
33,-176744.90625,1699
34,-143270.1875,1749
35,-208961.4375,1799
36,-182723.765625,1849
37,-170234.65625,1899
38,-193558.9375,1949
39,-190669.171875,1999
40,-176393.0625,2049
41,-233090.765625,2099
42,-177921.03125,2149
43,-231903.25,2199
44,-178569.203125,2249
45,-230213.78125,2299
46,-281998.25,2349
47,-219668.109375,2399
48,-260411.9375,2449
49,-266375.84375,2499
"""


def _findings(tmp_path: Path, text: str) -> list:
    p = tmp_path / "metrics.csv"
    p.write_text(text, encoding="utf-8")
    return [f for r in lossdoc.analyze(str(p)).runs for f in r.findings]


def test_a_stall_after_the_runaway_began_is_not_an_escaped_plateau(tmp_path: Path) -> None:
    fs = _findings(tmp_path, PPAE)
    div = [f for f in fs if f.rule == "DV002" and f.severity >= lossdoc.Severity.WARNING]
    assert div and div[0].start_step == 549, [(f.rule, f.start_step) for f in fs]
    assert not [f for f in fs if f.category == "local_minimum"], [f.message for f in fs if f.rule == "LM001"]


def test_a_plateau_escaped_before_a_later_blow_up_is_still_reported(tmp_path: Path) -> None:
    # stuck at ln(10) for 14 epochs, escaped, learned, then rose from epoch 45 to 8x its best: both findings stand
    stuck = [2.3087, 2.2949, 2.3039, 2.3009, 2.3012, 2.3020, 2.2965, 2.3019, 2.3000, 2.3126, 2.3033, 2.3015, 2.3018,
             2.3006]
    after = [1.4 * 0.93 ** i for i in range(31)] + [0.2 + 0.12 * i for i in range(15)]
    text = "epoch,train_loss,step\n" + "".join(f"{i},{v:.4f},{50 * i + 49}\n" for i, v in enumerate(stuck + after))
    fs = _findings(tmp_path, text)
    assert [f for f in fs if f.category == "divergence" and f.severity >= lossdoc.Severity.WARNING], \
        [f.rule for f in fs]
    lm = [f for f in fs if f.rule == "LM001"]
    assert lm and lm[0].start_step < 700, [(f.rule, f.start_step, f.message[:80]) for f in fs]
