#!/usr/bin/env python3
"""prom-parse.py FILE: checks FILE strictly against Prometheus' text
exposition format 0.0.4 as asoc-stat --prometheus must write it, and prints
its samples as JSON ({"name{labels}": value}) for the test to compare.
Exits 1 with the offending line on the first error."""
import json
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(%s)(\{(%s=%s(?:,%s=%s)*)?\})? (\S+)$' %
                    (NAME, LABEL, VALUE, LABEL, VALUE))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def die(n, line, why):
    sys.exit('line %d: %s: %r' % (n, why, line))


def main():
    text = open(sys.argv[1], encoding='utf-8').read()
    if not text.endswith('\n'):
        sys.exit('the last line has no newline')
    helps, types, seen, samples = set(), {}, set(), {}
    current = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (%s) (.+)$' % NAME, line)
            if not m:
                die(n, line, 'a comment that is neither HELP nor TYPE')
            kind, name, rest = m.groups()
            if kind == 'HELP':
                if name in helps:
                    die(n, line, 'a second HELP for ' + name)
                helps.add(name)
            else:
                if name in types:
                    die(n, line, 'a second TYPE for ' + name)
                if rest not in TYPES:
                    die(n, line, 'an unknown type')
                if name in seen:
                    die(n, line, 'TYPE after samples of ' + name)
                types[name] = rest
            current = name
            continue
        if line == '':
            die(n, line, 'an empty line')
        m = SAMPLE.match(line)
        if not m:
            die(n, line, 'not a sample line')
        name, labels, value = m.group(1), m.group(3) or '', m.group(4)
        if name not in types or name != current:
            die(n, line, 'a sample outside its metric\'s HELP/TYPE block')
        if types[name] == 'counter' and not name.endswith('_total'):
            die(n, line, 'a counter not named *_total')
        try:
            v = float(value)
        except ValueError:
            die(n, line, 'a value that is not a number')
        if math.isnan(v) or v < 0:
            die(n, line, 'a negative or NaN value')
        names = re.findall(r'(%s)=%s' % (LABEL, VALUE), labels)
        if len(names) != len(set(names)):
            die(n, line, 'a label given twice')
        key = name + '{' + labels + '}'
        if key in samples:
            die(n, line, 'a series given twice')
        seen.add(name)
        samples[key] = v
    for name in types:
        if name not in helps:
            sys.exit('%s has a TYPE but no HELP' % name)
        if name not in seen:
            sys.exit('%s has no sample' % name)
    print(json.dumps(samples))


main()
