"""Writes ``configs.json``: schedule configs as warmup_jax 0.1.0 saved them, with their values.

Run once, with warmup_jax 0.1.0 (commit 0328f62) importable, from the repository root:

    python tests/warmup_jax/legacy_0_1_0/make_fixtures.py

Each entry holds the ``to_config()`` output of one schedule built with 0.1.0's names and the
float32 value 0.1.0 computed at each of its steps. ``test_legacy_configs.py`` loads every config
with today's ``from_config`` and compares the values. The file is committed; this script stays to
say how it was made.
"""

import json
import pathlib

import jax
import numpy as np

import warmup_jax as wj

LAST = 2**31 - 1


def cases():
    cos = wj.cosine_decay(1e-3, 900, final_value=1e-5)
    return [
        wj.linear_warmup(3e-4, 100),
        wj.linear_warmup(1.0, 7, init_value=0.1, one_step_ahead=True),
        wj.exponential_warmup(1e-3, 50),
        wj.exponential_warmup(2.0, 9, init_value=0.01, one_step_ahead=True),
        wj.warmup(1e-3, 20, strategy="exponential"),
        wj.warmup(5e-4, 33, "linear", 1e-5, True),
        wj.from_epochs(1e-3, warmup_epochs=1.5, steps_per_epoch=40, strategy="exponential"),
        wj.untuned_linear_warmup(1e-3, b2=0.99),
        wj.untuned_exponential_warmup(wj.cosine_decay(1e-3, 5000), b2=0.95),
        wj.radam_warmup(3e-4, b2=0.999),
        wj.radam_warmup(1.0, b2=0.7),
        wj.constant(3e-4),
        cos,
        wj.cosine_decay(1.0, 100, final_value=0.1, num_cycles=1.5),
        wj.polynomial_decay(1e-3, 300, final_value=1e-6, power=2.0),
        wj.linear_decay(1e-3, 400, final_value=1e-4),
        wj.one_minus_sqrt_decay(1e-3, 250, final_value=1e-5),
        wj.exponential_decay(1e-3, 0.5, transition_steps=100),
        wj.exponential_decay(1e-3, 0.9, 7, staircase=True, final_value=1e-4),
        wj.step_decay(1e-3, 30, gamma=0.5),
        wj.step_decay(2.0, 5),
        wj.piecewise_constant([100, 250], [1e-3, 1e-4, 1e-5]),
        wj.inverse_sqrt_decay(1e-3, 1000),
        wj.join([wj.linear_warmup(1e-3, 100), cos], [100]),
        wj.with_warmup(cos, 100),
        wj.with_warmup(cos, 50, strategy="exponential", init_value=1e-6, one_step_ahead=True),
        wj.multiply([3e-4, wj.linear_warmup(1.0, 100), wj.inverse_sqrt_decay(1.0, 100)]),
        wj.warmup_stable_decay(1e-3, 50, 200, 100),
        wj.warmup_stable_decay(
            1e-3, 20, 30, 40, warmup="exponential", decay="1-sqrt", final_value=1e-5
        ),
        wj.warmup_stable_decay(1e-3, 0, 30, 40, decay="cosine", init_value=None),
        wj.cyclic_schedule(1e-3, 100, cycle_decay=0.5, cycle_limit=3, final_value=1e-5),
        wj.cyclic_schedule(
            1e-3, 60, cycle_mul=2.0, warmup_steps=10, warmup="exponential", decay="linear"
        ),
        wj.cyclic_schedule(
            1e-3,
            50,
            warmup_steps=20,
            warmup_every_cycle=False,
            decay="polynomial",
            power=2.0,
            init_value=1e-5,
            cycle_limit=4,
        ),
        wj.rewarmup(wj.linear_schedule_with_warmup(1e-3, 10, 100), 60, 2e-3, 20),
        wj.rewarmup(
            wj.cosine_schedule_with_warmup(1e-3, 10, 100),
            80,
            5e-4,
            15,
            decay=wj.cosine_decay(5e-4, 100),
            strategy="exponential",
        ),
        wj.constant_schedule(3e-4),
        wj.constant_schedule_with_warmup(3e-4, 25),
        wj.constant_schedule_with_warmup(3e-4, 25, warmup_type="exponential"),
        wj.linear_schedule_with_warmup(3e-4, 100, 1000),
        wj.linear_schedule_with_warmup(3e-4, 10, 100, warmup_one_step_ahead=True),
        wj.cosine_schedule_with_warmup(3e-3, 100, 1000),
        wj.cosine_schedule_with_warmup(1e-3, 10, 100, num_cycles=1.5, warmup_type="exponential"),
        wj.cosine_with_hard_restarts_schedule_with_warmup(1e-3, 10, 130, num_cycles=3),
        wj.polynomial_decay_schedule_with_warmup(1e-3, 10, 100, lr_end=1e-5, power=2.0),
        wj.inverse_sqrt_schedule(1e-3, 100),
        wj.inverse_sqrt_schedule(1e-3, 0, timescale=77),
        wj.cosine_with_min_lr_schedule_with_warmup(1e-3, 10, 100, min_lr=1e-5),
        wj.cosine_with_min_lr_schedule_with_warmup(1e-3, 10, 100, num_cycles=0.3, min_lr_rate=0.1),
        wj.wsd_schedule(1e-3, 10, 20, num_training_steps=100),
        wj.wsd_schedule(
            1e-3,
            16,
            33,
            num_stable_steps=50,
            warmup_type="cosine",
            decay_type="1-sqrt",
            min_lr_ratio=0.1,
        ),
        wj.parse("linear_warmup(100) >> cosine(900, final=0.01, init=0.003)"),
        wj.parse("constant(3e-4) * linear_warmup(100) * rsqrt(1000)"),
        wj.parse("linear_warmup(10, peak=0.001) >> linear(20, init=0.001) >> constant(0.0005)"),
    ]


def steps_for(schedule) -> list[int]:
    ends = [schedule.warmup_steps]
    for key in ("num_training_steps", "decay_steps", "warmup_steps", "at_step"):
        value = schedule.arguments.get(key)
        if isinstance(value, int):
            ends.append(value)
    marks = set(range(0, 130))
    for end in ends:
        marks |= {end - 1, end, end + 1, 2 * end, 10 * end}
    marks |= {999, 1000, 1001, 5000, 10**5, 10**6, 10**9, LAST - 1, LAST}
    marks |= set(np.random.default_rng(0).integers(0, 20_000, 40).tolist())
    return sorted(m for m in marks if 0 <= m <= LAST)


def main() -> None:
    entries = []
    for schedule in cases():
        steps = steps_for(schedule)
        values = np.asarray(jax.jit(schedule)(np.asarray(steps, np.int32)), np.float32)
        entries.append(
            {
                "config": schedule.to_config(),
                "steps": steps,
                "values": [float(v) for v in values],
            }
        )
    path = pathlib.Path(__file__).with_name("configs.json")
    lines = ",\n".join(json.dumps(entry) for entry in entries)
    path.write_text(f'{{"warmup_jax": "{wj.__version__}", "cases": [\n{lines}\n]}}\n')
    print(f"wrote {len(entries)} cases to {path}")


if __name__ == "__main__":
    main()
