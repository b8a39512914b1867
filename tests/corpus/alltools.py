# Takes all six sys.monitoring tool ids, then waits in Python until
# argv[1] appears: the monitoring backend has no id left to use.
import os
import sys
import time
for i in range(6):
    sys.monitoring.use_tool_id(i, "taken")
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
