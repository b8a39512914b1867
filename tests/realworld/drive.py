"""Real work for real third-party packages, for the real-world tier.

    drive.py PACKAGE INPUT [--wait | --before]

PACKAGE is one of black, pyflakes, docutils, pygments, yaml, jinja2; INPUT
is the file or directory it works on.  With --wait the imports are done
first, then "ready" is printed and the work waits for a line on stdin; after
it "done" is printed and a second line ends the program (for attaching by
PID).  With --before the program stops at that point, so that trace can
count what ran before an attach.
"""
import os
import sys


def black_work(path):
    import black
    with open(path) as f:
        src = f.read()
    return len(black.format_str(src, mode=black.Mode()))


def pyflakes_work(path):
    from pyflakes import api, reporter
    import io
    out = io.StringIO()
    return api.checkRecursive([path], reporter.Reporter(out, out))


def docutils_work(path):
    from docutils.core import publish_string
    with open(path) as f:
        src = f.read()
    return len(publish_string(src, writer_name="html",
                              settings_overrides={"report_level": 5}))


def pygments_work(path):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_for_filename
    with open(path) as f:
        src = f.read()
    return len(highlight(src, get_lexer_for_filename(path), HtmlFormatter()))


def yaml_work(path):
    import yaml
    with open(path) as f:
        data = yaml.safe_load(f)
    text = yaml.safe_dump(data, sort_keys=True)
    return len(text), yaml.safe_load(text) == data


def jinja2_work(path):
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(
        os.path.dirname(path)), autoescape=True)
    t = env.get_template(os.path.basename(path))
    rows = [{"name": "row %d" % i, "n": i, "tags": ["a", "b"][: i % 3]}
            for i in range(30)]
    return len(t.render(title="Report <1>", rows=rows))


WORK = {
    "black": black_work,
    "pyflakes": pyflakes_work,
    "docutils": docutils_work,
    "pygments": pygments_work,
    "yaml": yaml_work,
    "jinja2": jinja2_work,
}


def main():
    name, path = sys.argv[1], sys.argv[2]
    how = sys.argv[3] if len(sys.argv) > 3 else None
    work = WORK[name]
    if how:
        # the imports and a first round, before any attach
        work(path)
        if how == "--before":
            return
        print("ready", flush=True)
        sys.stdin.readline()
    print(work(path))
    if how:
        print("done", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    main()
