import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkTemplate, expandAlertTemplate, type TemplateData } from '../../../src/rules/template/index.js';

const corpusDir = fileURLToPath(new URL('../../../../shared/rules-corpus/', import.meta.url));

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out.sort();
}

interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

function rulesOf(doc: unknown): Rule[] {
  const d = doc as { groups?: { rules?: Rule[] }[]; spec?: { groups?: { rules?: Rule[] }[] } } | null;
  const groups = d?.groups ?? d?.spec?.groups ?? [];
  return groups.flatMap((g) => g.rules ?? []);
}

const GENERIC: Record<string, string> = {
  instance: 'node-1.example.com:9100',
  job: 'node',
  namespace: 'monitoring',
  pod: 'app-0',
  cluster: 'prod',
  device: 'eth0',
  mountpoint: '/',
  name: 'x',
  service: 'svc',
};

/** Equality matchers of the rule's expression as labels (best effort). */
function labelsFromExpr(expr: string): Record<string, string> {
  const out: Record<string, string> = { ...GENERIC };
  for (const m of expr.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const files = walk(corpusDir);

describe('rules corpus templates', () => {
  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('parses and expands every label/annotation template', () => {
    let templates = 0;
    let actions = 0;
    const failures: string[] = [];
    for (const file of files) {
      const docs = readFileSync(file, 'utf8');
      for (const doc of docs.split(/^---$/m)) {
        let parsed: unknown;
        try {
          parsed = parseYaml(doc);
        } catch {
          continue;
        }
        for (const rule of rulesOf(parsed)) {
          const name = rule.alert ?? rule.record ?? 'rule';
          const data: TemplateData = {
            labels: labelsFromExpr(String(rule.expr ?? '')),
            externalLabels: { cluster: 'prod', replica: 'a' },
            externalURL: 'http://prometheus.example.com:9090',
            value: 42,
          };
          for (const [k, v] of Object.entries({ ...rule.labels, ...rule.annotations })) {
            if (typeof v !== 'string' || !v.includes('{{')) continue;
            templates++;
            actions += v.split('{{').length - 1;
            const perr = checkTemplate(name, v);
            if (perr) {
              failures.push(`${file} ${name}.${k}: ${perr.message}`);
              continue;
            }
            try {
              const out = expandAlertTemplate(name, v, data, { query: () => [{ labels: { instance: 'i' }, value: 7 }] });
              if (out.includes('{{')) failures.push(`${file} ${name}.${k}: unexpanded output ${out}`);
            } catch (e) {
              failures.push(`${file} ${name}.${k}: ${(e as Error).message}`);
            }
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(templates).toBeGreaterThan(2000);
    expect(actions).toBeGreaterThan(5000);
  });

  it('renders a known kube-prometheus annotation exactly', () => {
    const text =
      'The PersistentVolume claimed by {{ $labels.persistentvolumeclaim }} in Namespace {{ $labels.namespace }} {{ with $labels.cluster -}} on Cluster {{ . }} {{- end }} is only {{ $value | humanizePercentage }} free.';
    const base = { externalLabels: {}, externalURL: '', value: 0.0312 };
    expect(expandAlertTemplate('KubePersistentVolumeFillingUp', text, { ...base, labels: { persistentvolumeclaim: 'data', namespace: 'db', cluster: 'eu' } })).toBe(
      'The PersistentVolume claimed by data in Namespace db on Cluster eu is only 3.12% free.',
    );
    expect(expandAlertTemplate('KubePersistentVolumeFillingUp', text, { ...base, labels: { persistentvolumeclaim: 'data', namespace: 'db' } })).toBe(
      'The PersistentVolume claimed by data in Namespace db  is only 3.12% free.',
    );
  });
});
