"""The page's own words in each language but English: `<code>.py` holds WORDS = {the English
text the page is built with: that text in the language} (see app.words)."""
