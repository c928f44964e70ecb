"""The code-generation pipeline: specs/ -> normalizer -> generator -> generated/.

``python scripts/generate.py`` is the one command that runs it; see that file.
"""
