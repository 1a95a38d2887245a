"""French words for the password strength estimate: our own list, plus Debian's if present.

Why. zxcvbn only ships English dictionaries, so it rates ``motdepasse``,
``jetaimemonchat`` or ``MotDePasse2026!`` as hard to guess although they are among
the first guesses of any attacker who targets French users (dependencies.md,
"Identity costs"). The strength rule therefore adds two French dictionaries:

* :data:`COMMON_WORDS` — written for this project, not copied from a leak list:
  about 280 words and keyboard walks that French agents really use as passwords
  (AZERTY walks, pet names, cities of the académie, school vocabulary, the most
  frequent first names and surnames). Its order is its rank: earlier means
  guessed sooner.
* :func:`dictionary_words` — Debian's ``wfrench`` list (``/usr/share/dict/french``,
  about 346,000 inflected forms) when the package is installed, read once, at the
  first check or at ``policy.warm_up()``. It is alphabetical, not ranked by
  frequency, so every word gets the same rank (:data:`DICTIONARY_RANK`). Without
  the file the estimate still works, only more generously for rare words; that is
  why it is optional at run time.

:func:`ranked_words` merges both with zxcvbn's own English dictionaries into the
single ``word → rank`` mapping the strength estimate looks words up in.

Every entry is lowercase ASCII with accents removed (:func:`fold_ascii`), the form
the policy compares against, and at least four letters long for the Debian list:
shorter forms (``le``, ``des``) would match inside almost any password and only
add noise. Nothing here does I/O at import time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from zxcvbn import matching
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from academail.core.text import fold_ascii

__all__ = [
    "COMMON_WORDS",
    "DEBIAN_FRENCH",
    "DICTIONARY_RANK",
    "MIN_WORD_LENGTH",
    "dictionary_words",
    "fold_word",
    "ranked_words",
]

DEBIAN_FRENCH = Path("/usr/share/dict/french")
MIN_WORD_LENGTH = 4
# Debian's list is alphabetical, so its words share one rank: about the middle of
# the 20,000 commonest French forms an attacker tries first. Rare words are rated
# as guessable as common ones, which errs on the side of refusing.
DICTIONARY_RANK = 10_000

# Most guessed first. Written for academail; the groups are only for reading.
_COMMON = """
    azerty motdepasse azerty123 soleil doudou loulou chouchou bonjour jetaime
    marseille azertyuiop qsdfghjklm qsdfgh wxcvbn aqwzsx azer motdepass mdpasse
    secret bienvenue coucou salut bonsoir doudoune nounours nounou minou minette
    chaton monchat monchien toutou lapin cheval papillon princesse prince bisous
    bisou calin cherie cheri mamour monamour moncoeur mamie papi maman papa bebe
    famille enfants bonheur amour amitie copain copine jetadore tequiero

    france paris lyon toulouse nice nantes strasbourg montpellier bordeaux lille
    rennes reims amiens abbeville beauvais compiegne soissons laon chauny
    creil senlis peronne noyon picardie picard somme oise aisne hautsdefrance
    normandie bretagne provence alsace olympique allezlesbleus lesbleus
    football rugby tennis musique vacances plage nutella chocolat fromage
    baguette croissant camembert pastis pompier liberte egalite fraternite
    marianne republique

    academie education educationnationale ecole college lycee universite
    professeur enseignant enseignante instituteur institutrice maitresse
    eleve eleves classe cartable cahier stylo crayon tableau recreation cantine
    directeur directrice principal proviseur inspecteur inspection rectorat
    recteur ministere examen baccalaureat brevet devoirs lecon rentree
    mathematiques francais histoire geographie physique chimie anglais
    espagnol allemand informatique messagerie courriel webmail travail bureau
    secretariat intendance

    janvier fevrier mars avril juin juillet aout septembre octobre novembre
    decembre lundi mardi mercredi jeudi vendredi samedi dimanche printemps
    automne hiver noel etoile

    nicolas julien thomas camille marie sophie nathalie isabelle sylvie
    christine catherine francoise martine celine stephanie sandrine valerie
    veronique aurelie emilie julie laura manon chloe emma louise alice lucas
    hugo louis gabriel arthur jules raphael nathan enzo theo maxime alexandre
    antoine pierre jean michel philippe alain patrick christophe laurent
    olivier sebastien frederic david

    martin bernard dubois robert richard petit durand leroy moreau simon
    lefebvre garcia bertrand roux vincent fournier morel girard andre lefevre
    mercier dupont lambert bonnet francois martinez legrand garnier faure
    rousseau blanc guerin muller henry roussel nicolas perrin morin mathieu
"""

# Kept as a tuple, deduplicated, order preserved: the position is the rank.
COMMON_WORDS: tuple[str, ...] = tuple(dict.fromkeys(_COMMON.split()))


def fold_word(word: str) -> str:
    """The comparison form: lowercase ASCII, accents removed (``Élève`` → ``eleve``)."""
    return (word if word.isascii() else fold_ascii(word)).lower()


def dictionary_words(path: Path = DEBIAN_FRENCH) -> frozenset[str]:
    """Debian's French words, folded, at least :data:`MIN_WORD_LENGTH` letters.

    Reads the file on each call (about 0.4 s for the full list): the process
    keeps only :func:`ranked_words`' cached mapping, not a second copy. An absent
    or unreadable file gives an empty set: the list is an optional improvement,
    never a reason to refuse to start.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    words = (fold_word(line.strip()) for line in text.splitlines())
    return frozenset(word for word in words if len(word) >= MIN_WORD_LENGTH and word.isalpha())


@functools.cache
def ranked_words(word_list: Path = DEBIAN_FRENCH) -> Mapping[str, int]:
    """zxcvbn's English dictionaries, ours and Debian's merged into ``word → rank``.

    When a word is in several lists its lowest rank wins, which is also the match
    zxcvbn would keep, so one merged mapping scores exactly as the separate lists
    while costing one lookup per substring instead of one per list (about six
    times faster, measured). Built once per path: about 0.5 s and 400,000 words.
    """
    merged = dict.fromkeys(dictionary_words(word_list), DICTIONARY_RANK)
    # From zxcvbn's shipped lists, not its module-level dict, which other callers
    # may have changed (add_frequency_lists, user_inputs).
    lists = [*FREQUENCY_LISTS.values(), COMMON_WORDS]
    for ranks in map(matching.build_ranked_dict, lists):
        for word, rank in ranks.items():
            if rank < merged.get(word, rank + 1):
                merged[word] = rank
    return MappingProxyType(merged)
