"""``run.config``: the hyperparameters a log states, per trainer, through inspect-1 and report-1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import lossdoc
from lossdoc.cli import main
from lossdoc.ingest import from_bytes, read, read_input
from lossdoc.ingest.config_text import config_from_text
from lossdoc.runconfig import normalise_config, run_config

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"

NANOGPT = """\
Overriding config with config/train_shakespeare_char.py:
# train a miniature character-level shakespeare model
out_dir = 'out-shakespeare-char'
eval_interval = 250 # keep frequent because we'll overfit
batch_size = 64
dropout = 0.2
learning_rate = 1e-3 # with baby networks can afford to go a bit higher
max_iters = 5000
warmup_iters = 100 # not super necessary potentially

Overriding: learning_rate = 3.0
Overriding: compile = False
tokens per iteration will be: 16,384
step 0: train loss 4.2874, val loss 4.2823
iter 0: loss 4.2657, time 31250.47ms, mfu -100.00%
iter 10: loss 3.2385, time 98.12ms, mfu -100.00%
iter 20: loss 2.7872, time 97.80ms, mfu -100.00%
"""

MEGATRON = """\
using world size: 8, data-parallel size: 8, tensor-model-parallel size: 1
------------------------ arguments ------------------------
  adam_beta1 ...................................... 0.9
  adam_beta2 ...................................... 0.95
  global_batch_size ............................... 512
  hidden_dropout .................................. 0.1
  lr .............................................. 0.0003
  lr_decay_style .................................. cosine
  lr_warmup_iters ................................. 2000
  micro_batch_size ................................ 4
  optimizer ....................................... adam
  seed ............................................ 1234
  train_iters ..................................... 500000
  weight_decay .................................... 0.1
-------------------- end of arguments ---------------------
 [2024-06-01 10:15:42] iteration      100/  500000 | consumed samples:        51200 | elapsed time per iteration (ms): 1234.5 | learning rate: 1.500000E-05 | global batch size:   512 | lm loss: 8.123456E+00 | loss scale: 1.0 | grad norm: 2.345 | number of skipped iterations:   0 | number of nan iterations:   0 |
 [2024-06-01 10:17:45] iteration      200/  500000 | consumed samples:       102400 | elapsed time per iteration (ms): 1229.8 | learning rate: 3.000000E-05 | global batch size:   512 | lm loss: 6.904512E+00 | loss scale: 1.0 | grad norm: 1.102 | number of skipped iterations:   0 | number of nan iterations:   0 |
"""

HF = """\
06/05/2023 14:00:00 - INFO - __main__ - Training/evaluation parameters TrainingArguments(
_n_gpu=1,
adafactor=False,
learning_rate=5e-05,
lr_scheduler_type=SchedulerType.LINEAR,
max_steps=-1,
optim=OptimizerNames.ADAMW_HF,
output_dir=/tmp/test-clm,
per_device_train_batch_size=8,
seed=42,
warmup_ratio=0.1,
warmup_steps=0,
weight_decay=0.01,
)
[INFO|trainer.py:1786] 2023-06-05 14:00:05,000 >> ***** Running training *****
[INFO|trainer.py:1787] 2023-06-05 14:00:05,000 >>   Num examples = 2,318
[INFO|trainer.py:1788] 2023-06-05 14:00:05,000 >>   Num Epochs = 3
[INFO|trainer.py:1789] 2023-06-05 14:00:05,000 >>   Instantaneous batch size per device = 8
[INFO|trainer.py:1790] 2023-06-05 14:00:05,000 >>   Total train batch size (w. parallel, distributed & accumulation) = 32
[INFO|trainer.py:1791] 2023-06-05 14:00:05,000 >>   Gradient Accumulation steps = 4
[INFO|trainer.py:1792] 2023-06-05 14:00:05,000 >>   Total optimization steps = 219
{'loss': 3.2104, 'learning_rate': 4e-05, 'epoch': 0.5}
{'loss': 2.9811, 'learning_rate': 3e-05, 'epoch': 1.0}
{'loss': 2.7002, 'learning_rate': 2e-05, 'epoch': 1.5}
"""

FAIRSEQ_NAMESPACE = (
    "2020-01-01 10:00:00 | INFO | fairseq_cli.train | Namespace(arch='transformer_iwslt_de_en', "
    "clip_norm=0.0, dropout=0.3, lr=[0.0005], lr_scheduler='inverse_sqrt', max_tokens=4096, "
    "max_update=0, optimizer='adam', seed=1, warmup_updates=4000, weight_decay=0.0001, "
    "device_id=0, criterion='label_smoothed_cross_entropy')\n"
)

HYDRA = (
    "[2021-03-04 11:17:01,232][fairseq_cli.train][INFO] - {'_name': None, 'common': {'_name': None, "
    "'seed': 7, 'log_format': 'json'}, 'optimization': {'_name': None, 'max_update': 100000, 'lr': [0.0007], "
    "'clip_norm': 0.0}, 'dataset': {'_name': None, 'batch_size': None, 'max_tokens': 4096}, "
    "'optimizer': {'_name': 'adam', 'adam_betas': '(0.9,0.98)', 'weight_decay': 0.01, 'lr': [0.0007]}, "
    "'lr_scheduler': {'_name': 'inverse_sqrt', 'warmup_updates': 4000, 'lr': [0.0007]}}\n"
)


def _read_text(text: str, name: str = "train.log"):  # type: ignore[no-untyped-def]
    inp = from_bytes(text.encode(), name=name)
    inp.run_name = "r"
    return read_input(inp)


def test_nanogpt_overrides_win_over_the_config_file() -> None:
    src = _read_text(NANOGPT)
    assert src.format == "nanogpt"
    cfg = run_config(src, "r")
    assert cfg["learning_rate"] == 3.0  # the command-line override, not the file's 1e-3
    assert (cfg["batch_size"], cfg["dropout"], cfg["warmup_steps"], cfg["max_steps"]) == (64, 0.2, 100, 5000)
    assert cfg["raw"]["compile"] is False and cfg["raw"]["out_dir"] == "out-shakespeare-char"
    assert "optimizer" not in cfg  # nanoGPT does not print it: nothing is invented


def test_megatron_arguments_block() -> None:
    src = _read_text(MEGATRON)
    assert src.format == "megatron"
    cfg = run_config(src, "r")
    assert cfg["learning_rate"] == 0.0003
    assert cfg["batch_size"] == 512  # global, not micro
    assert (cfg["optimizer"], cfg["scheduler"], cfg["weight_decay"], cfg["dropout"]) == ("adam", "cosine", 0.1, 0.1)
    assert (cfg["warmup_steps"], cfg["max_steps"], cfg["seed"]) == (2000, 500000, 1234)
    assert cfg["raw"]["adam_beta2"] == 0.95 and cfg["raw"]["micro_batch_size"] == 4


def test_hf_training_arguments_and_running_block() -> None:
    src = _read_text(HF)
    assert src.format == "hf-console"
    cfg = run_config(src, "r")
    assert cfg["learning_rate"] == 5e-05
    assert cfg["batch_size"] == 32  # the total (parallel, distributed, accumulation), as the trainer states it
    assert cfg["max_steps"] == 219  # max_steps=-1 means "not set"; the running block states the total
    assert (cfg["optimizer"], cfg["scheduler"], cfg["seed"], cfg["weight_decay"]) == ("adamw_hf", "linear", 42, 0.01)
    assert "warmup_steps" not in cfg  # warmup_steps=0 with warmup_ratio=0.1: the ratio decides
    assert cfg["raw"]["Gradient Accumulation steps"] == 4
    assert cfg["raw"]["output_dir"] == "/tmp/test-clm"


def test_fairseq_namespace_and_hydra_dicts() -> None:
    ns = normalise_config(config_from_text(FAIRSEQ_NAMESPACE))
    assert (ns["learning_rate"], ns["optimizer"], ns["scheduler"], ns["warmup_steps"]) == (
        0.0005, "adam", "inverse_sqrt", 4000)
    assert (ns["dropout"], ns["weight_decay"], ns["seed"]) == (0.3, 0.0001, 1)
    assert "max_steps" not in ns  # max_update=0: unlimited
    hy = normalise_config(config_from_text(HYDRA))
    assert (hy["learning_rate"], hy["optimizer"], hy["scheduler"]) == (0.0007, "adam", "inverse_sqrt")
    assert (hy["max_steps"], hy["seed"], hy["warmup_steps"], hy["weight_decay"]) == (100000, 7, 4000, 0.01)
    assert "batch_size" not in hy
    assert hy["raw"]["optimization"]["lr"] == [0.0007]


def test_no_config_is_empty(tmp_path: Path) -> None:
    p = tmp_path / "plain.log"
    p.write_text("".join(f"step {i} loss {5 - i * 0.1:.3f}\n" for i in range(20)))
    logset = read(p)
    assert run_config(logset, logset.sources[0].runs[0]) == {}
    doc = json.loads(CliRunner().invoke(main, ["inspect", "--json", str(p)]).output)
    assert doc["sources"][0]["runs"][0]["config"] == {}


def test_lightning_hparams_yaml_nested_and_tagged(tmp_path: Path) -> None:
    d = tmp_path / "lightning_logs" / "version_0"
    d.mkdir(parents=True)
    (d / "metrics.csv").write_text("epoch,step,train_loss\n" + "".join(f"0,{i},{2 - i / 100}\n" for i in range(10)))
    (d / "hparams.yaml").write_text(
        "args: !!python/object:argparse.Namespace\n  lr: 0.02\n  seed: 3\n"
        "optimizer:\n  class_path: torch.optim.AdamW\n  init_args:\n    weight_decay: 0.05\n"
        "batch_size: 128\n")
    logset = read(tmp_path / "lightning_logs")
    cfg = run_config(logset, logset.sources[0].runs[0])
    assert (cfg["learning_rate"], cfg["seed"], cfg["batch_size"], cfg["optimizer"]) == (0.02, 3, 128, "adamw")
    assert cfg["raw"]["optimizer"]["init_args"]["weight_decay"] == 0.05


def test_mlflow_params_per_run_and_wandb_config(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    shutil.copytree(SAMPLES / "mlflow" / "mlruns", store)
    run_dir = next(p for p in (store / "1").iterdir() if p.is_dir())
    (run_dir / "params" / "optimizer").write_text("SGD")
    logset = read(store)
    run = logset.sources[0].runs[0]
    cfg = run_config(logset, run)
    assert cfg["optimizer"] == "sgd" and isinstance(cfg["learning_rate"], float)
    assert cfg["raw"]["optimizer"] == "SGD"

    wb = tmp_path / "wb"
    shutil.copytree(SAMPLES / "wandb_run" / "old_sdk", wb)
    rd = next((wb / "wandb").iterdir())
    (rd / "files").mkdir(exist_ok=True)
    (rd / "files" / "config.yaml").write_text(
        "wandb_version: 1\n\n_wandb:\n  desc: null\n  value:\n    python_version: 3.8.5\n"
        "learning_rate:\n  desc: null\n  value: 0.001\nepochs:\n  desc: null\n  value: 10\n")
    logset = read(wb)
    cfg = run_config(logset, logset.sources[0].runs[0])
    assert cfg["learning_rate"] == 0.001 and cfg["raw"] == {"learning_rate": 0.001, "epochs": 10}


def test_hf_trainer_state_fields(tmp_path: Path) -> None:
    state = {"global_step": 30, "max_steps": 30, "train_batch_size": 16, "logging_steps": 10, "eval_steps": 10,
             "save_steps": 500, "num_train_epochs": 3,
             "log_history": [{"loss": 2.0 - i / 10, "step": 10 * i, "epoch": i / 3} for i in range(1, 4)]}
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    logset = read(tmp_path / "trainer_state.json")
    cfg = run_config(logset, logset.sources[0].runs[0])
    assert (cfg["batch_size"], cfg["max_steps"]) == (16, 30)
    assert cfg["raw"] == {"train_batch_size": 16, "max_steps": 30, "num_train_epochs": 3, "logging_steps": 10,
                          "eval_steps": 10, "save_steps": 500}


def test_config_through_inspect_report_json_and_html(tmp_path: Path) -> None:
    log = tmp_path / "nanogpt.log"
    log.write_text(NANOGPT)
    res = CliRunner().invoke(main, ["inspect", "--json", str(log)])
    assert res.exit_code == 0, res.output
    run = json.loads(res.output)["sources"][0]["runs"][0]
    assert run["config"]["learning_rate"] == 3.0 and run["config"]["raw"]["max_iters"] == 5000
    report = lossdoc.analyze(str(log))
    doc = json.loads(report.to_json())
    assert doc["runs"][0]["config"]["learning_rate"] == 3.0
    html = report.to_html()
    assert "Configuration stated in the log" in html and "learning_rate" in html


@pytest.mark.parametrize("walk", [False, True])
def test_config_follows_renamed_runs(tmp_path: Path, walk: bool) -> None:
    a = tmp_path / "sweep" / "lr3"
    a.mkdir(parents=True)
    (a / "train.log").write_text(NANOGPT)
    logset = read(tmp_path / "sweep" if walk else a / "train.log")
    run = logset.sources[0].runs[0]
    assert run_config(logset, run)["learning_rate"] == 3.0


def _ld(field: int, payload: bytes) -> bytes:
    from tests.ingest.test_tensorboard import varint

    return bytes([field << 3 | 2]) + varint(len(payload)) + payload


def _hparams_event(hparams: dict[str, object]) -> bytes:
    """torch.utils.tensorboard.summary.hparams()'s session_start_info, encoded by hand."""
    import struct

    from tests.ingest.test_tensorboard import varint

    entries = b""
    for k, v in hparams.items():
        if isinstance(v, bool):
            val = b"\x20" + varint(int(v))
        elif isinstance(v, (int, float)):
            val = b"\x11" + struct.pack("<d", float(v))
        else:
            val = _ld(3, str(v).encode())
        entries += _ld(1, _ld(1, k.encode()) + _ld(2, val))
    content = b"\x08\x00" + _ld(3, entries)  # HParamsPluginData{version, session_start_info}
    meta = _ld(1, _ld(1, b"hparams") + _ld(2, content))
    value = _ld(1, b"_hparams_/session_start_info") + _ld(9, meta)
    return b"\x09" + struct.pack("<d", 1.0) + _ld(5, _ld(1, value))


def test_tensorboard_hparams_plugin(tmp_path: Path) -> None:
    from tests.ingest.test_tensorboard import HEADER, record, scalar_event

    events = HEADER + record(_hparams_event({"lr": 3.0, "optimizer": "AdamW", "batch_size": 32, "amp": True}))
    events += b"".join(record(scalar_event(i, "train/loss", 3.0 - i / 10)) for i in range(5))
    run = tmp_path / "tb" / "run1"
    run.mkdir(parents=True)
    (run / "events.out.tfevents.1700000000.host.1.0").write_bytes(events)
    for target in (run / "events.out.tfevents.1700000000.host.1.0", tmp_path / "tb"):
        logset = read(target)
        cfg = run_config(logset, logset.sources[0].runs[0])
        assert (cfg["learning_rate"], cfg["optimizer"], cfg["batch_size"]) == (3.0, "adamw", 32), target
        assert cfg["raw"]["amp"] is True
    other = tmp_path / "tb" / "run2"
    other.mkdir()
    (other / "events.out.tfevents.1700000001.host.1.0").write_bytes(
        HEADER + b"".join(record(scalar_event(i, "train/loss", 2.0)) for i in range(5)))
    (other / "hparams.yaml").write_text("lr: 0.001\n")
    logset = read(tmp_path / "tb")
    assert sorted(logset.sources[0].runs) == ["run1", "run2"]
    assert run_config(logset, "run1")["learning_rate"] == 3.0
    assert run_config(logset, "run2")["learning_rate"] == 0.001


@pytest.mark.parametrize(("name", "text", "fmt", "want"), [
    ("nanogpt.log", NANOGPT, "nanogpt", {"learning_rate": 3.0, "max_steps": 5000}),
    ("megatron.log", MEGATRON, "megatron", {"learning_rate": 0.0003, "optimizer": "adam", "batch_size": 512}),
    ("hf.log", HF, "hf-console", {"learning_rate": 5e-05, "scheduler": "linear", "max_steps": 219}),
    ("hydra_train.log", HYDRA + "".join(
        f'[2021-03-04 11:17:{i:02d},118][train_inner][INFO] - {{"epoch": 1, "loss": "{9 - i / 10}", '
        f'"num_updates": "{100 * i}", "lr": "0.0007"}}\n' for i in range(1, 6)), "fairseq",
     {"learning_rate": 0.0007, "optimizer": "adam", "max_steps": 100000}),
])
def test_inspect_json_shows_each_trainers_config(tmp_path: Path, name: str, text: str, fmt: str,
                                                 want: dict[str, object]) -> None:
    p = tmp_path / name
    p.write_text(text)
    res = CliRunner().invoke(main, ["inspect", "--json", str(p)])
    assert res.exit_code == 0, res.output
    src = json.loads(res.output)["sources"][0]
    assert src["format"] == fmt
    cfg = src["runs"][0]["config"]
    assert {k: cfg.get(k) for k in want} == want and cfg["raw"]


def test_yolo_args_yaml_beside_results_csv() -> None:
    d = Path(__file__).parent / "data" / "public" / "yolo" / "Pondd05--YOLOv10_Traffic_Detection--traffic"
    res = CliRunner().invoke(main, ["inspect", "--json", str(d / "results.csv")])
    cfg = json.loads(res.output)["sources"][0]["runs"][0]["config"]
    assert (cfg["learning_rate"], cfg["batch_size"], cfg["raw"]["lr0"], cfg["raw"]["epochs"]) == (0.01, 4, 0.01, 100)
