"""The figures' words in each language but English: `<code>.py` holds WORDS = {English msgid:
the sentence in that language} (see swinviz.figures._core.words)."""
