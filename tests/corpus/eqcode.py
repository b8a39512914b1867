# Two methods in two files whose code objects compare equal (chardet's
# SJISProber.reset and EUCJPProber.reset): trace caches its class answer
# per code by equality, so the one called second is named as the first.
import eqa
import eqb

eqa.SJISProber().reset()
eqb.EUCJPProber().reset()
