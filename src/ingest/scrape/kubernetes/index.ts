/** Kubernetes service discovery (`kubernetes_sd_configs`, roles pod and node) for the scraper. */
export { KubernetesSD, expandEnv, type KubernetesSDOptions } from './discovery.js';
export { Reflector, DEFAULT_BACKOFF, type ReflectorOptions, type BackoffOptions } from './reflector.js';
export { resolveConnection, IN_CLUSTER_PATHS, type ApiConnection, type ApiTls, type InClusterPaths, type ResolveOptions } from './connection.js';
export { parseKubeconfig, loadKubeconfig, MAX_KUBECONFIG_BYTES, type KubeconfigCredentials } from './kubeconfig.js';
export { getJson, watchStream, KubeApiError, MAX_LIST_BYTES, MAX_WATCH_LINE_BYTES } from './client.js';
export { podTargetGroup, podSource, sanitizeLabelName, joinHostPort, POD_META } from './pod.js';
export { nodeTargetGroup, nodeSource, NODE_META, DEFAULT_KUBELET_PORT, NODE_ADDRESS_PREFERENCE } from './node.js';
export { KubernetesSDMetrics } from './metrics.js';
export type { Pod, Node, Container, ObjectMeta, WatchEvent, Status } from './objects.js';
