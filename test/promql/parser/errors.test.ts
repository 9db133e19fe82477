import { describe, expect, it } from 'vitest';
import { parseExpr, ParseError } from '../../../src/promql/parser/index.js';

/** [query, full expected message (Prometheus wording)]. */
const CASES: [string, string][] = [
  ['', '1:1: parse error: no expression found in input'],
  ['1 +', '1:4: parse error: unexpected end of input'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['foo * * bar', '1:7: parse error: unexpected <op:*>'],
  ['sum', '1:1: parse error: unexpected <aggr:sum>'],
  ['sum(x) by (a) by (b)', '1:15: parse error: unexpected <by>'],
  ['foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['foo{a=1}', '1:7: parse error: unexpected number "1" in label matching, expected string'],
  ['sum by (a b) (x)', '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'],
  ['foo )', "1:5: parse error: unexpected right parenthesis ')'"],
  ['(foo', '1:5: parse error: unclosed left parenthesis'],
  ['foo{a="b"', '1:10: parse error: unclosed left brace'],
  ['foo[5m', '1:7: parse error: unclosed left bracket'],
  ['foo]', "1:4: parse error: unexpected right bracket ']'"],
  ['1e', '1:1: parse error: bad number or duration syntax: "1e"'],
  ['"abc', '1:1: parse error: unterminated quoted string'],
  ['foo ; bar', "1:5: parse error: unexpected character: ';'"],
  ['rate(foo)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['rate(foo[5m], 1)', '1:1: parse error: expected 1 argument(s) in call to "rate", got 2'],
  ['round()', '1:1: parse error: expected at least 1 argument(s) in call to "round", got 0'],
  ['round(x, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'],
  ['bar(1)', '1:1: parse error: unknown function with name "bar"'],
  ['label_replace(x, 1, "a", "b", "c")', '1:18: parse error: expected type string in call to function "label_replace", got scalar'],
  ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{a=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
  ['foo offset 5m[5m]', '1:14: parse error: no offset modifiers allowed before range'],
  ['foo @ 1 [5m]', '1:9: parse error: no @ modifiers allowed before range'],
  ['(foo)[5m]', '1:1: parse error: ranges only allowed for vector selectors'],
  ['foo[5m][5m:]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['1 and 2', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['foo or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
  ['1 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
  ['a + bool b', '1:3: parse error: bool modifier can only be used on comparison operators'],
  ['a and group_left b', '1:1: parse error: no grouping allowed for "and" operation'],
  ['a + on(x) 1', '1:1: parse error: vector matching only allowed between instant vectors'],
  ['a * on(x) group_left(x) b', '1:3: parse error: label "x" must not occur in ON and GROUP clause at once'],
  ['sum(foo[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'],
  ['topk(foo, bar)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
  ['count_values(1, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
  ['topk(1)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
  ['sum()', '1:1: parse error: no arguments for aggregate expression provided'],
  ['-foo[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
  ['foo[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
  ['"a" + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'],
  ['foo offset 1m offset 2m', '1:15: parse error: offset may not be set multiple times'],
  ['foo @ 1 @ 2', '1:9: parse error: @ <timestamp> may not be set multiple times'],
  ['(foo) offset 5m', '1:7: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['sum(foo) @ 5', '1:10: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo[5m:1m:1m]', '1:10: parse error: unexpected ":" in subquery selector, expected "]"'],
  ['foo @ Inf', '1:7: parse error: timestamp out of bounds for @ modifier: Infinity'],
  ['foo[1h/0]', '1:5: parse error: division by zero in duration expression'],
  ['foo{a=~"("}', '1:5: parse error: invalid regular expression "(": Invalid regular expression: /^(?:()$/su: Unterminated group'],
  ['a + fill(1) 2', '1:3: parse error: fill modifiers are only allowed between instant vectors'],
  ['a and fill(1) b', '1:3: parse error: fill modifiers are not allowed for set operator "and"'],
  ['a + fill(1) fill_left(2) b', '1:13: parse error: fill modifier may not be set multiple times'],
  ['foo anchored smoothed', '1:14: parse error: anchored modifier may not be combined with smoothed'],
  ['sum(x) anchored', '1:8: parse error: anchored modifier must be preceded by an instant vector selector or range vector selector'],
];

describe('error messages', () => {
  it.each(CASES)('%s', (q, msg) => {
    let err: unknown;
    try {
      parseExpr(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).message).toBe(msg);
  });

  it('reports line and column on multi-line queries', () => {
    let err: ParseError | undefined;
    try {
      parseExpr('sum(\n  rate(foo[5m])\n) +\n  bar baz');
    } catch (e) {
      err = e as ParseError;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect([err!.line, err!.column, err!.position]).toEqual([4, 7, 31]);
    expect(err!.message).toBe('4:7: parse error: unexpected identifier "baz"');
    expect(err!.detail).toBe('unexpected identifier "baz"');
  });

  it('keeps the cause for regex errors', () => {
    try {
      parseExpr('foo{a=~"["}');
      expect.unreachable();
    } catch (e) {
      expect((e as ParseError).cause).toBeInstanceOf(Error);
    }
  });
});
