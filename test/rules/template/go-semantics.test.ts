import { describe, expect, it } from 'vitest';
import { expandTemplate } from '../../../src/rules/template/index.js';
import { GoFunc, GoMap, GoSlice } from '../../../src/rules/template/values.js';

/** [template, data, expected output] derived from the Go text/template documentation. */
const CASES: readonly (readonly [string, unknown, string])[] = [
  // text and trim markers
  ['plain text', null, 'plain text'],
  ['a  {{- "b" -}}  c', null, 'abc'],
  ['a \n\t{{- 1}}', null, 'a1'],
  ['{{1 -}}\n\n  x', null, '1x'],
  ['{{-3}}', null, '-3'],
  ['{{- /* comment */ -}}  x', null, 'x'],
  ['a{{/* c */}}b', null, 'ab'],
  ['{{23 -}} < {{- 45}}', null, '23<45'],
  // literals
  ['{{"a\\tb\\u00e9\\x41\\101"}}', null, 'a\tbéAA'],
  ['{{`raw\\n`}}', null, 'raw\\n'],
  ['{{1}} {{1.0}} {{1e3}} {{0x1F}} {{0o17}} {{0b101}} {{017}} {{1_000}} {{\'a\'}} {{-2.5}}', null, '1 1 1000 31 15 5 15 1000 97 -2.5'],
  ['{{true}} {{false}}', null, 'true false'],
  ['{{print nil}}', null, '<nil>'],
  // fields, maps, variables
  ['{{.a.b}}', { a: { b: 'x' } }, 'x'],
  ['{{.missing}}', { a: 1 }, '<no value>'],
  ['{{.m.missing}}|', { m: { k: 'v' } }, '|'],
  ['{{$x := 5}}{{$x}}', null, '5'],
  ['{{$x := 1}}{{$x = 2}}{{$x}}', null, '2'],
  ['{{$}}', 'root', 'root'],
  ['{{with .a}}{{$.b}}{{end}}', { a: 'x', b: 'y' }, 'y'],
  ['{{$m := .m}}{{$m.k}}', { m: { k: 'v' } }, 'v'],
  ['{{(.m).k}}', { m: { k: 'v' } }, 'v'],
  ['{{.}}', { b: 'x', a: 'y' }, 'map[a:y b:x]'],
  ['{{.}}', [1, 'a', true], '[1 a true]'],
  // if / else if / else
  ['{{if .}}yes{{else}}no{{end}}', '', 'no'],
  ['{{if .}}yes{{else}}no{{end}}', 'x', 'yes'],
  ['{{if .}}y{{else}}n{{end}}', 0, 'n'],
  ['{{if .}}y{{else}}n{{end}}', [], 'n'],
  ['{{if .}}y{{else}}n{{end}}', {}, 'n'],
  ['{{if .x}}y{{else}}n{{end}}', { y: 1 }, 'n'],
  ['{{if eq . 1.0}}a{{else if eq . 2.0}}b{{else}}c{{end}}', 2, 'b'],
  ['{{if eq . 1.0}}a{{else if eq . 2.0}}b{{else}}c{{end}}', 3, 'c'],
  ['{{if $x := .a}}{{$x}}{{end}}', { a: 'v' }, 'v'],
  // with
  ['{{with .a}}{{.}}{{else}}none{{end}}', { a: 'v' }, 'v'],
  ['{{with .a}}{{.}}{{else}}none{{end}}', { a: '' }, 'none'],
  ['{{with .a}}{{.}}{{else with .b}}b={{.}}{{end}}', { a: '', b: 'x' }, 'b=x'],
  // range
  ['{{range .}}[{{.}}]{{end}}', ['a', 'b'], '[a][b]'],
  ['{{range $i, $e := .}}{{$i}}={{$e}} {{end}}', ['a', 'b'], '0=a 1=b '],
  ['{{range $e := .}}{{$e}}{{end}}', ['a', 'b'], 'ab'],
  ['{{range $k, $v := .}}{{$k}}:{{$v}},{{end}}', { z: '1', a: '2', m: '3' }, 'a:2,m:3,z:1,'],
  ['{{range .}}x{{else}}empty{{end}}', [], 'empty'],
  ['{{range .missing}}x{{else}}empty{{end}}', { a: 1 }, 'empty'],
  ['{{range 3}}{{.}}{{end}}', null, '012'],
  ['{{range .}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', ['a', 'b', 'c'], 'a'],
  ['{{range .}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', ['a', 'b', 'c'], 'ac'],
  ['{{$x := 0}}{{range .}}{{$x = .}}{{end}}{{$x}}', [1, 2, 3], '3'],
  ['{{range .}}{{$y := .}}{{end}}ok', [1], 'ok'],
  // pipelines
  ['{{"a" | printf "%s-%s" "b"}}', null, 'b-a'],
  ['{{.x | len}}', { x: 'héllo' }, '6'],
  ['{{(printf "%d" 5) | printf "<%s>"}}', null, '<5>'],
  ['{{3 | printf "%d" | printf "%s!"}}', null, '3!'],
  // and / or / not
  ['{{and 1 0 "x"}}|{{and 1 2 3}}|{{or 0 "" "z"}}|{{or 0 ""}}|{{not 0}}', null, '0|3|z||true'],
  ['{{or .a .b}}', { a: '', b: 'B' }, 'B'],
  ['{{and .x (index .x 0)}}', { x: [] }, '[]'],
  ['{{"x" | and 1}}|{{0 | or ""}}', null, 'x|0'],
  // comparisons
  ['{{eq 1 1}} {{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 0.5}} {{ge "b" "a"}}', null, 'true true true true true true true'],
  ['{{eq .v 3.0}}', { v: 3 }, 'true'],
  ['{{lt "abc" "abd"}}', null, 'true'],
  ['{{eq .x .y}}', { x: true, y: true }, 'true'],
  // len / index / slice
  ['{{len .}}', [1, 2, 3], '3'],
  ['{{len .}}', { a: 1 }, '1'],
  ['{{index . 1}}', ['a', 'b'], 'b'],
  ['{{index . "k"}}', { k: 'v' }, 'v'],
  ['{{index .m "nope"}}|', { m: { a: 'b' } }, '|'],
  ['{{index . 0 1}}', [['a', 'b']], 'b'],
  ['{{index "abc" 1}}', null, '98'],
  ['{{slice "hello" 1 3}}', null, 'el'],
  ['{{slice . 1}}', ['a', 'b', 'c'], '[b c]'],
  ['{{slice "hello"}}', null, 'hello'],
  // escaping helpers
  ['{{html "<a href=\\"x\\">O\'Neil & co</a>"}}', null, '&lt;a href=&#34;x&#34;&gt;O&#39;Neil &amp; co&lt;/a&gt;'],
  ['{{js "it\'s <b>\\"x\\"</b> = 1"}}', null, 'it\\\'s \\u003Cb\\u003E\\"x\\"\\u003C/b\\u003E \\u003D 1'],
  ['{{urlquery "a b&c=d/é"}}', null, 'a+b%26c%3Dd%2F%C3%A9'],
  ['{{html 1 2}}', null, '1 2'],
  // define / template / block
  ['{{define "T"}}Hello, {{.}}!{{end}}{{template "T" "you"}}', null, 'Hello, you!'],
  ['{{define "T"}}[{{.}}]{{end}}{{template "T"}}', null, '[<no value>]'],
  ['{{block "B" .}}default {{.}}{{end}}', 'x', 'default x'],
  ['{{define "a"}}A{{template "b" .}}{{end}}{{define "b"}}B{{.}}{{end}}{{template "a" 1}}', null, 'AB1'],
  ['{{define "T"}}{{$}}{{end}}{{$x := 1}}{{template "T" 2}}{{$x}}', null, '21'],
];

describe('Go text/template semantics', () => {
  it.each(CASES)('%s', (tmpl, data, want) => {
    expect(expandTemplate('t', tmpl, data)).toBe(want);
  });

  it('prints missing map keys as <no value> when missingkey is not zero', () => {
    expect(expandTemplate('t', '{{.m.x}}', { m: { a: 'b' } }, { missingKeyZero: false })).toBe('<no value>');
  });

  it('distinguishes int and float constants like Go', () => {
    expect(expandTemplate('t', '{{printf "%T %T %T %T" 1 1.0 1e2 \'x\'}}', null)).toBe('int float64 float64 int');
  });

  it('calls function values with call', () => {
    const add = new GoFunc('func(int, int) int', ['int', 'int'], ([a, b]) => (a as bigint) + (b as bigint));
    const data = new GoMap(new Map([['add', add]]));
    expect(expandTemplate('t', '{{call .add 2 3}}', data)).toBe('5');
  });

  it('iterates slices built from Go values', () => {
    const s = new GoSlice([1n, 2n], '[]int');
    expect(expandTemplate('t', '{{range .}}{{.}}{{end}} {{printf "%T" .}}', s)).toBe('12 []int');
  });
});
