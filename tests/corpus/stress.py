# Known counts from several threads at once: 4 threads x 10007 calls each.
import threading


def tick(): return 1


def body(n):
    total = 0
    for _ in range(n):
        total += tick()
    return total


threads = [threading.Thread(target=body, args=(10007,)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
