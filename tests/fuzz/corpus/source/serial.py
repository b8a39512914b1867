# The corpus without threads, for --trace, whose line order must be stable.
import prog
prog.threads = lambda: "no threads here"
prog.main()
