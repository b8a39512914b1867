"""semaphores.py PID [PROBE]: the sum of the python USDT semaphores in PID's
memory: every one, or PROBE's alone (e.g. line).

The semaphores live in the .probes section of the ELF with the probes (the
executable or a libpython it maps); each is found through /proc/PID/maps and
read from /proc/PID/mem, as a debugger would.
"""
import os
import re
import subprocess
import sys


def probes_section(path):
    out = subprocess.run(['readelf', '-SW', path], capture_output=True,
                         text=True).stdout
    m = re.search(r'\]\s+\.probes\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)', out)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def semaphores(path, only=None):
    out = subprocess.run(['readelf', '-n', path], capture_output=True,
                         text=True).stdout
    notes = re.findall(r'Provider: (\S+)\s+Name: (\S+)\s+Location: \S+, '
                       r'Base: \S+, Semaphore: (0x[0-9a-f]+)', out)
    return {int(a, 16) for prov, name, a in notes
            if prov == 'python' and int(a, 16) and only in (None, name)}


def main():
    pid = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else None
    total = 0
    seen = set()
    with open('/proc/%s/maps' % pid) as f:
        maps = [l.split() for l in f]
    with open('/proc/%s/mem' % pid, 'rb') as mem:
        for m in maps:
            if len(m) < 6 or m[5] in seen or not m[5].startswith('/'):
                continue
            path = '/proc/%s/root%s' % (pid, m[5])
            seen.add(m[5])
            if not os.path.exists(path):
                continue
            sems, sec = semaphores(path, only), probes_section(path)
            if not sems or not sec:
                continue
            sh_addr, sh_off = sec
            for addr in sems:
                off = addr - sh_addr + sh_off
                for r in maps:
                    if len(r) < 6 or r[5] != m[5]:
                        continue
                    lo, hi = (int(x, 16) for x in r[0].split('-'))
                    base = int(r[2], 16)
                    if base <= off < base + hi - lo:
                        mem.seek(lo + off - base)
                        total += int.from_bytes(mem.read(2), 'little')
                        break
    print(total)


if __name__ == '__main__':
    main()
