"""Zeroes the ICU data that Node embeds (icudt*_dat, 33 MB of locale, collation and time zone
tables) in a stripped copy of the binary, so that the carried Node compresses to about 13 MB
instead of 21: with the fp32 folds tracked, the device machine's 64 MiB limit has no room for the
rest. The benchmark needs none of it (no Intl, no toLocaleString; Unicode regexps use data built
into the code); anything that does fails loudly with "Internal error. Icu error.".

  python3 scripts/gpu/drop_icu.py <original node> <stripped copy>
"""
from __future__ import annotations

import re
import subprocess
import sys


def icu_data(original: str) -> bytes:
    """The bytes of the icudt*_dat symbol, read through the segment that maps it."""
    symbols = subprocess.run(["nm", "-S", original], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^([0-9a-f]+) ([0-9a-f]+) [rR] icudt\d+_dat$", symbols, re.M)
    if not match:
        raise SystemExit(f"{original}: no icudt*_dat symbol (a stripped or small-icu build?)")
    address, size = int(match.group(1), 16), int(match.group(2), 16)
    segments = subprocess.run(["readelf", "-lW", original], capture_output=True, text=True, check=True).stdout
    for line in segments.splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"]:
            offset, vaddr, filesz = int(fields[1], 16), int(fields[2], 16), int(fields[4], 16)
            if vaddr <= address < vaddr + filesz:
                with open(original, "rb") as f:
                    f.seek(offset + address - vaddr)
                    return f.read(size)
    raise SystemExit(f"{original}: icudt*_dat lies in no loaded segment")


def main(original: str, stripped: str) -> int:
    data = icu_data(original)
    with open(stripped, "r+b") as f:
        binary = f.read()
        at = binary.find(data[:4096])
        if at < 0 or binary[at : at + len(data)] != data:
            raise SystemExit(f"{stripped}: the ICU data of {original} is not in it")
        f.seek(at)
        f.write(bytes(len(data)))
    print(f"zeroed {len(data) / 1e6:.1f} MB of ICU data in {stripped}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
