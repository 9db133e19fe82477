/**
 * The parts of Kubernetes `v1` Pod and Node objects that discovery reads, as the API server
 * serialises them (`kubectl get -o json`), and defensive accessors: objects come from the
 * network, so every field is checked before use and a malformed object yields defaults.
 */

/** `metadata` of an object (the fields discovery reads). */
export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly { readonly kind?: string; readonly name?: string; readonly controller?: boolean }[];
}

/** A container (or init container) of a pod spec. */
export interface Container {
  readonly name?: string;
  readonly image?: string;
  readonly ports?: readonly { readonly name?: string; readonly containerPort?: number; readonly protocol?: string }[];
}

/** A v1 Pod. */
export interface Pod {
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: { readonly nodeName?: string; readonly containers?: readonly Container[]; readonly initContainers?: readonly Container[] };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly hostIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
    readonly containerStatuses?: readonly { readonly name?: string; readonly containerID?: string }[];
    readonly initContainerStatuses?: readonly { readonly name?: string; readonly containerID?: string }[];
  };
}

/** A v1 Node. */
export interface Node {
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: { readonly providerID?: string };
  readonly status?: {
    readonly addresses?: readonly { readonly type?: string; readonly address?: string }[];
    readonly daemonEndpoints?: { readonly kubeletEndpoint?: { readonly Port?: number } };
  };
}

/** A watch event as the API server streams it (one JSON object per line). */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

/** A `metav1.Status` (the object of an ERROR watch event, or an error response body). */
export interface Status {
  readonly kind?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** True for a plain (non-array) object. */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A string field, or '' when absent or of another type. */
export function str(x: unknown): string {
  return typeof x === 'string' ? x : '';
}

/** A list field, or [] when absent or not a list (elements that are not objects are dropped). */
export function records(x: unknown): Record<string, unknown>[] {
  return Array.isArray(x) ? x.filter(isRecord) : [];
}

/** A string→string map field; non-string values are dropped. */
export function strMap(x: unknown): [string, string][] {
  if (!isRecord(x)) return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(x)) if (typeof v === 'string') out.push([k, v]);
  return out;
}

/** `namespace/name` of an object ('' parts when absent). */
export function objectKey(o: Record<string, unknown>): string {
  const md = isRecord(o['metadata']) ? o['metadata'] : {};
  return `${str(md['namespace'])}/${str(md['name'])}`;
}

/** `metadata.resourceVersion` of an object or list, '' when absent. */
export function resourceVersionOf(o: unknown): string {
  if (!isRecord(o) || !isRecord(o['metadata'])) return '';
  return str(o['metadata']['resourceVersion']);
}

/** Validates a decoded watch line into a {@link WatchEvent}, or undefined when it is not one. */
export function toWatchEvent(x: unknown): WatchEvent | undefined {
  if (!isRecord(x) || !isRecord(x['object'])) return undefined;
  const t = x['type'];
  if (t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED' || t === 'BOOKMARK' || t === 'ERROR') return { type: t, object: x['object'] };
  return undefined;
}
