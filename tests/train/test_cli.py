"""``python -m train``: flags map onto the run config; bad input ends with a message and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

import warmup_jax
from train import __main__ as cli
from train.schedule import make_schedule

ISSUE_FLAGS = (
    "--workdir",
    "--preset",
    "--steps",
    "--batch_size",
    "--seq_len",
    "--seed",
    "--peak_lr",
    "--warmup_steps",
    "--warmup_ratio",
    "--warmup_type",
    "--schedule",
    "--no_lr_schedule",
    "--checkpoint_every",
    "--log_every",
    "--eval_every",
    "--steps_per_call",
    "--dataset",
    "--data_dir",
    "--wandb",
)


def _config(argv):
    parser = cli.build_parser()
    return cli.config_from_args(parser.parse_args(argv), parser)


def test_help_explains_every_flag_of_the_issue():
    result = subprocess.run(
        [sys.executable, "-m", "train", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(result.stdout.split())
    for flag in ISSUE_FLAGS:
        assert f"{flag} " in text
    assert "resumes from the newest checkpoint" in text
    assert "exponential from peak/1000" in text


def test_defaults_come_from_the_preset():
    config = _config(["--preset", "tiny", "--workdir", "/tmp/x"])
    assert (config.steps, config.batch_size, config.seq_len, config.model.d_model) == (
        40,
        4,
        32,
        32,
    )
    assert (
        config.schedule == "cosine"
        and config.warmup_type == "linear"
        and config.num_warmup_steps == 4
    )
    assert _config([]).workdir == "runs/small"


def test_flags_reach_the_config_and_the_schedule():
    config = _config(
        [
            "--preset",
            "tiny",
            "--steps",
            "100",
            "--warmup_ratio",
            "0.05",
            "--warmup_type",
            "exponential",
            "--schedule",
            "linear",
            "--peak_lr",
            "1e-3",
            "--seed",
            "3",
            "--steps_per_call",
            "5",
            "--log_every",
            "10",
            "--eval_every",
            "50",
            "--checkpoint_every",
            "25",
            "--batch_size",
            "8",
            "--seq_len",
            "16",
        ]
    )
    assert (config.steps, config.num_warmup_steps, config.seed, config.steps_per_call) == (
        100,
        5,
        3,
        5,
    )
    assert make_schedule(config) == warmup_jax.linear_schedule_with_warmup(
        1e-3, num_warmup_steps=5, num_training_steps=100, warmup_type="exponential"
    )
    no_schedule = _config(["--no_lr_schedule", "--peak_lr", "0.01"])
    assert make_schedule(no_schedule) == warmup_jax.constant_schedule(0.01)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "--steps: must be at least 1, got 0"),
        (["--steps", "ten"], "--steps: the value must be a step count or a duration such as"),
        (["--peak_lr", "-1"], "--peak_lr: must be a finite number in (0, inf), got -1.0"),
        (["--warmup_ratio", "1.5"], "--warmup_ratio: must be a finite number in [0, 1), got 1.5"),
        (["--seed", "18446744073709551617"], "--seed: must be at most 4294967295"),
        (["--weight_decay", "nan"], "--weight_decay: must be a finite number in [0, inf)"),
        (["--weight_decay", "inf"], "--weight_decay: must be a finite number in [0, inf)"),
        (["--weight_decay", "-1"], "--weight_decay: must be a finite number in [0, inf)"),
        (["--b1", "1"], "--b1: must be a finite number in [0, 1)"),
        (["--workdir", ""], "--workdir: must not be empty"),
        (["--text_key", "text"], "--text_key names a feature of --dataset, but no --dataset"),
        (
            ["--schedule_kwargs", '{"peak_value": 1.0}'],
            "--schedule_kwargs sets peak_value, which the run sets itself: use --peak_lr",
        ),
        (
            [
                "--steps",
                "20",
                "--schedule_kwargs",
                '{"num_training_steps": 5, "num_warmup_steps": 1}',
            ],
            "--schedule_kwargs sets num_training_steps, num_warmup_steps, which the run sets",
        ),
        (
            ["--schedule", "linear_warmup(peak, 5)", "--schedule_kwargs", '{"x": 1}'],
            "--schedule_kwargs applies to a schedule name",
        ),
        (["--warmup_steps", "3", "--warmup_ratio", "0.1"], "not allowed with argument"),
        (
            ["--schedule", "cosine_typo"],
            "unknown schedule 'cosine_typo'; choose one of linear, cosine,",
        ),
        (
            ["--warmup_type", "cubic"],
            "--warmup_type: must be one of linear, exponential, got 'cubic'",
        ),
        (["--preset", "huge"], "--preset: must be one of small, tiny, got 'huge'"),
        (["--no_lr_schedule", "--warmup_steps", "5"], "cannot be combined with --warmup_steps"),
        (["--steps", "100", "--warmup_steps", "101"], "warmup (101 steps) is longer than the run"),
        (
            ["--preset", "tiny", "--steps_per_call", "3"],
            "--steps (40) must be a multiple of --steps_per_call (3)",
        ),
        (["--schedule_kwargs", "{oops"], "--schedule_kwargs: not valid JSON"),
        (["--schedule_kwargs", "[1]"], "expected a JSON object"),
        (["--schedule_kwargs", '{"bogus": 1}'], "does not take bogus"),
        (
            ["--schedule_kwargs", "[" * 100_000],
            "--schedule_kwargs: not valid JSON: nested too deeply",
        ),
        (
            ["--schedule", "(" * 500 + "constant(1.0)" + ")" * 500],
            "brackets nest more than 64 deep",
        ),
        (["--schedule", "cosine(900, final=0.01)"], "of warmup_jax 0.1.0 is now cosine_decay("),
        (["--wandb_mode", "offline"], "only apply together with --wandb"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        _config(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_wandb_without_the_package_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit) as info:
        _config(["--wandb"])
    assert info.value.code == 2
    assert "pip install" in capsys.readouterr().err


def _main_exit(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--preset", "tiny", "--no_progress", *argv])
    return info.value.code, capsys.readouterr().err


def test_problems_found_in_the_data_exit_2(tmp_path, source_dir, data_dir, capsys):
    code, err = _main_exit(
        [
            "--workdir",
            str(tmp_path / "a"),
            "--dataset",
            "tiny_shakespear",
            "--data_dir",
            str(tmp_path / "tfds"),
        ],
        capsys,
    )
    assert (
        code == 2
        and "'tiny_shakespear' is not a TensorFlow Datasets data set; did you mean tiny_shakespeare"
        in err
    )

    one_file = tmp_path / "one"
    one_file.mkdir()
    (one_file / "m.py").write_text("x = 1\n")
    code, err = _main_exit(
        [
            "--workdir",
            str(tmp_path / "b"),
            "--source_dir",
            str(one_file),
            "--data_dir",
            str(tmp_path / "tfds"),
        ],
        capsys,
    )
    assert code == 2 and "found 1 .py files under" in err

    code, err = _main_exit(
        [
            "--workdir",
            str(tmp_path / "c"),
            "--source_dir",
            str(source_dir),
            "--data_dir",
            str(data_dir),
            "--seq_len",
            "1000000",
        ],
        capsys,
    )
    assert code == 2 and "fewer than seq_len + 1 = 1000001" in err


def test_paths_that_are_files_exit_2_before_anything_is_written(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me\n")
    cases = [
        (["--workdir", str(a_file)], f"--workdir: '{a_file}' is a file, not a folder"),
        (
            ["--workdir", str(a_file / "run")],
            f"--workdir: '{a_file / 'run'}' is under {a_file}, which is a file",
        ),
        (["--data_dir", str(a_file)], f"--data_dir: '{a_file}' is a file, not a folder"),
        (["--source_dir", str(a_file)], f"--source_dir: '{a_file}' is a file, not a folder"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as info:
            _config(["--workdir", str(tmp_path / "w"), *argv])
        assert info.value.code == 2
        assert message in capsys.readouterr().err
    assert a_file.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _tiny_argv(workdir, source_dir, data_dir):
    return [
        "--workdir", str(workdir), "--source_dir", str(source_dir), "--data_dir", str(data_dir),
        "--steps", "4", "--log_every", "2", "--eval_every", "4", "--checkpoint_every", "4",
    ]  # fmt: skip


def test_lock_file_that_is_a_folder_exits_2(tmp_path, source_dir, data_dir, capsys):
    (tmp_path / "w" / "train.lock").mkdir(parents=True)
    code, err = _main_exit(_tiny_argv(tmp_path / "w", source_dir, data_dir), capsys)
    assert code == 2
    assert "train.lock is a folder, where the workdir's lock file belongs" in err
    assert (tmp_path / "w" / "train.lock").is_dir()
    assert not (tmp_path / "w" / "checkpoints").exists()


def test_lock_file_that_is_a_link_is_never_written_through(tmp_path, source_dir, data_dir, capsys):
    victim = tmp_path / "someone_elses_file"
    victim.write_text("precious\n")
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "train.lock").symlink_to(victim)
    code, err = _main_exit(_tiny_argv(tmp_path / "w", source_dir, data_dir), capsys)
    assert code == 2
    assert "train.lock is a symbolic link: the lock is never written through a link" in err
    assert victim.read_text() == "precious\n"


def test_read_only_workdir_exits_4_with_a_message(tmp_path, source_dir, data_dir):
    from tests.train.test_reliability import _make_unwritable, _make_writable

    workdir = tmp_path / "w"
    workdir.mkdir()
    how = _make_unwritable(workdir)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "train", "--preset", "tiny", "--no_progress"]
            + _tiny_argv(workdir, source_dir, data_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        _make_writable(workdir, how)
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert f"could not write {workdir / 'train.lock'}" in done.stderr
    assert "make the workdir writable" in done.stderr
    assert list(workdir.iterdir()) == []
