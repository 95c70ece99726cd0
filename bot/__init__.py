"""Staff safeguarding supervision for schools, inside Microsoft Teams."""

__version__ = "0.1.0"
