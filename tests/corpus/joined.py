# The main thread blocks in join() (C) while a worker runs Python; argv[1]
# appearing ends the worker.
import os
import sys
import threading
import time


def work(stop):
    n = 0
    while not os.path.exists(stop):
        n += 1
        time.sleep(0.001)
    return n


t = threading.Thread(target=work, args=(sys.argv[1],))
t.start()
print("ready", flush=True)
t.join()
