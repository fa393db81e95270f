"""Hyperparameters a log states: printed in its head, or in a config file beside it.

:func:`config_from_text` reads the printouts trainers make before training starts:

* nanoGPT: ``Overriding config with config/x.py:`` followed by the file's ``key = value`` lines,
  and ``Overriding: learning_rate = 3.0`` for each command-line override;
* Megatron-LM: the ``---- arguments ----`` block (``  lr ........ 0.0003``);
* Hugging Face: a ``TrainingArguments(`` (or ``Seq2SeqTrainingArguments``, TRL ``SFTConfig``, ...)
  repr, one ``key=value,`` a line, and the ``***** Running training *****`` block
  (``Instantaneous batch size per device = 8``, ``Total optimization steps = 375``);
* argparse ``Namespace(lr=0.001, batch_size=32, ...)`` (fairseq before hydra, countless scripts);
* fairseq/hydra config dicts (``{'_name': None, 'common': {...}, 'optimization': {...}}``).

:func:`config_from_files` reads the files trainers write beside a log: Lightning ``hparams.yaml``,
Ultralytics ``args.yaml``, hydra ``.hydra/config.yaml``, W&B ``config.yaml`` (``key: {value: ...}``),
``hparams.json`` / ``args.json`` / ``training_args.json``.

Only the head of a log is read (configs are printed before training); nothing here fails a read:
a printout that cannot be read is left out.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from lossdoc.ingest.inputs import InputFile

#: Configs are printed before training: this much of a log's head is searched.
CONFIG_HEAD_BYTES = 1 << 20
#: The last of several runs in a log is searched for its printout in files up to this size.
MAX_RESCAN_BYTES = 256 << 20
#: A sibling config file larger than this is not a config.
MAX_CONFIG_FILE_BYTES = 4 << 20

#: Any of these in the first 64 KiB makes the head worth searching.
_TRIGGERS = re.compile(
    r"Overriding|-+ arguments -+|Arguments\(|Config\(|Namespace\(|\{'_name'|\*\*\*\*\* Running training|"
    r"\"_name\"|resolved config|found vocab_size = |defaulting to vocab_size",
)
_OVERRIDE = re.compile(r"^Overriding: (\w+) = (.*)$")
#: nanoGPT's vocabulary line (``found vocab_size = 65 (inside data/shakespeare_char/meta.pkl)``, or
#: ``defaulting to vocab_size of GPT-2 to 50304 (50257 rounded up for efficiency)``)
_VOCAB = re.compile(r"^(?:found vocab_size = |defaulting to vocab_size of GPT-2 to )(\d+)\b")
_CONFIG_FILE = re.compile(r"^Overriding config with \S+:\s*$")
_ASSIGN = re.compile(r"^(\w+)\s*=\s*(.+?)\s*$")
_MEGATRON_START = re.compile(r"-{3,} arguments -{3,}")
_MEGATRON_END = re.compile(r"-{3,} end of arguments -{3,}")
_MEGATRON_ARG = re.compile(r"^\s*(\S+) \.{2,} ?(.*?)\s*$")
_HF_ARGS_START = re.compile(r"\b(\w*(?:TrainingArguments|Config|Args))\(\s*$")
_HF_ARG = re.compile(r"^\s*(\w+)=(.*?),?\s*$")
_HF_RUNNING = re.compile(
    r"(Num examples|Num Epochs|Instantaneous batch size per device|Total train batch size \(w\. parallel, "
    r"distributed & accumulation\)|Training with DataParallel so batch size has been adjusted to|"
    r"Gradient Accumulation steps|Total optimization steps|Number of trainable parameters|Total warmup steps|"
    r"Num update steps per epoch) = ([\d,]+)"
)
_NAMESPACE = re.compile(r"\bNamespace\((.*)\)\s*$")
_KWARG = re.compile(r"(\w+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\[[^\]]*\]|\([^)]*\)|[^,()\[\]]+)")
_HYDRA = re.compile(r"(\{'_name': .*\})\s*$")


def _literal(s: str) -> Any:
    """A printed value as Python: numbers, None/True/False, quoted strings, lists; else the text."""
    s = s.strip()
    if not s:
        return s
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    low = s.lower()
    if low in ("none", "null"):
        return None
    if low == "true":
        return True
    if low == "false":
        return False
    return s


def _strip_prefix(line: str) -> str:
    """A logging prefix before a printout (``[2024-...][fairseq_cli.train][INFO] - ``, ``INFO:root:``)."""
    for sep in (" - ", "] ", ">> "):
        i = line.find(sep)
        if 0 < i < 120 and ("INFO" in line[:i] or "[" in line[:i]):
            return line[i + len(sep):]
    return line


def _nanogpt(lines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    in_file = False
    for ln in lines:
        if _CONFIG_FILE.match(ln):
            in_file = True
            continue
        m = _VOCAB.match(ln)
        if m:
            out.setdefault("vocab_size", int(m.group(1)))
            continue
        m = _OVERRIDE.match(ln)
        if m:
            in_file = False
            out[m.group(1)] = _literal(m.group(2))
            continue
        if in_file:
            code = ln.split("#", 1)[0].strip() if "'" not in ln and '"' not in ln else ln.strip()
            if not code or ln.lstrip().startswith("#") or code.startswith(("import ", "from ")):
                continue
            m = _ASSIGN.match(code)
            if m is None:
                in_file = False
                continue
            try:
                out[m.group(1)] = ast.literal_eval(m.group(2))
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                try:  # a trailing comment after a quoted string
                    out[m.group(1)] = ast.literal_eval(m.group(2).split("#", 1)[0].strip())
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    out[m.group(1)] = m.group(2)
    return out


def _megatron(lines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    inside = False
    for ln in lines:
        if not inside:
            if _MEGATRON_START.search(ln) and "end of" not in ln:
                inside = True
            continue
        if _MEGATRON_END.search(ln):
            break
        m = _MEGATRON_ARG.match(_strip_prefix(ln) if "...." not in ln[:3] else ln)
        if m:
            out[m.group(1)] = _literal(m.group(2))
    return out


def _hf_args(lines: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    inside = False
    for ln in lines:
        if not inside:
            if _HF_ARGS_START.search(ln):
                inside = True
            continue
        s = ln.strip()
        if s == ")":
            break
        m = _HF_ARG.match(s)
        if m is None:
            break
        v = m.group(2)
        out[m.group(1)] = _literal(v) if v[:1] in "'\"[({-0123456789." or v in ("None", "True", "False") else v
    return out


def _hf_running(text: str) -> dict[str, Any]:
    return {m.group(1): int(m.group(2).replace(",", "")) for m in _HF_RUNNING.finditer(text)}


def _namespace(lines: list[str]) -> dict[str, Any]:
    for ln in lines:
        if "Namespace(" not in ln:
            continue
        m = _NAMESPACE.search(ln)
        if m is None:
            continue
        body = m.group(1)
        try:
            call = ast.parse(f"f({body})", mode="eval").body
            if isinstance(call, ast.Call) and call.keywords:
                out: dict[str, Any] = {}
                for kw in call.keywords:
                    if kw.arg is None:
                        continue
                    try:
                        out[kw.arg] = ast.literal_eval(kw.value)
                    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                        out[kw.arg] = ast.unparse(kw.value)
                return out
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            pass
        out = {k: _literal(v) for k, v in _KWARG.findall(body)}
        if out:
            return out
    return {}


def _hydra(lines: list[str]) -> dict[str, Any]:
    for ln in lines:
        if "{'_name'" not in ln and '{"_name"' not in ln:
            continue
        i = ln.find("{")
        body = ln[i:].strip()
        try:
            d = ast.literal_eval(body) if "'_name'" in body else json.loads(body)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(d, dict) and len(d) > 1:
            return d
    return {}


def config_from_text(text: str) -> dict[str, Any]:
    """The raw hyperparameters printed in a log's head (``{}`` when none)."""
    if not _TRIGGERS.search(text):
        return {}
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        lines = lines[:-1]  # the head's last line may be cut
    raw: dict[str, Any] = {}
    # least specific first: later printouts win
    raw.update(_hydra(lines))
    raw.update(_namespace(lines))
    raw.update(_megatron(lines))
    raw.update(_hf_args(lines))
    raw.update(_hf_running(text))
    raw.update(_nanogpt(lines))
    return raw


def config_from_input(inp: InputFile, *, after_line: int | None = None) -> dict[str, Any]:
    """:func:`config_from_text` of ``inp``'s head; nothing is read beyond 64 KiB without a trigger.

    ``after_line``: the log holds several runs and the one read starts after this line
    (:mod:`lossdoc.ingest.runs`): its own printout is read, from there on, never an earlier run's (none
    when the file is larger than :data:`MAX_RESCAN_BYTES`)."""
    if after_line:
        try:
            if inp.size > MAX_RESCAN_BYTES:
                return {}
            rest = inp.read_text().split("\n")[after_line:]  # physical lines, as the readers number them
            return config_from_text("\n".join(rest)[:CONFIG_HEAD_BYTES])
        except Exception:  # noqa: BLE001 - a config printout never fails a read
            return {}
    try:
        head = inp.head_text()
        if not _TRIGGERS.search(head):
            return {}
        if inp.size > len(head.encode("utf-8", "replace")):
            head = inp.head_text(CONFIG_HEAD_BYTES)
        return config_from_text(head)
    except Exception:  # noqa: BLE001 - a config printout never fails a read
        return {}


# --------------------------------------------------------------------------- files beside a log
#: Config files written beside a log, most specific first.
SIBLING_FILES: tuple[str, ...] = ("hparams.yaml", "hparams.yml", "args.yaml", ".hydra/config.yaml",
                                  "config.yaml", "hparams.json", "args.json", "training_args.json",
                                  "params.json")


def _yaml_loader() -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that reads unknown tags (``!!python/object:argparse.Namespace``) as plain data."""

    def construct_any(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("", construct_any)
    return Loader


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw config in a YAML or JSON file (``{}`` when it is not a mapping or cannot be read)."""
    try:
        if path.stat().st_size > MAX_CONFIG_FILE_BYTES:
            return {}
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            doc = json.loads(text)
        else:
            import yaml

            doc = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except Exception:  # noqa: BLE001 - a config file never fails a read
        return {}
    if not isinstance(doc, dict):
        return {}
    return unwrap_wandb(doc)


def unwrap_wandb(doc: dict[str, Any]) -> dict[str, Any]:
    """W&B ``config.yaml`` wraps each key as ``{desc: ..., value: X}``: the values; ``_wandb`` dropped."""
    wrapped = [v for k, v in doc.items() if k not in ("wandb_version", "_wandb")]
    if wrapped and all(isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"} for v in wrapped):
        return {k: v["value"] for k, v in doc.items() if k not in ("wandb_version", "_wandb")}
    return {k: v for k, v in doc.items() if k not in ("wandb_version", "_wandb")}


def config_from_files(directory: Path, names: tuple[str, ...] = SIBLING_FILES) -> dict[str, Any]:
    """The raw config of the first config file found in ``directory`` (``{}`` when none)."""
    for n in names:
        p = directory / n
        if p.is_file():
            got = read_config_file(p)
            if got:
                return got
    return {}
