/**
 * Validation of `relabel_configs`-style entries into {@link RelabelConfig}: checks here carry
 * the exact file:line of the offending field; then `parseRelabelConfig` of the relabel engine
 * (`model/relabel.ts`) validates and builds the object, so both sides agree on the rules.
 */
import { compileAnchored } from '../model/matchers.js';
import { parseRelabelConfig } from '../model/relabel.js';
import type { RelabelConfig } from './types.js';
import type { YNode } from './yaml-node.js';

const ACTIONS: readonly RelabelConfig['action'][] = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
];

const KEYS = ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A target label may contain `$1`/`${1}`-style references for `replace`. */
const TEMPLATED_LABEL = /^(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))(?:[a-zA-Z0-9_]|\$(?:\{\w+\}|\w+))*$/;

/** Validates one relabel entry. */
export function parseRelabel(node: YNode): RelabelConfig {
  const m = node.map(KEYS);
  const actionRaw = m.get('action');
  const action = (actionRaw && !actionRaw.isNull ? actionRaw.str().toLowerCase() : 'replace') as RelabelConfig['action'];
  if (!ACTIONS.includes(action)) {
    throw actionRaw!.error(`${node.what}: unknown relabel action ${JSON.stringify(action)} (expected one of ${ACTIONS.join(', ')})`);
  }
  const sourceLabels = m.get('source_labels')?.strList() ?? [];
  const regexNode = m.get('regex');
  const regex = regexNode && !regexNode.isNull ? regexNode.str() : '(.*)';
  try {
    compileAnchored(regex);
  } catch (e) {
    throw (regexNode ?? node).error(`${node.what}: invalid regex ${JSON.stringify(regex)}: ${(e as Error).message}`, e);
  }
  const modulusNode = m.get('modulus');
  const modulus = modulusNode && !modulusNode.isNull ? modulusNode.uint() : 0;
  const targetNode = m.get('target_label');
  const targetLabel = targetNode && !targetNode.isNull ? targetNode.str() : '';
  const sepNode = m.get('separator');
  const replNode = m.get('replacement');
  // Type checks with positions (values are re-read by parseRelabelConfig below).
  if (sepNode && !sepNode.isNull) sepNode.str();
  if (replNode && !replNode.isNull) replNode.str();
  const at = targetNode ?? node;
  const needTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action);
  if (needTarget && targetLabel === '') throw node.error(`${node.what}: relabel action ${action} requires target_label`);
  if (action === 'replace' && !TEMPLATED_LABEL.test(targetLabel)) {
    throw at.error(`${node.what}: ${JSON.stringify(targetLabel)} is an invalid target_label for action replace`);
  }
  if (action !== 'replace' && targetLabel !== '' && !LABEL_NAME.test(targetLabel)) {
    throw at.error(`${node.what}: ${JSON.stringify(targetLabel)} is an invalid target_label for action ${action}`);
  }
  if (action === 'hashmod' && modulus === 0) throw node.error(`${node.what}: relabel action hashmod requires a modulus > 0`);
  if ((action === 'keepequal' || action === 'dropequal') && (regexNode !== undefined || replNode !== undefined || modulusNode !== undefined)) {
    throw node.error(`${node.what}: relabel action ${action} only takes source_labels, separator and target_label`);
  }
  if ((action === 'labeldrop' || action === 'labelkeep') && (sourceLabels.length > 0 || targetLabel !== '' || modulusNode !== undefined || replNode !== undefined || sepNode !== undefined)) {
    throw node.error(`${node.what}: relabel action ${action} only takes regex`);
  }
  for (const s of sourceLabels) {
    if (!LABEL_NAME.test(s)) throw (m.get('source_labels') ?? node).error(`${node.what}: ${JSON.stringify(s)} is not a valid label name in source_labels`);
  }
  // The relabel engine's own validator has the final word (same rules, engine-side object).
  try {
    return parseRelabelConfig(node.toJS(), node.what);
  } catch (e) {
    throw node.error((e as Error).message, e);
  }
}

/** Validates a list of relabel entries (absent = empty). */
export function parseRelabelList(node: YNode | undefined): RelabelConfig[] {
  return node ? node.list().map(parseRelabel) : [];
}
