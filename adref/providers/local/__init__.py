"""The local analyser: real computer vision, no key, no network.

``provider`` answers the request; ``measure`` turns shots into numbers, ``rules`` holds the
thresholds that turn numbers into words, ``text`` writes the sentences and ``words`` their
Korean and English vocabulary.
"""

from adref.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]
