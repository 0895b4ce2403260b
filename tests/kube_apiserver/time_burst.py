#!/usr/bin/env python3
"""Times the test API server alone on the bench's burst: one /apply of N TrafficSplits,
and when their watch events reach a watching client (the first and the last), so that
the server's share of crossover-bench's "all e2e" can be told from crossover's.

usage: time_burst.py [SCRIPT] [N] [REPEATS]   (default: the server beside this file, 1000, 5)
"""

import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.request


def split(i, weight):
    return {"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit",
            "metadata": {"name": "vh-%d" % i, "namespace": "bench"},
            "spec": {"service": "vh-%d" % i,
                     "backends": [{"service": "vh-%d-primary" % i, "weight": 100 - weight},
                                  {"service": "vh-%d-canary" % i, "weight": weight}]}}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    script = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "fake_kube_apiserver.py")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    server = subprocess.Popen([sys.executable, script, "--exit-with-parent"],
                              stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(server.stdout.readline())

        def apply(weight):
            body = json.dumps({"objects": [split(i, weight) for i in range(n)]}).encode()
            req = urllib.request.Request(ready["control_url"] + "/apply", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            started = time.monotonic()
            urllib.request.urlopen(req).read()
            return started, time.monotonic()

        apply(0)
        host, port = ready["url"].split("//")[1].rsplit(":", 1)
        context = ssl.create_default_context(cafile=ready["ca_file"])
        headers = {"Authorization": "Bearer " + ready["token"]}
        collection = "/apis/split.smi-spec.io/v1alpha2/namespaces/bench/trafficsplits"
        for rep in range(repeats):
            conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
            conn.request("GET", collection, headers=headers)
            rv = json.loads(conn.getresponse().read())["metadata"]["resourceVersion"]
            conn.request("GET", collection + "?watch=true&resourceVersion=" + rv, headers=headers)
            stream = conn.getresponse()
            arrivals = []

            def read():
                while len(arrivals) < n and stream.readline():
                    arrivals.append(time.monotonic())

            reader = threading.Thread(target=read)
            reader.start()
            started, returned = apply(rep + 1)
            reader.join(30)
            conn.close()
            if len(arrivals) < n:
                sys.exit("only %d of %d events arrived" % (len(arrivals), n))
            print("%d objects: /apply returned after %.0f ms, first event %.0f ms, last %.0f ms"
                  % (n, (returned - started) * 1000, (arrivals[0] - started) * 1000,
                     (arrivals[-1] - started) * 1000))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
