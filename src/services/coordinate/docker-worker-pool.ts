import type { Liveness, VerifyOutcome, WorkerOutcome, WorkerPool } from "../../core/coordinator-runtime/ports.ts";
import { InternalError } from "../../core/errors.ts";
import type { OpenedProject } from "../project.ts";

/** The WorkerPool over real containers (services/workers). Not written yet: see docs/architecture.md, "The coordinator's runtime". */
export class DockerWorkerPool implements WorkerPool {
  readonly #project: OpenedProject;

  constructor(project: OpenedProject) {
    this.#project = project;
  }

  warm(): Promise<WorkerOutcome> {
    return this.#missing();
  }

  launch(): Promise<WorkerOutcome> {
    return this.#missing();
  }

  listen(): Promise<void> {
    return this.#missing();
  }

  collectPending(): Promise<number> {
    return this.#missing();
  }

  verify(): Promise<VerifyOutcome> {
    return this.#missing();
  }

  probe(): Promise<ReadonlyMap<string, Liveness>> {
    return this.#missing();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #missing(): Promise<never> {
    return Promise.reject(new InternalError(`the container worker pool of ${this.#project.projectId} is not implemented yet`));
  }
}
