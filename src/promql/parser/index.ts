/**
 * PromQL parser public API: parse, print, durations, function signatures, lexer.
 */
export type * from './ast.js';
export { typeOf } from './ast.js';
export { ParseError, lineColumn } from './errors.js';
export { parseExpr } from './parser.js';
export { parseMetricSelector } from './parse-selector.js';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, type ParseOptions } from './limits.js';
export { parseDuration, formatDuration, evalDurationExpr, durationExprIsDynamic, DurationError, DurationExprError, type DurationContext } from './duration.js';
export { getFunction, functionReturnType, listFunctions, minArgs, maxArgs, argType, AGGREGATORS, type FunctionSignature } from './functions.js';
export { tokenize, isValidUtf8, LexError, type Token, type TokenKind } from './lexer.js';
export { exprType, typeName } from './check.js';
export { printExpr, prettyExpr, quoteString, formatNumber, durationExprStr, PRETTY_MAX_WIDTH } from './printer.js';
