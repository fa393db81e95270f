"""Turn the design table (design/*.jsonl) + each run's own logged numbers into labels.tsv.

Run with the training venv (it reads TensorBoard event files with the tensorboard package):
    /work/rr-venv/bin/python benchmarks/realruns/label.py [--table] [trainer ...]
It never runs lossdoc. The rules and every threshold are the constants below; README.md states them.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import DESIGN, LOGS, find_log

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------- thresholds (README.md)
SPIKE_ONE = 1.0       # a single-point spike must rise >= this x the run's range above the local median
SPIKE_ONE_OPT = 0.5   # ... single points from this height make loss_spikes optional (one hard batch)
SPIKE_MULTI = 0.2     # >= 2 consecutive points: this x range
SPIKE_SIGMA = 8.0     # ... and >= this many robust sigmas of the preceding 20 points
EXPLODE = 1.5         # divergence also: final train >= this x the trivial level (worse than predicting the prior)
DIV_RISE = 0.5        # divergence: smoothed train loss ends >= this x range above its minimum
OVF_RISE = 0.05       # overfitting: val rises >= max(this x val range, OVF_REL x val minimum)
OVF_REL = 0.02
OVF_OPT = 0.05        # optional overfitting: rise >= 0.4 x the requirement, or >= this x val minimum
OVF_POS = 0.8         # ... from a minimum that lies before this fraction of the run
OSC_REQ = 0.35        # oscillation: robust residual scale (2nd half) >= this x range (optional from OSC_OPT)
OSC_OPT = 0.2
GAP_REL = 0.15        # train_val_gap: final val - final train >= this x the train range ...
GAP_RATIO = 1.5       # ... and final val >= this x final train (when train > 0)
MARGIN_RANGE = 0.05   # "clearly worse" margin: max(this x (L0 - best), MARGIN_LEVEL x |best|)
MARGIN_LEVEL = 0.10
UNDER_COVER = 0.5     # underfitting: covered < this share of the drop the group's best run achieved
UNDER_OPT = 0.75      # ... optional between UNDER_COVER and this
STILL_FALL = 0.03     # still falling: the smoothed loss fell >= this x range over the last 20% of the run
STILL_GAIN = 0.05     # still_improving: 4x-longer reference ends lower by >= this x the short run's range
TRIV_TOL = 0.05       # trivial level: within this x the trivial loss
TRIV_FLAT = 0.01      # stuck: the level moved < this x the trivial level across the stretch
TRIV_SHARE = 0.15     # local_minimum (escape): stuck at the level for >= this share of the run, then
ESC_DROP = 0.25       # ... dropped by >= this x the trivial level,
ESC_FAST = 0.15       # ... the first half of the drop within this share of the run
FLAT_SHARE = 0.4      # plateau: flat (moves < FLAT_TOL x range) over the last >= this share of the run
FLAT_TOL = 0.03


# ----------------------------------------------------------------------------- readers (native formats)

def _text(path: Path) -> str:
    with gzip.open(path, "rt", errors="replace") as fh:
        return fh.read()


def _f(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return float("nan")


def read_series(trainer: str, path: Path) -> dict:
    """{'train': (x, y), 'val': (x, y), 'grad_norm': (x, y)} as float arrays; keys absent when not logged."""
    out: dict = {}

    def put(key, xs, ys):
        if len(xs):
            out[key] = (np.asarray(xs, float), np.asarray(ys, float))

    if trainer == "sklearn":
        t = _text(path)
        m = re.findall(r"^Iteration (\d+), loss = (\S+)", t, re.M)
        put("train", [int(a) for a, _ in m], [_f(b) for _, b in m])
    elif trainer == "xgboost":
        t = _text(path)
        m = re.findall(r"^\[(\d+)\]\ttrain-\w+:(\S+)\teval-\w+:(\S+)", t, re.M)
        put("train", [int(a) for a, _, _ in m], [_f(b) for _, b, _ in m])
        put("val", [int(a) for a, _, _ in m], [_f(c) for _, _, c in m])
    elif trainer == "nanogpt":
        t = _text(path)
        m = re.findall(r"^iter (\d+): loss (\S+),", t, re.M)
        put("train", [int(a) for a, _ in m], [_f(b) for _, b in m])
        m = re.findall(r"^step (\d+): train loss (\S+), val loss (\S+)", t, re.M)
        put("val", [int(a) for a, _, _ in m], [_f(c) for _, _, c in m])
        put("eval_train", [int(a) for a, _, _ in m], [_f(b) for _, b, _ in m])
    elif trainer == "keras":
        rows = list(csv.DictReader(io.StringIO(_text(path))))
        put("train", [int(r["epoch"]) for r in rows], [_f(r["loss"]) for r in rows])
        if rows and "val_loss" in rows[0]:
            put("val", [int(r["epoch"]) for r in rows], [_f(r["val_loss"]) for r in rows])
    elif trainer == "lightning":
        rows = list(csv.DictReader(io.StringIO(_text(path))))
        tr = [(int(r["step"]), _f(r["train_loss_step"])) for r in rows if r.get("train_loss_step")]
        va = [(int(r["step"]), _f(r["val_loss"])) for r in rows if r.get("val_loss")]
        te = [(int(r["step"]), _f(r["train_loss_epoch"])) for r in rows if r.get("train_loss_epoch")]
        put("train", [a for a, _ in tr], [b for _, b in tr])
        put("val", [a for a, _ in va], [b for _, b in va])
        put("train_epoch", [a for a, _ in te], [b for _, b in te])
    elif trainer == "hf":
        st = json.loads(_text(path))
        h = st["log_history"]
        tr = [e for e in h if "loss" in e]
        # HF logs loss 0.0 for steps whose loss was non-finite (grad_norm NaN beside it): a placeholder,
        # not a value -- label it as non-finite
        put("train", [e["step"] for e in tr],
            [float("nan") if float(e["loss"]) == 0.0 and not math.isfinite(float(e.get("grad_norm", 0.0)))
             else float(e["loss"]) for e in tr])
        if tr:
            out["raw_last_train"] = float(tr[-1]["loss"])
        gn = [e for e in h if "grad_norm" in e]
        put("grad_norm", [e["step"] for e in gn], [float(e["grad_norm"]) for e in gn])
        ev = [e for e in h if "eval_loss" in e]
        put("val", [e["step"] for e in ev], [float(e["eval_loss"]) for e in ev])
    elif trainer == "tensorboard":
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        with tempfile.NamedTemporaryFile(suffix=".tfevents") as tmp:
            tmp.write(gzip.open(path).read())
            tmp.flush()
            vals: dict = {}
            for ev in EventFileLoader(tmp.name).Load():
                for v in ev.summary.value:
                    x = v.simple_value if v.HasField("simple_value") else float(
                        np.frombuffer(v.tensor.tensor_content, np.float32)[0]) if v.tensor.tensor_content else \
                        (v.tensor.float_val[0] if v.tensor.float_val else float("nan"))
                    vals.setdefault(v.tag, []).append((ev.step, x))
        for tag, key in [("train/loss", "train"), ("val/loss", "val")]:
            if tag in vals:
                put(key, [a for a, _ in vals[tag]], [b for _, b in vals[tag]])
    else:
        raise ValueError(trainer)
    return out


# ----------------------------------------------------------------------------- curve statistics

def smooth(y: np.ndarray) -> np.ndarray:
    """Centred rolling median; window 1 below 30 points, else ~n/30 (odd, >= 3)."""
    n = len(y)
    if n < 30:
        return y.copy()
    w = max(3, n // 30) | 1
    h = w // 2
    pad = np.concatenate([np.full(h, np.nan), y, np.full(h, np.nan)])
    win = np.lib.stride_tricks.sliding_window_view(pad, w)
    return np.nanmedian(win, axis=1)


class Curve:
    """Statistics of one finite loss series (the prefix before the first non-finite value)."""

    def __init__(self, x, y):
        fin = np.isfinite(y)
        self.nonfinite_at = None if fin.all() else float(x[np.argmin(fin)])
        cut = len(y) if fin.all() else int(np.argmin(fin))
        self.x, self.y = x[:cut], y[:cut]
        self.n = len(self.y)
        self.total_n = len(y)
        if self.n == 0:
            self.s = self.y
            self.first = self.min = self.final = self.range = float("nan")
            self.argmin = 0
            return
        self.s = smooth(self.y)
        self.first = float(self.y[0])  # the first logged value
        self.min = float(np.min(self.s))
        self.argmin = int(np.argmin(self.s))
        self.final = float(self.s[-1])
        self.range = max(self.first - self.min, 1e-12, 0.1 * abs(self.first))

    def at_frac(self, f: float) -> float:
        return float(self.s[min(self.n - 1, int(round(f * (self.n - 1))))])

    def tail_drop(self) -> float:
        """How much the smoothed curve fell over the last 20% of its points (>0 = still falling)."""
        if self.n < 5:
            return 0.0
        return self.at_frac(0.8) - self.final


def spikes(c: Curve) -> list[tuple[float, float]]:
    """(step, height/range) of transient jumps that recover (see README)."""
    out = []
    y, n = c.y, c.n
    if n < 20:
        return out
    i = 3
    while i < n - 1:
        lo = max(0, i - 20)
        prev = y[lo:i]
        med = float(np.median(prev[-10:]))
        sig = 1.4826 * float(np.median(np.abs(prev - np.median(prev)))) + 1e-12
        h = y[i] - med
        if h > SPIKE_SIGMA * sig and h > SPIKE_MULTI * c.range:
            j = i
            while j + 1 < n and y[j + 1] - med > SPIKE_MULTI * c.range:
                j += 1
            k = j - i + 1
            after = y[j + 1:j + 51]
            recovered = len(after) > 0 and np.min(after) < med + 0.5 * h
            if recovered and (h > SPIKE_ONE_OPT * c.range or k >= 2) and k <= max(3, n // 20):
                out.append((float(c.x[i]), h / c.range, k >= 2 or h > SPIKE_ONE * c.range))
            i = j + 1
        else:
            i += 1
    return out


def flat_stretch(c: Curve, level: float) -> tuple[int, int]:
    """Longest run of smoothed points within TRIV_TOL x level of `level`: (start index, length)."""
    near = np.abs(c.s - level) <= TRIV_TOL * abs(level)
    best, start, cur_s, cur = (0, 0), 0, 0, 0
    for i, v in enumerate(near):
        if v:
            if cur == 0:
                cur_s = i
            cur += 1
            if cur > best[1]:
                best = (cur_s, cur)
        else:
            cur = 0
    return best


# ----------------------------------------------------------------------------- labelling

def primary(ser: dict) -> str:
    return "val" if "val" in ser else "train"


def final_metric(ser: dict) -> float:
    """The value the sweep is ranked on: final val loss if logged, else the final smoothed train loss;
    +inf when it went non-finite."""
    k = primary(ser)
    x, y = ser[k]
    if not np.all(np.isfinite(y)) or ("train" in ser and not np.all(np.isfinite(ser["train"][1]))):
        return math.inf
    return float(Curve(x, y).final)


def label_run(r: dict, ser: dict, design_ix: dict, series_ix: dict) -> tuple[list, list, list]:
    labels, optional, why = [], [], []
    tr = Curve(*ser["train"])
    va = Curve(*ser["val"]) if "val" in ser else None

    # non_finite
    nf = [k for k in ("train", "val") if k in ser and not np.all(np.isfinite(ser[k][1]))]
    gn_bad = "grad_norm" in ser and not np.all(np.isfinite(ser["grad_norm"][1]))
    if nf or gn_bad:
        labels.append("non_finite")
        if tr.nonfinite_at is not None:
            why.append(f"train loss non-finite from step {tr.nonfinite_at:g} ({tr.total_n - tr.n}/{tr.total_n} pts)")
        if gn_bad:
            gx, gy = ser["grad_norm"]
            why.append(f"grad_norm non-finite from step {gx[np.argmin(np.isfinite(gy))]:g}")
        if va is not None and va.nonfinite_at is not None:
            why.append(f"val loss non-finite from step {va.nonfinite_at:g}")
    if tr.n == 0:
        why.append("no finite train loss")
        return sorted(set(labels)), optional, why

    # divergence (train)
    rise = tr.final - tr.min
    tail = tr.s[int(0.9 * tr.n):]
    diverged = tr.n >= 3 and rise >= DIV_RISE * tr.range and np.all(tail >= tr.min + 0.25 * tr.range)
    triv = r.get("trivial")
    exploded = bool(triv) and tr.final >= EXPLODE * triv
    if diverged or exploded:
        labels.append("divergence")
        why.append(f"train rose from min {tr.min:.4g} to {tr.final:.4g} (range {tr.range:.4g})" if diverged else
                   f"train ends at {tr.final:.4g}, >= {EXPLODE}x the trivial level {triv:.4g} (worse than chance)")
    elif tr.nonfinite_at is not None and tr.n >= 3:
        pre = tr.y[max(0, tr.n - 5):]
        if pre.max() >= tr.min + DIV_RISE * tr.range:
            labels.append("divergence")
            why.append(f"train rose to {pre.max():.4g} before going non-finite")
        else:
            optional.append("divergence")
    elif tr.nonfinite_at is not None:
        optional.append("divergence")

    # loss spikes (train)
    sp = spikes(tr)
    if sp:
        if "divergence" in labels or "non_finite" in labels or not any(t[2] for t in sp):
            optional.append("loss_spikes")
        else:
            labels.append("loss_spikes")
        why.append(f"{len(sp)} spike(s), largest {max(t[1] for t in sp):.3g}x range at step "
                   f"{max(sp, key=lambda t: t[1])[0]:g}")

    # oscillation (train): robust scale of the residual around the smoothed curve over the second half,
    # relative to the run's range
    osc = 0.0
    if tr.n >= 20:
        h = tr.n // 2
        res = tr.y[h:] - tr.s[h:]
        osc = 1.4826 * float(np.median(np.abs(res - np.median(res)))) / tr.range
        if osc >= OSC_REQ and "divergence" not in labels and "non_finite" not in labels:
            labels.append("oscillation")
            why.append(f"second-half noise {osc:.2f}x range")
        elif osc >= OSC_OPT:
            optional.append("oscillation")

    if "oscillation" in labels and "loss_spikes" in labels:  # jumps are part of the oscillation
        labels.remove("loss_spikes")
        optional.append("loss_spikes")

    # overfitting / train_val_gap (val)
    if va is not None and va.n >= 5 and va.nonfinite_at is None:
        vmin_x = va.x[va.argmin]
        pos = (vmin_x - va.x[0]) / max(va.x[-1] - va.x[0], 1e-12)
        vrange = float(np.max(va.s) - va.min)
        need = max(OVF_RISE * vrange, OVF_REL * abs(va.min))
        vrise = va.final - va.min
        last2 = va.s[-2:]
        ti = int(np.searchsorted(tr.x, vmin_x))
        tr_at = float(tr.s[min(ti, tr.n - 1)])
        train_falls = tr.final < tr_at - 0.01 * tr.range
        learned = va.argmin > 0 and tr.final < tr.first
        if pos < OVF_POS and vrise >= need and np.all(last2 >= va.min + 0.5 * need) and train_falls \
                and learned and "divergence" not in labels and "oscillation" not in labels:
            labels.append("overfitting")
            why.append(f"val min {va.min:.4g} at step {vmin_x:g} ({pos:.0%} of run), ends {va.final:.4g} "
                       f"(+{vrise:.4g} >= {need:.4g}); train {tr_at:.4g} -> {tr.final:.4g}")
        elif pos < OVF_POS and (vrise >= 0.4 * need or vrise >= OVF_OPT * abs(va.min)) and train_falls \
                and va.argmin > 0 and "divergence" not in labels:
            optional.append("overfitting")
        gap = va.final - tr.final
        if "divergence" not in labels:
            if gap >= GAP_REL * tr.range and (tr.final <= 0 or va.final >= GAP_RATIO * tr.final):
                labels.append("train_val_gap")
                why.append(f"final val {va.final:.4g} vs train {tr.final:.4g}")
            elif gap >= 0.5 * GAP_REL * tr.range or -gap >= GAP_REL * tr.range:
                optional.append("train_val_gap")

    # LR group: best LR, too high / too low
    grp = r.get("lr_group")
    lr = r["factors"].get("lr", r["factors"].get("eta"))
    if grp:
        members = [d for d in design_ix.values() if d.get("lr_group") == grp and d["trainer"] == r["trainer"]]
        by_lr: dict = {}
        for d in members:
            m = final_metric(series_ix[(d["trainer"], d["sweep"], d["run_id"])])
            by_lr.setdefault(d["factors"].get("lr", d["factors"].get("eta")), []).append(m)
        score = {k: float(np.mean(v)) for k, v in by_lr.items()}
        best_lr = min(score, key=score.get)
        best = score[best_lr]
        firsts = [Curve(*series_ix[(d["trainer"], d["sweep"], d["run_id"])][primary(ser)]).first
                  for d in members if len(series_ix[(d["trainer"], d["sweep"], d["run_id"])][primary(ser)][1])]
        L0 = float(np.nanmedian(firsts))
        margin = max(MARGIN_LEVEL * abs(best), min(MARGIN_RANGE * (L0 - best), abs(best)))
        mine = final_metric(ser)
        worse = mine >= best + margin
        why.append(f"lr={lr:g} vs group best {best_lr:g} (mean final {primary(ser)} {best:.4g}, margin {margin:.3g}); "
                   f"this run {mine:.4g}")
        if lr > best_lr and ("non_finite" in labels or "divergence" in labels or worse):
            labels.append("lr_too_high")
        elif lr < best_lr and worse:
            pc = Curve(*ser[primary(ser)])
            covered = (pc.first - pc.final) / max(pc.first - best, 1e-12)
            falling = pc.tail_drop() >= STILL_FALL * pc.range
            labels.append("lr_too_low")
            why.append(f"covered {covered:.0%} of the best drop, {'still falling' if falling else 'flat'} at the end "
                       f"(tail drop {pc.tail_drop():.4g})")
        elif lr != best_lr and mine >= best + 0.5 * margin and "non_finite" not in labels:
            optional.append("lr_too_high" if lr > best_lr else "lr_too_low")

    # underfitting: covered too little of the achievable drop (reference: best of lr group / size group)
    ref_groups = [("lr_group", r.get("lr_group")), ("size_group", r.get("size_group"))]
    ref_best = None
    for key, g in ref_groups:
        if g:
            ms = [Curve(*series_ix[(d["trainer"], d["sweep"], d["run_id"])]["train"]).final
                  for d in design_ix.values() if d.get(key) == g and d["trainer"] == r["trainer"]
                  and np.all(np.isfinite(series_ix[(d["trainer"], d["sweep"], d["run_id"])]["train"][1]))]
            if ms:
                ref_best = min(ms) if ref_best is None else min(ref_best, min(ms))
    triv = r.get("trivial")
    stuck_trivial = False
    if triv:
        st, ln = flat_stretch(tr, triv)
        seg = tr.s[st:st + ln]
        q = max(1, ln // 5)
        flat_seg = ln > 0 and abs(float(np.median(seg[:q])) - float(np.median(seg[-q:]))) < TRIV_FLAT * abs(triv)
        stuck_trivial = ln >= 0.5 * tr.n and st + ln >= tr.n - 1 and tr.n >= 5 and flat_seg
    if "divergence" not in labels and "non_finite" not in labels:
        if ref_best is not None:
            covered = (tr.first - tr.final) / max(tr.first - ref_best, 1e-12)
            if covered < UNDER_COVER:
                labels.append("underfitting")
                why.append(f"train covered {covered:.0%} of the drop to the group's best final train {ref_best:.4g}")
            elif covered < UNDER_OPT:
                optional.append("underfitting")
        if stuck_trivial and "underfitting" not in labels:
            labels.append("underfitting")

    # local minimum: stuck at the trivial level (whole run) or stuck then escaped by a sudden drop
    if triv and "non_finite" not in labels:
        st, ln = flat_stretch(tr, triv)
        lr_explains = "lr_too_low" in labels or "lr_too_high" in labels
        if stuck_trivial:
            (optional if lr_explains else labels).append("local_minimum")
            why.append(f"train at trivial level {triv:.4g} for {ln}/{tr.n} pts to the end")
        elif ln >= TRIV_SHARE * tr.n and ln >= 5 and st + ln < tr.n:
            after = tr.s[st + ln:]
            drop = triv - float(after.min())
            # escape: a large drop whose first half comes within ESC_FAST of the run after leaving the level,
            # and no faster than the time spent stuck
            half = np.nonzero(after <= triv - 0.5 * drop)[0]
            t_half = int(half[0]) if len(half) else tr.n
            if drop >= ESC_DROP * abs(triv) and t_half <= ESC_FAST * tr.n and t_half <= ln:
                (optional if lr_explains else labels).append("local_minimum")
                why.append(f"stuck at {triv:.4g} for steps {tr.x[st]:g}-{tr.x[st + ln - 1]:g} "
                           f"({ln}/{tr.n} pts), then dropped to {after.min():.4g} (half of it in {t_half} pts)")

    # still improving: the 4x-longer reference run ends clearly lower
    if r.get("ref_long") and (r["trainer"], r["sweep"], r["ref_long"]) in series_ix:
        long_ser = series_ix[(r["trainer"], r["sweep"], r["ref_long"])]
        k = primary(ser)
        me, ln_c = Curve(*ser[k]), Curve(*long_ser[k])
        gain = me.final - ln_c.final
        if gain >= STILL_GAIN * me.range and "divergence" not in labels:
            labels.append("still_improving")
        why.append(f"{k} final {me.final:.4g} vs 4x-longer reference {ln_c.final:.4g}")
    elif "divergence" not in labels and "non_finite" not in labels:
        pc = Curve(*ser[primary(ser)])
        if pc.n >= 5 and pc.tail_drop() >= 2 * STILL_FALL * pc.range:
            optional.append("still_improving")

    # plateau: flat over the last part of the run while well above the group's best (stuck, not converged)
    if "divergence" not in labels and "non_finite" not in labels and tr.n >= 10:
        k0 = int((1 - FLAT_SHARE) * tr.n)
        seg = tr.s[k0:]
        flat = float(seg.max() - seg.min()) <= FLAT_TOL * tr.range + 1e-12 or (
            "local_minimum" in labels and "underfitting" in labels)
        if flat and "underfitting" in labels:
            optional.append("plateau")

    labels = sorted(set(labels))
    optional = sorted(set(optional) - set(labels))
    return labels, optional, why


def main() -> int:
    design = []
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    only = {a for a in sys.argv[1:] if not a.startswith("--")}  # optional: label only these trainers
    for f in sorted(DESIGN.glob("*.jsonl")):
        if only and f.stem not in only:
            continue
        design += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    design_ix, series_ix, paths = {}, {}, {}
    for d in design:
        p = find_log(d)
        if p is None:
            continue
        key = (d["trainer"], d["sweep"], d["run_id"])
        design_ix[key] = d
        series_ix[key] = read_series(d["trainer"], p)
        paths[key] = p
    rows = []
    for key, d in design_ix.items():
        labels, optional, why = label_run(d, series_ix[key], design_ix, series_ix)
        rel = paths[key].relative_to(LOGS).as_posix()
        fac = ";".join(f"{k}={v}" for k, v in d["factors"].items())
        rows.append([rel, d["trainer"], d["sweep"], fac, ",".join(labels) or "healthy", ",".join(optional),
                     "; ".join(why).replace("\t", " ")])
    rows.sort()
    # what label.py read from each log, for check_read.py (lossdoc must read the same series)
    with open(HERE / "series_counts.tsv", "w") as fh:
        fh.write("path\tn_train\tn_val\tlast_train\tlast_val\n")
        for key in sorted(paths, key=lambda k: paths[k].as_posix()):
            ser = series_ix[key]
            tr_ = np.append(ser["train"][1][:-1], ser.get("raw_last_train", ser["train"][1][-1]))
            va_ = ser["val"][1] if "val" in ser else np.array([])
            fh.write(f"{paths[key].relative_to(LOGS).as_posix()}\t{len(tr_)}\t{len(va_)}\t{float(tr_[-1])!r}\t"
                     f"{(float(va_[-1]) if len(va_) else float('nan'))!r}\n")
    with open(HERE / "labels.tsv", "w") as fh:
        fh.write("path\ttrainer\tsweep\tfactors\tlabels\toptional\ttruth\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")
    counts: dict = {}
    for row in rows:
        for lab in row[4].split(","):
            counts[lab] = counts.get(lab, 0) + 1
    print(f"{len(rows)} runs;", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if "--table" in flags:  # markdown: runs per trainer and label (required / optional)
        trainers = sorted({row[1] for row in rows})
        labs = sorted(counts)
        print("| label | " + " | ".join(trainers) + " | total |")
        print("|---" * (len(trainers) + 2) + "|")
        for lab in ["runs"] + labs:
            cells = []
            for t in trainers + [None]:
                sub = [row for row in rows if t is None or row[1] == t]
                if lab == "runs":
                    cells.append(str(len(sub)))
                    continue
                req = sum(lab in row[4].split(",") for row in sub)
                opt = sum(lab in row[5].split(",") for row in sub)
                cells.append(f"{req}" + (f" (+{opt})" if opt else ""))
            print(f"| {lab} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
