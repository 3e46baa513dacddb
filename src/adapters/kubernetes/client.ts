import os from "node:os";
import path from "node:path";
import type { CoreV1Api, Exec, KubeConfig, VersionApi, Watch } from "@kubernetes/client-node";
import { UserError } from "../../core/errors.ts";
import type { KubeTarget } from "./errors.ts";

export interface KubernetesHostOptions {
  /** The host's name in `.cspace.json` (for messages). */
  readonly name: string;
  /** The kubeconfig context; its current one when omitted. */
  readonly context?: string | undefined;
  readonly namespace: string;
  /** A kubeconfig file; else $KUBECONFIG or ~/.kube/config, as kubectl reads them. */
  readonly kubeconfig?: string | undefined;
  /** The storage class of ReadWriteMany claims (the host's mirror); the namespace's default when undefined (./volume-claims.ts). */
  readonly sharedStorageClass?: string | undefined;
}

/** The client's pieces for one context and namespace, loaded together. */
export interface KubeClient {
  readonly target: KubeTarget;
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly version: VersionApi;
  readonly exec: Exec;
  readonly watch: Watch;
}

/**
 * Loads @kubernetes/client-node (only here, and only when a Kubernetes host
 * is used: it is large) and the kubeconfig, and checks the context exists,
 * so a typo is a UserError naming the contexts there are.
 */
export async function loadKubeClient(options: KubernetesHostOptions): Promise<KubeClient> {
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  const source = options.kubeconfig ?? "the default kubeconfig ($KUBECONFIG or ~/.kube/config)";
  try {
    if (options.kubeconfig === undefined) config.loadFromDefault();
    // `~/.kube/dev` as written in .cspace.json: the shell that would expand it is not involved.
    else config.loadFromFile(options.kubeconfig.startsWith("~/") ? path.join(os.homedir(), options.kubeconfig.slice(2)) : options.kubeconfig);
  } catch (error) {
    throw new UserError(`host ${options.name}: cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: "Point KUBECONFIG (or the host's kubernetes.kubeconfig) at a readable kubeconfig; `kubectl config view` shows what kubectl reads.",
    });
  }
  if (config.getContexts().length === 0) {
    throw new UserError(`host ${options.name}: ${source} has no contexts`, {
      hint: "Create one (your cluster's CLI does, e.g. `gcloud container clusters get-credentials`), then name it in the host's kubernetes.context.",
    });
  }
  if (options.context !== undefined) {
    if (config.getContextObject(options.context) === null) {
      throw new UserError(`host ${options.name}: no context ${JSON.stringify(options.context)} in ${source}`, {
        hint: `Its contexts are ${config.getContexts().map((c) => c.name).join(", ")}; \`kubectl config get-contexts\` lists them.`,
      });
    }
    config.setCurrentContext(options.context);
  }
  const target: KubeTarget = { context: config.getCurrentContext(), namespace: options.namespace, server: config.getCurrentCluster()?.server ?? "(no server)" };
  return {
    target,
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    version: config.makeApiClient(k8s.VersionApi),
    exec: new k8s.Exec(config),
    watch: new k8s.Watch(config),
  };
}
