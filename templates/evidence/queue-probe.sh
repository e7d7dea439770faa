#!/bin/sh
# An example queue probe for the checklist's queue-healthy check. It prints fixed numbers: replace it
# with one that asks your queue, e.g. for Amazon SQS
#   aws sqs get-queue-attributes --queue-url "$QUEUE" --attribute-names All
# and prints the same fields. observed_at is when the numbers were read.
printf '{"depth": 12, "capacity": 500, "consumers": 4, "oldest_age_s": 3, "observed_at": "%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
