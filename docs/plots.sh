#!/usr/bin/env bash
# Redraws the schedule plots in docs/ that README.md shows (python -m warmup_jax plot, ~20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
plot() { ./run.sh schedule plot "$@"; }
plot "cyclic_schedule(1e-3, 2000, cycle_mul=1.5, cycle_decay=0.7, cycle_limit=4, warmup_steps=200, warmup_type='exponential')" --out docs/cyclic.png
plot "rewarmup(cosine_schedule_with_warmup(1e-3, 500, 5000), 5000, 6e-4, 500, cosine_decay(6e-4, 4500))" --out docs/rewarmup.png
plot wsd_schedule 1e-3 500 2000 num_training_steps=10000 decay_type='"1-sqrt"' --out docs/wsd.png
plot "linear_warmup(1e-3, 1000) >> cosine_decay(1e-3, 9000, end_value=1e-5)" --out docs/expression_chain.png
plot "3e-4 * linear_warmup(1.0, 1000) * inverse_sqrt_decay(1.0, 10000)" --until 20000 --out docs/expression_product.png
.venv/bin/python docs/one_cycle_plot.py
