"""Prints, for each operation and phase of a Schemathesis run, how many of its positive cases
were served (a status under 400) and how many were refused as invalid (400, 422 and the
like; auth, 404, 409 and 429 say nothing of the data): the margin of .ci/schemathesis's
check, which fails when an operation's positive cases in a phase were all refused.

Reads the file .ci/schemathesis_hooks.py writes when SIGNPOST_ST_TALLY names it.
"""

import collections
import sys

NOT_ABOUT_THE_DATA = {401, 403, 404, 409, 429}

counts = collections.defaultdict(lambda: [0, 0, 0])  # positive, served, refused as invalid
try:
    lines = open(sys.argv[1]).readlines()
except FileNotFoundError:
    sys.exit(print("schemathesis made no calls (no tally)"))
for line in lines:
    operation, phase, mode, status = line.rstrip("\n").split("\t")
    if mode != "positive":
        continue
    c = counts[(operation, phase)]
    c[0] += 1
    if int(status) < 400:
        c[1] += 1
    elif int(status) not in NOT_ABOUT_THE_DATA:
        c[2] += 1
print(f"{'positive cases served / sent (refused as invalid)':>50}")
for (operation, phase), (sent, served, invalid) in sorted(counts.items()):
    print(f"  {operation:44} {phase:9} {served:4} / {sent:<4} ({invalid})")
