"""Subtitle names: the language and flags after the video's stem.

>>> subtitle_name("Arrival (2016).pt-BR.sdh.forced.srt", "Arrival (2016)")
SubtitleName(language='pt-BR', flags=('forced', 'sdh'), label=None)
>>> subtitle_name("2_English.srt", None).language
'en'

Flags as Kodi, Jellyfin and Plex read them: ``forced`` (also ``foreign``), ``sdh`` (also
``cc`` and ``hi``: for the hard of hearing), ``default``, ``commentary``. Tokens that are
neither a language nor a flag are kept as the ``label``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ISO 639-1, and the ISO 639-2 codes (both B and T forms) of the languages subtitles come in.
_ISO639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
    "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
    "vi vo wa wo xh yi yo za zh zu"
)
_ISO639_2_CODES = (
    "ara arm hye baq eus bul cat chi zho cze ces dan dut nld eng est fin fre fra geo kat ger "
    "deu gre ell heb hin hrv hun ice isl ind ita jpn kor lav lit mac mkd may msa nor per fas "
    "pol por rum ron rus slo slk slv spa srp swe tha tur ukr vie wel cym fil tgl gle glg bos "
    "nob nno tam tel mal ben urd und mul"
)
_ISO639_1 = frozenset(_ISO639_1_CODES.split())
_ISO639_2 = frozenset(_ISO639_2_CODES.split())
_NAMES = {
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "brazilian": "pt-BR",
    "dutch": "nl",
    "swedish": "sv",
    "norwegian": "no",
    "danish": "da",
    "finnish": "fi",
    "polish": "pl",
    "czech": "cs",
    "hungarian": "hu",
    "greek": "el",
    "turkish": "tr",
    "russian": "ru",
    "ukrainian": "uk",
    "arabic": "ar",
    "hebrew": "he",
    "hindi": "hi",
    "japanese": "ja",
    "korean": "ko",
    "chinese": "zh",
    "romanian": "ro",
    "bulgarian": "bg",
    "croatian": "hr",
    "serbian": "sr",
    "slovak": "sk",
    "slovenian": "sl",
    "thai": "th",
    "vietnamese": "vi",
    "indonesian": "id",
    "malay": "ms",
}
_FLAGS = {
    "forced": "forced",
    "foreign": "forced",
    "sdh": "sdh",
    "cc": "sdh",
    "hi": "sdh",
    "default": "default",
    "commentary": "commentary",
}
_REGIONAL = re.compile(r"^([a-z]{2,3})[-_]([a-z]{2}|[a-z]{4}|\d{3})$", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^\d+[_. -]+")


@dataclass(frozen=True, slots=True)
class SubtitleName:
    """What a subtitle's name says: its language (``en``, ``pt-BR``; ``None`` if it does
    not say), its flags in a stable order, and any other words."""

    language: str | None
    flags: tuple[str, ...]
    label: str | None


def language_code(token: str) -> str | None:
    """``en``, ``eng``, ``pt-BR``, ``pt_br``, ``English`` as a language code; else ``None``."""
    folded = token.casefold()
    if folded in _ISO639_1 or folded in _ISO639_2:
        return folded
    if folded in _NAMES:
        return _NAMES[folded]
    if match := _REGIONAL.match(token):
        base, region = match.groups()
        if base.casefold() in _ISO639_1 or base.casefold() in _ISO639_2:
            region = region.title() if len(region) == 4 else region.upper()
            return f"{base.casefold()}-{region}"
    return None


def subtitle_name(name: str, video_stem: str | None) -> SubtitleName:
    """Read the language and flags of a subtitle file named ``<video stem>.<tokens>.<ext>``;
    without a matching stem (``Subs/2_English.srt``), every dot-separated word of the
    stem is read instead."""
    stem = name.rpartition(".")[0] or name
    if video_stem is not None and stem.startswith(video_stem + "."):
        tokens = stem[len(video_stem) + 1 :].split(".")
    elif video_stem is not None and stem == video_stem:
        tokens = []
    else:
        tokens = _LEADING_NUMBER.sub("", stem).split(".")
    language: str | None = None
    flags: set[str] = set()
    words: list[str] = []
    for token in tokens:
        flag = _FLAGS.get(token.casefold())
        if flag is not None:
            flags.add(flag)
            continue
        code = language_code(token) if language is None else None
        if code is not None:
            language = code
        elif token:
            words.append(token)
    return SubtitleName(language, tuple(sorted(flags)), ".".join(words) or None)


__all__ = ["SubtitleName", "language_code", "subtitle_name"]
