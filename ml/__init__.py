"""The link model and how its quality is measured, above ``graph``.

- Evidence and decisions: ``evidence`` (features), ``candidates`` (pairs by
  blocking), ``browsers`` (browser chains), ``chain_decision`` (whether they link),
  ``error_budget`` (the profiles' target as a budget), ``linking`` (proposals at
  resolve), ``examples`` (self-supervised queries), ``training`` (fit, thresholds),
  ``model`` and ``model_card``.
- Measuring: ``worlds`` (parameters of generated worlds), ``population`` and
  ``synthetic`` (people and their events with ground truth), ``evaluation``.
"""
