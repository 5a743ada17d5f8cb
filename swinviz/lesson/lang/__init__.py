"""One module per language (`en.py`, `zh.py`): NAME, UI (the labels), TRY (the "try this"
prompts) and STEPS (each step's title, body and notes). Adding a language is one file here."""
