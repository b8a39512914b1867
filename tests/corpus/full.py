# Reference for pidtarget.py: import and main, all under trace.
import prog
prog.main()
