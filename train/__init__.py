"""The Flax training harness: a byte-level transformer trained with a warmup_jax schedule.

Run it with ``python -m train`` (see ``python -m train --help``); ``train.loop.run`` is the entry
point for code.
"""
