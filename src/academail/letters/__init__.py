"""Credential letters: selection, temporary passwords, PDF rendering."""

from academail.letters.issue import IssuedLetters, LetterSelection, LetterService
from academail.letters.render import LetterContent, LetterLayout, render_letters, sort_for_posting

__all__ = [
    "IssuedLetters",
    "LetterContent",
    "LetterLayout",
    "LetterSelection",
    "LetterService",
    "render_letters",
    "sort_for_posting",
]
