# A thread there before the attach runs twice() 1000 times once argv[1]
# appears; another is blocked in a lock until argv[1].end, then says
# whether a trace function is left in it (run-pyenv.sh).
import os, sys, threading, time
go = sys.argv[1]
def twice():
    return 2
def older():
    while not os.path.exists(go):
        time.sleep(0.01)
    for i in range(1000):
        twice()
    done.set()
def blocked():
    lock.acquire()
    print("blocked thread woke, trace", sys.gettrace(), flush=True)
lock = threading.Lock(); lock.acquire()
done = threading.Event()
t = threading.Thread(target=older); t.start()
b = threading.Thread(target=blocked); b.start()
print("ready", flush=True)
while not done.is_set():
    time.sleep(0.01)
t.join()
print("done", flush=True)
while not os.path.exists(go + ".end"):
    time.sleep(0.01)
lock.release(); b.join()
print("main trace", sys.gettrace(), flush=True)
