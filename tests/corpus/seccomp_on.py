# Imported first by a test target: the seccomp filter CTRACE_TEST_FILTER
# names (one of tests/seccomp_filters.py's) is installed on this thread
# and those it starts, for the ptrace delivery to get past.  Without it,
# nothing is imported: the target is as it always was.
import os


def install(path):
    import ctypes
    import sys
    with open(path, "rb") as f:
        ins = ctypes.create_string_buffer(f.read())
    count = (len(ins.raw) // 8).to_bytes(8, "little")
    fprog = ctypes.create_string_buffer(count + ctypes.addressof(ins).to_bytes(8, "little"))
    libc = ctypes.CDLL(None, use_errno=True)
    # PR_SET_NO_NEW_PRIVS, then PR_SET_SECCOMP's SECCOMP_MODE_FILTER
    if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, fprog, 0, 0):
        sys.exit("seccomp_on: no filter: errno %d" % ctypes.get_errno())
    install.keep = ins


if os.environ.get("CTRACE_TEST_FILTER"):
    install(os.environ["CTRACE_TEST_FILTER"])
