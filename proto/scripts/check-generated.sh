#!/bin/sh
# Fails when proto/src/gen is not exactly what `npm run generate` produces
# from the committed .proto files (hand edits, stale output, forgotten files).
# Run via: npm run check:generated --workspace @vexil/proto
set -eu

cd "$(git rev-parse --show-toplevel)"

PATH="$PWD/node_modules/.bin:$PATH" buf generate --template proto/buf.gen.yaml

status=0

if ! git diff --exit-code --stat -- proto/src/gen; then
  echo "check:generated: proto/src/gen differs from the output of 'npm run generate --workspace @vexil/proto'." >&2
  echo "  Regenerate and commit the result; never edit generated files by hand." >&2
  status=1
fi

untracked=$(git ls-files --others --exclude-standard -- proto/src/gen)
if [ -n "$untracked" ]; then
  echo "check:generated: generated files are not tracked by git:" >&2
  echo "$untracked" | sed 's/^/  /' >&2
  echo "  Run 'git add proto/src/gen' and commit them." >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "check:generated: proto/src/gen is up to date."
fi
exit "$status"
