"""The preview command line: tables, JSON lines, PNG plots, config files, errors."""

import inspect
import json
import pathlib
import struct
import subprocess
import sys

import numpy as np
import pytest

import warmup_jax as wj
from warmup_jax.__main__ import main
from warmup_jax.expressions import _shown, callables


def run(capsys, *argv):
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_table_for_a_transformers_name(capsys):
    status, out = run(
        capsys,
        "table",
        "cosine",
        "5e-5",
        "num_warmup_steps=100",
        "num_training_steps=1000",
        "--steps",
        "0",
        "50",
        "100",
        "550",
        "1000",
    )
    assert status == 0
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [int(r[0]) for r in rows] == [0, 50, 100, 550, 1000]
    np.testing.assert_allclose(
        [float(r[1]) for r in rows], [0, 2.5e-5, 5e-5, 2.5e-5, 0], atol=1e-12, rtol=1e-6
    )
    assert out.startswith("# cosine_schedule_with_warmup(peak_value=5e-05, num_warmup_steps=100")


def test_table_default_steps_reach_the_end_of_training(capsys):
    _, out = run(
        capsys,
        "table",
        "--json",
        "linear_schedule_with_warmup",
        "peak_value=1.0",
        "num_warmup_steps=5",
        "num_training_steps=100",
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["step"] for r in rows] == [0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert rows[1]["lr"] == 1.0 and rows[-1]["lr"] == 0.0


def test_table_from_a_config_file(tmp_path, capsys):
    schedule = wj.with_warmup(wj.exponential_decay(0.1, 10, 0.5, staircase=True), 5, "exponential")
    config = tmp_path / "schedule.json"
    config.write_text(schedule.to_json())
    _, out = run(capsys, "table", "--config", str(config), "--json", "--steps", "0", "5", "15")
    got = [json.loads(line)["lr"] for line in out.splitlines()]
    assert got == [float(schedule(0)), float(schedule(5)), float(schedule(15))]


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_png_with_the_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots" / "lr.png"
    status, text = run(
        capsys,
        "plot",
        "exponential_warmup",
        "peak_value=1e-3",
        "warmup_steps=50",
        "--until",
        "100",
        "--out",
        str(out),
        "--log",
    )
    assert status == 0 and "steps 0 to 100" in text
    assert _png_size(out) == (960, 540)
    matplotlib = pytest.importorskip("matplotlib.image")

    pixels = matplotlib.imread(out)[..., :3]
    blue = (pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.3)  # matplotlib's default line colour
    assert blue.sum() > 500, "the plot should show the schedule's curve"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["table", "nope"], "unknown schedule 'nope'"),
        (
            ["table", "linear_warmup", "peak_value=1", "warmup_steps=0"],
            "warmup_steps must be an integer in [1,",
        ),
        (
            ["table", "cosine", "num_warmup_steps=1", "num_training_steps=9"],
            "'cosine' needs the peak learning rate",
        ),
        (["table", "linear_warmup", "warmup_steps=3", "1.0"], "must come before key=value"),
        (["table", "--config", "/nonexistent.json"], "cannot read --config /nonexistent.json"),
        (
            ["table", "linear_warmup", "peak_value=1", "warmup_steps=2", "--steps", "-1"],
            "--steps must all be >= 0",
        ),
        (["plot"], "name a schedule"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_list_shows_every_callable_with_its_python_signature(capsys):
    _, out = run(capsys, "list")
    lines = out.splitlines()
    assert (
        "  linear_warmup(peak_value, warmup_steps, init_value=0.0, warmup_one_step_ahead=False)"
        in lines
    )
    assert (
        "  exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0, "
        "staircase=False, end_value=None)" in lines
    )
    for name, function in callables().items():
        assert f"  {name}{_shown(inspect.signature(function))}" in lines
    assert "  schedule_by_name(name, peak_value, **kwargs)" in lines
    assert any("a >> b" in line for line in lines)


HOSTILE = [
    ["table", "(" * 500 + "constant(1)" + ")" * 500],
    ["table", "linear_warmup(1.0, 10) >> " * 30_000 + "constant(1.0) $"],
    ["table", "inverse_sqrt_decay", "1.0", "10", "--steps", str(2**40)],
    ["table", "linear_warmup", "1.0", "10", "--until", str(10**30)],
    ["table", "linear_warmup", "1.0", "x" * 100_000],
    ["table", "linear_warmup", "peak_value=" + "[" * 10_000, "warmup_steps=5"],
    ["plot", "linear_warmup", "1.0", "10", "--out", "/proc/no/such/dir/lr.png"],
]


@pytest.mark.parametrize("argv", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_arguments_end_in_a_short_message_and_status_2(argv, capsys):
    if argv[0] == "plot":
        pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and len(err) < 2000 and "Traceback" not in err


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"schedule": "with_warmup", "arguments": {"schedule": ' * 2000,
        b"\xff\xfe\x00garbage",
        "",
        '{"schedule": "constant", "arguments": {"value": 1e999}}',
    ],
    ids=["deep-list", "deep-config", "binary", "empty", "infinity"],
)
def test_a_hostile_config_file_ends_in_a_message_and_status_2(content, tmp_path, capsys):
    path = tmp_path / "schedule.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for target in (path, tmp_path):  # the file, and a directory where a file belongs
        with pytest.raises(SystemExit) as exit_info:
            main(["table", "--config", str(target)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "error:" in err and len(err) < 2000


def test_plot_without_matplotlib_exits_2_with_the_command_that_adds_it():
    script = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from warmup_jax.__main__ import main\n"
        "sys.exit(main(['plot', 'linear_warmup', '1.0', '10']))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install matplotlib" in result.stderr and "Traceback" not in result.stderr


def test_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "warmup_jax", "table", "linear_warmup", "1.0", "4", "--steps", "2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1].split() == ["2", "0.5"]


def test_the_readme_shows_lines_of_the_real_list_output(capsys):
    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    if not readme.exists():  # the library's tests also run against the installed wheel
        pytest.skip("no README.md beside the tests")
    block = readme.read_text().split("$ ./run.sh schedule list\n", 1)[1].split("```", 1)[0]
    shown = [line for line in block.splitlines() if line.strip() not in ("", "...")]
    _, out = run(capsys, "list")
    assert len(shown) >= 8 and set(shown) <= set(out.splitlines())
