# A threaded HTTP server (its serving thread started before any attach)
# and, in the main thread, a client that requests until argv[1] appears.
import http.server
import os
import sys
import threading
import urllib.request


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = answer(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def answer(path):
    return path.encode()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print("ready", flush=True)
served = 0
while not os.path.exists(sys.argv[1]) or served < 2:
    urllib.request.urlopen("http://127.0.0.1:%d/x" % srv.server_address[1]).read()
    served += 1
    if served == 2:
        print("served", flush=True)
srv.shutdown()
print("done", flush=True)
