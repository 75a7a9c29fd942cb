"""The client side of cthulhu's JSON Lines protocol (cthulhu test), for the
shipped clients (clients/demo-register, clients/etcd). Python 3, stdlib only.

cthulhu starts one client process per worker and writes one request a line
on its stdin: {"f": "read"}, {"f": "write", "value": 5}, {"f": "cas",
"value": [1, 2]}, {"f": "txn", "value": [["append", 3, 7], ["r", 3, null]]}
(with "key" where the model has keys). The client answers each with one line
on stdout: {"type": "ok", "value": ...}, {"type": "fail", "error": ...} (it
did not happen) or {"type": "info", "error": ...} (its outcome is unknown).
The environment names the fixture's spec.json (CTHULHU_SPEC), the worker's
process number (CTHULHU_PROCESS) and the run's seed (CTHULHU_SEED).
"""

import json
import os
import socket
import sys
import urllib.error
import urllib.request


class Fail(Exception):
    """The operation did not happen."""


class Info(Exception):
    """The operation may or may not have happened."""


def instances():
    """The fixture's instances, name -> ip, from CTHULHU_SPEC, in name order."""
    path = os.environ.get("CTHULHU_SPEC")
    if not path:
        sys.exit("CTHULHU_SPEC is not set: cthulhu test sets it to the fixture's spec.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    return {name: spec[name]["ip"] for name in sorted(spec)}


def process():
    return int(os.environ.get("CTHULHU_PROCESS", "0"))


def http(method, url, body=None, timeout=3.0, content_type="application/octet-stream"):
    """(status, body text) of one request. A connection refused raises Fail
    (nothing was sent); a timeout or a cut connection raises Info (it may
    have been sent and acted on)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except urllib.error.URLError as e:
        if isinstance(e.reason, ConnectionRefusedError):
            raise Fail("connection refused: %s" % url)
        if isinstance(e.reason, (socket.timeout, TimeoutError)):
            raise Info("no answer within %gs: %s" % (timeout, url))
        raise Info("%s: %s" % (url, e.reason))
    except (socket.timeout, TimeoutError):
        raise Info("no answer within %gs: %s" % (timeout, url))
    except (ConnectionError, OSError) as e:
        raise Info("%s: %s" % (url, e))


def serve(handle):
    """Answers each request line with handle(request) -> value, until stdin ends.
    handle raises Fail or Info; any other error is info (the outcome of an
    operation whose client broke is unknown)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = {"type": "ok", "value": handle(request)}
        except Fail as e:
            answer = {"type": "fail", "error": str(e)}
        except Info as e:
            answer = {"type": "info", "error": str(e)}
        except Exception as e:  # a bug or a surprise: unknown outcome
            answer = {"type": "info", "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
