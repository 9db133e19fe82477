/** The rule engine's public surface. */
export type * from './rule.js';
export { AlertingRule, needsSending, alertSeriesLabels, forStateLabels, generatorURL, queryEscape, RESOLVED_RETENTION_MS, ALERTS_METRIC, ALERTS_FOR_STATE_METRIC, ERR_DUPLICATE_ALERT, type AlertingRuleOptions } from './alerting.js';
export { RecordingRule, ERR_DUPLICATE_RECORDING } from './recording.js';
export { RuleGroup, groupKey, ruleIdentity, type GroupDeps, type GroupOptions } from './group.js';
export { RuleManager, type RuleManagerDeps } from './manager.js';
export { restoreForState, type RestoreOptions } from './restore.js';
export { rulesApiData, alertsApiData, formatTime, formatValue, type ApiAlert, type ApiRuleGroup, type ApiAlertingRule, type ApiRecordingRule, type RulesFilter } from './api.js';
export { engineQueryFunc, toAmAlerts, notifierFunc, RuleResultError } from './query-func.js';
export { selectedNames, type SelectedNames } from './selectors.js';
export { defaultTemplater, goTemplater, basicTemplater, type Templater, type TemplateData, type ExpandOptions } from './templating.js';
export { RECENT_EVALUATIONS } from './base.js';
