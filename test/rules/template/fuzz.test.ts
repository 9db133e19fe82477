import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandAlertTemplate, expandTemplate, TemplateError } from '../../../src/rules/template/index.js';
import { lex } from '../../../src/rules/template/lexer.js';

const PIECES = [
  '{{', '}}', '{{-', '-}}', ' ', '\n', '.', '$', '$x', ':=', '=', '|', '(', ')', ',', '"', '`', "'", '/*', '*/',
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true',
  '1', '-2', '0x1F', '1e3', '2.5', '"s"', '"a\\n"', '`r`', "'c'", '.Labels', '.Value', '$labels', '$value', '$labels.instance',
  'printf', '"%d %s %.2f %v"', 'humanize', 'humanizeDuration', 'len', 'index', 'slice', 'eq', 'lt', 'and', 'or', 'not',
  'print', 'html', 'js', 'urlquery', 'title', 'match', 'reReplaceAll', '"a+"', 'args', 'query', 'first', 'value', 'label',
  'x', 'é', '\u00a0', '\\', '{', '}', '3', ':',
];

const templateArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((a) => a.join(''));
const mixedArb = fc.oneof(templateArb, fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => `{{${s}}}`));

function expandSafely(text: string): void {
  try {
    const out = expandTemplate('fuzz', text, { a: [1, 'b'], m: { k: 'v' }, n: 3 }, {
      maxSteps: 5_000,
      maxOutputBytes: 8_192,
      maxDepth: 10,
      query: () => [{ labels: { instance: 'i' }, value: 1 }],
    });
    expect(typeof out).toBe('string');
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
  }
}

describe('fuzz', () => {
  it('lexer always terminates with eof or error', () => {
    fc.assert(
      fc.property(mixedArb, (text) => {
        const toks = lex(text);
        const last = toks[toks.length - 1]!;
        expect(['eof', 'error']).toContain(last.type);
      }),
      { seed: 20240611, numRuns: 3_000 },
    );
  });

  it('parse + execute returns a string or throws TemplateError (10,000 generic templates)', () => {
    fc.assert(fc.property(mixedArb, (text) => expandSafely(text)), { seed: 424242, numRuns: 10_000 });
  });

  it('alert templates never throw anything but TemplateError (3,000 cases)', () => {
    fc.assert(
      fc.property(templateArb, fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), fc.double(), (text, labels, value) => {
        try {
          expandAlertTemplate('Fuzz', text, { labels, externalLabels: {}, externalURL: '', value }, { maxSteps: 5_000, maxOutputBytes: 8_192 });
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
        }
      }),
      { seed: 7, numRuns: 3_000 },
    );
  });

  it('survives deep nesting without a stack overflow escaping', () => {
    for (const text of ['{{'.repeat(2000), '{{' + '('.repeat(5000) + '1' + ')'.repeat(5000) + '}}', '{{if 1}}'.repeat(3000) + '{{end}}'.repeat(3000)]) {
      expandSafely(text);
    }
  });
});
