# The seccomp filters the ptrace delivery is tried against, written as
# raw classic BPF (struct sock_filter[]) into argv[1]/NAME.bpf, for
# spinrun.py to install (CTRACE_TEST_FILTER).  Built by libseccomp
# (Debian's python3-seccomp), as Docker, systemd and browsers build theirs,
# except where libseccomp cannot say it (a rule on syscall -1).
import errno
import os
import struct
import sys

import seccomp

PROT_WRITE, PROT_EXEC = 0x2, 0x4
MAP_NORESERVE = 0x4000
# what Docker's default profile leaves out of its allow list
DOCKER_DENIED = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy",
    "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
    "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages", "name_to_handle_at",
    "nfsservctl", "open_by_handle_at", "perf_event_open", "personality",
    "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace",
    "query_module", "quotactl", "reboot", "request_key", "set_mempolicy",
    "setns", "settimeofday", "swapoff", "swapon", "sysfs", "_sysctl",
    "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
}


def export(out, name, f):
    with open(os.path.join(out, name + ".bpf"), "wb") as fh:
        f.export_bpf(fh)


def allow(out):
    """A filter that lets everything through: still a filter."""
    export(out, "allow", seccomp.SyscallFilter(defaction=seccomp.ALLOW))


def docker(out):
    """An allow list, every other call answered EPERM: Docker's shape."""
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    for nr in range(0, 460):
        try:
            name = seccomp.resolve_syscall(seccomp.Arch.X86_64, nr).decode()
        except (ValueError, OSError):
            continue
        if name not in DOCKER_DENIED and not name.startswith("UNKNOWN"):
            f.add_rule(seccomp.ALLOW, name)
    export(out, "docker", f)


def mdwe(out):
    """systemd's MemoryDenyWriteExecute=yes: no page both, none made X."""
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in ("mprotect", "pkey_mprotect"):
        f.add_rule(seccomp.ERRNO(errno.EPERM), call,
                   seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
    f.add_rule(seccomp.ERRNO(errno.EPERM), "mmap",
               seccomp.Arg(2, seccomp.MASKED_EQ, PROT_WRITE | PROT_EXEC,
                           PROT_WRITE | PROT_EXEC))
    export(out, "mdwe", f)


def kill_ptrace(out):
    """A sandbox's: death for any call a tracer makes (none of them ours
    to have the target make: it is not refused)."""
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in ("ptrace", "process_vm_readv", "process_vm_writev"):
        f.add_rule(seccomp.KILL_PROCESS, call)
    export(out, "kill_ptrace", f)


def refusing(out):
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.add_rule(seccomp.KILL_PROCESS, "rt_sigreturn")
    export(out, "kill_sigreturn", f)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(errno.EPERM), "mmap",
               seccomp.Arg(3, seccomp.MASKED_EQ, MAP_NORESERVE, MAP_NORESERVE))
    export(out, "errno_mmap", f)
    # syscall -1 (a skipped call, as the filters see it) sent SIGSYS
    ins = [(0x20, 0, 0, 0), (0x15, 0, 1, 0xffffffff),
           (0x06, 0, 0, 0x00030000), (0x06, 0, 0, 0x7fff0000)]
    with open(os.path.join(out, "trap_skipped.bpf"), "wb") as fh:
        fh.write(b"".join(struct.pack("HBBI", *i) for i in ins))


out = sys.argv[1]
allow(out)
docker(out)
mdwe(out)
kill_ptrace(out)
refusing(out)
