#!/bin/sh
# `make demo` until the Lambda runtime loop lands: runs `bootstrap --print` over a few
# of the AWS fixture events in both formats, so a newcomer sees what the function writes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bootstrap=${BOOTSTRAP:-$top/build/bootstrap}

show() {
    file=$1
    format=$2
    echo
    echo "== $format items of events/$file"
    "$bootstrap" --print "$top/events/$file" --format "$format"
}

show aws-lambda-java-libs-dynamo_event.json classic
show aws-lambda-java-libs-dynamo_event.json detailed
show localstack-esm-modify-attr-added.json classic
show aws-lambda-go-dynamodb-event.json classic
echo
echo "== a payload that is not an event: exit status 2 and one line on stderr"
if echo '{"Records": 7}' | "$bootstrap" --print -; then
    echo "unexpected success" >&2
    exit 1
fi
