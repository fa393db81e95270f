"""Configuration: discovery, select/ignore, severity and parameter overrides, unknown keys, per-run ignores."""

from __future__ import annotations

import pytest

from lossdoc.checks.runner import run_checks
from lossdoc.config import Config, load_config
from lossdoc.errors import ConfigError
from lossdoc.testing import synth_frame, synth_logset

SPIKY = dict(steps=1500, seed=3, log_grad_norm=True,
             inject=[{"kind": "spike", "at": 900, "factor": 3.0, "recover": 20}])


def _rules(cfg: Config, **kw) -> dict[str, str]:
    runs, _ = run_checks(synth_logset(**(kw or SPIKY)), cfg, summaries=False)
    return {f.rule: str(f.severity) for r in runs for f in r.findings}


def test_defaults_when_no_file(tmp_path):
    cfg = load_config(None, start=tmp_path)
    assert cfg.fail_on == "error" and cfg.tolerance == 0.01 and cfg.select == ("ALL",)


def test_pyproject_found_upwards(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lossdoc]\nfail-on = "warning"\ntolerance = 0.05\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = load_config(None, start=sub)
    assert cfg.fail_on == "warning" and cfg.tolerance == 0.05
    assert cfg.path.endswith("pyproject.toml")


def test_lossdoc_toml_wins_over_pyproject_in_same_dir(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.lossdoc]\nfail-on = "warning"\n')
    (tmp_path / "lossdoc.toml").write_text('fail-on = "info"\n')
    assert load_config(None, start=tmp_path).fail_on == "info"


def test_pyproject_without_table_is_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(None, start=tmp_path).path == ""


def test_unknown_key_names_key_and_file(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[tool.lossdoc]\nfail_on = "warning"\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert "tool.lossdoc.fail_on" in msg and str(p) in msg and "fail-on" in msg


def test_bad_values(tmp_path):
    p = tmp_path / "lossdoc.toml"
    p.write_text('fail-on = "sometimes"\n')
    with pytest.raises(ConfigError, match="fail-on"):
        load_config(p)
    p.write_text("tolerance = 5\n")
    with pytest.raises(ConfigError, match="tolerance"):
        load_config(p)


def test_select_and_ignore():
    assert set(_rules(Config(select=("SP001",)))) == {"SP001"}
    assert "SP001" not in _rules(Config(ignore=("loss-spike",)))
    assert set(_rules(Config(select=("SP",)))) == {"SP001"}  # prefix
    assert set(_rules(Config(select=("loss_spikes",)))) == {"SP001"}  # category


def test_unknown_selector_is_an_error():
    with pytest.raises(ConfigError, match="XX9"):
        _rules(Config(select=("XX9",)))


def test_severity_override_by_name(tmp_path):
    p = tmp_path / "lossdoc.toml"
    p.write_text('[rules.loss-spike]\nseverity = "error"\n')
    assert _rules(load_config(p).override(select=["SP001"])) == {"SP001": "error"}


def test_param_override_by_id(tmp_path):
    p = tmp_path / "lossdoc.toml"
    p.write_text("[rules.SP001]\nzscore = 1000.0\n")
    assert _rules(load_config(p).override(select=["SP001"])) == {}


def test_unknown_rule_param_names_key_and_file(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text("[tool.lossdoc.rules.loss-spike]\nz-score = 8.0\n")
    with pytest.raises(ConfigError) as e:
        _rules(load_config(p))
    assert "tool.lossdoc.rules.loss-spike.z-score" in str(e.value) and str(p) in str(e.value)


def test_param_type_checked(tmp_path):
    p = tmp_path / "lossdoc.toml"
    p.write_text('[rules.SP001]\nwindow = "fifty"\n')
    with pytest.raises(ConfigError, match="window"):
        _rules(load_config(p))


def test_per_run_ignores(tmp_path):
    import polars as pl

    from lossdoc.model import LogSet

    a = synth_frame(run="exp-lr-restart-1", **SPIKY)
    b = synth_frame(run="baseline", **SPIKY)
    logset = synth_logset(pl.concat([a, b]))
    assert isinstance(logset, LogSet)
    p = tmp_path / "lossdoc.toml"
    p.write_text('select = ["SP001"]\n[per-run-ignores]\n"*-lr-restart*" = ["SP001"]\n')
    runs, _ = run_checks(logset, load_config(p), summaries=False)
    found = {r.run: [f.rule for f in r.findings] for r in runs}
    assert found == {"exp-lr-restart-1": [], "baseline": ["SP001"]}


def test_cli_overrides():
    cfg = Config(ignore=("PL001",)).override(select=["SP"], ignore=["LG"], fail_on="warning", tolerance=0.02)
    assert cfg.select == ("SP",) and cfg.ignore == ("PL001", "LG") and cfg.fail_on == "warning"
    assert cfg.tolerance == 0.02
    with pytest.raises(ConfigError):
        Config().override(fail_on="bad")


CUSTOM_RULE = '''
id = "ACME-SP001"
name = "big-loss-spike"
category = "loss_spikes"
severity = "error"
status = "{status}"
detector = "spike"
applies-to = ["train/loss"]
summary = "Only spikes of 2.5x or more."
why = "Ours."
example = "step 900 loss 9.0"
recommendation = "Spike at step {{step}}."
known-problems = "None."
since = "0.1.0"

[params]
window = 50            # as SP001
zscore = 6.0           # as SP001
min-rise = 1.5         # 2.5x the trailing median
min-points = 30        # as SP001
warn-count = 3         # as SP001
warn-factor = 1.5      # as SP001
recovery-steps = 500   # as SP001
'''


def test_rule_paths_add_plugin_style_rules(tmp_path):
    rules = tmp_path / "ci_rules"
    rules.mkdir()
    (rules / "ACME-SP001.toml").write_text(CUSTOM_RULE.format(status="stable"))
    (tmp_path / "lossdoc.toml").write_text('select = ["ACME-SP001"]\nrule-paths = ["ci_rules"]\n')
    assert _rules(load_config(None, start=tmp_path)) == {"ACME-SP001": "error"}


def test_preview_rules_need_preview(tmp_path):
    rules = tmp_path / "ci_rules"
    rules.mkdir()
    (rules / "ACME-SP001.toml").write_text(CUSTOM_RULE.format(status="preview"))
    (tmp_path / "lossdoc.toml").write_text('select = ["ACME"]\nrule-paths = ["ci_rules"]\n')
    # Only a preview rule selected, preview off: nothing would run, and nothing must not pass.
    with pytest.raises(ConfigError, match="no rule to run"):
        _rules(load_config(None, start=tmp_path))
    (tmp_path / "lossdoc.toml").write_text('select = ["ACME"]\nrule-paths = ["ci_rules"]\npreview = true\n')
    assert _rules(load_config(None, start=tmp_path)) == {"ACME-SP001": "error"}


def test_invalid_rule_file_names_key_and_file(tmp_path):
    from lossdoc.errors import RuleError

    rules = tmp_path / "ci_rules"
    rules.mkdir()
    bad = rules / "ACME-SP001.toml"
    (tmp_path / "lossdoc.toml").write_text('rule-paths = ["ci_rules"]\n')
    bad.write_text("colour = 'red'\n" + CUSTOM_RULE.format(status="stable"))
    with pytest.raises(RuleError) as e:
        _rules(load_config(None, start=tmp_path))
    assert "colour" in str(e.value) and str(bad) in str(e.value)
