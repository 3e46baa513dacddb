/**
 * The machine cspace runs on, as far as its checks need it: behind a port so
 * a test can be an old git, an old Node or another user without changing
 * the machine.
 */
export interface Host {
  /** What `git --version` prints, or null when there is no git. */
  gitVersionOutput(): Promise<string | null>;
  /** `process.versions.node`. */
  readonly nodeVersion: string;
  /** The user's id; undefined where the platform has none. */
  readonly uid: number | undefined;
  readonly tmpdir: string;
  readonly platform: string;
}
