"""Write the small TensorBoard event files under tests/ingest/data/tensorboard/ with real writers.

Not run by CI (it needs packages lossdoc does not depend on). Reproduce in a throwaway venv::

    python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboardX==2.6.5 tensorboard==2.21.0
    /tmp/tbvenv/bin/python scripts/make_tensorboard_samples.py

Writers used: tensorboardX ``SummaryWriter`` (``simple_value``, as torch ``add_scalar`` and
``add_scalars`` write it) and tensorboard's own ``EventFileWriter`` with its compat protos for the
tensor forms: TF2 / Keras (``tensor_content``, ``scalars`` metadata on the first value of a tag only)
and torch ``add_scalar(new_style=True)`` (``float_val`` / ``double_val`` with metadata on every
value), plus DT_HALF / DT_BFLOAT16 ``half_val``. Files are renamed to fixed names so re-running gives
the same paths; wall times are fixed (1700000000 + step).
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import struct
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboardX import SummaryWriter

OUT = Path(__file__).resolve().parents[1] / "tests" / "ingest" / "data" / "tensorboard"
T0 = 1_700_000_000.0


def _rename(d: Path, stamp: int = 1700000000, suffix: str = "") -> None:
    files = sorted(glob.glob(str(d / "events.out.tfevents.*")))
    for i, f in enumerate(files):
        os.replace(f, d / f"events.out.tfevents.{stamp + i}.lossdoc-host.1234.{i}{suffix}")


def loss_at(step: int) -> float:
    return 2.0 + 3.0 / math.sqrt(1 + step)


def simple(d: Path) -> None:
    """torch / tensorboardX add_scalar: simple_value; HF-style train/ and eval/ tags; NaN and inf."""
    w = SummaryWriter(str(d))
    for s in range(0, 50, 5):
        v = loss_at(s)
        if s == 30:
            v = float("nan")
        if s == 35:
            v = float("inf")
        w.add_scalar("train/loss", v, s, walltime=T0 + s)
        w.add_scalar("train/learning_rate", 1e-3 * (1 - s / 50), s, walltime=T0 + s)
        if s % 20 == 0:
            w.add_scalar("eval/loss", loss_at(s) + 0.1, s, walltime=T0 + s)
    w.close()
    _rename(d)


def add_scalars(d: Path) -> None:
    """torch add_scalars("loss", {"train": ..., "val": ...}) writes <logdir>/loss_train/ and
    <logdir>/loss_val/ each with the tag "loss" (torch/utils/tensorboard/writer.py); emulated with one
    writer per subdirectory. tensorboardX's own add_scalars writes <logdir>/loss/train/ instead."""
    w = SummaryWriter(str(d))
    subs = {k: SummaryWriter(str(d / f"loss_{k}")) for k in ("train", "val")}
    for s in range(0, 40, 10):
        subs["train"].add_scalar("loss", loss_at(s), s, walltime=T0 + s)
        subs["val"].add_scalar("loss", loss_at(s) + 0.2, s, walltime=T0 + s)
        w.add_scalar("lr", 1e-3, s, walltime=T0 + s)
    for x in (w, *subs.values()):
        x.close()
    for sub in [d, *[p for p in d.iterdir() if p.is_dir()]]:
        _rename(sub)


def add_scalars_tbx(d: Path) -> None:
    """tensorboardX add_scalars: <logdir>/<main_tag>/<key>/."""
    w = SummaryWriter(str(d))
    for s in range(0, 40, 10):
        w.add_scalars("loss", {"train": loss_at(s), "val": loss_at(s) + 0.2}, s, walltime=T0 + s)
    w.close()
    for sub in [d, *sorted(p for p in d.rglob("*") if p.is_dir())]:
        _rename(sub)


def _writer(d: Path, suffix: str = "") -> EventFileWriter:
    return EventFileWriter(str(d), filename_suffix=suffix)


def _meta(plugin: str = "scalars") -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))


def _event(step: int, values: list[summary_pb2.Summary.Value]) -> event_pb2.Event:
    return event_pb2.Event(wall_time=T0 + step, step=step, summary=summary_pb2.Summary(value=values))


def _content(v: float, dtype: str = "float32") -> tensor_pb2.TensorProto:
    if dtype == "float32":
        return tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                      tensor_content=struct.pack("<f", v))
    return tensor_pb2.TensorProto(dtype=2, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                  tensor_content=struct.pack("<d", v))


def keras(d: Path) -> None:
    """Keras TensorBoard callback (TF2 writer): <run>/train and <run>/validation, tensor_content,
    metadata on the first value of each tag only, a graph event and a text-plugin string tensor."""
    for split, off in (("train", 0.0), ("validation", 0.15)):
        sub = d / split
        w = _writer(sub, ".v2")
        w.add_event(event_pb2.Event(wall_time=T0, step=0, graph_def=b"\x0a\x03abc" * 20))
        seen: set[str] = set()
        text = tensor_pb2.TensorProto(dtype=7, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                      string_val=[b"model config"])
        w.add_event(_event(0, [summary_pb2.Summary.Value(tag="keras", tensor=text, metadata=_meta("text"))]))
        for epoch in range(6):
            vals = []
            for tag, v in (("epoch_loss", loss_at(epoch * 100) + off), ("epoch_accuracy", 0.5 + epoch * 0.05)):
                val = summary_pb2.Summary.Value(tag=tag, tensor=_content(v))
                if tag not in seen:
                    val.metadata.CopyFrom(_meta())
                    seen.add(tag)
                vals.append(val)
            for val in vals:  # one value per event, as the TF2 writer does
                w.add_event(_event(epoch, [val]))
            if split == "validation":
                val = summary_pb2.Summary.Value(tag="evaluation_loss_vs_iterations",
                                                tensor=_content(loss_at(epoch * 100) + off))
                if epoch == 0:
                    val.metadata.CopyFrom(_meta())
                w.add_event(_event((epoch + 1) * 100, [val]))
        w.close()
        _rename(sub, suffix=".v2")


def torch_new_style(d: Path) -> None:
    """torch add_scalar(new_style=True): float_val (and double_val with double_precision=True), packed,
    metadata on every value; plus one unpacked float_val and DT_HALF / DT_BFLOAT16 half_val values."""
    w = _writer(d)
    for s in range(0, 30, 10):
        f = tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[loss_at(s)])
        dbl = tensor_pb2.TensorProto(dtype=2, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                     double_val=[loss_at(s) / 3])
        w.add_event(_event(s, [summary_pb2.Summary.Value(tag="loss", tensor=f, metadata=_meta())]))
        w.add_event(_event(s, [summary_pb2.Summary.Value(tag="aux_loss", tensor=dbl, metadata=_meta())]))
        half = np.array([1.5 + s / 100], dtype=np.float16).view(np.uint16)[0]
        h = tensor_pb2.TensorProto(dtype=19, tensor_shape=tensor_shape_pb2.TensorShapeProto(), half_val=[int(half)])
        bf = int(np.array([0.25 + s / 1000], dtype=np.float32).view(np.uint32)[0]) >> 16
        b = tensor_pb2.TensorProto(dtype=14, tensor_shape=tensor_shape_pb2.TensorShapeProto(), half_val=[bf])
        # several values in one event (TF1 merged summaries)
        w.add_event(_event(s, [summary_pb2.Summary.Value(tag="grad_norm", tensor=h, metadata=_meta()),
                               summary_pb2.Summary.Value(tag="lr", tensor=b, metadata=_meta())]))
    w.close()
    _rename(d)
    # An unpacked float_val (field 5, wire type 5) appended by hand: protobuf always packs, TF1 did not.
    f = next(d.glob("events.out.tfevents.*"))
    tensor = bytes([0x08, 0x01, 0x12, 0x00, 0x2D]) + struct.pack("<f", 1.75)
    meta = _meta().SerializeToString()
    value = b"\x0a\x04loss" + b"\x42" + bytes([len(tensor)]) + tensor + b"\x4a" + bytes([len(meta)]) + meta
    summ = b"\x0a" + bytes([len(value)]) + value
    payload = b"\x09" + struct.pack("<d", T0 + 30) + b"\x10\x1e" + b"\x2a" + bytes([len(summ)]) + summ
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    head = struct.pack("<Q", len(payload))
    with open(f, "ab") as fh:
        fh.write(head + struct.pack("<I", masked_crc32c(head)) + payload + struct.pack("<I", masked_crc32c(payload)))


def megatron(d: Path) -> None:
    """Megatron-LM and Megatron-DeepSpeed tag names (with spaces, as torch's writer keeps them; tensorboardX
    would turn them into underscores), with 'vs samples' duplicates."""
    w = _writer(d)

    def sv(tag: str, v: float, step: int) -> None:
        w.add_event(event_pb2.Event(wall_time=T0 + step, step=step, summary=summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=v)])))

    for it in range(10, 60, 10):
        sv("lm loss", loss_at(it), it)
        sv("lm loss vs samples", loss_at(it), it * 512)
        sv("learning-rate", 1e-4, it)
        sv("grad-norm/grad-norm", 1.0 + it / 100, it)
        if it % 20 == 0:
            sv("lm-loss-validation/lm loss validation", loss_at(it) + 0.05, it)
            sv("lm-loss-validation/lm loss validation ppl", math.exp(loss_at(it) + 0.05), it)
            sv("lm-loss-validation/lm loss validation vs samples", loss_at(it) + 0.05, it * 512)
    w.close()
    _rename(d)


def restart_and_torn(simple_dir: Path, restart: Path, torn: Path) -> None:
    """Two event files in one dir (a resumed run going back to step 20), and a torn last record."""
    w = SummaryWriter(str(restart))
    for s in range(0, 40, 10):
        w.add_scalar("loss", loss_at(s), s, walltime=T0 + s)
    w.close()
    _rename(restart)
    w = SummaryWriter(str(restart))
    for s in range(20, 60, 10):
        w.add_scalar("loss", loss_at(s) - 0.01, s, walltime=T0 + 100 + s)
    w.close()
    files = sorted(restart.glob("events.out.tfevents.*"))
    newest = max((f for f in restart.iterdir() if f not in files[:1]), key=lambda p: p.name)
    os.replace(newest, restart / "events.out.tfevents.1700000100.lossdoc-host.1234.1")
    src = next(simple_dir.glob("events.out.tfevents.*"))
    data = src.read_bytes()
    torn.mkdir(parents=True, exist_ok=True)
    (torn / src.name).write_bytes(data[:-7])


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    simple(OUT / "simple")
    add_scalars(OUT / "add_scalars")
    add_scalars_tbx(OUT / "add_scalars_tbx")
    keras(OUT / "keras" / "20240101-120000")
    torch_new_style(OUT / "new_style")
    megatron(OUT / "megatron")
    restart_and_torn(OUT / "simple", OUT / "restart", OUT / "torn")
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(OUT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
