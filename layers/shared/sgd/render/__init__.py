"""The render pipeline: content policy, canon constraints, plan cache, design, storage, async jobs, webhooks.

Route modules import these lazily or only their light parts: nothing here imports Pillow or numpy at module
level (the design engine is imported inside the function that renders).
"""
