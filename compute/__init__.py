"""Pure computation: the digit engine, the digit store and input validation.

Nothing here imports Dash or Flask, so the worker processes stay small and the
maths can be tested on its own.
"""
