"""The public Voilà apps: one App class per app; the notebooks in notebooks/apps only build and show one.

Everything a visitor does arrives as widget values: treat them as untrusted input, never run them, and
show a plain message (never a traceback) when something fails.
"""
