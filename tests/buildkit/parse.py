"""BuildKit's own Dockerfile parser, as a line server for the property tests.

The PyPI package `dockerfile` (pinned by `cargo xtask flytekit`) wraps the Go
parser of github.com/moby/buildkit (frontend/dockerfile/parser). Each line on
stdin is a JSON string, a Dockerfile; each line on stdout is the JSON list of
its instructions, as [keyword, flags, value, heredoc contents], or
{"error": message} when BuildKit refuses the text.
"""

import json
import sys

import dockerfile


def main():
    for line in sys.stdin:
        text = json.loads(line)
        try:
            parsed = [
                [c.cmd.upper(), list(c.flags), list(c.value), [h.content for h in c.heredocs]]
                for c in dockerfile.parse_string(text)
            ]
            out = parsed
        except dockerfile.GoParseError as e:
            out = {"error": str(e)}
        except Exception as e:  # the wrapper's own failures (a NUL byte, say)
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
