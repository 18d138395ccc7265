"""Offline design logic: colour maths and the rule-based render planner."""
