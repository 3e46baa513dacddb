import { fromKubernetesLabels } from "./labels.ts";
import { stateOf } from "./pod-spec.ts";
import { statusOf } from "./errors.ts";
import type { PodManifest } from "./pod-types.ts";

/** The two calls a resuming watch needs, so it can be tested without a server (and with the fake one). */
export interface PodWatchSource {
  /** The pods matching `selector` now, and the resource version of that list. */
  list(selector: string): Promise<{ readonly pods: readonly PodManifest[]; readonly resourceVersion: string }>;
  /**
   * Watches from `resourceVersion`; `onEvent` per event, `onDone` once when
   * the stream ends (null: the server closed it, as servers do every few
   * minutes), the returned function aborts it.
   */
  watch(selector: string, resourceVersion: string, onEvent: (type: string, object: unknown) => void, onDone: (error: unknown) => void): Promise<() => void>;
}

/** Consecutive failed (re)connections after which watching ends quietly, as the port allows. */
const MAX_FAILURES = 5;

/**
 * Calls `onStopped` once per pod matching `selector` that stops (its
 * container exits) or is deleted from now on. A watch ends whenever the
 * server closes it: it is reopened from the last resource version seen (a
 * bookmark's too), so nothing between the two is missed. When that version is
 * too old (410 Gone, as an HTTP status or an ERROR event), it lists again:
 * a pod it knew that is no longer listed was deleted in the gap and is
 * reported then. Pods already stopped when watching starts are not reported,
 * as Docker's event stream would not.
 */
export async function watchStoppedPods(source: PodWatchSource, selector: string, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void> {
  const known = new Map<string, PodManifest>();
  const reported = new Set<string>();
  const watching = { stopped: false };
  // A function, not the field: the compiler would take the field for unchanged across the awaits below.
  const over = (): boolean => watching.stopped;
  let abort: (() => void) | undefined;
  let failures = 0;

  const uidOf = (pod: PodManifest): string => pod.metadata?.uid ?? pod.metadata?.name ?? "";
  const report = (pod: PodManifest): void => {
    const uid = uidOf(pod);
    known.delete(uid);
    if (reported.has(uid) || watching.stopped) return;
    reported.add(uid);
    onStopped(fromKubernetesLabels(pod.metadata?.labels, pod.metadata?.annotations));
  };
  const isStopped = (pod: PodManifest): boolean => ["exited", "removing", "dead"].includes(stateOf(pod));

  const relist = async (): Promise<string> => {
    const { pods, resourceVersion } = await source.list(selector);
    const present = new Set(pods.map(uidOf));
    for (const pod of [...known.values()]) if (!present.has(uidOf(pod))) report(pod);
    for (const pod of pods) {
      if (isStopped(pod)) report(pod);
      else known.set(uidOf(pod), pod);
    }
    return resourceVersion;
  };

  // The first list: what runs now is known, what already stopped is history.
  const first = await source.list(selector);
  for (const pod of first.pods) {
    if (isStopped(pod)) reported.add(uidOf(pod));
    else known.set(uidOf(pod), pod);
  }
  let resourceVersion = first.resourceVersion;

  const open = async (): Promise<void> => {
    if (watching.stopped) return;
    let gone = false;
    const onEvent = (type: string, object: unknown): void => {
      if (type === "ERROR") {
        if (statusOf(object) === 410) gone = true;
        return;
      }
      const pod = object as PodManifest;
      const version = pod.metadata?.resourceVersion;
      if (version !== undefined) resourceVersion = version;
      if (type === "BOOKMARK") return;
      failures = 0;
      if (type === "DELETED" || isStopped(pod)) report(pod);
      else known.set(uidOf(pod), pod);
    };
    const onDone = (error: unknown): void => {
      abort = undefined;
      if (watching.stopped) return;
      if (statusOf(error) === 410) gone = true;
      // A 410 right after a fresh list is the server's fault, not progress: it counts as a failure like an error does.
      if (gone || (error !== null && error !== undefined)) failures += 1;
      void resume(gone);
    };
    try {
      abort = await source.watch(selector, resourceVersion, onEvent, onDone);
      if (over()) abort();
    } catch (error) {
      if (statusOf(error) === 410) void resume(true);
      else {
        failures += 1;
        void resume(false);
      }
    }
  };

  const resume = async (relistFirst: boolean): Promise<void> => {
    if (watching.stopped || failures >= MAX_FAILURES) return;
    if (failures > 0) await new Promise((resolve) => setTimeout(resolve, 200 * failures).unref());
    if (relistFirst) {
      try {
        resourceVersion = await relist();
      } catch {
        failures += 1;
        void resume(true);
        return;
      }
    }
    await open();
  };

  await open();
  return () => {
    watching.stopped = true;
    abort?.();
  };
}
